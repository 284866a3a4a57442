"""Outbound messages: persisted as `pending`, then delivered to LINE exactly once.

The path of a send:
1. livechat.conversations.actions stores the message `pending` in the caller's transaction.
2. After commit, a background thread `deliver` s it: it claims the row with a lease (a
   conditional UPDATE, so two senders never both own it), together with up to four messages
   queued right behind it (one request, in seq order: a batch, fixed before the first call),
   uses a fresh reply token if one is at hand (free) and otherwise pushes with
   `X-Line-Retry-Key` = the head message's uuid, so a repeated push is a no-op at LINE
   (409 = already accepted = sent).
3. 429, 5xx and network errors are retried with exponential backoff; after MAX_ATTEMPTS the
   message is `failed` with LINE's error. If the process dies mid-way, the lease runs out and
   the `worker` command claims the row and finishes the job.
"""

import logging
import random
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from livechat.delivery import circuit
from livechat.line import messaging_api
from livechat.models import Message
from livechat.realtime import frames, groups, publish

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = timedelta(seconds=30)


def _claim(message_id: int) -> Message | None:
    """Take the message for one attempt, or None if another sender holds it or it is done."""
    now = timezone.now()
    claimed = (
        Message.objects.filter(pk=message_id, status=Message.Status.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return Message.objects.select_related("conversation__contact", "operator").get(pk=message_id)


def _take_reply_token(message: Message) -> str:
    """A reply token nobody has used yet and that is still fresh, or "" (then we push).

    Taking it marks it used on every message that carries it — the customer's message it came
    with and this one — so whoever sends next (the bot, an operator) cannot try it again.
    """
    fresh_since = timezone.now() - timedelta(seconds=settings.LINE_REPLY_TOKEN_TTL_SECONDS)
    if message.reply_token:
        if not _reply_token_still_fresh(message):
            return ""
        token = message.reply_token
    else:
        inbound = (
            Message.objects.filter(
                conversation_id=message.conversation_id,
                direction=Message.Direction.IN,
                reply_token_used_at__isnull=True,
                created_at__gte=fresh_since,
            )
            .exclude(reply_token="")
            .order_by("-seq")
            .values_list("reply_token", flat=True)
            .first()
        )
        if inbound is None:
            return ""
        token = inbound
    # Marking the token used is the claim: of two senders racing for it, one updates the rows.
    now = timezone.now()
    used = Message.objects.filter(
        conversation_id=message.conversation_id, reply_token=token, reply_token_used_at__isnull=True
    ).update(reply_token_used_at=now)
    if not used:
        return ""
    # Recorded before the call: if its answer is lost, the next attempt knows to ask LINE again
    # with this token instead of pushing a second copy.
    Message.objects.filter(pk=message.pk).update(
        reply_token=token, reply_token_used_at=now, reply_attempted_at=now
    )
    message.reply_token, message.reply_attempted_at = token, now
    return token


# What a push LINE refused because the plan's messages for the month are used up is marked with.
MONTHLY_LIMIT_REACHED = (
    "LINE ไม่ส่งข้อความนี้: โควตาข้อความประจำเดือนของบัญชีหมดแล้ว · LINE did not send this: the "
    "account's monthly message limit is reached. Raise the plan in LINE Official Account Manager, "
    "then resend."
)

# What a message whose reply could not be confirmed is marked with once its token has expired.
UNCONFIRMED_REPLY = (
    "LINE did not confirm this reply, and it can no longer be checked: it may not have reached "
    "the customer. Resend it if it did not."
)


def _reply_token_still_fresh(message: Message) -> bool:
    issued = (
        Message.objects.filter(
            conversation_id=message.conversation_id,
            direction=Message.Direction.IN,
            reply_token=message.reply_token,
        )
        .values_list("created_at", flat=True)
        .first()
    ) or message.created_at
    return timezone.now() - issued < timedelta(seconds=settings.LINE_REPLY_TOKEN_TTL_SECONDS)


def _batch(head: Message) -> list[Message]:
    """The messages that go to LINE in one request with `head` (the first of its conversation's
    line): up to 5, in seq order, so that the customer gets them together and one reply token
    (free) carries them all.

    A batch is fixed before its first call — its members share `batch_uuid`, the head's uuid,
    which is also the push's retry key — and every later attempt sends exactly the same messages
    again. Only messages never tried join one, and only as an unbroken run of the line.
    """
    if head.batch_uuid is not None:
        return list(
            Message.objects.select_related("conversation__contact", "operator")
            .filter(batch_uuid=head.batch_uuid, status=Message.Status.PENDING)
            .order_by("seq")
        )
    if head.attempts != 1 or head.reply_attempted_at is not None:
        return [head]
    with transaction.atomic():
        following = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(
                conversation_id=head.conversation_id,
                direction=Message.Direction.OUT,
                status=Message.Status.PENDING,
                seq__gt=head.seq,
            )
            .order_by("seq")[: messaging_api.MAX_MESSAGES_PER_REQUEST - 1]
        )
        joining = []
        for message in following:
            if message.attempts or message.batch_uuid or message.reply_attempted_at or message.claimed_until:
                break  # tried before, or someone holds it: the run ends here, the order holds
            joining.append(message)
        if not joining:
            return [head]
        ids = [head.pk, *(m.pk for m in joining)]
        Message.objects.filter(pk__in=ids).update(batch_uuid=head.uuid, claimed_until=timezone.now() + LEASE)
    head.batch_uuid = head.uuid
    return [head, *Message.objects.select_related("operator").filter(pk__in=ids[1:]).order_by("seq")]


def _retry_key(head: Message) -> str:
    return str(head.batch_uuid or head.uuid)


def _attempt(batch: list[Message]) -> None:
    """One try at LINE with the batch (its head first). Raises LineError when LINE refuses or
    cannot be reached."""
    head = batch[0]
    payloads = [m.payload for m in batch]
    if head.reply_attempted_at is not None:
        _settle_unconfirmed_reply(batch)
        return
    user_id = head.conversation.contact.line_user_id
    # Only a first attempt takes a reply token: every later one either settles that reply
    # (above) or is a push with the retry key, which LINE accepts once.
    token = _take_reply_token(head) if head.attempts == 1 else ""
    if token:
        try:
            ids = messaging_api.reply(token, payloads)
        except messaging_api.LineError as exc:
            if exc.is_retryable:
                raise  # the outcome is unknown: the next attempt settles it
            # Refused at once (an expired or already used token): ours did not go out.
            Message.objects.filter(pk=head.pk).update(reply_attempted_at=None)
            ids = messaging_api.push(user_id, payloads, retry_key=_retry_key(head))
            _mark_sent(batch, ids, Message.SentVia.PUSH)
            return
        _mark_sent(batch, ids, Message.SentVia.REPLY)
        return
    ids = messaging_api.push(user_id, payloads, retry_key=_retry_key(head))
    _mark_sent(batch, ids, Message.SentVia.PUSH)


def _settle_unconfirmed_reply(batch: list[Message]) -> None:
    """An earlier reply's answer was lost. LINE takes a reply token once: the same reply again
    is either delivered now (the first never arrived) or refused as an invalid token (the first
    did arrive). A push would be a second copy whenever the first had arrived."""
    head = batch[0]
    if not _reply_token_still_fresh(head):
        # Nothing can tell any more whether it arrived: say so, and let a person decide.
        logger.warning("message %s: reply unconfirmed and its token expired", head.pk)
        _mark_failed(batch, UNCONFIRMED_REPLY)
        return
    try:
        ids = messaging_api.reply(head.reply_token, [m.payload for m in batch])
    except messaging_api.LineError as exc:
        if exc.status == 400 and "reply token" in exc.message.lower():
            _mark_sent(batch, [], Message.SentVia.REPLY)  # the earlier attempt delivered it
            return
        raise
    _mark_sent(batch, ids, Message.SentVia.REPLY)


def _mark_sent(batch: list[Message], line_message_ids: list[str], via: str) -> None:
    """Every message of the batch went out; LINE's ids come in the order the messages were sent."""
    now = timezone.now()
    ids: list[str | None] = (
        list(line_message_ids) if len(line_message_ids) == len(batch) else [None] * len(batch)
    )
    with transaction.atomic():
        for message, line_message_id in zip(batch, ids, strict=True):
            Message.objects.filter(pk=message.pk).update(
                status=Message.Status.SENT,
                sent_at=now,
                sent_via=via,
                error="",
                claimed_until=None,
                line_message_id=line_message_id or None,
                next_attempt_at=None,
            )
            publish.on_commit(_status_publication(message, Message.Status.SENT, "", via))


def _mark_failed(batch: list[Message], error: str) -> None:
    with transaction.atomic():
        Message.objects.filter(pk__in=[m.pk for m in batch]).update(
            status=Message.Status.FAILED, error=error, claimed_until=None, next_attempt_at=None
        )
        for message in batch:
            publish.on_commit(_status_publication(message, Message.Status.FAILED, error))


def _wait_for_line(message_id: int) -> None:
    """Leave the message (the head of its conversation's line) for when LINE may be called again."""
    retry_at = max(circuit.reopens_at() or 0.0, time.time() + 1)
    Message.objects.filter(pk=message_id).update(
        claimed_until=None, next_attempt_at=datetime.fromtimestamp(retry_at, tz=UTC)
    )


def _schedule_retry(batch: list[Message], error: str, delay: float) -> None:
    Message.objects.filter(pk__in=[m.pk for m in batch]).update(
        error=error, claimed_until=None, next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )


def _status_publication(message: Message, status: str, error: str, via: str = "") -> publish.Publication:
    return (groups.conversation(message.conversation_id), frames.message_status(message, status, error, via))


def backoff_seconds(attempt: int) -> float:
    """Exponential with jitter: ~0.5 s, 1 s, 2 s, 4 s … capped at 60 s."""
    base = settings.LINE_RETRY_BASE_SECONDS * (2 ** (attempt - 1))
    return min(60.0, base) * random.uniform(0.8, 1.2)


def deliver(message_id: int) -> None:
    """Deliver the message's conversation queue, of which this message is a part."""
    conversation_id = Message.objects.filter(pk=message_id).values_list("conversation_id", flat=True).first()
    if conversation_id is not None:
        deliver_conversation(conversation_id)


def deliver_conversation(conversation_id: int) -> None:
    """Send the conversation's pending messages one at a time, in seq order.

    The customer must read them in the order they were written, so a message never overtakes
    an earlier one still pending: whoever holds the head of the line sends it and goes on to
    the next; anyone else finds the head taken (or not yet due) and leaves it to them.
    """
    while True:
        head = (
            Message.objects.filter(
                conversation_id=conversation_id,
                direction=Message.Direction.OUT,
                status=Message.Status.PENDING,
            )
            .order_by("seq")
            .values_list("pk", "next_attempt_at")
            .first()
        )
        if head is None:
            return
        message_id, due_at = head
        if due_at is not None and due_at > timezone.now():
            return  # backing off: the worker resumes the line when it is due
        if not circuit.may_call():
            _wait_for_line(message_id)  # LINE is down: the line waits, in order, nothing failed
            return
        if not _deliver_one(message_id):
            return


def _deliver_one(message_id: int) -> bool:
    """Try one message (with the batch it heads), retrying in this thread while the backoff is
    short.

    Returns True once it is settled (sent or failed), False if it was left for later (another
    sender holds it, or its next try is the worker's).
    """
    while True:
        message = _claim(message_id)
        if message is None:
            return False
        batch = [message]
        try:
            batch = _batch(message)
            _attempt(batch)
            circuit.succeeded()
            return True
        except messaging_api.LineError as exc:
            if exc.already_accepted:  # a 409 to a push: an earlier try with its key went out
                _mark_sent(batch, exc.sent_message_ids, Message.SentVia.PUSH)
                circuit.succeeded()
                return True
            if exc.is_monthly_limit:
                logger.error("message %s: LINE's monthly message limit is reached: %s", message.pk, exc)
                _mark_failed(batch, MONTHLY_LIMIT_REACHED)
                publish.now([(groups.OPERATORS, frames.line_status("quota_exhausted", None))])
                return True
            if exc.is_outage:
                circuit.failed()
                if circuit.state() != "closed":
                    # An outage, not this message's fault: it keeps its place and its attempts.
                    _schedule_retry(batch, exc.message or str(exc), 0)
                    _wait_for_line(message.pk)
                    return False
            if not exc.is_retryable or message.attempts >= MAX_ATTEMPTS:
                logger.warning("message %s failed: %s", message.pk, exc)
                unconfirmed = message.reply_attempted_at is not None and exc.is_retryable
                _mark_failed(batch, UNCONFIRMED_REPLY if unconfirmed else exc.message or str(exc))
                return True
            delay = backoff_seconds(message.attempts)
            _schedule_retry(batch, exc.message or str(exc), delay)
            if delay > 10:  # long waits are the worker's job; don't hold a pool thread
                return False
            time.sleep(delay)
        except Exception as exc:  # a bug or bad payload: never leave it pending forever
            logger.exception("message %s could not be sent", message_id)
            _mark_failed(batch, f"{type(exc).__name__}: {exc}")
            return True
