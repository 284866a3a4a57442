"""Server → client frames of the console protocol (docs/protocol.md): one builder per type.

Every frame an operator's socket receives is built here and nowhere else, so the payload of a
type has one shape whoever sends it (an action after commit, the consumer answering a request,
a background job). Builders are pure: they read the objects they are given (with `contact`,
`assigned_operator` and `operator` loaded) and make no query.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accounts.models import User
from livechat.models import Contact, Conversation, Label, Message, Note, SlaAlert
from livechat.realtime.payloads import (
    contact_details_payload,
    conversation_payload,
    label_payload,
    message_payload,
    note_payload,
    operator_payload,
    sla_state_payload,
)

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame before it is stamped and encoded: its type and payload."""

    type: str
    payload: JSON


def auth_success(operator: User) -> Frame:
    return Frame("auth_success", {"operator": operator_payload(operator)})


def pong() -> Frame:
    return Frame("pong", {})


def presence_update(online: Iterable[tuple[User, str]]) -> Frame:
    """Operators with a socket open, each once, with their status ("online" | "away")."""
    return Frame(
        "presence_update",
        {"operators": [{**operator_payload(user), "status": status} for user, status in online]},
    )


def queue_update(waiting: list[JSON]) -> Frame:
    """The whole queue, in order (conversations.queue.snapshot builds the entries)."""
    return Frame("queue_update", {"waiting": waiting})


def conversation_update(
    conversation: Conversation | None,
    messages: Sequence[Message] = (),
    *,
    has_more: bool | None = None,
) -> Frame:
    """A conversation's new state and/or changed messages (None: only the messages changed)."""
    payload: JSON = {
        "conversation": conversation_payload(conversation) if conversation is not None else None,
        "messages": [message_payload(m) for m in messages],
    }
    if has_more is not None:
        payload["has_more"] = has_more
    return Frame("conversation_update", payload)


def new_message(message: Message) -> Frame:
    return Frame("new_message", {"message": message_payload(message)})


def message_sent(client_id: str, message: Message) -> Frame:
    """The ack of an operator's send_message: the stored message (the same for a resend)."""
    return Frame("message_sent", {"client_id": client_id, "message": message_payload(message)})


def message_status(message: Message, status: str, error: str = "", sent_via: str = "") -> Frame:
    payload: JSON = {"message_id": message.pk, "conversation_id": message.conversation_id, "status": status}
    if error:
        payload["error"] = error
    if sent_via:  # "reply" (free) or "push" (counts against LINE's quota)
        payload["sent_via"] = sent_via
    return Frame("message_status", payload)


def typing(conversation_id: int, operator: User, is_typing: bool) -> Frame:
    return Frame(
        "typing",
        {"conversation_id": conversation_id, "operator": operator_payload(operator), "is_typing": is_typing},
    )


def session_claimed(conversation: Conversation, operator: User | None) -> Frame:
    """`operator` is who claimed it (None: the system, e.g. auto-assignment)."""
    return Frame(
        "session_claimed",
        {"conversation": conversation_payload(conversation), "operator": operator_payload(operator)},
    )


def session_closed(conversation: Conversation, operator: User | None, reason: str) -> Frame:
    return Frame(
        "session_closed",
        {
            "conversation": conversation_payload(conversation),
            "operator": operator_payload(operator),
            "reason": reason,
        },
    )


def session_transferred(
    conversation: Conversation,
    *,
    from_operator: User | None,
    to_operator: User | None,
    to_queue: bool,
    note: str,
    by: User | None,
) -> Frame:
    return Frame(
        "session_transferred",
        {
            "conversation": conversation_payload(conversation),
            "from_operator": operator_payload(from_operator),
            "to_operator": operator_payload(to_operator),
            "to_queue": to_queue,
            "note": note,
            "by": operator_payload(by),
        },
    )


def operator_joined(conversation_id: int, operator: User) -> Frame:
    return Frame(
        "operator_joined", {"conversation_id": conversation_id, "operator": operator_payload(operator)}
    )


def operator_left(conversation_id: int, operator: User) -> Frame:
    return Frame(
        "operator_left", {"conversation_id": conversation_id, "operator": operator_payload(operator)}
    )


def sla_alert(alert: SlaAlert, *, target_seconds: int, elapsed_seconds: float) -> Frame:
    """An SLA clock passed its warning threshold or its target (livechat.conversations.sla);
    `alert.conversation` with `contact` and `assigned_operator` loaded."""
    return Frame(
        "sla_alert",
        {
            "conversation_id": alert.conversation_id,
            **sla_state_payload(alert.kind, alert.level, alert.started_at, alert.due_at),
            "target_seconds": target_seconds,
            "elapsed_seconds": round(elapsed_seconds),
            "operator": operator_payload(alert.operator),
            "conversation": conversation_payload(alert.conversation),
        },
    )


def line_status(state: str, retry_at: float | None) -> Frame:
    """LINE stopped answering ("open": messages wait, in order) or answers again ("closed")."""
    when = datetime.fromtimestamp(retry_at, tz=UTC).isoformat() if retry_at is not None else None
    return Frame("line_status", {"state": state, "retry_at": when})


def labels_updated(conversation_id: int, labels: Iterable[Label], by: User | None) -> Frame:
    """A conversation's labels now (all of them, not the change)."""
    return Frame(
        "labels_updated",
        {
            "conversation_id": conversation_id,
            "labels": [label_payload(label) for label in labels],
            "by": operator_payload(by),
        },
    )


def note_added(note: Note) -> Frame:
    """A private note in a conversation's timeline (staff only; never sent to LINE)."""
    return Frame("note_added", {"note": note_payload(note)})


def note_mention(note: Note) -> Frame:
    """To the sockets of an operator named in a note: who wrote what, where."""
    return Frame("note_mention", {"conversation_id": note.conversation_id, "note": note_payload(note)})


def contact_updated(contact: Contact, by: User | None) -> Frame:
    """A customer's notes and custom fields as they are now."""
    return Frame("contact_updated", {"contact": contact_details_payload(contact), "by": operator_payload(by)})


def error(code: str, message: str, request_id: str | None = None) -> Frame:
    payload: JSON = {"code": code, "message": message}
    if request_id is not None:
        payload["request_id"] = request_id
    return Frame("error", payload)
