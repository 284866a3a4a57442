"""LINE down for a while: the messages of the outage wait in order, none ends `failed`, LINE is
not hammered, operators are told, and when a trial call succeeds everything goes out in seq
order. The circuit is shared through the cache (Redis in production)."""

import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from livechat.conversations import actions
from livechat.delivery import circuit, outbox
from livechat.models import Conversation, Message
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [timezone.now().timestamp()]
    monkeypatch.setattr(circuit, "_clock", lambda: now[0])
    return now


@pytest.fixture
def chat(line, webhook, settle) -> Conversation:
    webhook(ev.text_event(ev.new_user_id(), "สวัสดีค่ะ"))
    settle()
    conversation = Conversation.objects.get()
    conversation.messages.filter(direction="in").update(created_at=timezone.now() - timedelta(hours=1))
    return conversation  # (its reply token expired: every send is a push)


def queue_sends(conversation: Conversation, operator: Any, texts: list[str]) -> list[Message]:
    with transaction.atomic():
        return [
            actions.queue_outbound(
                conversation,
                outbox.text_message(t),
                sender_kind=Message.SenderKind.OPERATOR,
                operator=operator,
            )
            for t in texts
        ]


def pushes(line) -> list[dict[str, Any]]:
    return [c for c in line.calls(endpoint="push")]


def frames_to_operators(settings) -> Any:
    from channels.layers import get_channel_layer

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends = {}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("operators", channel)

    def received() -> list[dict[str, Any]]:
        import asyncio

        async def drain() -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            while True:
                try:
                    out.append(json.loads((await asyncio.wait_for(layer.receive(channel), 0.2))["text"]))
                except TimeoutError:
                    return out

        return async_to_sync(drain)()

    return received


def test_an_outage_holds_the_messages_in_order_and_a_trial_call_resumes_them(
    chat, operator, line, settle, clock, settings
):
    line.fail(500, count=circuit.FAILURES_TO_OPEN, endpoint="push")
    messages = queue_sends(chat, operator, [f"ข้อความ {i}" for i in range(1, 4)])
    settle()

    assert circuit.state() == "open"
    statuses = set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True))
    assert statuses == {"pending"}  # none failed: it is LINE's outage, not theirs
    assert len(pushes(line)) == circuit.FAILURES_TO_OPEN  # then nobody called LINE any more

    call_command("worker", "--once")  # the worker too leaves LINE alone while the circuit is open
    assert len(pushes(line)) == circuit.FAILURES_TO_OPEN

    clock[0] += settings.LINE_CIRCUIT_COOL_OFF_SECONDS + 1  # half-open: one trial call
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(next_attempt_at=timezone.now())
    call_command("worker", "--once")
    settle()

    assert circuit.state() == "closed"
    delivered = [m["text"] for c in pushes(line) if c["status"] == 200 for m in c["body"]["messages"]]
    assert delivered == ["ข้อความ 1", "ข้อความ 2", "ข้อความ 3"]  # in seq order, once each (one request)
    assert set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True)) == {
        "sent"
    }


def test_a_failed_trial_call_opens_the_circuit_again(clock, settings):
    for _ in range(circuit.FAILURES_TO_OPEN):
        circuit.failed()
    assert circuit.state() == "open" and not circuit.may_call()

    clock[0] += settings.LINE_CIRCUIT_COOL_OFF_SECONDS + 1
    assert circuit.state() == "half_open"
    assert circuit.may_call() is True  # the one trial
    assert circuit.may_call() is False  # everyone else waits for it
    circuit.failed()

    assert circuit.state() == "open"
    clock[0] += settings.LINE_CIRCUIT_COOL_OFF_SECONDS + 1
    assert circuit.may_call() is True
    circuit.succeeded()
    assert circuit.state() == "closed" and circuit.may_call()


def test_failures_spread_over_more_than_a_minute_do_not_open_it(clock):
    for _ in range(circuit.FAILURES_TO_OPEN - 1):
        circuit.failed()
    circuit.succeeded()  # LINE answered in between: the count starts again
    circuit.failed()

    assert circuit.state() == "closed"


def test_operators_are_told_when_line_stops_and_starts_answering(clock, settings):
    received = frames_to_operators(settings)

    for _ in range(circuit.FAILURES_TO_OPEN):
        circuit.failed()
    clock[0] += settings.LINE_CIRCUIT_COOL_OFF_SECONDS + 1
    circuit.may_call()
    circuit.succeeded()

    states = [f["payload"]["state"] for f in received() if f["type"] == "line_status"]
    assert states == ["open", "closed"]


def test_metrics_and_the_console_show_the_outage(client, operator, clock):
    for _ in range(circuit.FAILURES_TO_OPEN):
        circuit.failed()
    operator.is_staff = True
    client.force_login(operator)

    assert "livechat_line_circuit_open 1" in client.get("/metrics").content.decode()
    page = client.get("/console/").content.decode()
    assert 'data-testid="line-down-banner" role="status" aria-live="polite" >' in page  # not hidden
