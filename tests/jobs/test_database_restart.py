"""PostgreSQL restarts (an upgrade, a failover): the worker waits it out and carries on, and the
web process answers 503 while it is away — quickly, so LINE redelivers — and 200 again after,
without a string of 500s from the dead connections left in its pool.

Real processes: a PostgreSQL cluster of the test's own, stopped and started again, a `worker`
and a daphne running against it, LINE played by the simulator of the test's live server.
"""

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from livechat.simulator import events as ev
from tests.disposable import DisposablePostgres, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def postgres() -> Iterator[DisposablePostgres]:
    server = DisposablePostgres()
    yield server
    server.destroy()


def app_env(postgres: DisposablePostgres, line: Any, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DJANGO_", "PYTEST_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=postgres.url,
        DEBUG="1",
        SECRET_KEY="restart-test",
        LINE_SIMULATOR="1",
        LINE_API_BASE_URL=f"{line.base_url}/simulator/line-api",
        LINE_RETRY_BASE_SECONDS="0.05",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


QUEUE_A_SEND = """
from django.db import transaction
from django.utils import timezone
from livechat.conversations.store import append_message, open_conversation_for
with transaction.atomic():
    conversation, _, _ = open_conversation_for({user!r})
    append_message(
        conversation, direction="out", sender_kind="operator", type="text", text={text!r},
        payload={{"type": "text", "text": {text!r}}}, status="pending", next_attempt_at=timezone.now(),
    )
"""


MAKE_A_TOKEN = """
from accounts.models import User
from rest_framework.authtoken.models import Token
user = User.objects.create_user(username="api", password="pw-api-1", role="operator", is_staff=True)
print(Token.objects.create(user=user).key)
"""


def test_the_worker_waits_out_a_database_restart_and_then_sends(postgres, line, tmp_path):
    env = app_env(postgres, line)
    manage(env, "migrate", "--noinput", "-v0")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        postgres.stop()
        wait_until(lambda: "database unreachable" in log.read_text(), 20, "the worker noticed")
        assert worker.poll() is None, log.read_text()  # still running

        postgres.start()
        user = ev.new_user_id()
        manage(env, "shell", "-c", QUEUE_A_SEND.format(user=user, text="กลับมาแล้วค่ะ"))
        wait_until(lambda: "กลับมาแล้วค่ะ" in line.sent_texts(user), 40, "the pending send went out")
        # (logged once the pass that sent it returns)
        wait_until(lambda: "database reachable again" in log.read_text(), 10, "the worker said it is back")
    finally:
        worker.terminate()
        code = worker.wait(15)
    assert code == 0, log.read_text()


def test_the_webhook_answers_503_at_once_while_the_database_is_away_and_200_after(postgres, line, tmp_path):
    env = app_env(postgres, line, DB_POOL_TIMEOUT="2")
    manage(env, "migrate", "--noinput", "-v0")
    port = free_port()
    log = tmp_path / "daphne.log"
    daphne = Path(sys.executable).parent / "daphne"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(daphne), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=base, timeout=15)

    def post(text: str) -> httpx.Response:
        body = ev.webhook_body(ev.text_event(user, text))
        signature = ev.sign(body, "simulator-channel-secret")
        return http.post("/webhooks/line/", content=body, headers={"X-Line-Signature": signature})

    def up() -> bool:
        try:
            return http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    user = ev.new_user_id()
    token = manage(env, "shell", "-c", MAKE_A_TOKEN).strip().splitlines()[-1]
    api = {"Authorization": f"Token {token}"}
    try:
        wait_until(up, 30, "daphne started")
        for i in range(5):  # warm the pool: several connections, all of which the restart kills
            assert post(f"ก่อน {i}").status_code == 200
        assert http.get("/api/v1/queue", headers=api).status_code == 200

        postgres.stop()
        started = time.monotonic()
        away = post("ระหว่างที่ฐานข้อมูลหยุด")
        assert away.status_code == 503, away.text
        assert time.monotonic() - started < 5  # not a hang: LINE gives a webhook 2 s
        assert http.get("/readyz").status_code == 503
        refused = http.get("/api/v1/queue", headers=api)
        assert (refused.status_code, refused.json()["code"]) == (503, "unavailable")
        assert refused.headers["Retry-After"]

        postgres.start()
        # Back within seconds (the pool reconnects), and then every request is served: no string
        # of failures from the dead connections the restart left in the pool, and never a 500.
        answers: list[int] = []

        def served() -> bool:
            answers.append(post(f"หลัง {len(answers)}").status_code)
            return answers[-1] == 200

        wait_until(served, 15, "the webhook served again")
        answers += [post(f"แล้ว {i}").status_code for i in range(5)]
        assert set(answers) <= {200, 503} and answers[-5:] == [200] * 5, (answers, log.read_text()[-3000:])
    finally:
        http.close()
        server.terminate()
        server.wait(15)
