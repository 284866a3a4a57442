"""Finding a contact's open conversation and appending messages to it, race-safely.

Two guarantees live here:
- a contact has at most one open conversation — the partial unique constraint
  `one_open_conversation_per_contact` decides races, and the loser re-reads the winner's row;
- `Message.seq` is 1, 2, 3 … per conversation with no gaps: the next number comes from
  `UPDATE … SET last_seq = last_seq + 1 … RETURNING`, which also locks the conversation row until
  the transaction ends, so concurrent appends queue up and a rollback returns the number.
"""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from livechat.conversations import bot, fast_path
from livechat.models import Contact, Conversation, ConversationEvent, Message, WebhookEvent


def open_conversation_for(line_user_id: str) -> tuple[Conversation, bool, bool]:
    """The user's open conversation, creating contact and conversation as needed.

    Returns (conversation, contact_created, conversation_created). Must run inside a
    transaction. One query on the common path (known contact with an open conversation).
    """
    found = find_open_conversation(line_user_id)
    if found is not None:
        return found, False, False
    return start_conversation_for(line_user_id)


def find_open_conversation(line_user_id: str) -> Conversation | None:
    """The user's open conversation, with contact and operator, or None. One query."""
    return fast_path.find_conversation(line_user_id, OPEN_STATUSES)


def start_conversation_for(line_user_id: str) -> tuple[Conversation, bool, bool]:
    """A new conversation for the user (creating the contact if new), or the open one a racer
    just opened: (conversation, contact_created, conversation_created)."""
    contact, contact_created = Contact.objects.get_or_create(line_user_id=line_user_id)
    conversation, created = start_conversation(contact)
    return conversation, contact_created, created


def start_conversation(contact: Contact) -> tuple[Conversation, bool]:
    """Open a new conversation in `bot` for the contact, or return the one a racer opened."""
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(contact=contact)
    except IntegrityError:
        # Another request opened it between our read and our insert; its row is committed or
        # its insert lock has been released, so reading now finds it.
        conversation = Conversation.objects.select_related("assigned_operator").get(
            contact=contact, status__in=OPEN_STATUSES
        )
        conversation.contact = contact
        return conversation, False
    conversation.contact = contact
    conversation.assigned_operator = None
    ConversationEvent.objects.create(
        conversation=conversation,
        kind=ConversationEvent.Kind.CREATED,
        actor_kind=ConversationEvent.ActorKind.CUSTOMER,
        to_status=Conversation.Status.BOT,
    )
    return conversation, True


# At most one of a contact's conversations is in one of these (one_open_conversation_per_contact).
OPEN_STATUSES = [
    Conversation.Status.BOT,
    Conversation.Status.WAITING,
    Conversation.Status.ACTIVE,
]


def next_seq(conversation: Conversation, at: datetime | None) -> int:
    """Take the conversation's next message number (and lock its row until commit).

    `at` becomes its last_message_at; None leaves it: the message is not activity (the system's
    "we'll close this chat soon" must not keep the chat open — livechat.conversations.inactivity).
    """
    table = connection.ops.quote_name(Conversation._meta.db_table)
    activity = "last_message_at = %s, " if at is not None else ""
    # Stored as the field stores it (SQLite compares datetimes as text: "…+00:00" would sort
    # after the same moment written by the ORM).
    stamp = Conversation._meta.get_field("last_message_at").get_db_prep_save(at, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {activity}last_seq = last_seq + 1 "  # noqa: S608
            "WHERE id = %s RETURNING last_seq",
            [stamp, conversation.pk] if at is not None else [conversation.pk],
        )
        (seq,) = cursor.fetchone()
    conversation.last_seq = seq
    if at is not None:
        conversation.last_message_at = at
    return seq


def append_message(conversation: Conversation, *, activity: bool = True, **fields: Any) -> Message:
    """Store a message as the conversation's next seq. Must run inside a transaction."""
    return store_message(conversation, Message(**fields), activity=activity)


def store_message(conversation: Conversation, message: Message, *, activity: bool = True) -> Message:
    """Store the new `message` as the conversation's next seq. Must run inside a transaction.

    `activity=False`: the conversation's last_message_at stays (see next_seq)."""
    message.conversation = conversation
    message.seq = next_seq(conversation, timezone.now() if activity else None)
    fast_path.insert(message)
    return message


def record_event(event: WebhookEvent) -> bool:
    """Store a webhook event unless its webhookEventId is stored already (LINE redelivered it).

    Returns whether it was stored. Must run inside the transaction that handles the event.
    """
    return fast_path.insert(event, unless_exists="webhook_event_id")


def append_to_open_conversation(
    event: WebhookEvent, message: Message, line_user_id: str, quiet: bot.Quiet
) -> Conversation | None:
    """The webhook's hot path: store the event and append the message to the user's open
    conversation in one statement, with no transaction around it (PostgreSQL only) — if the
    conversation is one where the bot does nothing about the message (`quiet`).

    None when it wrote nothing — no such conversation, a redelivery, or a database without
    data-modifying WITH: the caller then takes the transactional path from the start.
    """
    if not fast_path.can_append_in_one_statement():
        return None
    return fast_path.append_to_open_conversation(
        event, message, line_user_id, quiet.statuses, timezone.now(), nudged_after=quiet.nudged_after
    )
