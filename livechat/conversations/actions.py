"""Every change of a conversation, and of what operators see of it, happens here.

Each action takes the actor (an operator or supervisor, the customer, the bot, the system),
checks that the change applies, writes the rows in one transaction (a row lock or a conditional
UPDATE, so of two racing callers exactly one wins), records a ConversationEvent saying who did
what, and publishes the frames operators need — only after the transaction commits. The webhook,
the socket, the REST API, the worker and (later) the scheduled commands all call these; nothing
else writes conversation state or builds a frame to publish.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import User
from livechat.conversations import bot, canned, csat, permissions, queue
from livechat.conversations.permissions import ActionRefused, in_charge, may, require_in_charge
from livechat.conversations.store import OPEN_STATUSES, append_message, open_conversation_for
from livechat.delivery import outbox, sender
from livechat.jobs import background
from livechat.models import (
    Contact,
    Conversation,
    ConversationEvent,
    CsatResponse,
    Message,
    ReadMarker,
)
from livechat.models.line_text import fill_in
from livechat.policies import business_hours, service
from livechat.realtime import frames, groups, publish

Status = Conversation.Status
Kind = ConversationEvent.Kind
ActorKind = ConversationEvent.ActorKind


@dataclass(frozen=True)
class Actor:
    """Who makes a change: recorded on its ConversationEvent."""

    kind: str
    user: User | None = None

    @classmethod
    def staff(cls, user: User) -> "Actor":
        """An operator, or a supervisor acting as one (recorded as such)."""
        return cls(ActorKind.SUPERVISOR if user.is_supervisor else ActorKind.OPERATOR, user)


CUSTOMER = Actor(ActorKind.CUSTOMER)
BOT = Actor(ActorKind.BOT)
SYSTEM = Actor(ActorKind.SYSTEM)

# Which status changes each kind of event may make (None: the conversation is new).
TRANSITIONS: dict[str, frozenset[tuple[str | None, str]]] = {
    Kind.CREATED: frozenset({(None, Status.BOT)}),
    Kind.HANDOFF: frozenset({(Status.BOT, Status.WAITING)}),
    Kind.CLAIMED: frozenset({(Status.BOT, Status.ACTIVE), (Status.WAITING, Status.ACTIVE)}),
    Kind.TRANSFERRED: frozenset({(Status.ACTIVE, Status.ACTIVE)}),
    Kind.RETURNED: frozenset({(Status.ACTIVE, Status.WAITING)}),
    Kind.CLOSED: frozenset({(s, Status.CLOSED) for s in OPEN_STATUSES}),
}


def _change(
    conversation: Conversation,
    kind: str,
    actor: Actor,
    *,
    to_status: str,
    fields: dict[str, Any] | None = None,
    from_operator: User | None = None,
    to_operator: User | None = None,
    note: str = "",
) -> str:
    """Move the (locked) conversation to `to_status`, set `fields`, and record who did it.

    Returns the status it came from. Refuses a move the event kind does not allow.
    """
    previous = conversation.status
    _check(kind, previous, to_status)
    changed = {"status": to_status, **(fields or {})}
    for name, value in changed.items():
        setattr(conversation, name, value)
    conversation.save(update_fields=list(changed))
    _record(conversation, kind, actor, previous, to_status, from_operator, to_operator, note)
    return previous


def _check(kind: str, from_status: str, to_status: str) -> None:
    if (from_status, to_status) not in TRANSITIONS[kind]:
        raise ActionRefused(
            "invalid_state",
            gettext_lazy("A conversation that is %(status)s cannot be %(kind)s."),
            status=Status(from_status).label,
            kind=Kind(kind).label if kind in Kind.values else kind,
        )


def _record(
    conversation: Conversation,
    kind: str,
    actor: Actor,
    from_status: str,
    to_status: str,
    from_operator: User | None = None,
    to_operator: User | None = None,
    note: str = "",
) -> None:
    ConversationEvent.objects.create(
        conversation=conversation,
        kind=kind,
        actor_kind=actor.kind,
        actor=actor.user,
        from_status=from_status,
        to_status=to_status,
        from_operator=from_operator,
        to_operator=to_operator,
        note=note,
    )


def _locked(conversation_id: int) -> Conversation:
    try:
        return (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "assigned_operator")
            .get(pk=conversation_id)
        )
    except Conversation.DoesNotExist:
        raise ActionRefused(
            "not_found", gettext_lazy("Conversation %(id)s does not exist."), id=conversation_id
        ) from None


def _to_everyone(frame: frames.Frame) -> publish.Publication:
    return (groups.OPERATORS, frame)


def publish_conversation_on_commit(conversation: Conversation) -> None:
    """Every operator's list and the conversation's room see its new state."""
    frame = frames.conversation_update(conversation)
    publish.on_commit((groups.OPERATORS, frame), (groups.conversation(conversation.pk), frame))


def announce_message(conversation: Conversation, message: Message) -> None:
    """After commit: the room sees the message; every operator's list sees the conversation's
    new last line."""
    publish.on_commit(
        (groups.conversation(conversation.pk), frames.new_message(message)),
        (groups.OPERATORS, frames.conversation_update(conversation, [message])),
    )


# --- The customer and the bot -------------------------------------------------------------------


def request_handoff(conversation: Conversation, *, actor: Actor = CUSTOMER, reply_token: str = "") -> bool:
    """The customer asks for a human: bot → waiting, and tell them their place in the queue.

    Returns False (and reassures the customer) if they were already waiting or being served.
    """
    now = timezone.now()
    _check(Kind.HANDOFF, Status.BOT, Status.WAITING)
    # A conditional UPDATE instead of a row lock: the webhook's transaction stays short, and of
    # two racing handoffs one moves the row.
    # The queue position told now counts as the bot's latest nudge: no "still waiting" for the
    # next few minutes (BotSettings.waiting_ack_minutes).
    moved = Conversation.objects.filter(pk=conversation.pk, status=Status.BOT).update(
        status=Status.WAITING, handoff_requested_at=now, bot_nudged_at=now
    )
    config = bot.config()
    if not moved:
        conversation.refresh_from_db(fields=["status", "handoff_requested_at"])
        if conversation.status == Status.WAITING and reply_token:
            Conversation.objects.filter(pk=conversation.pk).update(bot_nudged_at=now)
            conversation.bot_nudged_at = now
            _tell_queue_position(conversation, config.still_waiting_message, reply_token)
        return False
    conversation.status = Status.WAITING
    conversation.handoff_requested_at = now
    conversation.bot_nudged_at = now
    _record(conversation, Kind.HANDOFF, actor, Status.BOT, Status.WAITING)
    hours = business_hours.schedule()
    if hours.is_open(now):
        _tell_queue_position(conversation, config.handoff_message, reply_token)
    else:
        _tell_after_hours(conversation, hours.next_opening(now), now, reply_token)
    publish_conversation_on_commit(conversation)
    queue.publish_on_commit()
    _assign_waiting_on_commit()
    return True


def _tell_queue_position(conversation: Conversation, template: str, reply_token: str) -> None:
    """The bot's answer with {position} and {wait_minutes} filled in, by the reply token."""
    position = queue.position_of(conversation)
    text = fill_in(template, position=position, wait_minutes=queue.estimated_minutes(position))
    queue_outbound(
        conversation, outbox.text_message(text), sender_kind=Message.SenderKind.BOT, reply_token=reply_token
    )


