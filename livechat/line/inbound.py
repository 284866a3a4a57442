"""Turning LINE webhook events into stored facts, one transaction per event.

`process_event` is the whole inbound path after the signature check: deduplicate on
webhookEventId, store, let the bot react, and — after commit — tell operators and start the slow
work (media download, profile fetch, bot replies) in the background.
"""

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from livechat.conversations import actions, bot, store
from livechat.jobs import background
from livechat.line import media, profiles
from livechat.models import Contact, Conversation, Message, WebhookEvent

logger = logging.getLogger(__name__)

MEDIA_TYPES = {"image", "video", "audio", "file"}


def process_event(raw: dict[str, Any]) -> bool:
    """Store and act on one event. Returns False if it was a duplicate delivery."""
    event_id = str(raw.get("webhookEventId") or _fallback_event_id(raw))
    try:
        if _append_in_one_statement(raw, event_id):
            return True
        with transaction.atomic():
            recorded = store.record_event(_webhook_event(raw, event_id))
            if not recorded:  # the webhookEventId is already stored: LINE redelivered it
                return False
            _handle(raw)
    except DatabaseError:
        raise  # the database is unwell: fail the request so LINE can redeliver
    except Exception as exc:
        # A bug or an event we cannot interpret: keep it (for replay), acknowledge it.
        logger.exception("webhook event %s could not be processed", event_id)
        WebhookEvent.objects.get_or_create(
            webhook_event_id=event_id,
            defaults={
                "event_type": str(raw.get("type", ""))[:40],
                "source_type": str((raw.get("source") or {}).get("type", ""))[:10],
                "raw": raw,
                "processing_error": f"{type(exc).__name__}: {exc}"[:2000],
            },
        )
    return True


def _webhook_event(raw: dict[str, Any], event_id: str) -> WebhookEvent:
    return WebhookEvent(
        webhook_event_id=event_id,
        event_type=str(raw.get("type", ""))[:40],
        source_type=str((raw.get("source") or {}).get("type", ""))[:10],
        raw=raw,
        is_redelivery=bool((raw.get("deliveryContext") or {}).get("isRedelivery")),
        processed_at=timezone.now(),
    )


def _append_in_one_statement(raw: dict[str, Any], event_id: str) -> bool:
    """The hot path — a customer writing in their open conversation, with nothing for the bot
    to do — as one statement (store.append_to_open_conversation), without a transaction.

    False when it does not apply or wrote nothing (no open conversation, or a redelivery): the
    transactional path then handles the event from the start.
    """
    source = raw.get("source") or {}
    user_id = source.get("userId")
    if raw.get("type") != "message" or source.get("type") != "user" or not user_id:
        return False
    message = _inbound_message(raw)
    if message.type == Message.Type.TEXT and bot.would_act_on(message.text):
        return False  # a bot reply or a handoff must commit together with the message
    conversation = store.append_to_open_conversation(_webhook_event(raw, event_id), message, str(user_id))
    if conversation is None:
        return False
    _after_stored(conversation, message)  # committed already: runs at once
    return True


def _fallback_event_id(raw: dict[str, Any]) -> str:
    """Events without webhookEventId (old or hand-made) dedupe on their content."""
    return "sha256:" + hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:56]


def _handle(raw: dict[str, Any]) -> None:
    source = raw.get("source") or {}
    if source.get("type") != "user" or not source.get("userId"):
        return  # group and room chats are stored (above) but not a product feature yet
    user_id: str = source["userId"]
    kind = raw.get("type")
    if kind == "message":
        _on_message(raw, user_id)
    elif kind == "postback":
        _on_postback(raw, user_id)
    elif kind == "unsend":
        _on_unsend(raw)
    elif kind == "follow":
        _on_follow(raw, user_id)
    elif kind == "unfollow":
        _on_unfollow(user_id)
    # Anything else (join, beacon, unknown types, …) is stored and acknowledged.


def _event_time(raw: dict[str, Any]) -> datetime | None:
    ms = raw.get("timestamp")
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if isinstance(ms, int | float) else None


