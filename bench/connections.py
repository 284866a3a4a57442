"""Connections benchmark: what 2,000 idle, authenticated console sockets cost one daphne process.

One daphne process (DEBUG=0, PostgreSQL, Redis channel layer) is started on a fresh database;
`--sockets` sockets authenticate with API tokens, spread over `--operators` operators (a console
has several tabs per operator). Each operator's first tab connects before any second tab, so the
presence broadcasts of the connect-time storm stay bounded.

1. memory: the process's resident set (VmRSS in /proc/<pid>/status) after a short warm-up, and
   again when every socket is authenticated and quiet — the difference per socket;
2. idle CPU: the process's CPU time while the sockets stay silent (daphne's own keepalive and
   timeout checks only);
3. heartbeat CPU: every socket sends `ping` every `--heartbeat` s (25 s, as the protocol asks),
   spread evenly, for `--measure` s: CPU as % of one core, and per ping (the idle cost taken off).

All sockets must still be open and have been answered at the end. Target: all 2,000 held,
< 100 KiB per socket.

    .venv/bin/python bench/connections.py
    .venv/bin/python bench/connections.py --sockets 500 --measure 30
    .venv/bin/python bench/connections.py --layer redis-pubsub

The bench recreates the database `livechat_bench_fanout` (shared with bench/fanout.py) and
empties Redis database 8 first. It raises its own open-file limit, which the daphne it starts
inherits. Loopback only; every wait is bounded.
"""