def _tell_after_hours(
    conversation: Conversation, opening: datetime | None, now: datetime, reply_token: str
) -> None:
    """Outside business hours the queue position means nothing: say when the team opens."""
    th, en = business_hours.describe_opening(opening, now)
    text = fill_in(service.settings().after_hours_message, next_open_th=th, next_open_en=en)
    queue_outbound(
        conversation, outbox.text_message(text), sender_kind=Message.SenderKind.BOT, reply_token=reply_token
    )


def bot_answers(conversation: Conversation, text: str, *, reply_token: str) -> None:
    """The bot's turn after a customer's text in `conversation` (livechat.conversations.bot
    decides): a handoff, an auto-reply, the fallback, or "still waiting" with the position."""
    now = timezone.now()
    answer = bot.answer_to(conversation.status, text, conversation.bot_nudged_at, now)
    if answer.act == bot.Act.HANDOFF:
        request_handoff(conversation, reply_token=reply_token)
    elif answer.act == bot.Act.AUTO_REPLY:
        bot_reply(conversation, answer.text, reply_token=reply_token)
    elif answer.act == bot.Act.FALLBACK:
        if _nudge(conversation, answer, now):
            _from_bot(conversation, bot.fallback_message(), reply_token)
    elif answer.act == bot.Act.STILL_WAITING:
        if _nudge(conversation, answer, now):
            _tell_queue_position(conversation, bot.config().still_waiting_message, reply_token)


