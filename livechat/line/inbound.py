"""Turning LINE webhook events into stored facts, one transaction per event.

`process_event` is the whole inbound path after the signature check: deduplicate on
webhookEventId, store, let the bot react, and — after commit — tell operators and start the slow
work (media download, profile fetch, bot replies) in the background.
"""

import hashlib
import json
import logging
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from livechat.conversations import actions, bot, store
from livechat.jobs import background, database
from livechat.line import media, postbacks, profiles
from livechat.models import Contact, Conversation, Message, WebhookEvent

logger = logging.getLogger(__name__)

MEDIA_TYPES = {"image", "video", "audio", "file"}


def process_event(raw: Any) -> bool:
    """Store and act on one event. Returns False if it was a duplicate delivery.

    One event's trouble stays with it: an event that cannot be stored as a message (text with
    NUL characters, ids longer than LINE's, a `source` that is not an object, a message id that
    is already stored under another event …) is kept on its WebhookEvent with the reason, and the
    caller goes on with the next one. Only a database that cannot be reached raises — the
    webhook then answers 503 and LINE delivers the body again.
    """
    if not isinstance(raw, dict):
        raw = {"not_an_object": raw}
    event_id = _event_id(raw)
    try:
        if _append_in_one_statement(raw, event_id):
            return True
        with transaction.atomic():
            recorded = store.record_event(_webhook_event(raw, event_id))
            if not recorded:  # the webhookEventId is already stored: LINE redelivered it
                return False
            _handle(raw)
    except database.UNREACHABLE:
        raise
    except Exception as exc:
        # A bug, or an event we cannot store as it is: keep it (for replay), acknowledge it.
        logger.warning("webhook event %s could not be processed: %s", event_id, exc, exc_info=True)
        _keep_unprocessed(raw, event_id, exc)
    return True


def process_body(events: list[Any], budget_seconds: float) -> int:
    """Process a webhook body's events in order, within `budget_seconds`.

    LINE waits about 2 s for the answer. A body of a few events is done long before that; a huge
    one (LINE catching up after an outage) would not be, so once the budget is spent the events
    left are stored as they are — one INSERT — and processed in order right after the response
    (and by `worker` if this process dies first). Either way each is committed before the 200.
    Returns how many were deferred.
    """
    started = time.monotonic()
    for index, raw in enumerate(events):
        if index and time.monotonic() - started >= budget_seconds:
            deferred = defer(events[index:])
            background.submit(process_deferred, deferred)
            return len(deferred)
        process_event(raw)
    return 0


def defer(events: list[Any]) -> list[int]:
    """Store events for later processing (processed_at empty, no error); returns their row ids
    in body order. Events already stored (LINE redelivering) are left as they are."""
    rows = []
    for raw in events:
        raw = raw if isinstance(raw, dict) else {"not_an_object": raw}
        row = _webhook_event(storable(raw), _event_id(raw))
        row.processed_at = None
        rows.append(row)
    event_ids = [row.webhook_event_id for row in rows]
    try:
        WebhookEvent.objects.bulk_create(rows, ignore_conflicts=True)
    except database.UNREACHABLE:
        raise
    except DatabaseError:  # something in one row the database refuses: store them one by one
        for row in rows:
            try:
                with transaction.atomic():
                    WebhookEvent.objects.bulk_create([row], ignore_conflicts=True)
            except database.UNREACHABLE:
                raise
            except DatabaseError as exc:
                _keep_unprocessed(row.raw, row.webhook_event_id, exc)
    stored = dict(
        WebhookEvent.objects.filter(
            webhook_event_id__in=event_ids, processed_at__isnull=True, processing_error=""
        ).values_list("webhook_event_id", "pk")
    )
    return [stored[event_id] for event_id in dict.fromkeys(event_ids) if event_id in stored]


