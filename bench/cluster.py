"""Real daphne processes on one PostgreSQL database and one Redis, and operator sockets to them.

Shared by the real-time benchmarks (bench/fanout.py, bench/connections.py) and the multi-process
tests (tests/realtime/test_across_processes.py):

- `Cluster` creates a PostgreSQL database of its own, migrates it, starts daphne processes on
  free loopback ports (all on the same database and Redis) and drops the database at the end;
- `create_operators` puts operators with API tokens into that database;
- `OperatorSocket` is a client of `/ws/live-chat/` over the `websockets` library that
  authenticates with a token (as non-browser clients do) and keeps the frames it receives;
- `post_webhook` posts a signed LINE webhook, as LINE does.

Loopback only; every wait is bounded.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livechat.simulator.events import sign, webhook_body  # noqa: E402

SIMULATOR_SECRET = "simulator-channel-secret"  # config/settings.py's stand-in with the simulator on
WEBHOOK_PATH = "/webhooks/line/"
SOCKET_PATH = "/ws/live-chat/"
START_TIMEOUT_SECONDS = 30.0

Frame = dict[str, Any]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in ("postgres", "postgresql", "pgsql")


def with_database(url: str, name: str) -> str:
    """The same PostgreSQL server, another database."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _maintenance(url: str) -> str:
    return with_database(url, "postgres").replace("postgres://", "postgresql://", 1)


def create_database(url: str) -> None:
    """A fresh, empty database at `url` (an existing one of that name is dropped first)."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_maintenance(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_maintenance(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def flush_redis(url: str) -> None:
    """A bench's own Redis database starts empty: no groups or presence left by an earlier run."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def server_env(database_url: str, redis_url: str, line_api_port: int, **extra: str) -> dict[str, str]:
    """What a production-like daphne gets: DEBUG off, the LINE simulator standing in for LINE."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DJANGO_"))}
    env.update(
        DEBUG="0",
        HTTPS_ONLY="0",  # a plain-HTTP rig on loopback
        SECRET_KEY="x",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LINE_SIMULATOR="1",
        LINE_API_BASE_URL=f"http://127.0.0.1:{line_api_port}/simulator/line-api",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        **extra,
    )
    return env


def _run_django(args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class Operator:
    id: int
    username: str
    token: str


def create_operators(
    env: dict[str, str], count: int, first_id: int, role: str = "operator"
) -> list[Operator]:
    """`count` operators with API tokens, ids first_id…, in the database of `env`.

    Ids are explicit and high so they can never be mistaken for another database's users that
    share the same Redis presence set.
    """
    spec = json.dumps({"count": count, "first_id": first_id, "role": role})
    out = _run_django([str(Path(__file__)), "--create-operators"], env, stdin=spec)
    return [Operator(**row) for row in json.loads(out.strip().splitlines()[-1])]


def _create_operators_from_stdin() -> None:
    import secrets

    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from accounts.models import User

    spec = json.load(sys.stdin)
    first, count = spec["first_id"], spec["count"]
    users = [
        User(
            id=first + n,
            username=f"op{first + n}",
            display_name=f"Operator {first + n}",
            role=spec["role"],
            password="!",  # unusable: these operators only use tokens
        )
        for n in range(count)
    ]
    User.objects.bulk_create(users, batch_size=500)
    tokens = [Token(key=secrets.token_hex(20), user_id=u.id) for u in users]
    Token.objects.bulk_create(tokens, batch_size=500)
    print(
        json.dumps(
            [{"id": u.id, "username": u.username, "token": t.key} for u, t in zip(users, tokens, strict=True)]
        )
    )


# --- Daphne processes -----------------------------------------------------------------------------


def wait_until_healthy(
    url: str, process: subprocess.Popen[bytes], timeout: float, name: str, log: Callable[[], str]
) -> None:
    """Until the daphne at `url` answers /healthz; RuntimeError with its log if it dies or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer /healthz within {timeout:g} s:\n{log()}")


