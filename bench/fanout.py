"""Fan-out benchmark: inbound LINE messages reaching every operator socket on every process.

`--sockets` operator sockets (token auth) are spread round-robin over `--processes` daphne
processes that share one PostgreSQL database and one Redis. Every socket is in the `operators`
group (every operator hears `conversation_update` for every inbound message) and in the room of
one of `--conversations` conversations (its members also get `new_message`). The sockets are
held by `--readers` client processes, so that reading tens of thousands of frames a second does
not slow down the process that sends; they read with bench/lean_socket.py, a minimal client that
costs a fraction of the CPU of the `websockets` library (the readers share the servers' cores).
Webhooks are posted with bench/webhook.py's lean HTTP client for the same reason.

1. webhook → socket: signed webhooks with a unique marker in the text are posted round-robin to
   the daphne processes at `--rate`/s for `--duration` s (open loop: latency counts from the time
   a request was due, so a slow answer does not slow the schedule down). Every arrival of a
   marker on a socket is matched: p50/p99/max latency, lost and duplicated deliveries.
2. baseline: the bench itself calls the channel layer's `group_send` on the same `operators`
   group with a `server.event` frame of the same size (a real `conversation_update` with another
   marker), at the same rate — the cost of the layer and the sockets alone.

The ratio of the two p99s is the app's overhead over a bare fan-out. Targets: p99 ≤ 50 ms, zero
lost, ratio ≤ 2. A delivery counts as lost if it has not arrived 30 s after the phase's last
send (under overload that includes deliveries still queued). Latencies are measured with the
system-wide monotonic clock, which every process on the machine shares.

    .venv/bin/python bench/fanout.py                       # the pub/sub layer (the default)
    .venv/bin/python bench/fanout.py --layer redis         # RedisChannelLayer
    .venv/bin/python bench/fanout.py --rate 20             # a lighter load

The bench recreates (and drops) its database `livechat_bench_fanout` on the PostgreSQL server of
`--database-url` and empties Redis database 8 (`--redis-url`) before it starts. Loopback only;
every wait is bounded. Exit status 1 if a delivery was lost or duplicated, a socket was closed
or a request failed.
"""

import argparse
import asyncio
import copy
import gc
import json
import multiprocessing
import os
import re
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import (
    Cluster,
    Daphne,
    Operator,
    OperatorSocket,
    create_operators,
    flush_redis,
    is_postgres,
    post_webhook,
    signed_webhook,
)
from lean_socket import LeanSocket
from webhook import RawHttpClient, database_name, postgres_backends, process_cpu_seconds

from livechat.realtime import groups
from livechat.simulator.events import new_user_id, text_event

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/livechat_bench_fanout"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
LAYERS = {
    "redis": "channels_redis.core.RedisChannelLayer",
    "redis-pubsub": "livechat.realtime.channel_layer.PubSubChannelLayer",
}
TARGET_P99_MS = 50.0
TARGET_RATIO = 2.0
FIRST_OPERATOR_ID = 5_000_000
# Markers in message texts; frames carry them as-is (the consumer sends ensure_ascii=False JSON).
MARKER = re.compile(rb"(hook|base)#(\d+)#")
FRAME_PREFIX = len('{"type": "')
PONG = b'{"type": "pong"'

Arrival = tuple[str, str, int, int, float]  # source, frame kind ("con"/"new"), marker, socket, time


# --- Reader processes: they hold the sockets and note every marked frame ---------------------------


@dataclass
class ReaderPlan:
    sockets: list[tuple[int, str, Operator, int]]  # (global index, ws url, operator, conversation)


def reader_process(plan: ReaderPlan, conn: Connection) -> None:
    # What a reader keeps (a tuple per arrival, hundreds of thousands) has no cycles; the
    # collector would only walk it again and again, pausing the reading by up to ~0.4 s.
    gc.disable()
    asyncio.run(_reader(plan, conn))