import argparse
import asyncio
import os
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import Cluster, Daphne, Operator, OperatorSocket, create_operators, flush_redis, is_postgres

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/livechat_bench_fanout"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
TARGET_KIB_PER_SOCKET = 100
FIRST_OPERATOR_ID = 6_000_000


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            sys.exit(f"open-file limit {hard} is below the {needed} this run needs (ulimit -n)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


class PongCounter:
    def __init__(self) -> None:
        self.pongs = 0
        self.answered: set[int] = set()

    def reader(self, index: int) -> Callable[[str, float], None]:
        def on_text(text: str, at: float) -> None:
            if text.startswith('{"type": "pong"'):
                self.pongs += 1
                self.answered.add(index)

        return on_text


async def quiet(sockets: list[OperatorSocket], server: Daphne, seconds: float = 2.0) -> None:
    """Wait until the connect-time frames are over: the process uses (almost) no CPU."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        before = cpu_seconds(server.pid)
        await asyncio.sleep(seconds)
        if cpu_seconds(server.pid) - before < 0.05 * seconds:
            return


async def open_sockets(
    server: Daphne, operators: list[Operator], count: int, counter: PongCounter
) -> list[OperatorSocket]:
    # Tab t of every operator before tab t+1 of any: each operator comes online once, early.
    plan = [operators[i % len(operators)] for i in range(count)]
    sockets: list[OperatorSocket] = []
    for start in range(0, count, 50):
        sockets += await asyncio.gather(
            *(
                OperatorSocket.connect(server.ws_url, operator, timeout=60, on_text=counter.reader(start + n))
                for n, operator in enumerate(plan[start : start + 50])
            )
        )
    return sockets


async def heartbeat(sockets: list[OperatorSocket], every: float, seconds: float) -> tuple[int, set[int]]:
    """Every socket pings every `every` s, phases spread evenly; returns pings sent, and by whom."""
    began = time.monotonic()
    sent = 0
    pinged: set[int] = set()

    async def beat(index: int, phase: float) -> None:
        nonlocal sent
        due = began + phase
        while due < began + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await sockets[index].send("ping")
            sent += 1
            pinged.add(index)
            due += every

    phases = [every * i / len(sockets) for i in range(len(sockets))]
    random.Random(1).shuffle(phases)
    await asyncio.gather(*(beat(i, p) for i, p in enumerate(phases)))
    return sent, pinged


async def measure(args: argparse.Namespace, server: Daphne, operators: list[Operator]) -> int:
    counter = PongCounter()
    warm = await open_sockets(server, operators[:10], 10, counter)
    await asyncio.gather(*(s.close() for s in warm))
    await asyncio.sleep(2)
    rss_before = rss_kib(server.pid)

    began = time.perf_counter()
    sockets = await open_sockets(server, operators, args.sockets, counter)
    connected_in = time.perf_counter() - began
    await quiet(sockets, server)
    rss_after = rss_kib(server.pid)
    per_socket = (rss_after - rss_before) / len(sockets)
    print(
        f"\n[memory] {len(sockets)} sockets authenticated in {connected_in:.1f} s "
        f"({len(operators)} operators, {len(sockets) / len(operators):g} tabs each)"
    )
    print(f"  daphne RSS   {rss_before / 1024:.1f} MiB before → {rss_after / 1024:.1f} MiB after")
    print(f"  per socket   {per_socket:.1f} KiB")

    before = cpu_seconds(server.pid)
    await asyncio.sleep(args.idle)
    idle_share = (cpu_seconds(server.pid) - before) / args.idle
    print(f"\n[idle] {args.idle:g} s without application pings")
    print(f"  daphne CPU   {100 * idle_share:.1f}% of one core")

    counter.pongs, counter.answered = 0, set()
    before, started = cpu_seconds(server.pid), time.monotonic()
    pings, pinged = await heartbeat(sockets, args.heartbeat, args.measure)
    await asyncio.sleep(1)  # the last pongs
    elapsed = time.monotonic() - started
    used = cpu_seconds(server.pid) - before
    beat_share = used / elapsed
    per_ping = max(0.0, used - idle_share * elapsed) / max(1, counter.pongs)
    open_sockets_left = sum(1 for s in sockets if s.ws.close_code is None)
    print(
        f"\n[heartbeat] every socket pings every {args.heartbeat:g} s "
        f"({len(sockets) / args.heartbeat:.0f} pings/s), {args.measure:g} s"
    )
    print(f"  pings sent   {pings}, pongs received {counter.pongs}")
    print(f"  daphne CPU   {100 * beat_share:.1f}% of one core (idle {100 * idle_share:.1f}%)")
    print(f"  per ping     {per_ping * 1e6:.0f} µs of CPU above idle (presence refresh in Redis + pong)")
    print(f"  RSS now      {rss_kib(server.pid) / 1024:.1f} MiB")
    await asyncio.gather(*(s.close() for s in sockets))

    unanswered = len(pinged - counter.answered)
    held = open_sockets_left == len(sockets) == args.sockets and not unanswered
    print("\n[targets]")
    print(
        f"  all {args.sockets} held and answering: {open_sockets_left} open, "
        f"{len(pinged) - unanswered} of {len(pinged)} that pinged answered → {'met' if held else 'MISSED'}"
    )
    small = per_socket < TARGET_KIB_PER_SOCKET
    print(
        f"  < {TARGET_KIB_PER_SOCKET} KiB per socket: {per_socket:.1f} KiB → {'met' if small else 'MISSED'}"
    )
    return 0 if held and small else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--layer", choices=["redis", "redis-pubsub"], default="redis-pubsub", help="CHANNEL_LAYER_BACKEND"
    )
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--operators", type=int, default=200, help="the sockets are their tabs")
    parser.add_argument("--heartbeat", type=float, default=25.0, help="seconds between a socket's pings")
    parser.add_argument("--measure", type=float, default=60.0, help="seconds of heartbeat measured")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle measured")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="the bench database (recreated)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="emptied first")
    args = parser.parse_args()
    if not is_postgres(args.database_url):
        parser.error("--database-url must be PostgreSQL")
    if not 0 < args.operators <= args.sockets:
        parser.error("--operators must be between 1 and --sockets")
    return args


def main() -> None:
    args = parse_args()
    raise_fd_limit(args.sockets * 2 + 256)  # client and server ends, both inherit this limit
    database = args.database_url.rsplit("/", 1)[1]
    print(
        f"Connections benchmark: {args.sockets} idle authenticated sockets on one daphne process, "
        f"CHANNEL_LAYER_BACKEND={args.layer}"
    )
    print(f"  database {database} (recreated), Redis {args.redis_url} (flushed), {os.cpu_count()} CPUs")
    flush_redis(args.redis_url)
    with Cluster(
        args.database_url,
        database,
        args.redis_url,
        processes=1,
        CHANNEL_LAYER_BACKEND=args.layer,
        DB_POOL_MAX_SIZE="5",
    ) as cluster:
        operators = create_operators(cluster.env, args.operators, first_id=FIRST_OPERATOR_ID)
        sys.exit(asyncio.run(measure(args, cluster.servers[0], operators)))


if __name__ == "__main__":
    main()
