"""Prometheus reads how busy the service is — queue, operators, deliveries, SLA, LINE — and how
fast it answers, from /metrics in its own text format."""

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from livechat.delivery import circuit
from livechat.models import Conversation, Message, SlaAlert
from livechat.realtime import presence
from livechat.simulator import events as ev
from livechat.simulator.models import SimulatorQuota
from tests.factories import open_conversation

BANGKOK = ZoneInfo("Asia/Bangkok")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=BANGKOK)


@pytest.fixture(autouse=True)
def line_unreachable(settings) -> None:
    """Where a test does not play LINE (the `line` fixture), a scrape's quota question fails
    at once instead of reaching whatever listens on the default port."""
    settings.LINE_API_BASE_URL = "http://127.0.0.1:1/line-api"


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: Client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def waiting_since(name: str, when: datetime, status: str = Conversation.Status.WAITING) -> Conversation:
    conversation = open_conversation(name, status)
    Conversation.objects.filter(pk=conversation.pk).update(handoff_requested_at=when)
    return conversation


@pytest.mark.django_db
def test_a_scrape_is_prometheus_text_with_every_gauge_and_histogram(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f.type for f in text_string_to_metric_families(response.content.decode())}
    assert {
        name: families.get(name)
        for name in [
            "livechat_conversations",
            "livechat_queue_length",
            "livechat_queue_longest_wait_seconds",
            "livechat_operators_online",
            "livechat_outbound_messages",
            "livechat_sla_breaches_today",
            "livechat_line_circuit_open",
            "livechat_line_circuit_state",
            "livechat_http_request_duration_seconds",
            "livechat_webhook_duration_seconds",
            "livechat_webhook_events",
        ]
    } == {
        "livechat_conversations": "gauge",
        "livechat_queue_length": "gauge",
        "livechat_queue_longest_wait_seconds": "gauge",
        "livechat_operators_online": "gauge",
        "livechat_outbound_messages": "gauge",
        "livechat_sla_breaches_today": "gauge",
        "livechat_line_circuit_open": "gauge",
        "livechat_line_circuit_state": "gauge",
        "livechat_http_request_duration_seconds": "histogram",
        "livechat_webhook_duration_seconds": "histogram",
        "livechat_webhook_events": "counter",
    }
    assert "process_cpu_seconds" in families  # the library's own per-process figures come too


@pytest.mark.django_db
def test_the_queue_length_and_the_longest_wait_follow_the_waiting_customers(client):
    with time_machine.travel(NOW, tick=False):
        empty = scrape(client)
        waiting_since("Ploy", NOW - timedelta(minutes=5))
        waiting_since("Nok", NOW - timedelta(minutes=1))
        waiting_since("Lek", NOW - timedelta(hours=2), status=Conversation.Status.ACTIVE)  # claimed
        open_conversation("Bot", Conversation.Status.BOT)
        busy = scrape(client)

    assert value(empty, "livechat_queue_length") == 0
    assert value(empty, "livechat_queue_longest_wait_seconds") == 0
    assert value(busy, "livechat_queue_length") == 2
    assert value(busy, "livechat_queue_longest_wait_seconds") == 300
    assert value(busy, "livechat_conversations", status="waiting") == 2
    assert value(busy, "livechat_conversations", status="active") == 1
    assert value(busy, "livechat_conversations", status="bot") == 1
    assert value(busy, "livechat_conversations", status="closed") == 0


@pytest.mark.django_db
def test_outbound_messages_pending_and_failed_are_counted(client):
    conversation = open_conversation("Ploy", Conversation.Status.ACTIVE)
    for status in ["pending", "failed", "failed", "sent"]:
        Message.objects.create(
            conversation=conversation,
            seq=Message.objects.filter(conversation=conversation).count() + 1,
            direction=Message.Direction.OUT,
            sender_kind=Message.SenderKind.OPERATOR,
            type=Message.Type.TEXT,
            text="ok",
            status=status,
        )

    samples = scrape(client)

    assert value(samples, "livechat_outbound_messages", status="pending") == 1
    assert value(samples, "livechat_outbound_messages", status="failed") == 2