async def _reader(plan: ReaderPlan, conn: Connection) -> None:
    seen: list[Arrival] = []
    frames = [0]

    def reader(index: int) -> Callable[[bytes, float], None]:
        def on_frame(text: bytes, at: float) -> None:
            if text.startswith(PONG):
                return  # the heartbeat's, always some on their way: not what `settle` waits out
            frames[0] += 1
            found = MARKER.search(text)
            if found:
                kind = text[FRAME_PREFIX : FRAME_PREFIX + 3].decode()
                seen.append((found.group(1).decode(), kind, int(found.group(2)), index, at))

        return on_frame

    async def open_socket(index: int, url: str, operator: Operator, conversation_id: int) -> LeanSocket:
        socket = await LeanSocket.connect(url, timeout=60)
        socket.send("auth", {"token": operator.token})
        await socket.wait_for("auth_success", timeout=60)
        socket.on_frame = reader(index)
        socket.send("join_room", {"conversation_id": conversation_id})
        return socket

    sockets: list[LeanSocket] = []
    for start in range(0, len(plan.sockets), 20):
        sockets += await asyncio.gather(*(open_socket(*spec) for spec in plan.sockets[start : start + 20]))

    async def heartbeat() -> None:
        """The console pings every 25 s to stay present. Each browser's timer starts when its
        page loads, so the pings are spread over the interval: every socket at the same instant
        would be a burst no real team sends (and a stall of ~0.3 s on each process here)."""
        step = 25.0 / len(sockets)
        while True:
            for socket in sockets:
                await asyncio.sleep(step)
                socket.send("ping")

    pinger = asyncio.create_task(heartbeat())

    commands: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
    conn.send(("connected", len(sockets)))
    while True:
        command, argument = await commands.get()
        if command == "frames":
            conn.send(frames[0])
        elif command == "count":
            conn.send(sum(1 for a in seen if a[0] == argument))
        elif command == "collect":
            conn.send([a for a in seen if a[0] == argument])
            seen[:] = [a for a in seen if a[0] != argument]
        elif command == "closed":
            conn.send(sum(1 for s in sockets if s.close_code is not None))
        elif command == "stop":
            loop.remove_reader(conn.fileno())
            pinger.cancel()
            for socket in sockets:
                socket.close()
            await asyncio.sleep(0.5)  # let the close frames go out
            conn.send("stopped")
            return


class Readers:
    """The reader processes, asked together."""

    def __init__(self, plans: list[ReaderPlan]) -> None:
        context = multiprocessing.get_context("spawn")
        self.conns: list[Connection] = []
        self.processes = []
        for plan in plans:
            parent, child = context.Pipe()
            process = context.Process(target=reader_process, args=(plan, child), daemon=True)
            process.start()
            self.conns.append(parent)
            self.processes.append(process)

    def ask(self, command: str, argument: Any = None, timeout: float = 120) -> list[Any]:
        for conn in self.conns:
            conn.send((command, argument))
        answers = []
        for conn in self.conns:
            if not conn.poll(timeout):
                raise TimeoutError(f"a reader did not answer {command!r} within {timeout:g} s")
            answers.append(conn.recv())
        return answers

    def wait_connected(self, timeout: float = 300) -> int:
        total = 0
        for conn in self.conns:
            if not conn.poll(timeout):
                raise TimeoutError("a reader did not connect its sockets in time")
            _, count = conn.recv()
            total += count
        return total

    def settle(self, quiet: float = 2.0, timeout: float = 120) -> float:
        """Wait until no frame has arrived for `quiet` s (the connect-time broadcasts are over)."""
        began = time.monotonic()
        last = -1
        while time.monotonic() - began < timeout:
            now = sum(self.ask("frames"))
            if now == last:
                break
            last = now
            time.sleep(quiet)
        return time.monotonic() - began

    def stop(self) -> None:
        try:
            self.ask("stop", timeout=30)
        finally:
            for process in self.processes:
                process.join(10)
                if process.is_alive():
                    process.kill()


# --- Measuring ----------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    due: dict[int, float] = field(default_factory=dict)  # marker → when it was due to be sent
    failed: Counter[str] = field(default_factory=Counter)
    answered: list[float] = field(default_factory=list)  # request latencies, from due to answer
    cpu: dict[str, float] = field(default_factory=dict)  # process → % of one core