def _nudge(conversation: Conversation, answer: "bot.Answer", now: datetime) -> bool:
    """Claim the bot's unasked word (a fallback, "still waiting") in the conversation: of two
    messages handled at once only one gets it, and none if the conversation moved on."""
    claimed = (
        Conversation.objects.filter(pk=conversation.pk, status=conversation.status)
        .filter(Q(bot_nudged_at__isnull=True) | Q(bot_nudged_at__lte=answer.nudged_at_most))
        .update(bot_nudged_at=now)
    )
    if claimed:
        conversation.bot_nudged_at = now
    return bool(claimed)


def bot_reply(conversation: Conversation, text: str, *, reply_token: str) -> Message:
    """The bot answers the customer (an auto-reply)."""
    return _from_bot(conversation, outbox.text_message(text), reply_token)


def _from_bot(conversation: Conversation, line_message: dict[str, Any], reply_token: str) -> Message:
    return queue_outbound(
        conversation, line_message, sender_kind=Message.SenderKind.BOT, reply_token=reply_token
    )


def customer_message_stored(conversation: Conversation, message: Message) -> None:
    """A customer's message was stored (livechat.conversations.store): operators hear of it."""
    announce_message(conversation, message)


def unsend(line_message_id: str) -> Message | None:
    """The customer unsent a message: it is hidden from operators (the row and its seq stay)."""
    message = (
        Message.objects.select_related("conversation__contact", "conversation__assigned_operator")
        .filter(line_message_id=line_message_id)
        .first()
    )
    if message is None or message.is_unsent:
        return None
    message.is_unsent = True
    message.unsent_at = timezone.now()
    message.save(update_fields=["is_unsent", "unsent_at"])
    conversation = message.conversation
    frame = frames.conversation_update(conversation, [message])
    publish.on_commit((groups.conversation(conversation.pk), frame), (groups.OPERATORS, frame))
    return message


def follow(line_user_id: str, *, reply_token: str, welcome: bool = True) -> Contact:
    """The customer added the account as a friend (again): welcome them while the bot holds the
    conversation (unless `welcome` is off: another channel holds the chat). Returns the contact."""
    now = timezone.now()
    contact, _ = Contact.objects.get_or_create(line_user_id=line_user_id)
    Contact.objects.filter(pk=contact.pk).update(is_following=True, followed_at=now)
    conversation, _, _ = open_conversation_for(line_user_id)
    conversation.contact.is_following = True
    if welcome and conversation.status == Status.BOT:
        _from_bot(conversation, bot.welcome_message(), reply_token)
    publish_conversation_on_commit(conversation)
    return contact


def unfollow(line_user_id: str) -> None:
    """The customer blocked the account: the console stops offering to send."""
    Contact.objects.filter(line_user_id=line_user_id).update(is_following=False, unfollowed_at=timezone.now())
    conversation = (
        Conversation.objects.select_related("contact", "assigned_operator")
        .filter(contact__line_user_id=line_user_id)
        .exclude(status=Status.CLOSED)
        .first()
    )
    if conversation is not None:
        publish_conversation_on_commit(conversation)


def update_profile(
    contact_id: int, *, display_name: str, picture_url: str, status_message: str, language: str
) -> None:
    """LINE told us who the customer is: operators see the new name and picture."""
    Contact.objects.filter(pk=contact_id).update(
        display_name=display_name[:200],
        picture_url=picture_url[:1000],
        status_message=status_message,
        language=language[:16],
        profile_fetched_at=timezone.now(),
    )
    conversation = (
        Conversation.objects.select_related("contact", "assigned_operator")
        .filter(contact_id=contact_id)
        .exclude(status=Status.CLOSED)
        .first()
    )
    if conversation is not None:
        publish.now([_to_everyone(frames.conversation_update(conversation))])


