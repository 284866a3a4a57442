"""How conversations, messages and contacts look on the wire (WebSocket frames and REST).

One place, so the socket, the REST API and the console templates can never disagree.
"""

from datetime import datetime
from typing import Any, overload

from django.urls import reverse

from accounts.models import User
from livechat.models import Contact, Conversation, Label, Message, Note


@overload
def operator_payload(user: User) -> dict[str, Any]: ...
@overload
def operator_payload(user: None) -> None: ...
@overload
def operator_payload(user: User | None) -> dict[str, Any] | None: ...
def operator_payload(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.name, "role": user.role}


def contact_payload(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "line_user_id": contact.line_user_id,
        "display_name": contact.display_name or contact.line_user_id,
        "picture_url": contact.picture_url,
        "status_message": contact.status_message,
        "language": contact.language,
        "is_following": contact.is_following,
        # Which profile this is: frames built in different threads can arrive out of order, and
        # the console keeps the newer profile (a queue snapshot built before the profile was
        # fetched must not put the LINE user id back in place of the name).
        "profile_fetched_at": contact.profile_fetched_at.isoformat() if contact.profile_fetched_at else None,
    }


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    """Needs `contact` and `assigned_operator` loaded (select_related) to stay query-free."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": conversation.pk,
        "status": conversation.status,
        "contact": contact_payload(conversation.contact),
        "assigned_operator": operator_payload(conversation.assigned_operator),
        "created_at": iso(conversation.created_at),
        "handoff_requested_at": iso(conversation.handoff_requested_at),
        "claimed_at": iso(conversation.claimed_at),
        "first_response_at": iso(conversation.first_response_at),
        "closed_at": iso(conversation.closed_at),
        "last_message_at": iso(conversation.last_message_at),
        "close_reason": conversation.close_reason,
        "last_seq": conversation.last_seq,
        **_labels_if_loaded(conversation),
    }


def _labels_if_loaded(conversation: Conversation) -> dict[str, Any]:
    """`labels` when they were prefetched (console list, detail, room snapshot, labels_updated);
    absent otherwise, so that frames of the hot paths stay query-free — clients keep the labels
    they have when a conversation arrives without them."""
    if "labels" not in getattr(conversation, "_prefetched_objects_cache", {}):
        return {}
    return {"labels": [label_payload(label) for label in conversation.labels.all()]}


def label_payload(label: Label) -> dict[str, Any]:
    return {"id": label.pk, "name": label.name, "colour": label.colour}


def note_payload(note: Note) -> dict[str, Any]:
    """Needs `author` loaded and `mentions` prefetched (or just set) to stay query-free."""
    return {
        "id": note.pk,
        "conversation_id": note.conversation_id,
        "author": operator_payload(note.author),
        "text": note.text,
        "mentions": [operator_payload(user) for user in note.mentions.all()],
        "created_at": note.created_at.isoformat() if note.created_at else None,
    }


def contact_details_payload(contact: Contact) -> dict[str, Any]:
    """What the team keeps about the customer across conversations (the customer panel)."""
    return {"id": contact.pk, "notes": contact.notes, "custom_fields": contact.custom_fields}


def sla_state_payload(kind: str, level: str, started_at: datetime, due_at: datetime) -> dict[str, Any]:
    """A conversation's SLA state as a list row shows it: which clock, how bad, since and due when
    (livechat.conversations.sla)."""
    return {"kind": kind, "level": level, "started_at": started_at.isoformat(), "due_at": due_at.isoformat()}


def message_payload(message: Message) -> dict[str, Any]:
    """Needs `operator` loaded when the message has one."""
    media_url = (
        reverse("livechat:media", args=[message.pk])
        if message.media_status == Message.MediaStatus.STORED
        else None
    )
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "direction": message.direction,
        "sender_kind": message.sender_kind,
        "operator": operator_payload(message.operator) if message.operator_id else None,
        "type": message.type,
        "text": "" if message.is_unsent else message.text,
        "payload": {} if message.is_unsent else message.payload,
        "media_url": None if message.is_unsent else media_url,
        "media_status": message.media_status,
        "client_id": message.client_id,
        "status": message.status,
        "error": message.error,
        "is_unsent": message.is_unsent,
        # Its text and files were removed by the retention policy (livechat.conversations.retention).
        "content_removed": message.content_removed_at is not None,
        "created_at": message.created_at.isoformat() if message.created_at else None,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "sent_via": message.sent_via,  # "reply" (free) or "push" (counts against LINE's quota)
        "line_message_id": message.line_message_id,  # what a LINE quote (quotedMessageId) points at
    }
