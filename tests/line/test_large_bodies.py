"""A webhook body too big to process within LINE's answer time: the events left when the budget
(WEBHOOK_INLINE_SECONDS) is spent are stored at once, answered 200, and processed in order right
after the response — or by `worker` when the process that took them died first."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from livechat.jobs import background
from livechat.line import inbound
from livechat.models import Message, WebhookEvent
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


def post(client: Client, *events: dict[str, Any]) -> Any:
    body = ev.webhook_body(*events)
    return client.post(
        "/webhooks/line/",
        data=body,
        content_type="application/json",
        headers={"X-Line-Signature": ev.sign(body, "simulator-channel-secret")},
    )


def conversation_of_customers(users: list[str], per_user: int) -> list[dict[str, Any]]:
    """Each customer writes `per_user` numbered messages, interleaved with the others."""
    return [ev.text_event(user, f"{user[-6:]} ข้อความที่ {n}") for n in range(per_user) for user in users]


def texts_in_order(user: str) -> list[str]:
    """What the customer wrote (the bot's answers left out)."""
    return list(
        Message.objects.filter(conversation__contact__line_user_id=user, direction=Message.Direction.IN)
        .order_by("seq")
        .values_list("text", flat=True)
    )


@override_settings(WEBHOOK_INLINE_SECONDS=0)
def test_the_tail_of_a_body_is_stored_before_the_answer_and_processed_after_it(client: Client) -> None:
    users = [ev.new_user_id() for _ in range(10)]
    events = conversation_of_customers(users, per_user=3)

    response = post(client, *events)

    assert response.status_code == 200
    # Answered with every event stored: the first processed, the other 29 waiting their turn.
    assert WebhookEvent.objects.count() == 30
    assert background.wait_until_idle()
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 30
    for user in users:
        assert texts_in_order(user) == [f"{user[-6:]} ข้อความที่ {n}" for n in range(3)]


@override_settings(WEBHOOK_INLINE_SECONDS=0)
def test_lines_redelivery_of_a_deferred_body_stores_nothing_twice(client: Client) -> None:
    users = [ev.new_user_id() for _ in range(5)]
    events = conversation_of_customers(users, per_user=2)

    assert post(client, *events).status_code == 200
    assert post(client, *events).status_code == 200  # LINE did not hear the answer in time
    assert background.wait_until_idle()

    assert Message.objects.filter(direction=Message.Direction.IN).count() == 10
    assert WebhookEvent.objects.count() == 10


@override_settings(WEBHOOK_INLINE_SECONDS=0)
def test_a_broken_event_in_the_tail_is_kept_with_its_reason_and_the_next_ones_go_on(client: Client) -> None:
    good_before, good_after = ev.new_user_id(), ev.new_user_id()
    broken = ev.text_event("U" + "f" * 200, "too long a user id")

    response = post(client, ev.text_event(good_before, "ก่อน"), broken, ev.text_event(good_after, "หลัง"))

    assert response.status_code == 200
    assert background.wait_until_idle()
    assert texts_in_order(good_before) == ["ก่อน"]
    assert texts_in_order(good_after) == ["หลัง"]
    kept = WebhookEvent.objects.get(webhook_event_id=broken["webhookEventId"])
    assert "userId" in kept.processing_error


def test_the_worker_processes_a_tail_whose_process_died_before_it_got_to_it() -> None:
    user = ev.new_user_id()
    events = [ev.text_event(user, f"ข้อความที่ {n}") for n in range(4)]
    # What a process leaves behind when it dies right after answering LINE: the rows, no job.
    deferred = inbound.defer(events)
    assert len(deferred) == 4
    call_command("worker", "--once")
    assert texts_in_order(user) == []  # within the grace period the process that took them may still be at it

    WebhookEvent.objects.filter(pk__in=deferred).update(received_at=timezone.now() - timedelta(minutes=5))
    call_command("worker", "--once")

    assert texts_in_order(user) == [f"ข้อความที่ {n}" for n in range(4)]
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