@dataclass
class Outcome:
    latencies: list[float]
    expected: int
    lost: int
    duplicated: int


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def redis_server_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if (entry / "comm").read_text().strip() == "redis-server":
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def cpu_snapshot(servers: list[Daphne], readers: Readers, database: str) -> dict[str, float]:
    def used(pids: list[int | None]) -> float:
        return sum(process_cpu_seconds(pid) or 0.0 for pid in pids if pid)

    snapshot = {s.name: used([s.pid]) for s in servers}
    snapshot["readers"] = used([p.pid for p in readers.processes])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    snapshot["sender"] = usage.ru_utime + usage.ru_stime
    if database:
        snapshot["PostgreSQL"] = used(list(postgres_backends(database)))
    snapshot["Redis"] = used(list(redis_server_pids()))
    return snapshot


async def open_loop(
    rate: float, count: int, send: Callable[[int], Coroutine[Any, Any, None]], phase: Phase
) -> None:
    began = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for i in range(count):
        due = began + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        phase.due[i] = due
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)


async def webhook_phase(servers: list[Daphne], customers: list[str], rate: float, count: int) -> Phase:
    phase = Phase("webhook")
    bodies = [
        signed_webhook(text_event(customers[i % len(customers)], f"where is my order? hook#{i}#"))
        for i in range(count)
    ]
    # bench/webhook.py's lean client: httpx would take ~2.5 ms of CPU per request from the
    # machine the servers run on (a quarter of a core at 100/s).
    clients = [RawHttpClient(server.url + "/webhooks/line/", 64, 30.0) for server in servers]

    async def send(i: int) -> None:
        body, headers = bodies[i]
        try:
            status = await clients[i % len(clients)].post(body, headers["X-Line-Signature"])
            phase.answered.append(time.perf_counter() - phase.due[i])
            if status != 200:
                phase.failed[f"HTTP {status}"] += 1
        except (OSError, TimeoutError, ValueError) as exc:
            phase.failed[type(exc).__name__] += 1

    try:
        await open_loop(rate, count, send, phase)
    finally:
        for client in clients:
            await client.aclose()
    return phase


def layer_for(backend: str, redis_url: str) -> Any:
    """The same layer, configured as config/settings.py configures it."""
    if backend == "redis-pubsub":
        from livechat.realtime.channel_layer import PubSubChannelLayer

        return PubSubChannelLayer(hosts=[redis_url])
    from channels_redis.core import RedisChannelLayer

    return RedisChannelLayer(hosts=[{"address": redis_url, "socket_timeout": 15}], capacity=1500, expiry=30)


async def baseline_phase(layer: Any, sample: dict[str, Any], rate: float, count: int) -> Phase:
    """A bare group_send of a same-sized server.event to the operators group."""
    phase = Phase("baseline")

    async def send(i: int) -> None:
        payload = copy.deepcopy(sample)
        payload["messages"][0]["text"] = f"where is my order? base#{i}#"
        frame = {
            "type": "conversation_update",
            "payload": payload,
            "timestamp": datetime.now(UTC).isoformat(),
        }
        # Encoded once per group_send, as livechat.realtime.publish.server_event does.
        text = json.dumps(frame, ensure_ascii=False)
        try:
            await layer.group_send(groups.OPERATORS, {"type": groups.SERVER_EVENT, "text": text})
        except Exception as exc:
            phase.failed[type(exc).__name__] += 1

    await open_loop(rate, count, send, phase)
    return phase