def deferred_event_ids(older_than_seconds: float, limit: int = 500) -> list[int]:
    """Deferred events the process that took them has not got to (it may have died), oldest
    first — for `worker`."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        WebhookEvent.objects.filter(processed_at__isnull=True, processing_error="", received_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def process_deferred(event_pks: list[int]) -> None:
    """Process deferred events in order. Each is claimed with a row lock (another process
    working on it is skipped) and marked processed in the transaction that handles it."""
    for pk in event_pks:
        try:
            with transaction.atomic():
                row = (
                    WebhookEvent.objects.select_for_update(skip_locked=True)
                    .filter(pk=pk, processed_at__isnull=True, processing_error="")
                    .first()
                )
                if row is None:
                    continue
                _handle(row.raw)
                row.processed_at = timezone.now()
                row.save(update_fields=["processed_at"])
        except database.UNREACHABLE:
            raise
        except Exception as exc:
            logger.warning("deferred webhook event %s could not be processed: %s", pk, exc, exc_info=True)
            reason = f"{type(exc).__name__}: {exc}".replace("\x00", "")[:2000]
            WebhookEvent.objects.filter(pk=pk).update(processing_error=reason)


def _keep_unprocessed(raw: dict[str, Any], event_id: str, exc: Exception) -> None:
    reason = f"{type(exc).__name__}: {exc}".replace("\x00", "")[:2000]
    try:
        WebhookEvent.objects.get_or_create(
            webhook_event_id=event_id,
            defaults={
                "event_type": _text(raw.get("type"), 40),
                "source_type": _text(_source(raw).get("type"), 10),
                "raw": storable(raw),
                "processing_error": reason,
            },
        )
    except database.UNREACHABLE:
        raise
    except DatabaseError:  # even the cleaned event is refused: keep at least why
        logger.exception("webhook event %s could not be kept", event_id)
        WebhookEvent.objects.get_or_create(
            webhook_event_id=event_id,
            defaults={"event_type": "", "raw": {"unstorable": True}, "processing_error": reason},
        )


def _webhook_event(raw: dict[str, Any], event_id: str) -> WebhookEvent:
    return WebhookEvent(
        webhook_event_id=event_id,
        event_type=_text(raw.get("type"), 40),
        source_type=_text(_source(raw).get("type"), 10),
        raw=raw,
        is_redelivery=bool(_object(raw.get("deliveryContext")).get("isRedelivery")),
        processed_at=timezone.now(),
    )


# --- Reading an event that may be anything ------------------------------------------------------
# LINE's events are well formed; a signed body is still read as if it might not be, so that a
# wrong type somewhere costs that one event, not the batch.

MAX_ID_LENGTH = 64  # WebhookEvent.webhook_event_id, Contact.line_user_id, Message.line_message_id


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _source(raw: dict[str, Any]) -> dict[str, Any]:
    return _object(raw.get("source"))


def _text(value: Any, limit: int) -> str:
    return value[:limit].replace("\x00", "") if isinstance(value, str) else ""


def _user_id(raw: dict[str, Any]) -> str | None:
    """The LINE user the event is from, if it is from one user (not a group) and looks like an id."""
    source = _source(raw)
    user_id = source.get("userId")
    if source.get("type") != "user" or not isinstance(user_id, str) or not user_id:
        return None
    if len(user_id) > MAX_ID_LENGTH or "\x00" in user_id:
        raise ValueError(f"userId is not a LINE user id: {user_id[:80]!r}")
    return user_id


def _event_id(raw: dict[str, Any]) -> str:
    """LINE's webhookEventId; events without a usable one dedupe on their content."""
    given = raw.get("webhookEventId")
    if isinstance(given, str) and 0 < len(given) <= MAX_ID_LENGTH and "\x00" not in given:
        return given
    try:
        content = json.dumps(raw, sort_keys=True, default=str)
    except (ValueError, RecursionError):
        content = repr(raw)
    return "sha256:" + hashlib.sha256(content.encode("utf-8", "replace")).hexdigest()[:56]


def storable(value: Any, depth: int = 0) -> Any:
    """The event as the database can keep it: no NUL characters (PostgreSQL refuses them in
    text), no NaN or infinities (not JSON), and nothing nested deeper than anyone needs."""
    if depth > 64:
        return "…"
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {storable(k, depth + 1): storable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v, depth + 1) for v in value]
    return value


def _append_in_one_statement(raw: dict[str, Any], event_id: str) -> bool:
    """The hot path — a customer writing in their open conversation, with nothing for the bot
    to do — as one statement (store.append_to_open_conversation), without a transaction.

    False when it does not apply or wrote nothing (no open conversation, or a redelivery): the
    transactional path then handles the event from the start.
    """
    user_id = _user_id(raw)
    if raw.get("type") != "message" or user_id is None:
        return False
    message = _inbound_message(raw)
    # Only into a conversation where the bot does nothing about this message: a bot reply or a
    # handoff must commit together with the message.
    quiet = bot.quiet_for(message.text if message.type == Message.Type.TEXT else None)
    conversation = store.append_to_open_conversation(_webhook_event(raw, event_id), message, user_id, quiet)
    if conversation is None:
        return False
    _after_stored(conversation, message)  # committed already: runs at once
    return True