@pytest.mark.django_db
def test_sla_breaches_count_from_local_midnight_and_warnings_do_not_count(client):
    conversation = open_conversation("Ploy")

    def alert(at: datetime, kind: str, level: str = SlaAlert.Level.BREACH) -> None:
        with time_machine.travel(at, tick=False):
            SlaAlert.objects.create(
                conversation=conversation,
                kind=kind,
                level=level,
                started_at=at - timedelta(hours=1),
                due_at=at,
            )

    midnight = NOW.replace(hour=0)
    alert(midnight - timedelta(minutes=1), SlaAlert.Kind.FIRST_RESPONSE)  # yesterday, Bangkok time
    alert(midnight + timedelta(minutes=1), SlaAlert.Kind.FIRST_RESPONSE)
    alert(midnight + timedelta(hours=8), SlaAlert.Kind.RESOLUTION)
    alert(midnight + timedelta(hours=8), SlaAlert.Kind.NEXT_RESPONSE, level=SlaAlert.Level.WARNING)

    with time_machine.travel(NOW, tick=False):
        samples = scrape(client)

    assert value(samples, "livechat_sla_breaches_today", kind="first_response") == 1
    assert value(samples, "livechat_sla_breaches_today", kind="resolution") == 1
    assert value(samples, "livechat_sla_breaches_today", kind="next_response") == 0


@pytest.mark.django_db
def test_operators_online_are_read_from_the_presence_every_process_shares(client, team):
    @async_to_sync
    async def connect() -> None:
        store = presence.store()
        await store.touch(team["somchai"].pk, "tab-1")
        await store.touch(team["somchai"].pk, "tab-2")
        await store.touch(team["malee"].pk, "tab-1")
        await store.set_status(team["malee"].pk, "away")

    connect()
    samples = scrape(client)

    assert value(samples, "livechat_operators_online", status="online") == 1
    assert value(samples, "livechat_operators_online", status="away") == 1


@pytest.mark.django_db
def test_the_line_circuit_state_is_shown(client):
    closed = scrape(client)
    for _ in range(circuit.FAILURES_TO_OPEN):
        circuit.failed()
    opened = scrape(client)

    assert value(closed, "livechat_line_circuit_state", state="closed") == 1
    assert value(closed, "livechat_line_circuit_open") == 0
    assert value(opened, "livechat_line_circuit_state", state="closed") == 0
    assert value(opened, "livechat_line_circuit_state", state="open") == 1
    assert value(opened, "livechat_line_circuit_open") == 1


@pytest.mark.django_db
def test_a_request_is_timed_under_its_route_pattern_not_its_path(client):
    before = scrape(client)
    client.get("/healthz")
    client.get("/api/v1/conversations/12345")  # 401: nobody signed in
    client.get("/no/such/page/12345")
    after = scrape(client)

    def counted(samples: Samples, route: str, status: str) -> float:
        name = "livechat_http_request_duration_seconds_count"
        return value(samples, name, method="GET", route=route, status=status) or 0

    assert counted(after, "healthz", "2xx") - counted(before, "healthz", "2xx") == 1
    api = "api/v1/conversations/<id:conversation_id>"
    assert counted(after, api, "4xx") - counted(before, api, "4xx") == 1
    assert counted(after, "unmatched", "4xx") - counted(before, "unmatched", "4xx") == 1
    assert not [labels for _, labels in after if any("12345" in v for _, v in labels)]


@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_is_timed_and_its_events_counted(client, line, webhook, settle):
    before = scrape(client)
    response = webhook(ev.text_event(ev.new_user_id(), "สวัสดีค่ะ"), ev.follow_event(ev.new_user_id()))
    settle()
    refused = webhook(ev.text_event(ev.new_user_id(), "hi"), signature="c2lnbmF0dXJl")
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert (response.status_code, refused.status_code) == (200, 400)
    assert grew("livechat_webhook_duration_seconds_count", status="200") == 1
    assert grew("livechat_webhook_duration_seconds_count", status="400") == 1
    assert grew("livechat_webhook_events_total", type="message") == 1
    assert grew("livechat_webhook_events_total", type="follow") == 1