def store_media(message: Message, name: str, content: bytes) -> None:
    """The bytes of a customer's image/video/audio/file are ours now: the room can show them."""
    message.media.save(name, ContentFile(content), save=False)
    message.media_status = Message.MediaStatus.STORED
    message.claimed_until = None
    message.save(update_fields=["media", "media_status", "claimed_until"])
    publish.now([(groups.conversation(message.conversation_id), frames.conversation_update(None, [message]))])


# --- Operators ------------------------------------------------------------------------------------


def claim(conversation_id: int, actor: Actor) -> Conversation:
    """Take a waiting (or bot) conversation. Of two simultaneous claims exactly one wins."""
    operator = _staff(actor)
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status == Status.ACTIVE:
            holder = conversation.assigned_operator
            raise ActionRefused(
                "already_claimed",
                gettext_lazy("Already claimed by %(name)s.") if holder else gettext_lazy("Already claimed."),
                **({"name": holder.name} if holder else {}),
            )
        now = timezone.now()
        _change(
            conversation,
            Kind.CLAIMED,
            actor,
            to_status=Status.ACTIVE,
            fields={
                "assigned_operator": operator,
                # The first claim (PRODUCT §10): a re-claim after a return to the queue is only
                # its event.
                "claimed_at": conversation.claimed_at or now,
                "handoff_requested_at": conversation.handoff_requested_at or now,
            },
            to_operator=operator,
        )
        publish.on_commit(_to_everyone(frames.session_claimed(conversation, operator)))
        queue.publish_on_commit()
    return conversation


def assign(conversation_id: int, operator: User, actor: Actor = SYSTEM) -> Conversation:
    """Hand a waiting conversation to `operator` (auto-assignment: livechat.conversations.assignment
    chooses whom). Recorded as a claim made by `actor` for them."""
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status != Status.WAITING:
            raise ActionRefused("invalid_state", gettext_lazy("Only a waiting conversation can be assigned."))
        now = timezone.now()
        _change(
            conversation,
            Kind.CLAIMED,
            actor,
            to_status=Status.ACTIVE,
            fields={
                "assigned_operator": operator,
                # claimed_at is the first claim (analytics' wait): a conversation returned to the
                # queue and assigned again keeps it.
                "claimed_at": conversation.claimed_at or now,
                "handoff_requested_at": conversation.handoff_requested_at or now,
            },
            to_operator=operator,
        )
        User.objects.filter(pk=operator.pk).update(last_assigned_at=now)
        operator.last_assigned_at = now
        publish.on_commit(_to_everyone(frames.session_claimed(conversation, actor.user)))
        queue.publish_on_commit()
    return conversation


def _assign_waiting_on_commit() -> None:
    """A customer joined the queue or an operator's slot freed up: once this commits, auto-
    assignment (when on) looks again."""
    if service.settings().auto_assign_enabled:
        # assignment calls assign() above, so it is imported when first needed.
        from livechat.conversations import assignment

        assignment.assign_waiting_on_commit()


def close(conversation_id: int, actor: Actor, reason: str = "") -> Conversation:
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status == Status.CLOSED:
            raise ActionRefused("invalid_state", gettext_lazy("The conversation is already closed."))
        if conversation.status == Status.ACTIVE and actor.user is not None:
            require_in_charge(actor.user, conversation, gettext_lazy("close it"))
        _close(conversation, actor, reason, timezone.now())
    return conversation


def _close(conversation: Conversation, actor: Actor, reason: str, now: datetime) -> None:
    previous = _change(
        conversation,
        Kind.CLOSED,
        actor,
        to_status=Status.CLOSED,
        fields={"closed_at": now, "close_reason": reason[:200]},
        from_operator=conversation.assigned_operator,
        note=reason,
    )
    _survey_on_close(conversation, actor)
    publish.on_commit(_to_everyone(frames.session_closed(conversation, actor.user, reason)))
    if previous == Status.WAITING:
        queue.publish_on_commit()
    elif previous == Status.ACTIVE:
        _assign_waiting_on_commit()


