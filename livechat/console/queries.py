"""What the operator console reads: tab counts, list rows, a conversation with its history,
and the customer panel.

Every function here runs a fixed number of queries whatever the amount of data (a list row
brings its unread count, last-message preview and SLA state along as subqueries of the one list
query, never a query per row); tests/console/test_views.py pins the counts.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, JSONObject, Left
from django.utils.dateparse import parse_datetime

from accounts.models import User
from livechat.conversations import canned, history, permissions, sla
from livechat.models import Conversation, ConversationEvent, CsatResponse, Label, Message, Note, ReadMarker
from livechat.realtime import protocol
from livechat.realtime.payloads import (
    contact_details_payload,
    contact_payload,
    conversation_payload,
    label_payload,
    message_payload,
    note_payload,
    operator_payload,
    sla_state_payload,
)

if TYPE_CHECKING:  # django-stubs-ext is a development dependency
    from django_stubs_ext import WithAnnotations

Status = Conversation.Status

TABS = ("queue", "mine", "open", "closed")
PAGE_SIZE = 50
# Queue and Mine are loaded whole (up to this many): they are what an operator works through.
WORKLIST_LIMIT = 200
PREVIEW_CHARS = 140
PAST_CONVERSATIONS = 20
TIMELINE_EVENTS = 200


def tab_counts(operator: User) -> dict[str, int]:
    """How many conversations each tab holds — one query."""
    return Conversation.objects.aggregate(
        queue=Count("pk", filter=Q(status=Status.WAITING)),
        mine=Count("pk", filter=Q(status=Status.ACTIVE, assigned_operator=operator)),
        open=Count("pk", filter=~Q(status=Status.CLOSED)),
        closed=Count("pk", filter=Q(status=Status.CLOSED)),
    )


def _tab_queryset(operator: User, tab: str) -> QuerySet[Conversation]:
    qs = Conversation.objects.select_related("contact", "assigned_operator")
    if tab == "queue":
        return qs.filter(status=Status.WAITING).order_by("handoff_requested_at", "id")
    if tab == "mine":
        qs = qs.filter(status=Status.ACTIVE, assigned_operator=operator)
    elif tab == "open":
        qs = qs.exclude(status=Status.CLOSED)
    elif tab == "closed":
        qs = qs.filter(status=Status.CLOSED)
    else:
        raise ValueError(f"unknown tab {tab!r}")
    # Matches conversation_status_idx / conversation_open_activity_idx, so a page is an index scan.
    return qs.order_by("-last_message_at", "-id")


def _with_unread(qs: QuerySet[Conversation], operator: User) -> QuerySet[Conversation]:
    """Annotate `unread`: the customer's messages after this operator's read marker."""
    read_upto = ReadMarker.objects.filter(operator=operator, conversation=OuterRef("pk")).values(
        "last_read_seq"
    )[:1]
    # COUNT as a plain function (no GROUP BY), so it is an index-only scan of message_inbound_seq_idx.
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"), direction=Message.Direction.IN, seq__gt=OuterRef("read_upto")
        )
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return qs.annotate(read_upto=Coalesce(Subquery(read_upto), Value(0))).annotate(
        unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))
    )


def _search(qs: QuerySet[Conversation], query: str) -> QuerySet[Conversation]:
    text_match = Message.objects.filter(conversation=OuterRef("pk"), text__icontains=query, is_unsent=False)
    return qs.filter(
        Q(contact__display_name__icontains=query) | Q(contact__line_user_id=query) | Exists(text_match)
    )


def encode_cursor(conversation: Conversation) -> str:
    stamp = conversation.last_message_at.isoformat() if conversation.last_message_at else ""
    return f"{stamp}|{conversation.pk}"


def _after_cursor(qs: QuerySet[Conversation], cursor: str) -> QuerySet[Conversation]:
    stamp_text, _, pk_text = cursor.rpartition("|")
    if not pk_text.isdigit():
        raise ValueError("bad cursor")
    pk = int(pk_text)
    stamp: datetime | None = parse_datetime(stamp_text) if stamp_text else None
    if stamp_text and stamp is None:
        raise ValueError("bad cursor")
    if stamp is None:  # past the conversations with activity: the silent ones, by id
        return qs.filter(last_message_at__isnull=True, pk__lt=pk)
    return qs.filter(
        Q(last_message_at__lt=stamp) | Q(last_message_at=stamp, pk__lt=pk) | Q(last_message_at__isnull=True)
    )


def _with_last_message(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Annotate `last_message`: the newest message (its seq is the conversation's last_seq) as a
    small JSON object — one index lookup per row on (conversation, seq), no second query."""
    latest = Message.objects.filter(conversation=OuterRef("pk"), seq=OuterRef("last_seq")).values(
        preview=JSONObject(
            seq="seq",
            type="type",
            text=Left("text", PREVIEW_CHARS),
            alt_text=Left(KT("payload__altText"), PREVIEW_CHARS),
            sender_kind="sender_kind",
            direction="direction",
            is_unsent="is_unsent",
            content_removed_at="content_removed_at",
        )
    )[:1]
    return qs.annotate(last_message=Subquery(latest, output_field=JSONField()))