@pytest.mark.django_db(transaction=True)
def test_the_push_quota_comes_from_line_and_a_scrape_costs_three_queries(
    client, line, django_assert_num_queries
):
    SimulatorQuota.objects.create(limit=500)
    first = scrape(client)  # asks LINE once; the figures are then shared through the cache

    with django_assert_num_queries(3):  # conversations, outbound messages, SLA breaches
        again = scrape(client)

    assert value(first, "livechat_line_push_quota_limit") == 500
    assert value(first, "livechat_line_push_quota_used") == 0
    assert value(again, "livechat_line_push_quota_limit") == 500
    assert len(line.calls(endpoint="quota")) == 1


@pytest.mark.django_db
def test_a_refused_scraper_learns_nothing_and_prometheus_may_ask_for_openmetrics(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = "scrape-me"
    settings.METRICS_ALLOWED_ADDRESSES = []
    refused = client.get("/metrics")
    allowed = client.get(
        "/metrics",
        headers={
            "Authorization": "Bearer scrape-me",
            "Accept": "application/openmetrics-text; version=1.0.0",
        },
    )

    assert refused.status_code == 403
    assert "livechat_" not in refused.content.decode()
    assert allowed.status_code == 200
    assert allowed["Content-Type"].startswith("application/openmetrics-text")
    assert allowed.content.decode().endswith("# EOF\n")


@pytest.mark.django_db
def test_with_redis_down_a_scrape_still_answers_the_database_figures_and_the_histograms(client, settings):
    open_conversation("Ploy")
    unreachable = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.REDIS_URL = unreachable
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": unreachable}
    }

    samples = scrape(client)

    assert value(samples, "livechat_queue_length") == 1
    assert value(samples, "livechat_operators_online", status="online") is None
    assert value(samples, "livechat_line_circuit_open") is None
    assert any(name == "livechat_http_request_duration_seconds_count" for name, _ in samples)


@pytest.mark.django_db(transaction=True)
async def test_under_daphnes_asgi_application_requests_and_webhooks_are_timed_too():
    from config.asgi import application

    body = ev.webhook_body(ev.text_event(ev.new_user_id(), "hi"))
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as asgi:

        async def samples() -> Samples:
            response = await asgi.get("/metrics")
            assert response.status_code == 200
            return {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(response.text)
                for sample in family.samples
            }

        before = await samples()
        refused = await asgi.post("/webhooks/line/", content=body, headers={"X-Line-Signature": "bm9wZQ=="})
        await asgi.get("/healthz")
        after = await samples()

    def grew(name: str, **labels: str) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert refused.status_code == 400
    assert grew("livechat_webhook_duration_seconds_count", status="400") == 1
    timed = "livechat_http_request_duration_seconds_count"
    assert grew(timed, method="GET", route="healthz", status="2xx") == 1
    assert grew(timed, method="GET", route="metrics", status="2xx") == 1  # the first scrape


DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.django_db
def test_the_docs_and_the_grafana_dashboard_name_only_metrics_that_exist_and_list_them_all(client):
    exposed = {
        family.name
        for family in text_string_to_metric_families(client.get("/metrics").content.decode())
        if family.name.startswith("livechat_")
    }
    exposed |= {"livechat_line_push_quota_used", "livechat_line_push_quota_limit"}  # only once LINE answers
    documented = set(re.findall(r"`(livechat_[a-z_]+)`", (DOCS / "metrics.md").read_text()))
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    charted = {
        re.sub(r"_(bucket|count|sum|total)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"livechat_[a-z_]+", target["expr"])
    }

    assert documented == {f"{name}_total" if name == "livechat_webhook_events" else name for name in exposed}
    assert charted == exposed