def _survey_on_close(conversation: Conversation, actor: Actor) -> None:
    """The CSAT card, by push (nobody's reply token is fresh at close), if it is due."""
    settings = service.settings()
    if not csat.survey_due(conversation, actor.kind, settings):
        return
    conversation.csat_sent_at = timezone.now()
    conversation.save(update_fields=["csat_sent_at"])
    queue_outbound(
        conversation,
        csat.survey_message(conversation.pk, settings.csat_question),
        sender_kind=Message.SenderKind.BOT,
    )


# What the customer hears when they tap the survey again.
ALREADY_RATED = "เราได้รับคะแนนของคุณแล้วค่ะ ขอบคุณค่ะ 🙏\nWe already have your rating — thank you!"


def rate(line_user_id: str, data: str, *, reply_token: str, answer: bool = True) -> CsatResponse | None:
    """A tap on the CSAT survey (postback `data`). The first valid one is stored and thanked
    (asking for a comment); a later one is thanked and changes nothing. A tap for another
    customer's conversation, a rating out of range or a tap after the survey expired change
    nothing and get no answer. Returns the stored response, if this tap made it."""
    tap = csat.parse(data)
    if tap is None:
        return None
    conversation = (
        Conversation.objects.select_related("contact", "assigned_operator")
        .filter(pk=tap.conversation_id, contact__line_user_id=line_user_id)
        .first()
    )
    now, settings = timezone.now(), service.settings()
    if conversation is None or not csat.still_open(conversation, now, settings):
        return None
    with transaction.atomic():
        response, created = CsatResponse.objects.get_or_create(
            conversation=conversation, defaults={"rating": tap.rating, "created_at": now}
        )
        if answer:
            thanks = settings.csat_thanks if created else ALREADY_RATED
            _from_bot(conversation, outbox.text_message(thanks), reply_token)
        publish_conversation_on_commit(conversation)
    return response if created else None


def comment_on_rating(line_user_id: str, text: str, *, reply_token: str) -> bool:
    """The customer's text right after rating (within csat.COMMENT_WINDOW) is their comment: it is
    stored on the rating and thanked, and opens no conversation. False when no rating awaits one
    (the text is then an ordinary message). Call it only when the customer has no open
    conversation: while they have one, what they write belongs there."""
    now = timezone.now()
    waiting = list(
        CsatResponse.objects.filter(
            conversation__contact__line_user_id=line_user_id,
            created_at__gte=now - csat.COMMENT_WINDOW,
            commented_at__isnull=True,
        ).values_list("pk", flat=True)[:1]
    )
    # Re-checked in the UPDATE itself: of two texts at once, one is the comment.
    if not waiting or not CsatResponse.objects.filter(pk__in=waiting, commented_at__isnull=True).update(
        comment=text[: csat.MAX_COMMENT], commented_at=now
    ):
        return False
    conversation = Conversation.objects.select_related("contact", "assigned_operator").get(
        csat__pk=waiting[0]
    )
    _from_bot(conversation, outbox.text_message(service.settings().csat_comment_thanks), reply_token)
    publish_conversation_on_commit(conversation)
    return True


INACTIVITY = "inactivity"  # the close reason of livechat.conversations.inactivity


def close_if_inactive(
    conversation_id: int, still_quiet: Callable[[Conversation], bool], *, now: datetime
) -> Conversation | None:
    """The system closes a conversation nobody wrote in (reason "inactivity").

    `still_quiet` decides again under the row lock, so a message that arrived since the caller
    looked wins, and of two processes closing at once one closes and the other finds it closed.
    None when it was not closed.
    """
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status == Status.CLOSED or not still_quiet(conversation):
            return None
        _close(conversation, SYSTEM, INACTIVITY, now)
    return conversation


def warn_of_close(
    conversation_id: int, text: str, still_due: Callable[[Conversation], bool], *, now: datetime
) -> Message | None:
    """Tell the customer the chat closes soon if they stay quiet: once per quiet spell, by push
    (there is no reply token). None when it is not due any more (a message came in, another
    process warned first, the chat closed).

    The row lock makes "not warned yet" and "warned now" one step — the message's seq takes
    that lock anyway. The warning is not activity: it leaves last_message_at alone, or it would
    put the close off every time it is sent.
    """
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status == Status.CLOSED or not still_due(conversation):
            return None
        conversation.close_warned_at = now
        conversation.save(update_fields=["close_warned_at"])
        return queue_outbound(
            conversation, outbox.text_message(text), sender_kind=Message.SenderKind.BOT, activity=False
        )