def _handle(raw: dict[str, Any]) -> None:
    user_id = _user_id(raw)
    if user_id is None:
        return  # group and room chats are stored (above) but not a product feature yet
    kind = raw.get("type")
    # In standby another channel holds the chat (LINE's chat control): what the customer does is
    # stored and shown, but we must not answer — no bot, no welcome, no queue message.
    standby = raw.get("mode") == "standby"
    if kind == "message":
        _on_message(raw, user_id, answer=not standby)
    elif kind == "postback":
        _on_postback(raw, user_id, answer=not standby)
    elif kind == "unsend":
        _on_unsend(raw)
    elif kind == "follow":
        _on_follow(raw, user_id, answer=not standby)
    elif kind == "unfollow":
        _on_unfollow(user_id)
    # Anything else (join, beacon, `activated` / `deactivated` chat control — each event says its
    # own mode, which is what decides — unknown types, …) is stored and acknowledged.


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
        provider = _object(body.get("contentProvider"))
        if provider.get("type", "line") == "line":  # the bytes live at LINE for a while: fetch them
            fields["media_status"] = Message.MediaStatus.PENDING
        else:  # `external`: the sender's own https URLs, shown as they are (nothing to download)
            for key in ("originalContentUrl", "previewImageUrl"):
                url = provider.get(key)
                if isinstance(url, str) and url.startswith("https://"):
                    payload[key] = url
        if kind == "file":
            fields["text"] = str(body.get("fileName", ""))
    elif kind not in Message.Type.values:
        payload["original_type"] = kind
    return fields


def _inbound_message(raw: dict[str, Any]) -> Message:
    """The (unsaved) message a LINE message event brings."""
    body = _object(raw.get("message"))
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


def _on_message(raw: dict[str, Any], user_id: str, *, answer: bool) -> None:
    inbound = _inbound_message(raw)
    conversation = store.find_open_conversation(user_id)
    if conversation is None:
        # No open conversation: a text may be the comment on a rating just given (CSAT), which
        # opens none and does not wake the bot.
        if answer and inbound.type == Message.Type.TEXT and inbound.text.strip():
            if actions.comment_on_rating(user_id, inbound.text, reply_token=inbound.reply_token):
                return
        conversation, contact_created, _ = store.start_conversation_for(user_id)
    else:
        contact_created = False
    message = store.store_message(conversation, inbound)
    _after_stored(conversation, message)
    _after_first_contact(conversation.contact, contact_created)
    if answer and message.type == Message.Type.TEXT:
        _bot_answers_text(conversation, message)


def _bot_answers_text(conversation: Conversation, message: Message) -> None:
    actions.bot_answers(conversation, message.text, reply_token=message.reply_token)


def _on_postback(raw: dict[str, Any], user_id: str, *, answer: bool) -> None:
    postback = _object(raw.get("postback"))
    data = str(postback.get("data", ""))
    params = _object(postback.get("params"))
    if bot.postback_action(data) == "csat":
        # A tap on the survey of a closed conversation: a rating, not a new conversation.
        actions.rate(user_id, data, reply_token=str(raw.get("replyToken") or ""), answer=answer)
        return
    conversation, contact_created, _ = store.open_conversation_for(user_id)
    message = store.store_message(
        conversation,
        _customer_message(
            raw,
            type=Message.Type.POSTBACK,
            text=postbacks.readable(data, params),
            payload={"data": data, "params": params},
        ),
    )
    _after_stored(conversation, message)
    _after_first_contact(conversation.contact, contact_created)
    if answer and bot.postback_action(data) == "handoff":
        actions.request_handoff(conversation, reply_token=message.reply_token)


def _on_unsend(raw: dict[str, Any]) -> None:
    actions.unsend(str(_object(raw.get("unsend")).get("messageId", "")))


def _on_follow(raw: dict[str, Any], user_id: str, *, answer: bool) -> None:
    contact = actions.follow(user_id, reply_token=str(raw.get("replyToken") or ""), welcome=answer)
    background.submit_on_commit(profiles.refresh, contact.pk)  # refreshed on every follow


def _on_unfollow(user_id: str) -> None:
    actions.unfollow(user_id)