def wait_for_deliveries(readers: Readers, source: str, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and sum(readers.ask("count", source)) < expected:
        time.sleep(0.5)


def outcome(arrivals: list[Arrival], phase: Phase, kind: str, recipients: dict[int, list[int]]) -> Outcome:
    """Deliveries of `kind` frames for the phase's markers; recipients: marker → sockets."""
    times: dict[tuple[int, int], list[float]] = defaultdict(list)
    for _, k, marker, socket, at in arrivals:
        if k == kind:
            times[(marker, socket)].append(at)
    latencies, lost, duplicated, expected = [], 0, 0, 0
    for marker, due in phase.due.items():
        for socket in recipients.get(marker, []):
            expected += 1
            got = times.pop((marker, socket), [])
            if not got:
                lost += 1
                continue
            duplicated += len(got) - 1
            latencies.append(min(got) - due)
    duplicated += sum(len(v) for v in times.values())  # arrived where they were never due
    return Outcome(sorted(latencies), expected, lost, duplicated)


def report_line(label: str, result: Outcome) -> str:
    values = result.latencies
    ms = [percentile(values, p) * 1000 for p in (50, 99)] + [(values[-1] if values else 0) * 1000]
    return (
        f"  {label:<38} {len(values):>7}/{result.expected:<7} "
        f"p50 {ms[0]:7.1f}  p99 {ms[1]:7.1f}  max {ms[2]:7.1f} ms   "
        f"lost {result.lost}, duplicated {result.duplicated}"
    )


def cpu_line(phase: Phase) -> str:
    return "  CPU, % of one core: " + ", ".join(f"{name} {share:.0f}%" for name, share in phase.cpu.items())


async def open_conversations(
    http: httpx.AsyncClient, servers: list[Daphne], watcher: OperatorSocket, count: int
) -> tuple[list[str], list[int], dict[str, Any]]:
    """`count` customers write once; returns their LINE ids, conversation ids, and one
    `conversation_update` payload to copy for the baseline's frames."""
    customers = [new_user_id() for _ in range(count)]
    for n, customer in enumerate(customers):
        await post_webhook(http, servers[n % len(servers)].url, text_event(customer, f"hello {n}"))
    ids: list[int] = []
    sample: dict[str, Any] = {}
    for customer in customers:

        def has_message_of(f: dict[str, Any], c: str = customer) -> bool:
            return bool(
                f["payload"]["conversation"]["contact"]["line_user_id"] == c and f["payload"]["messages"]
            )

        frame = await watcher.wait_for("conversation_update", has_message_of, timeout=30)
        ids.append(frame["payload"]["conversation"]["id"])
        sample = frame["payload"]
    return customers, ids, sample


async def run_phase(
    readers: Readers,
    servers: list[Daphne],
    database: str,
    make: Callable[[], Awaitable[Phase]],
    source: str,
    expected: int,
) -> tuple[Phase, list[Arrival]]:
    before = cpu_snapshot(servers, readers, database)
    started = time.perf_counter()
    phase = await make()
    await asyncio.to_thread(wait_for_deliveries, readers, source, expected, 30)
    elapsed = time.perf_counter() - started
    after = cpu_snapshot(servers, readers, database)
    phase.cpu = {name: 100 * (after[name] - before[name]) / elapsed for name in before}
    arrivals = [a for batch in readers.ask("collect", source) for a in batch]
    return phase, arrivals


async def measure(args: argparse.Namespace, cluster: Cluster, operators: list[Operator]) -> int:
    servers = cluster.servers
    count = round(args.rate * args.duration)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:
        watcher = await OperatorSocket.connect(servers[0].ws_url, operators[0], timeout=30)
        customers, conversation_ids, sample = await open_conversations(
            http, servers, watcher, args.conversations
        )
        await watcher.close()

        # Socket i: process i mod P, room of conversation i mod C, reader i mod R.
        placement = [
            (i, servers[i % len(servers)].ws_url, operator, conversation_ids[i % len(conversation_ids)])
            for i, operator in enumerate(operators)
        ]
        readers = Readers([ReaderPlan(placement[r :: args.readers]) for r in range(args.readers)])
        try:
            began = time.perf_counter()
            connected = await asyncio.to_thread(readers.wait_connected)
            print(
                f"  {connected} sockets authenticated and in their rooms"
                f" in {time.perf_counter() - began:.1f} s"
            )
            quiet = await asyncio.to_thread(readers.settle)
            print(f"  quiet {quiet:.1f} s later (the presence and join broadcasts of connecting)")

            everyone = [i for i, *_ in placement]
            members: dict[int, list[int]] = defaultdict(list)
            for i, _, _, conversation_id in placement:
                members[conversation_id].append(i)
            all_recipients = {m: everyone for m in range(count)}
            room_recipients = {m: members[conversation_ids[m % len(customers)]] for m in range(count)}
            per_room = len(everyone) // len(customers)

            print(
                f"\n[webhook → socket] {count} signed webhooks, {args.rate:g}/s for {args.duration:g} s "
                f"(open loop), round-robin over {len(servers)} processes"
            )
            hook, arrivals = await run_phase(
                readers,
                servers,
                database_name(cluster.database_url),
                lambda: webhook_phase(servers, customers, args.rate, count),
                "hook",
                count * (len(everyone) + per_room),
            )
            hook_all = outcome(arrivals, hook, "con", all_recipients)
            hook_room = outcome(arrivals, hook, "new", room_recipients)
            print(report_line(f"conversation_update, {len(everyone)} sockets each", hook_all))
            print(report_line(f"new_message, room of {per_room}", hook_room))
            answered = sorted(hook.answered)
            print(
                f"  webhook answered in p50 {percentile(answered, 50) * 1000:.1f}, "
                f"p99 {percentile(answered, 99) * 1000:.1f} ms; "
                f"requests failed {sum(hook.failed.values())} {dict(hook.failed) or ''}"
            )
            print(cpu_line(hook))

            await asyncio.sleep(2)
            layer_name = LAYERS[args.layer].rsplit(".", 1)[1]
            print(
                f"\n[baseline: group_send → socket] {count} × {layer_name}.group_send({groups.OPERATORS!r}) "
                f"from the bench, {args.rate:g}/s for {args.duration:g} s"
            )
            layer = layer_for(args.layer, args.redis_url)
            base, arrivals = await run_phase(
                readers,
                servers,
                database_name(cluster.database_url),
                lambda: baseline_phase(layer, sample, args.rate, count),
                "base",
                count * len(everyone),
            )
            base_all = outcome(arrivals, base, "con", all_recipients)
            print(report_line(f"conversation_update, {len(everyone)} sockets each", base_all))
            print(f"  group_send failed {sum(base.failed.values())} {dict(base.failed) or ''}")
            print(cpu_line(base))
            if args.layer == "redis-pubsub":
                await layer.flush()
            else:
                await layer.close_pools()
            closed = sum(readers.ask("closed"))
        finally:
            await asyncio.to_thread(readers.stop)

    hook_p99 = percentile(hook_all.latencies, 99) * 1000
    base_p99 = percentile(base_all.latencies, 99) * 1000
    ratio = hook_p99 / base_p99 if base_p99 else float("inf")
    lost = hook_all.lost + hook_room.lost + base_all.lost
    duplicated = hook_all.duplicated + hook_room.duplicated + base_all.duplicated
    print("\n[targets]")
    print(
        f"  p99 ≤ {TARGET_P99_MS:g} ms, webhook → every operator socket: {hook_p99:.1f} ms"
        f" → {met(hook_p99 <= TARGET_P99_MS)}"
    )
    print(
        f"  zero lost: {lost} lost, {duplicated} duplicated, {closed} sockets closed"
        f" → {met(not lost and not duplicated and not closed)}"
    )
    print(
        f"  p99 ratio webhook / bare group_send ≤ {TARGET_RATIO:g}: {hook_p99:.1f} / {base_p99:.1f}"
        f" = {ratio:.2f} → {met(ratio <= TARGET_RATIO)}"
    )
    failed = sum(hook.failed.values()) + sum(base.failed.values())
    return 1 if lost or duplicated or failed or closed else 0


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--layer", choices=sorted(LAYERS), default="redis-pubsub", help="CHANNEL_LAYER_BACKEND"
    )
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2, help="daphne processes")
    parser.add_argument("--readers", type=int, default=2, help="client processes holding the sockets")
    parser.add_argument("--conversations", type=int, default=20, help="customers writing (and rooms)")
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="the bench database (recreated)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="emptied first")
    parser.add_argument(
        "--db-pool", type=int, default=10, help="DB_POOL_MAX_SIZE of each process (PostgreSQL connections)"
    )
    args = parser.parse_args()
    if not is_postgres(args.database_url):
        parser.error("--database-url must be PostgreSQL (the processes share it)")
    return args


def main() -> None:
    args = parse_args()
    database = args.database_url.rsplit("/", 1)[1]
    print(
        f"Fan-out benchmark: {args.sockets} operator sockets over {args.processes} daphne processes "
        f"(read by {args.readers} client processes), layer {LAYERS[args.layer]}, {os.cpu_count()} CPUs"
    )
    print(f"  database {database} (recreated), Redis {args.redis_url} (flushed)")
    flush_redis(args.redis_url)
    with Cluster(
        args.database_url,
        database,
        args.redis_url,
        processes=args.processes,
        CHANNEL_LAYER_BACKEND=args.layer,
        DB_POOL_MAX_SIZE=str(args.db_pool),
    ) as cluster:
        operators = create_operators(cluster.env, args.sockets, first_id=FIRST_OPERATOR_ID)
        sys.exit(asyncio.run(measure(args, cluster, operators)))


if __name__ == "__main__":
    main()