def transfer(
    conversation_id: int,
    actor: Actor,
    *,
    to_operator_id: int | None = None,
    to_queue: bool = False,
    note: str = "",
) -> Conversation:
    """Hand an active conversation to another operator, or back to the queue."""
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status != Status.ACTIVE:
            raise ActionRefused(
                "invalid_state", gettext_lazy("Only an active conversation can be transferred.")
            )
        require_in_charge(_staff(actor), conversation, gettext_lazy("transfer it"))
        previous_operator = conversation.assigned_operator
        target = None
        if to_queue:
            _change(
                conversation,
                Kind.RETURNED,
                actor,
                to_status=Status.WAITING,
                fields={"assigned_operator": None},
                from_operator=previous_operator,
                note=note,
            )
        else:
            if to_operator_id is None:
                raise ActionRefused(
                    "invalid", gettext_lazy("Give either an operator to transfer to or the queue.")
                )
            target = permissions.team_members().filter(pk=to_operator_id).first()
            if target is None:
                raise ActionRefused(
                    "not_found",
                    gettext_lazy("Operator %(id)s does not exist or is inactive."),
                    id=to_operator_id,
                )
            if target.pk == conversation.assigned_operator_id:
                raise ActionRefused("invalid_state", gettext_lazy("The conversation is already theirs."))
            _change(
                conversation,
                Kind.TRANSFERRED,
                actor,
                to_status=Status.ACTIVE,
                fields={"assigned_operator": target},  # claimed_at stays the first claim
                from_operator=previous_operator,
                to_operator=target,
                note=note,
            )
        frame = frames.session_transferred(
            conversation,
            from_operator=previous_operator,
            to_operator=target,
            to_queue=to_queue,
            note=note,
            by=actor.user,
        )
        publish.on_commit(_to_everyone(frame))
        if to_queue:
            queue.publish_on_commit()
        _assign_waiting_on_commit()  # back in the queue, and a slot of the previous holder's free
    return conversation


def _quote_token(conversation: Conversation, message_id: int) -> str:
    """The quote token of a customer's message in this conversation (LINE gives one with each)."""
    quoted = Message.objects.filter(
        pk=message_id, conversation=conversation, direction=Message.Direction.IN
    ).first()
    token = quoted.payload.get("quoteToken") if quoted is not None else None
    if not isinstance(token, str) or not token:
        raise ActionRefused("not_found", gettext_lazy("That message of the customer cannot be quoted."))
    return token


def _sender_name(sender_kind: str, operator: User | None) -> str:
    """Who the customer sees above the message in LINE (settings.LINE_SHOW_SENDER), or ""."""
    if not settings.LINE_SHOW_SENDER:
        return ""
    if sender_kind == Message.SenderKind.OPERATOR and operator is not None:
        return operator.name
    if sender_kind == Message.SenderKind.BOT:
        return settings.LINE_BOT_NAME
    return ""


def queue_outbound(
    conversation: Conversation,
    line_message: dict[str, Any],
    *,
    sender_kind: str,
    operator: User | None = None,
    client_id: str | None = None,
    reply_token: str = "",
    activity: bool = True,
) -> Message:
    """Store an outbound message `pending` in the caller's transaction; livechat.delivery sends
    it after commit (and the worker, if this process dies first).

    `reply_token` is the triggering event's token, for the bot's immediate answers; operator
    messages find a fresh token themselves at send time. `activity=False`: the message does not
    count as the conversation's latest activity (livechat.conversations.store.next_seq).
    """
    outbox.checked(line_message)
    line_message = outbox.with_sender(line_message, _sender_name(sender_kind, operator))
    kind = line_message.get("type")
    message = append_message(
        conversation,
        activity=activity,
        direction=Message.Direction.OUT,
        sender_kind=sender_kind,
        operator=operator,
        type=kind if kind in Message.Type.values else Message.Type.UNKNOWN,
        text=line_message.get("text", "") if kind == "text" else "",
        payload=line_message,
        client_id=client_id,
        status=Message.Status.PENDING,
        reply_token=reply_token,
        next_attempt_at=timezone.now(),
    )
    announce_message(conversation, message)
    background.submit_on_commit(sender.deliver, message.pk)
    return message


