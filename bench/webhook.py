"""Benchmark of `POST /webhooks/line/` against a running daphne, as LINE would call it.

Every request is one correctly signed single-event webhook with a customer's text message. Two
phases, then a check of the database:

1. throughput — N requests from `--concurrency` keep-alive connections as fast as they go
   (closed loop): requests/s, p50/p95/p99/max latency, errors (non-200 or exceptions);
2. latency — `--rate` requests/s for `--duration` s on a fixed schedule (open loop: a slow
   answer does not delay the next request; latency counts from the scheduled send time);
3. database — every accepted request stored exactly once (no message lost or duplicated), `seq`
   gap-free in every conversation the bench touched, and the bot's replies delivered.

Traffic: `--users` LINE customers per phase. All but `--new-users` of them said hello during
the (unmeasured) warm-up, so they have a contact and an open conversation; the others are new to
the app, and their first message creates the contact and conversation and fetches the profile.
About `--agent-share` of the messages say "agent" (a handoff keyword): the conversation moves to
the queue and the bot's reply goes out to the LINE simulator; other messages trigger no reply.

Each phase also prints the CPU time per request of daphne, of the PostgreSQL backends of the
benchmark database and of this load generator (Linux /proc): on a small machine they share the
same cores, so these say more than requests/s when other work is running.

By default the bench starts its own daphne (one process, DEBUG=0, the LINE simulator on) on a
free loopback port against a freshly created benchmark database, and stops it at the end:

    .venv/bin/python bench/webhook.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/livechat_bench \
        REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/webhook.py

Against a server that is already running (its LINE channel secret, and its DATABASE_URL for the
check):

    .venv/bin/python bench/webhook.py --no-start-server --url http://127.0.0.1:8000 \
        --channel-secret simulator-channel-secret

Loopback only; every loop is bounded. Exit status 1 if a request failed or the database check
found a message lost or duplicated.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster import server_env  # noqa: E402  (bench/ is on sys.path when run as a script)

from livechat.simulator.events import new_user_id, sign, text_event, webhook_body  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/livechat_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
SIMULATOR_SECRET = "simulator-channel-secret"  # config/settings.py's stand-in with the simulator on
WEBHOOK_PATH = "/webhooks/line/"
TARGET_EVENTS_PER_SECOND = 300.0
TARGET_P99_MS = 50.0

# Ordinary customer messages: none is a handoff keyword or an auto-reply, so the bot stays quiet.
TEXTS = [
    "สวัสดีค่ะ",
    "สั่งของไปเมื่อวาน ยังไม่ได้รับเลยค่ะ",
    "ขอบคุณมากครับ 🙏",
    "ร้านเปิดกี่โมงคะ",
    "Hi, where is my order #{n}?",
    "Do you ship to Chiang Mai?",
    "เปลี่ยนที่อยู่จัดส่งได้ไหมครับ",
    "โปรโมชั่นเดือนนี้มีอะไรบ้างคะ 😊",
    "Can I pay by PromptPay?",
    "ได้รับของแล้วค่ะ สวยมาก",
]
HANDOFF_TEXT = "agent"


@dataclass
class Request:
    body: bytes
    signature: str
    line_message_id: str
    kind: str = "text"  # "text", "agent" (a handoff) or "first contact" (a new user's first)


@dataclass
class PhaseResult:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)  # line message ids answered 200
    failed: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds used during the phase, by party

    @property
    def count(self) -> int:
        return len(self.accepted) + len(self.failed)


# --- Traffic ------------------------------------------------------------------------------------


def build_request(user: str, text: str, secret: str, kind: str = "text") -> Request:
    event = text_event(user, text)
    body = webhook_body(event)
    return Request(body, sign(body, secret), event["message"]["id"], kind)


def build_requests(
    count: int, users: list[str], known: set[str], agent_share: float, secret: str, rng: random.Random
) -> list[Request]:
    """Signed bodies built before the clock starts, so the client spends its CPU on sending."""
    requests = []
    seen = set(known)
    for n in range(count):
        user = rng.choice(users)
        agent = rng.random() < agent_share
        kind = "first contact" if user not in seen else "agent" if agent else "text"
        seen.add(user)
        text = HANDOFF_TEXT if agent else rng.choice(TEXTS).format(n=n)
        requests.append(build_request(user, text, secret, kind))
    return requests


class RawHttpClient:
    """A minimal HTTP/1.1 keep-alive client for POSTs to one loopback server.

    Client and server share the machine's cores, so the client's CPU is taken from the server:
    httpx costs about 2.5 ms of CPU per request here, this about 0.15 ms.
    """

    def __init__(self, url: str, connections: int, timeout: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        )
        self.timeout = timeout
        self.slots = asyncio.Semaphore(connections)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, body: bytes, signature: str) -> int:
        async with self.slots:
            if self.idle:
                reader, writer = self.idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            try:
                head = f"{self.head}Content-Length: {len(body)}\r\nX-Line-Signature: {signature}\r\n\r\n"
                writer.write(head.encode() + body)
                status, keep_alive = await asyncio.wait_for(self._response(reader), self.timeout)
            except BaseException:
                writer.close()
                raise
            if keep_alive:
                self.idle.append((reader, writer))
            else:
                writer.close()
            return status

    @staticmethod
    async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
        """Read one response; returns its status and whether the connection can be reused."""
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("server closed the connection")
        status = int(status_line.split()[1])
        length, chunked, keep_alive = None, False, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                keep_alive = False
        if chunked:
            while size := int((await reader.readline()).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readline()
        elif length is not None:
            await reader.readexactly(length)
        else:  # no length: the body runs to the end of the connection
            await reader.read()
            keep_alive = False
        return status, keep_alive

    async def aclose(self) -> None:
        for _, writer in self.idle:
            writer.close()


class HttpxClient:
    """The same through httpx.AsyncClient (keep-alive pool), for comparison."""

    def __init__(self, url: str, connections: int, timeout: float) -> None:
        self.url = url
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.client = httpx.AsyncClient(limits=limits, timeout=timeout)

    async def post(self, body: bytes, signature: str) -> int:
        headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
        return (await self.client.post(self.url, content=body, headers=headers)).status_code

    async def aclose(self) -> None:
        await self.client.aclose()


Client = RawHttpClient | HttpxClient
CLIENTS: dict[str, type[RawHttpClient] | type[HttpxClient]] = {"raw": RawHttpClient, "httpx": HttpxClient}


async def post(client: Client, request: Request, started: float, result: PhaseResult) -> None:
    """Send one webhook; `started` is when it was due (open loop) or sent (closed loop)."""
    try:
        status = await client.post(request.body, request.signature)
    except (OSError, ValueError, TimeoutError, httpx.HTTPError, asyncio.IncompleteReadError) as exc:
        result.errors[type(exc).__name__] += 1
        result.failed.append(request.line_message_id)
        return
    if status == 200:
        latency = time.perf_counter() - started
        result.latencies.append(latency)
        result.by_kind.setdefault(request.kind, []).append(latency)
        result.accepted.append(request.line_message_id)
    else:
        result.errors[f"HTTP {status}"] += 1
        result.failed.append(request.line_message_id)


async def closed_loop(client: Client, requests: list[Request], concurrency: int, name: str) -> PhaseResult:
    """`concurrency` senders, each posting its next request as soon as the last one is answered."""
    result = PhaseResult(name)
    queue: Iterator[Request] = iter(requests)

    async def sender() -> None:
        for request in queue:  # the shared iterator hands each request to exactly one sender
            await post(client, request, time.perf_counter(), result)

    began = time.perf_counter()
    try:
        await asyncio.gather(*(sender() for _ in range(concurrency)))
    finally:
        result.elapsed = time.perf_counter() - began
        await client.aclose()
    return result


async def open_loop(client: Client, requests: list[Request], rate: float) -> PhaseResult:
    """Request i is sent at start + i/rate whatever happened to the earlier ones."""
    result = PhaseResult("latency")
    began = time.perf_counter()
    tasks = []
    try:
        for i, request in enumerate(requests):
            due = began + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(client, request, due, result)))
        await asyncio.gather(*tasks)
    finally:
        result.elapsed = time.perf_counter() - began
        await client.aclose()
    return result


# --- Reporting ----------------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def latency_line(result: PhaseResult, points: tuple[int, ...]) -> str:
    values = sorted(result.latencies)
    parts = [f"p{p} {percentile(values, p) * 1000:.1f}" for p in points]
    parts.append(f"max {(values[-1] if values else 0) * 1000:.1f}")
    return "  latency ms   " + "  ".join(parts)


def kinds_line(result: PhaseResult) -> str:
    """p50/p99 per kind of request: where the slow ones come from."""
    parts = []
    for kind in ("text", "agent", "first contact"):
        values = sorted(result.by_kind.get(kind, []))
        if values:
            parts.append(
                f"{kind} ×{len(values)} p50 {percentile(values, 50) * 1000:.1f}"
                f" p99 {percentile(values, 99) * 1000:.1f}"
            )
    return "  by kind      " + ", ".join(parts) + "\n" if parts else ""


def errors_line(result: PhaseResult) -> str:
    detail = ", ".join(f"{kind} ×{n}" for kind, n in result.errors.most_common())
    return f"  errors       {sum(result.errors.values())}" + (f"  ({detail})" if detail else "")


# --- The server under test ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_name(database_url: str) -> str:
    """The PostgreSQL database's name, or "" for another engine."""
    parts = urlsplit(database_url)
    return parts.path.lstrip("/") if parts.scheme in ("postgres", "postgresql", "pgsql") else ""