def _with_sla(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Annotate `sla`: the worst SLA alert whose clock still runs (livechat.conversations.sla), as
    a small JSON object — a subquery on the alerts' conversation index, no second query."""
    worst = sla.worst_standing_alert(OuterRef("pk")).values(
        state=JSONObject(kind="kind", level="level", started_at="started_at", due_at="due_at")
    )[:1]
    return qs.annotate(sla=Subquery(worst, output_field=JSONField()))


def _sla_state(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """The annotation as the row shows it, its times ISO 8601 with an offset (SQLite's JSON
    carries them as naive UTC text)."""
    if not state:
        return None

    def aware(text: str) -> datetime:
        value = parse_datetime(text)
        assert value is not None, f"bad time {text!r}"
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    return sla_state_payload(
        state["kind"], state["level"], aware(state["started_at"]), aware(state["due_at"])
    )


class _RowAnnotations(TypedDict):
    """What a list row's conversation is annotated with (_with_unread or 0, _with_last_message,
    _with_sla or None)."""

    unread: int
    last_message: dict[str, Any] | None
    sla: dict[str, Any] | None


def conversation_rows(
    operator: User,
    tab: str,
    *,
    query: str = "",
    cursor: str = "",
    limit: int = PAGE_SIZE,
    label: int | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """One page of a tab, newest activity first (the queue in queue order), only those with the
    label when one is given. Two queries: the rows, and their labels.

    Returns (rows, next_cursor); next_cursor is "" on the last page. The queue is not paged.
    """
    qs = _tab_queryset(operator, tab).prefetch_related("labels")
    if query:
        qs = _search(qs, query)
    if label is not None:
        qs = qs.filter(
            Exists(Conversation.labels.through.objects.filter(conversation=OuterRef("pk"), label=label))
        )
    if cursor and tab != "queue":
        qs = _after_cursor(qs, cursor)
    qs = _with_unread(qs, operator) if tab != "closed" else qs.annotate(unread=Value(0))
    qs = _with_sla(qs) if tab != "closed" else qs.annotate(sla=Value(None, output_field=JSONField()))
    conversations = cast(
        "list[WithAnnotations[Conversation, _RowAnnotations]]", list(_with_last_message(qs)[: limit + 1])
    )
    more = len(conversations) > limit and tab != "queue"
    conversations = conversations[:limit]
    rows = []
    for position, conversation in enumerate(conversations, start=1):
        row = conversation_payload(conversation)
        row["last_message"] = preview(conversation.last_message)
        row["unread"] = conversation.unread
        row["sla"] = _sla_state(conversation.sla)
        if tab == "queue" and not query:
            row["queue_position"] = position
        rows.append(row)
    return rows, encode_cursor(conversations[-1]) if more and conversations else ""


def preview(message: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a list row shows of a message (the JS builds the same from a full payload)."""
    if not message:
        return None
    unsent = bool(message["is_unsent"])
    text = "" if unsent else (message["text"] or "")
    if message["type"] in ("flex", "template") and not text:
        text = "" if unsent else (message.get("alt_text") or "")
    return {
        "seq": message["seq"],
        "type": message["type"],
        "text": text,
        "sender_kind": message["sender_kind"],
        "direction": message["direction"],
        "is_unsent": unsent,
        "content_removed": message.get("content_removed_at") is not None,
    }


# --- One conversation -----------------------------------------------------------------------


def conversation_detail(operator: User, conversation_id: int) -> dict[str, Any] | None:
    """The conversation, what the operator may do with it, and its latest messages."""
    conversation = (
        Conversation.objects.select_related("contact", "assigned_operator")
        .prefetch_related("labels")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        return None
    messages = history.latest(conversation_id, limit=protocol.HISTORY_PAGE + 1)
    has_more = len(messages) > protocol.HISTORY_PAGE
    messages = messages[-protocol.HISTORY_PAGE :]
    return {
        "conversation": conversation_payload(conversation),
        "capabilities": permissions.capabilities(operator, conversation),
        "messages": [message_payload(m) for m in messages],
        "has_more": has_more,
    }


def customer_panel(conversation_id: int) -> dict[str, Any] | None:
    """Profile, the contact's other conversations and this conversation's event timeline."""
    conversation = Conversation.objects.select_related("contact", "csat").filter(pk=conversation_id).first()
    if conversation is None:
        return None
    contact = conversation.contact
    past = (
        Conversation.objects.filter(contact=contact)
        .exclude(pk=conversation.pk)
        .select_related("assigned_operator", "csat")
        .order_by("-created_at")[:PAST_CONVERSATIONS]
    )
    events = (
        ConversationEvent.objects.filter(conversation=conversation)
        .select_related("actor", "from_operator", "to_operator")
        .order_by("created_at", "id")[:TIMELINE_EVENTS]
    )
    notes = (
        Note.objects.filter(conversation=conversation)
        .select_related("author")
        .prefetch_related("mentions")
        .order_by("created_at", "id")[:TIMELINE_EVENTS]
    )

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "conversation_id": conversation.pk,
        "contact": {
            **contact_payload(contact),
            "followed_at": iso(contact.followed_at),
            "unfollowed_at": iso(contact.unfollowed_at),
            "created_at": iso(contact.created_at),
            **contact_details_payload(contact),
        },
        # Private notes: the chat shows them in its timeline among the messages, by time.
        "notes": [note_payload(note) for note in notes],
        "past_conversations": [
            {
                "id": c.pk,
                "status": c.status,
                "created_at": iso(c.created_at),
                "closed_at": iso(c.closed_at),
                "last_message_at": iso(c.last_message_at),
                "close_reason": c.close_reason,
                "assigned_operator": operator_payload(c.assigned_operator),
                "message_count": c.last_seq,
                "csat_rating": rating.rating if (rating := _csat_of(c)) else None,
            }
            for c in past
        ],
        "csat": _csat_payload(conversation),
        "events": [
            {
                "id": e.pk,
                "kind": e.kind,
                "actor_kind": e.actor_kind,
                "actor": operator_payload(e.actor),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "from_operator": operator_payload(e.from_operator),
                "to_operator": operator_payload(e.to_operator),
                "note": e.note,
                "created_at": iso(e.created_at),
            }
            for e in events
        ],
    }


def _csat_of(conversation: Conversation) -> CsatResponse | None:
    try:
        return conversation.csat
    except CsatResponse.DoesNotExist:
        return None


def _csat_payload(conversation: Conversation) -> dict[str, Any] | None:
    """The survey of this conversation: when it went out, and the customer's rating and comment."""
    if conversation.csat_sent_at is None:
        return None
    response = _csat_of(conversation)
    return {
        "sent_at": conversation.csat_sent_at.isoformat(),
        "rating": response.rating if response else None,
        "comment": response.comment if response else "",
        "rated_at": response.created_at.isoformat() if response else None,
    }


def labels() -> list[dict[str, Any]]:
    """Every label, by name (the console's label picker and list filter)."""
    return [label_payload(label) for label in Label.objects.order_by("name")]


def canned_responses(operator: User) -> list[dict[str, Any]]:
    """The operator's picker before a conversation is open: shared responses and their own."""
    return [canned.picker_item(c, None) for c in canned.search(operator, "")]
