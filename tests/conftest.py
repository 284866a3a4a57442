"""Shared fixtures: fixed users, signed webhooks, and the LINE simulator on a live server.

LINE is replaced only at its HTTP boundary: the app's SDK calls go over real HTTP to the
simulator served by pytest-django's live server.
"""

import importlib
import os
from collections.abc import Generator, Iterator
from typing import Any

import httpx
import pluggy
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from accounts.models import User
from livechat.conversations import queue
from livechat.jobs import background
from livechat.models import HandoffKeyword
from livechat.policies import shared
from livechat.simulator import events as line_events

REQUIRE_SERVICES = os.environ.get("LIVECHAT_REQUIRE_SERVICES") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """In CI a skip (a missing PostgreSQL or Redis, say) is a failure, never a silent pass."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every service must be present: {report.longrepr}"


@pytest.fixture(autouse=True)
def fresh_realtime() -> Iterator[None]:
    """Each test gets a new channel layer (its asyncio locks belong to the test's event loop),
    an empty Redis database and empty in-process presence."""
    from channels.layers import channel_layers

    from livechat.realtime import presence

    channel_layers.backends = {}
    presence._memory = presence.MemoryPresence()
    presence._stores.clear()
    url = os.environ.get("REDIS_URL", "")
    if url:
        import redis

        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
    yield
    channel_layers.backends = {}


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def require_postgres() -> None:
    if not on_postgres():
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://…)")


@pytest.fixture
def require_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("needs Redis (set REDIS_URL=redis://…)")
    return url


class Simulator:
    """The LINE simulator as the tests see it: what the app sent, and faults to inject."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(
            base_url=base_url,
            timeout=10,
            headers={"X-Simulator-Control-Token": settings.SIMULATOR_CONTROL_TOKEN},
        )

    def calls(self, endpoint: str | None = None, user_id: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"endpoint": endpoint, "user_id": user_id}.items() if v}
        response = self.http.get("/simulator/control/calls", params=params)
        response.raise_for_status()
        return response.json()["calls"]

    def sent_texts(self, user_id: str | None = None) -> list[str]:
        """Texts LINE accepted (reply or push) — what the customer's phone shows."""
        return [
            m.get("text", "")
            for c in self.calls(user_id=user_id)
            if c["endpoint"] in ("reply", "push") and c["status"] == 200
            for m in (c["body"] or {}).get("messages", [])
        ]

    def fail(
        self, status: int, count: int = 1, endpoint: str = "", delay: float = 0, html: bool = False
    ) -> None:
        """The next `count` calls (of `endpoint`) fail with `status` — as an HTML page if `html`."""
        self.http.post(
            "/simulator/control/fail",
            json={"status": status, "count": count, "endpoint": endpoint, "delay": delay, "html": html},
        ).raise_for_status()


@pytest.fixture
def line(live_server: Any, settings: Any) -> Iterator[Simulator]:
    """Point the app's LINE client at the simulator served by the live server."""
    settings.LINE_SIMULATOR = True
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/line-api"
    simulator = Simulator(live_server.url)
    yield simulator
    background.wait_until_idle()
    simulator.http.close()


def post_webhook(client: Client, *events: dict[str, Any], signature: str | None = None) -> Any:
    body = line_events.webhook_body(*events)
    return client.post(
        "/webhooks/line/",
        data=body,
        content_type="application/json",
        headers={"X-Line-Signature": signature or line_events.sign(body, settings.LINE_CHANNEL_SECRET)},
    )


@pytest.fixture
def webhook(client: Client) -> Any:
    """webhook(event, …) posts a correctly signed body, like LINE does."""

    def send(*events: dict[str, Any], signature: str | None = None) -> Any:
        return post_webhook(client, *events, signature=signature)

    return send


@pytest.fixture
def settle() -> Any:
    """Wait until the background work (sends, downloads, profile fetches) has finished."""

    def wait(timeout: float = 30.0) -> None:
        assert background.wait_until_idle(timeout), "background work did not finish"

    return wait


@pytest.fixture
def operator(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(
        username="somchai", password="pw-somchai-1", display_name="Somchai", role="operator"
    )


@pytest.fixture
def supervisor(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(
        username="malee", password="pw-malee-1", display_name="Malee", role="supervisor"
    )


_DEFAULT_KEYWORDS: list[str] = importlib.import_module(
    "livechat.migrations.0002_default_handoff_keywords"
).DEFAULT_KEYWORDS
_DB_FIXTURES = {"db", "transactional_db", "live_server"}


@pytest.fixture(autouse=True)
def fresh_install(request: pytest.FixtureRequest) -> None:
    """Every test starts from what a fresh install has.

    The flush after a transactional test also empties the rows data migrations put in (the
    default handoff keywords), so they are put back; and the bot's in-process config cache,
    which would otherwise outlive the test's database, is dropped (so is the queue's cached
    average wait).
    """
    cache.clear()  # the bot's version, the average wait, LINE's circuit: nothing from the last test
    shared.forget_all()  # the bot's texts, business hours, service settings
    queue.forget_average_wait()
    if request.node.get_closest_marker("django_db") or _DB_FIXTURES & set(request.fixturenames):
        request.getfixturevalue("db")
        # The test's background jobs (a bot answer, a profile fetch, a send) end with it, before
        # its database is flushed or rolled back: most webhook tests make the bot answer.
        request.addfinalizer(background.wait_until_idle)
        for keyword in _DEFAULT_KEYWORDS:
            HandoffKeyword.objects.get_or_create(keyword=keyword)


@pytest.fixture
def team(django_user_model: type[User]) -> dict[str, User]:
    def member(username: str, name: str, role: str = "operator", **extra: Any) -> User:
        return django_user_model.objects.create_user(
            username=username, password=f"pw-{username}", display_name=name, role=role, is_staff=True, **extra
        )

    return {
        "somchai": member("somchai", "Somchai"),
        "nok": member("nok", "Nok"),
        "malee": member("malee", "Malee", role="supervisor"),
    }


@pytest.fixture
def somchai(team: dict[str, User]) -> Client:
    client = Client()
    client.force_login(team["somchai"])
    return client