class Daphne:
    """One `daphne config.asgi:application` on a free loopback port."""

    def __init__(self, env: dict[str, str], port: int | None = None, name: str = "daphne") -> None:
        self.port = port or free_port()
        self.env = env
        self.name = name
        self.log_path = Path(tempfile.gettempdir()) / f"livechat-{name}-{os.getpid()}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{SOCKET_PATH}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        daphne = Path(sys.executable).parent / "daphne"
        command = [str(daphne), "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)

    def wait_healthy(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        assert self.process is not None
        try:
            wait_until_healthy(self.url, self.process, timeout, self.name, self.log)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def crash(self) -> None:
        """kill -9: no disconnect handler runs, nothing is cleaned up."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


class Cluster:
    """A fresh database, migrated, and `processes` daphnes on it sharing one Redis."""

    def __init__(
        self, base_database_url: str, database_name: str, redis_url: str, processes: int = 2, **extra: str
    ) -> None:
        self.database_url = with_database(base_database_url, database_name)
        self.redis_url = redis_url
        self.ports = [free_port() for _ in range(processes)]
        # The LINE simulator of the first process serves every process's LINE API calls.
        self.env = server_env(self.database_url, redis_url, self.ports[0], **extra)
        self.servers = [Daphne(self.env, port, name=f"daphne{i}") for i, port in enumerate(self.ports)]

    def __enter__(self) -> Self:
        create_database(self.database_url)
        try:
            _run_django(["manage.py", "migrate", "--noinput", "-v0"], self.env)
            for server in self.servers:
                server.start()
            for server in self.servers:
                server.wait_healthy()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers:
            server.stop()
        drop_database(self.database_url)

    def add_server(self, name: str) -> Daphne:
        server = Daphne(self.env, name=name)
        self.servers.append(server)
        server.start()
        server.wait_healthy()
        return server


def signed_webhook(*events: dict[str, Any], secret: str = SIMULATOR_SECRET) -> tuple[bytes, dict[str, str]]:
    body = webhook_body(*events)
    return body, {"Content-Type": "application/json", "X-Line-Signature": sign(body, secret)}


async def post_webhook(client: httpx.AsyncClient, base_url: str, *events: dict[str, Any]) -> None:
    body, headers = signed_webhook(*events)
    response = await client.post(base_url + WEBHOOK_PATH, content=body, headers=headers)
    response.raise_for_status()


# --- Operator sockets -----------------------------------------------------------------------------


@dataclass
class OperatorSocket:
    """An authenticated console socket. Frames land in `frames` unless `on_text` takes them."""

    ws: ClientConnection
    operator_id: int
    frames: list[Frame] = field(default_factory=list)
    on_text: Callable[[str, float], None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def connect(
        cls,
        url: str,
        operator: Operator,
        *,
        ping_every: float | None = None,
        timeout: float = 10.0,
        on_text: Callable[[str, float], None] | None = None,
    ) -> Self:
        ws = await asyncio.wait_for(
            connect(url, open_timeout=timeout, max_size=2**22, ping_interval=None), timeout
        )
        client = cls(ws, operator.id)
        client._tasks.append(asyncio.create_task(client._read()))
        await client.send("auth", {"token": operator.token})
        await client.wait_for("auth_success", timeout=timeout)
        client.on_text = on_text
        if ping_every:
            client._tasks.append(asyncio.create_task(client._ping(ping_every)))
        return client

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                if self.on_text is not None:
                    self.on_text(str(text), time.perf_counter())
                else:
                    self.frames.append(json.loads(text))
                    self._arrived.set()
        except Exception:  # connection gone: whoever waits will time out or see `closed`
            pass
        finally:
            self._arrived.set()

    async def _ping(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.send("ping")
            except Exception:
                return

    async def send(self, frame_type: str, payload: dict[str, Any] | None = None, **extra: Any) -> None:
        await self.ws.send(json.dumps({"type": frame_type, "payload": payload or {}, **extra}))

    async def wait_for(
        self, frame_type: str, where: Callable[[Frame], bool] = lambda f: True, timeout: float = 10.0
    ) -> Frame:
        """The first received frame of that type (and condition), consumed so it is not seen twice."""
        deadline = time.monotonic() + timeout
        while True:
            for i, frame in enumerate(self.frames):
                if frame["type"] == frame_type and where(frame):
                    return self.frames.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._tasks[0].done():
                seen = [f["type"] for f in self.frames]
                raise TimeoutError(
                    f"no {frame_type} within {timeout:g} s (have {seen}, close {self.ws.close_code})"
                )
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass

    async def close(self) -> None:
        for task in self._tasks[1:]:
            task.cancel()
        try:
            await asyncio.wait_for(self.ws.close(), 5)
        except Exception:
            pass
        self._tasks[0].cancel()


if __name__ == "__main__" and sys.argv[1:] == ["--create-operators"]:
    _create_operators_from_stdin()