def _message_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Our columns for a LINE message object of any type."""
    kind = str(body.get("type", ""))
    payload = {k: v for k, v in body.items() if k not in ("id", "type", "text", "markAsReadToken")}
    fields: dict[str, Any] = {
        "type": kind if kind in Message.Type.values else Message.Type.UNKNOWN,
        "text": "",
        "payload": payload,
    }
    if kind == "text":
        fields["text"] = str(body.get("text", ""))
    elif kind == "location":
        fields["text"] = str(body.get("title") or body.get("address") or "")
    elif kind in MEDIA_TYPES:
        provider = (body.get("contentProvider") or {}).get("type", "line")
        if provider == "line":  # the bytes live at LINE for a limited time: fetch them
            fields["media_status"] = Message.MediaStatus.PENDING
        if kind == "file":
            fields["text"] = str(body.get("fileName", ""))
    elif kind not in Message.Type.values:
        payload["original_type"] = kind
    return fields


def _inbound_message(raw: dict[str, Any]) -> Message:
    """The (unsaved) message a LINE message event brings."""
    body = raw.get("message") or {}
    return _customer_message(
        raw,
        line_message_id=str(body["id"]) if body.get("id") else None,
        mark_as_read_token=str(body.get("markAsReadToken") or ""),
        **_message_fields(body),
    )


def _customer_message(raw: dict[str, Any], **fields: Any) -> Message:
    return Message(
        direction=Message.Direction.IN,
        sender_kind=Message.SenderKind.CUSTOMER,
        status=Message.Status.RECEIVED,
        reply_token=str(raw.get("replyToken") or ""),
        line_timestamp=_event_time(raw),
        **fields,
    )


def _after_stored(conversation: Conversation, message: Message) -> None:
    """After commit: operators hear of the message, and the bytes of a media message are fetched."""
    actions.customer_message_stored(conversation, message)
    if message.media_status == Message.MediaStatus.PENDING:
        background.submit_on_commit(media.download, message.pk)


def _after_first_contact(contact: Contact, created: bool) -> None:
    if created:
        background.submit_on_commit(profiles.refresh, contact.pk)


def _on_message(raw: dict[str, Any], user_id: str) -> None:
    conversation, contact_created, _ = store.open_conversation_for(user_id)
    message = store.store_message(conversation, _inbound_message(raw))
    _after_stored(conversation, message)
    _after_first_contact(conversation.contact, contact_created)
    if message.type == Message.Type.TEXT:
        _bot_answers_text(conversation, message)


def _bot_answers_text(conversation: Conversation, message: Message) -> None:
    if conversation.status == Conversation.Status.BOT:
        if bot.asks_for_human(message.text):
            actions.request_handoff(conversation, reply_token=message.reply_token)
            return
        answer = bot.auto_reply_for(message.text)
        if answer:
            actions.bot_reply(conversation, answer, reply_token=message.reply_token)


def _on_postback(raw: dict[str, Any], user_id: str) -> None:
    postback = raw.get("postback") or {}
    data = str(postback.get("data", ""))
    conversation, contact_created, _ = store.open_conversation_for(user_id)
    message = store.store_message(
        conversation,
        _customer_message(
            raw,
            type=Message.Type.POSTBACK,
            text=str(postback.get("displayText") or data)[:5000],
            payload={"data": data, "params": postback.get("params") or {}},
        ),
    )
    _after_stored(conversation, message)
    _after_first_contact(conversation.contact, contact_created)
    if bot.postback_action(data) == "handoff":
        actions.request_handoff(conversation, reply_token=message.reply_token)


def _on_unsend(raw: dict[str, Any]) -> None:
    actions.unsend(str((raw.get("unsend") or {}).get("messageId", "")))


def _on_follow(raw: dict[str, Any], user_id: str) -> None:
    contact = actions.follow(user_id, reply_token=str(raw.get("replyToken") or ""))
    background.submit_on_commit(profiles.refresh, contact.pk)  # refreshed on every follow


def _on_unfollow(user_id: str) -> None:
    actions.unfollow(user_id)
