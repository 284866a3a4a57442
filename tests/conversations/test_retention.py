"""Retention (PRODUCT §11): once a conversation has been closed longer than the retention period,
`cleanup` removes what the customer and the team said — text, LINE payloads, files on storage —
and keeps every row's timing, so analytics read the same; the console says the contents were
removed. LINE's raw webhook bodies go after their own period; their rows stay to keep
deduplicating redeliveries.

Each pass is told what time it is: the tests run it days after the rows were written.
"""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from livechat.conversations import actions, retention
from livechat.conversations.store import append_message
from livechat.line import hosted_images
from livechat.models import Conversation, Message, ServiceSettings, WebhookEvent
from livechat.simulator import events as ev
from tests import factories

pytestmark = pytest.mark.django_db

Status = Conversation.Status


def configure(**fields: Any) -> None:
    row, _ = ServiceSettings.objects.get_or_create(pk=1)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()


def days_later(n: float) -> Any:
    return timezone.now() + timedelta(days=n)


def chat_with_everything(operator: Any) -> Conversation:
    """A closed chat with a text, a sticker, a location, a photo (its file stored) and an
    operator's answer."""
    conversation = factories.open_conversation("Nok", Status.ACTIVE, operator=operator, texts=("ขอสอบถามค่ะ",))
    with transaction.atomic():
        append_message(
            conversation,
            direction="in",
            sender_kind="customer",
            type="sticker",
            payload={"type": "sticker", "packageId": "446", "stickerId": "1988", "quoteToken": "q-1"},
            status="received",
            line_message_id="600000000000000001",
            reply_token="r-1",
            mark_as_read_token="m-1",
        )
        append_message(
            conversation,
            direction="in",
            sender_kind="customer",
            type="location",
            text="บ้าน",
            payload={
                "type": "location",
                "title": "บ้าน",
                "address": "99 ถนนสุขุมวิท",
                "latitude": 13.7,
                "longitude": 100.5,
            },
            status="received",
        )
        photo = append_message(
            conversation,
            direction="in",
            sender_kind="customer",
            type="image",
            payload={"type": "image", "id": "600000000000000003"},
            status="received",
            media_status="pending",
        )
    actions.store_media(photo, "photo.png", factories.png_bytes())
    factories.outbound(conversation, operator, "ได้เลยค่ะ คุณนก", Message.Status.SENT)
    actions.close(conversation.pk, actions.Actor.staff(operator), "Resolved")
    return Conversation.objects.get(pk=conversation.pk)


TIMING = ("pk", "seq", "created_at", "direction", "sender_kind", "type", "status", "line_message_id")


def timings(conversation: Conversation) -> list[tuple[Any, ...]]:
    return list(conversation.messages.order_by("seq").values_list(*TIMING))


def test_contents_of_chats_closed_longer_ago_than_the_period_go_and_their_timings_stay(operator):
    configure(retention_days=30)
    old = chat_with_everything(operator)
    photo = old.messages.get(type="image")
    file_name = str(photo.media.name)
    assert default_storage.exists(file_name)
    before = timings(old)
    conversation_times = Conversation.objects.filter(pk=old.pk).values(
        "created_at", "handoff_requested_at", "claimed_at", "first_response_at", "closed_at", "close_reason"
    )[0]

    assert retention.run(days_later(29)).messages == 0
    assert old.messages.filter(content_removed_at__isnull=False).count() == 0
    removed = retention.run(days_later(30.01))

    assert (removed.conversations, removed.messages, removed.files) == (1, 5, 1)
    messages = list(old.messages.order_by("seq"))
    assert [(m.text, m.payload, m.media.name, m.reply_token, m.mark_as_read_token) for m in messages] == [
        ("", {}, "", "", "")
    ] * 5
    assert all(m.content_removed_at is not None for m in messages)
    assert not default_storage.exists(file_name)
    assert timings(old) == before
    assert (
        Conversation.objects.filter(pk=old.pk).values(
            "created_at",
            "handoff_requested_at",
            "claimed_at",
            "first_response_at",
            "closed_at",
            "close_reason",
        )[0]
        == conversation_times
    )
    assert Conversation.objects.get(pk=old.pk).content_removed_at is not None
    assert retention.run(days_later(31)).total == 0  # done once


def test_open_and_recently_closed_chats_keep_everything(operator):
    configure(retention_days=30)
    talking = factories.open_conversation("Nok", Status.WAITING, texts=("ยังคุยอยู่",))
    recent = chat_with_everything(operator)

    retention.run(days_later(10))

    assert talking.messages.get().text == "ยังคุยอยู่"
    assert recent.messages.filter(content_removed_at__isnull=True).count() == 5


def test_retention_is_off_by_default(operator):
    old = chat_with_everything(operator)

    removed = retention.run(days_later(3650))

    assert removed.messages == 0
    assert old.messages.get(seq=1).text == "ขอสอบถามค่ะ"