def send_operator_message(
    conversation_id: int,
    actor: Actor,
    *,
    client_id: str,
    text: str | None = None,
    sticker: dict[str, str] | None = None,
    canned_id: int | None = None,
    image: dict[str, str] | None = None,
    image_path: str = "",
    quote_message_id: int | None = None,
) -> tuple[Message, bool]:
    """Accept an operator's message: stored `pending`, delivered after commit.

    `quote_message_id` is a customer message of this conversation the text or sticker answers:
    LINE shows it quoted above the answer (its quote token).

    `image` is {"originalContentUrl", "previewImageUrl"} and `image_path` where the image is
    stored (livechat.line.hosted_images keeps it).

    Returns (message, created). The same client_id again returns the first message unchanged,
    so a client that resends after a lost ack never produces a duplicate.
    """
    operator = _staff(actor)
    existing = (
        Message.objects.select_related("operator")
        .filter(conversation_id=conversation_id, client_id=client_id)
        .first()
    )
    if existing is not None:
        return existing, False
    with transaction.atomic():
        conversation = _locked(conversation_id)
        # Two tabs resending the same queued message at once: the second waited for the lock
        # above, and now finds the first one's message.
        again = Message.objects.select_related("operator").filter(
            conversation_id=conversation_id, client_id=client_id
        )
        if (first := again.first()) is not None:
            return first, False
        if conversation.status == Status.CLOSED:
            raise ActionRefused("invalid_state", gettext_lazy("The conversation is closed."))
        if not in_charge(operator, conversation):
            raise ActionRefused(
                "forbidden", gettext_lazy("Only the operator holding the conversation may reply.")
            )
        if not conversation.contact.is_following:
            raise ActionRefused(
                "invalid_state", gettext_lazy("The customer unfollowed the account; LINE will not deliver.")
            )
        if canned_id is not None:
            return _send_canned(conversation, operator, canned_id, client_id), True
        try:
            if sticker:
                line_message = outbox.sticker_message(sticker["package_id"], sticker["sticker_id"])
            elif image:
                line_message = {"type": "image", **image}
            else:
                line_message = outbox.text_message(text or "")
        except outbox.OutboundRefused as exc:
            raise ActionRefused("invalid", str(exc)) from exc
        if quote_message_id is not None and not image:
            line_message = {**line_message, "quoteToken": _quote_token(conversation, quote_message_id)}
        if conversation.first_response_at is None:
            conversation.first_response_at = timezone.now()
            conversation.save(update_fields=["first_response_at"])
        message = queue_outbound(
            conversation,
            line_message,
            sender_kind=Message.SenderKind.OPERATOR,
            operator=operator,
            client_id=client_id,
        )
        if image_path:
            message.media.name = image_path
            message.media_status = Message.MediaStatus.STORED
            message.save(update_fields=["media", "media_status"])
    return message, True


def _send_canned(conversation: Conversation, operator: User, canned_id: int, client_id: str) -> Message:
    """Queue a canned response's messages (text, image or sticker) in one go; the first carries
    the client's id, so a resend finds it and queues nothing again."""
    chosen = canned.visible_to(operator).filter(pk=canned_id).first()
    if chosen is None:
        raise ActionRefused("not_found", gettext_lazy("Canned response %(id)s does not exist."), id=canned_id)
    line_messages = canned.line_messages(chosen, conversation, operator)
    image_path = ""
    if chosen.image_path:  # the image is the last message
        line_messages[-1], image_path = canned.own_copy_of_image(chosen, line_messages[-1])
    if conversation.first_response_at is None:
        conversation.first_response_at = timezone.now()
        conversation.save(update_fields=["first_response_at"])
    queued = [
        queue_outbound(
            conversation,
            line_message,
            sender_kind=Message.SenderKind.OPERATOR,
            operator=operator,
            client_id=client_id if index == 0 else f"{client_id[:60]}:{index}",
        )
        for index, line_message in enumerate(line_messages)
    ]
    if image_path:
        queued[-1].media.name = image_path
        queued[-1].media_status = Message.MediaStatus.STORED
        queued[-1].save(update_fields=["media", "media_status"])
    return queued[0]


