"""LINE redelivers events; a copy — even one arriving at the same instant — changes nothing."""

import threading

import pytest
from django.db import connection
from django.test import Client

from livechat.models import Conversation, Message, WebhookEvent
from livechat.simulator import events as ev
from tests.conftest import post_webhook

pytestmark = pytest.mark.django_db(transaction=True)


def post_concurrently(event: dict, copies: int) -> list[int]:
    """Post the same event from `copies` threads at once, each with its own DB connection."""
    start = threading.Barrier(copies)
    statuses: list[int] = []

    def deliver() -> None:
        try:
            client = Client()
            start.wait()
            statuses.append(post_webhook(client, event).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return statuses


@pytest.mark.smoke
def test_the_same_event_posted_twice_is_stored_once(line, webhook, settle):
    user = ev.new_user_id()
    event = ev.text_event(user, "คุยกับเจ้าหน้าที่")

    first, second = webhook(event), webhook(event)
    settle()

    assert (first.status_code, second.status_code) == (200, 200)
    assert WebhookEvent.objects.filter(webhook_event_id=event["webhookEventId"]).count() == 1
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 1
    # …and the customer is told their queue position once, not twice.
    assert len(line.sent_texts()) == 1


def test_the_same_event_posted_concurrently_is_stored_once(line, settle):
    user = ev.new_user_id()
    event = ev.text_event(user, "สวัสดีค่ะ")

    statuses = post_concurrently(event, copies=8)
    settle()

    assert statuses == [200] * 8
    assert WebhookEvent.objects.count() == 1
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 1
    assert Conversation.objects.count() == 1
    assert Conversation.objects.get().last_seq == 2  # and the bot answered it once


def test_a_redelivered_event_is_flagged(webhook):
    user = ev.new_user_id()
    event = ev.text_event(user, "sent while the webhook was down", redelivery=True)

    assert webhook(event).status_code == 200

    stored = WebhookEvent.objects.get(webhook_event_id=event["webhookEventId"])
    assert stored.is_redelivery
    assert Message.objects.get(direction=Message.Direction.IN).text == "sent while the webhook was down"


def test_a_redelivered_copy_of_a_processed_event_changes_nothing(webhook):
    user = ev.new_user_id()
    event = ev.text_event(user, "hello")
    webhook(event)
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}

    assert webhook(redelivered).status_code == 200

    stored = WebhookEvent.objects.get()
    assert not stored.is_redelivery  # the first delivery is the record
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 1
    assert Message.objects.filter(sender_kind=Message.SenderKind.BOT).count() == 1  # answered once


def test_an_event_without_webhook_event_id_is_deduplicated_on_its_content(webhook):
    event = ev.text_event(ev.new_user_id(), "an old-style event")
    del event["webhookEventId"], event["deliveryContext"]

    assert webhook(event).status_code == 200
    assert webhook(event).status_code == 200

    assert WebhookEvent.objects.get().webhook_event_id.startswith("sha256:")
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 1