def test_the_console_says_the_contents_were_removed_instead_of_an_empty_bubble(team, somchai):
    configure(retention_days=30)
    old = chat_with_everything(team["somchai"])
    retention.run(days_later(31))

    detail = somchai.get(f"/console/api/conversations/{old.pk}").json()
    assert {m["seq"]: m["content_removed"] for m in detail["messages"]} == dict.fromkeys(range(1, 6), True)
    photo = next(m for m in detail["messages"] if m["type"] == "image")
    assert (photo["text"], photo["payload"], photo["media_url"]) == ("", {}, None)
    assert somchai.get(reverse("livechat:media", args=[photo["id"]])).status_code == 404
    rows = somchai.get("/console/api/conversations", {"tab": "closed"}).json()["rows"]
    [row] = [r for r in rows if r["id"] == old.pk]
    assert row["last_message"]["content_removed"] is True
    # Thai first: the console's own words for it.
    catalog = Client(headers={"accept-language": "th"}).get("/jsi18n/").content.decode()
    assert json.dumps("ลบตามนโยบายการเก็บรักษาข้อมูลแล้ว") in catalog


def test_an_image_an_operator_sent_goes_with_its_preview(operator, tmp_path):
    configure(retention_days=7)
    conversation = factories.open_conversation("Nok", Status.ACTIVE, operator=operator)
    original = tmp_path / "big.png"
    original.write_bytes(factories.png_bytes(40, 30))
    preview = tmp_path / "small.png"
    preview.write_bytes(factories.png_bytes(4, 3))
    with original.open("rb") as big, preview.open("rb") as small:
        stored = hosted_images.store(File(big, name="big.png"), File(small, name="small.png"))
    with transaction.atomic():
        sent = factories.outbound(conversation, operator, "", Message.Status.SENT)
        Message.objects.filter(pk=sent.pk).update(
            type="image", media=stored.original_path, media_status=Message.MediaStatus.STORED
        )
    actions.close(conversation.pk, actions.Actor.staff(operator))
    assert default_storage.exists(stored.preview_path)

    retention.run(days_later(8))

    assert not default_storage.exists(stored.original_path)
    assert not default_storage.exists(stored.preview_path)


def test_a_big_backlog_goes_in_batches(operator, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    configure(retention_days=1)
    chats = []
    for n in range(5):
        chat = factories.open_conversation(f"ลูกค้า {n}", Status.WAITING, texts=("หนึ่ง", "สอง", "สาม"))
        actions.close(chat.pk, actions.SYSTEM, "inactivity")
        chats.append(chat)

    removed = retention.run(days_later(2))

    assert (removed.conversations, removed.messages) == (5, 15)
    assert Message.objects.filter(content_removed_at__isnull=True).count() == 0
    assert Conversation.objects.filter(content_removed_at__isnull=True).count() == 0


def test_a_dry_run_counts_and_changes_nothing(operator):
    configure(retention_days=30)
    old = chat_with_everything(operator)
    photo = old.messages.get(type="image")

    would = retention.run(days_later(31), dry_run=True)

    assert (would.conversations, would.messages, would.files) == (1, 5, 1)
    assert old.messages.filter(content_removed_at__isnull=False).count() == 0
    assert old.messages.get(seq=1).text == "ขอสอบถามค่ะ"
    assert default_storage.exists(str(photo.media.name))
    assert Conversation.objects.get(pk=old.pk).content_removed_at is None


# --- Webhook events -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_raw_webhook_bodies_go_after_their_period_and_redeliveries_are_still_ignored(line, webhook, settle):
    user = ev.new_user_id()
    event = ev.text_event(user, "เบอร์โทร 081-234-5678")
    assert webhook(event).status_code == 200
    settle()
    stored = WebhookEvent.objects.get(webhook_event_id=event["webhookEventId"])
    assert stored.raw["message"]["text"] == "เบอร์โทร 081-234-5678"

    assert retention.run(days_later(29)).webhook_events == 0
    removed = retention.run(days_later(30.01))

    assert removed.webhook_events == 1
    stored.refresh_from_db()
    assert stored.raw == {}
    assert (stored.event_type, stored.processed_at is not None) == ("message", True)
    # LINE redelivers it after all: it is still known, and still ignored.
    again = {**event, "deliveryContext": {"isRedelivery": True}}
    assert webhook(again).status_code == 200
    settle()
    assert Message.objects.filter(direction="in", conversation__contact__line_user_id=user).count() == 1


def test_the_webhook_period_is_a_setting_and_an_event_waiting_for_the_worker_keeps_its_body():
    configure(webhook_retention_days=7)
    done = WebhookEvent.objects.create(
        webhook_event_id="01DONE", event_type="message", raw={"type": "message"}, processed_at=timezone.now()
    )
    failed = WebhookEvent.objects.create(
        webhook_event_id="01FAILED", event_type="message", raw={"type": "message"}, processing_error="boom"
    )
    waiting = WebhookEvent.objects.create(
        webhook_event_id="01WAITING", event_type="message", raw={"type": "message"}
    )

    assert retention.run(days_later(8)).webhook_events == 2

    assert [WebhookEvent.objects.get(pk=e.pk).raw for e in (done, failed, waiting)] == [
        {},
        {},
        {"type": "message"},
    ]