def recreate_database(database_url: str) -> None:
    """A fresh benchmark database, so every run starts from the same (empty) state.

    Only a PostgreSQL database whose name contains "bench" is ever dropped.
    """
    name = database_name(database_url)
    if not name:
        return
    if "bench" not in name:
        print(f"  (keeping database {name!r}: only a database named *bench* is recreated)")
        return
    import psycopg
    from psycopg import sql

    maintenance = (
        urlsplit(database_url)._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    )
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        sys.exit(f"cannot recreate the benchmark database {name!r} (is PostgreSQL running?): {exc}")


def daphne_command(port: int) -> list[str]:
    beside = Path(sys.executable).parent / "daphne"
    daphne = [str(beside)] if beside.exists() else [sys.executable, "-m", "daphne"]
    return [*daphne, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(f"migrate failed:\n{done.stdout}{done.stderr}")


def start_server(port: int, env: dict[str, str], log: TextIO) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(daphne_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"daphne exited with {server.returncode}; see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    sys.exit(f"daphne did not answer /healthz within 30 s; see {log.name}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


# --- Database check (runs in a subprocess with the server's settings) ---------------------------


def verify_from_stdin() -> None:
    """Count what the database holds for the bench's traffic; print it as JSON.

    Input (stdin): {"accepted": [...], "failed": [...], "users": [...], "settle_seconds": n}.
    """
    import django

    django.setup()
    from django.db.models import Count, F, Max, Q

    from livechat.models import Conversation, Message

    spec = json.load(sys.stdin)
    accepted: list[str] = spec["accepted"]
    users: list[str] = spec["users"]
    bench_messages = Message.objects.filter(conversation__contact__line_user_id__in=users)

    # Let the background pool finish the bot's replies before counting them.
    deadline = time.monotonic() + spec["settle_seconds"]
    while time.monotonic() < deadline:
        if not bench_messages.filter(direction="out", status="pending").exists():
            break
        time.sleep(0.5)

    inbound = bench_messages.filter(direction="in")
    stored_accepted = set(
        inbound.filter(line_message_id__in=accepted).values_list("line_message_id", flat=True)
    )
    conversations = Conversation.objects.filter(contact__line_user_id__in=users).annotate(
        n=Count("messages"), top=Max("messages__seq")
    )
    outbound = dict(bench_messages.filter(direction="out").values_list("status").annotate(n=Count("id")))
    print(
        json.dumps(
            {
                "accepted": len(accepted),
                "stored_accepted": len(stored_accepted),
                "inbound_total": inbound.count(),
                "stored_failed": inbound.filter(line_message_id__in=spec["failed"]).count(),
                "conversations": conversations.count(),
                "seq_broken": conversations.filter(~Q(n=F("last_seq")) | ~Q(top=F("last_seq"))).count(),
                "waiting": conversations.filter(status="waiting").count(),
                "outbound": outbound,
            }
        )
    )


def verify(
    env: dict[str, str], results: list[PhaseResult], users: list[str], settle: float
) -> dict[str, Any]:
    spec = {
        "accepted": [i for r in results for i in r.accepted],
        "failed": [i for r in results for i in r.failed],
        "users": users,
        "settle_seconds": settle,
    }
    done = subprocess.run(
        [sys.executable, __file__, "--verify-stdin"],
        cwd=ROOT,
        env=env,
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
        timeout=settle + 120,
    )
    if done.returncode:
        sys.exit(f"database check failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Main ---------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--start-server",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start (and stop) one daphne on a free loopback port against a fresh benchmark database",
    )
    parser.add_argument("--url", default="", help="base URL of a running server (with --no-start-server)")
    parser.add_argument(
        "--channel-secret",
        default=os.environ.get("LINE_CHANNEL_SECRET") or SIMULATOR_SECRET,
        help="with --url: the server's channel secret, to sign the webhooks",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        help=f"the server's database (default: DATABASE_URL, else {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        help=f"the server's channel layer (default: REDIS_URL, else {DEFAULT_REDIS_URL})",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=6000,
        help="throughput phase: requests (about 20 s: a steady state, not the warm-up)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="throughput phase: connections")
    parser.add_argument("--rate", type=float, default=100.0, help="latency phase: requests per second")
    parser.add_argument("--duration", type=float, default=10.0, help="latency phase: seconds")
    parser.add_argument("--users", type=int, default=200, help="LINE users talking in each phase")
    parser.add_argument(
        "--new-users", type=int, default=20, help="of those, new to the app at the start of each phase"
    )
    parser.add_argument("--agent-share", type=float, default=0.05, help='share of "agent" (handoff) messages')
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    parser.add_argument("--seed", type=int, default=1, help="of the traffic's random choices")
    parser.add_argument(
        "--client", choices=sorted(CLIENTS), default="raw", help="HTTP client of the load generator"
    )
    parser.add_argument("--no-verify", dest="verify", action="store_false", help="skip the database check")
    parser.add_argument(
        "--server-pid", type=int, default=None, help="with --url: the server's pid, to report its CPU use"
    )
    parser.add_argument("--verify-stdin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.start_server and not args.url:
        parser.error("--no-start-server needs --url of the running server")
    if args.url and urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the bench only talks to loopback addresses")
    return args


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "(comm)", which may contain spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_backends(database: str) -> list[int]:
    """PostgreSQL server processes serving `database` (their title: "postgres: … <db> <host>")."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            pids.append(int(entry.name))
    return pids


@dataclass
class CpuMeter:
    """CPU used during a phase by the server, its PostgreSQL backends and this load generator."""

    server_pid: int | None
    database: str
    line_pid: int | None = None

    def sample(self) -> dict[str, float]:
        usage = {"client": time.process_time()}
        for name, pid in (("daphne", self.server_pid), ("LINE stand-in", self.line_pid)):
            used = process_cpu_seconds(pid) if pid is not None else None
            if used is not None:
                usage[name] = used
        if self.database:
            backends = (process_cpu_seconds(pid) for pid in postgres_backends(self.database))
            usage["PostgreSQL"] = sum(x for x in backends if x is not None)
        return usage


def run_phase(meter: CpuMeter, phase: Coroutine[Any, Any, PhaseResult]) -> PhaseResult:
    before = meter.sample()
    result = asyncio.run(phase)
    after = meter.sample()
    result.cpu = {k: after[k] - before[k] for k in after if k in before}
    return result


def cpu_line(result: PhaseResult) -> str:
    """CPU per request of each party; on a small machine they compete for the same cores."""
    if not result.count or not result.cpu:
        return ""
    order = ["daphne", "PostgreSQL", "client", "LINE stand-in"]
    parts = [f"{k} {result.cpu[k] / result.count * 1000:.2f}" for k in order if k in result.cpu]
    return "  CPU ms/req   " + ", ".join(parts) + "\n"


def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    server: subprocess.Popen[bytes] | None = None
    line: subprocess.Popen[bytes] | None = None
    log_path = Path(tempfile.gettempdir()) / f"bench-webhook-daphne-{os.getpid()}.log"
    if args.start_server:
        port, line_port = free_port(), free_port()
        base_url = f"http://127.0.0.1:{port}"
        # LINE is played by the simulator in a daphne of its own (the LINE stand-in): in production
        # LINE's work happens on LINE's servers, not in the process under test.
        env = server_env(args.database_url, args.redis_url, line_port)
        secret = SIMULATOR_SECRET
        recreate_database(args.database_url)
    else:
        base_url = args.url.rstrip("/")
        env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url}
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        env.setdefault("SECRET_KEY", "bench")
        secret = args.channel_secret
    url = base_url + WEBHOOK_PATH
    started_by = (
        "one daphne process started by the bench, LINE played by the simulator in another"
        if args.start_server
        else "already running"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"LINE webhook benchmark: {url} ({started_by})")
    print(f"  database {args.database_url}, channel layer {args.redis_url}")
    print(
        f"  {os.cpu_count()} CPUs, load average before the run {load}; load generator: {args.client} client"
    )

    with log_path.open("w") as log:
        try:
            if args.start_server:
                migrate(env)
                line = start_server(line_port, env, log)
                server = start_server(port, env, log)
            meter = CpuMeter(
                server.pid if server else args.server_pid,
                database_name(env["DATABASE_URL"]),
                line.pid if line else None,
            )
            return measure(args, url, secret, env, rng, meter)
        finally:
            for process in (server, line):
                if process is not None:
                    stop_server(process)
            if server is not None:
                print(f"  (daphne and the LINE stand-in stopped; their log: {log_path})")


def measure(
    args: argparse.Namespace,
    url: str,
    secret: str,
    env: dict[str, str],
    rng: random.Random,
    meter: CpuMeter,
) -> int:
    # The known customers say hello once (unmeasured): afterwards they have a contact and an open
    # conversation, and the server has warmed up. Each phase adds `--new-users` first contacts.
    known = [new_user_id() for _ in range(max(0, args.users - args.new_users))]
    phase_users = [known + [new_user_id() for _ in range(args.new_users)] for _ in range(2)]
    results: list[PhaseResult] = []
    warm = [build_request(user, "สวัสดีค่ะ", secret) for user in known]
    new_client = CLIENTS[args.client]
    results.append(run_phase(meter, closed_loop(new_client(url, 8, args.timeout), warm, 8, "warm-up")))
    mix = f"{args.users} users ({args.new_users} new), {args.agent_share:.0%} {HANDOFF_TEXT!r}"

    print(f"\n[throughput] {args.requests} requests, concurrency {args.concurrency}, keep-alive, {mix}")
    batch = build_requests(args.requests, phase_users[0], set(known), args.agent_share, secret, rng)
    client = new_client(url, args.concurrency, args.timeout)
    throughput = run_phase(meter, closed_loop(client, batch, args.concurrency, "throughput"))
    results.append(throughput)
    rps = throughput.count / throughput.elapsed if throughput.elapsed else 0.0
    print(f"  requests/s   {rps:.1f}  ({throughput.count} in {throughput.elapsed:.2f} s)")
    print(latency_line(throughput, (50, 95, 99)))
    print(kinds_line(throughput) + cpu_line(throughput) + errors_line(throughput))

    count = round(args.rate * args.duration)
    print(f"\n[latency] {args.rate:g} requests/s for {args.duration:g} s, open loop, {mix}")
    batch = build_requests(count, phase_users[1], set(known), args.agent_share, secret, rng)
    latency = run_phase(meter, open_loop(new_client(url, 512, args.timeout), batch, args.rate))
    results.append(latency)
    print(f"  sent         {latency.count} in {latency.elapsed:.2f} s")
    print(latency_line(latency, (50, 99)))
    print(kinds_line(latency) + cpu_line(latency) + errors_line(latency))

    failed = sum(sum(r.errors.values()) for r in results)
    lost = 0
    if args.verify:
        check = verify(env, results, sorted({u for users in phase_users for u in users}), settle=30)
        lost = check["accepted"] - check["stored_accepted"]
        extra = check["inbound_total"] - check["stored_accepted"]
        outbound = check["outbound"]
        print("\n[database]")
        print(f"  accepted requests        {check['accepted']}")
        print(f"  inbound messages stored  {check['inbound_total']}  (lost {lost}, duplicated {extra})")
        if check["stored_failed"]:
            print(f"  stored though not acked  {check['stored_failed']}  (timed out client-side)")
        print(
            f"  conversations            {check['conversations']}  (seq not gap-free: {check['seq_broken']})"
        )
        print(
            f"  bot replies              sent {outbound.get('sent', 0)}, "
            f"pending {outbound.get('pending', 0)}, failed {outbound.get('failed', 0)}  "
            f"({check['waiting']} customers queued by {HANDOFF_TEXT!r})"
        )
        lost += max(0, extra - check["stored_failed"]) + check["seq_broken"]

    p99 = percentile(sorted(latency.latencies), 99) * 1000
    print("\n[targets]")
    print(
        f"  ≥ {TARGET_EVENTS_PER_SECOND:g} events/s with zero errors: {rps:.0f}/s, {failed} errors → "
        f"{'met' if rps >= TARGET_EVENTS_PER_SECOND and not failed else 'MISSED'}"
    )
    print(
        f"  p99 ≤ {TARGET_P99_MS:g} ms at {args.rate:g} requests/s: {p99:.1f} ms → "
        f"{'met' if p99 <= TARGET_P99_MS else 'MISSED'}"
    )
    return 1 if failed or lost else 0


def main() -> None:
    args = parse_args()
    if args.verify_stdin:
        verify_from_stdin()
        return
    sys.exit(run(args))


if __name__ == "__main__":
    main()