def retry_message(message_id: int, actor: Actor) -> Message:
    """Send a `failed` outbound message again (the same retry key: LINE never delivers it twice)."""
    operator = _staff(actor)
    message = (
        Message.objects.select_related("conversation__contact", "operator").filter(pk=message_id).first()
    )
    if message is None:
        raise ActionRefused("not_found", gettext_lazy("Message %(id)s does not exist."), id=message_id)
    conversation = message.conversation
    if not in_charge(operator, conversation):
        raise ActionRefused(
            "forbidden", gettext_lazy("Only the operator holding the conversation may retry.")
        )
    if message.direction != Message.Direction.OUT or message.status != Message.Status.FAILED:
        raise ActionRefused("invalid_state", gettext_lazy("Only a failed outbound message can be retried."))
    if not may(operator, "send", conversation):
        if conversation.status == Status.CLOSED:
            raise ActionRefused("invalid_state", gettext_lazy("The conversation is closed."))
        raise ActionRefused(
            "invalid_state", gettext_lazy("The customer unfollowed the account; LINE will not deliver.")
        )
    # A message that failed in a batch is sent again with its whole batch, under the batch's
    # retry key: had LINE in fact taken the batch, it answers 409 instead of delivering twice.
    batch = Message.objects.filter(pk=message.pk, status=Message.Status.FAILED)
    if message.batch_uuid is not None:
        batch = Message.objects.filter(batch_uuid=message.batch_uuid, status=Message.Status.FAILED)
    with transaction.atomic():
        again = list(batch.select_for_update())
        retried = batch.filter(pk__in=[m.pk for m in again]).update(
            status=Message.Status.PENDING,
            attempts=0,
            error="",
            next_attempt_at=timezone.now(),
            reply_attempted_at=None,  # an operator resending settles any doubt: it goes by push
        )
        if not retried or message.pk not in {m.pk for m in again}:
            raise ActionRefused("invalid_state", gettext_lazy("The message is no longer failed."))
        background.submit_on_commit(sender.deliver, message.pk)
        for member in again:
            publish.on_commit(
                (groups.conversation(conversation.pk), frames.message_status(member, Message.Status.PENDING))
            )
    message.refresh_from_db()
    return message


def mark_read(conversation_id: int, actor: Actor, seq: int) -> list[str]:
    """Record how far the operator read; returns LINE mark-as-read tokens not yet used.

    Only the holder (or a supervisor) reading tells the customer "read" on LINE: a colleague
    glancing at the conversation from the queue has not answered them.
    """
    operator = _staff(actor)
    with transaction.atomic():
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is None:
            raise ActionRefused(
                "not_found", gettext_lazy("Conversation %(id)s does not exist."), id=conversation_id
            )
        marker, _ = ReadMarker.objects.select_for_update().get_or_create(
            operator=operator, conversation_id=conversation_id
        )
        if seq > marker.last_read_seq:
            marker.last_read_seq = seq
            marker.save(update_fields=["last_read_seq", "updated_at"])
        if not in_charge(operator, conversation):
            return []
        unread = Message.objects.filter(
            conversation_id=conversation_id,
            direction=Message.Direction.IN,
            seq__lte=seq,
            marked_read_at__isnull=True,
        ).exclude(mark_as_read_token="")
        # LINE marks everything up to a message read with that message's token: the newest is
        # enough. The rows are marked read now, as the claim (of two readers one sends it); if
        # LINE does not take the token, livechat.line.read_receipts marks them unread again.
        tokens = list(unread.order_by("-seq").values_list("mark_as_read_token", flat=True)[:1])
        unread.update(marked_read_at=timezone.now())
    return tokens


def _staff(actor: Actor) -> User:
    if actor.user is None:
        raise ActionRefused("forbidden", gettext_lazy("Only a team member can do this."))
    return actor.user
