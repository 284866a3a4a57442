"""The audit trail supervisors browse and export: audit log rows (sign-ins, people, settings,
exports, erasures) and conversation state changes (ConversationEvents) as one list, newest first.

A page is two queries, each on its table's time index and limited to one page (plus one row, to
know whether there is more), merged here in Python. Pages are keyed by the last entry shown (its
time, its table, its id), not by an offset: page 50 costs what page 1 costs, and rows written
while someone pages do not shift what they see.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditLog, User
from livechat.models import Conversation, ConversationEvent

PAGE_SIZE = 50
EVENT_PREFIX = "conversation:"  # a kind filter naming a ConversationEvent kind, e.g. conversation:claimed

# Which table an entry comes from, as the order breaks ties between entries of the same instant.
AUDIT, CONVERSATION = 1, 0


@dataclass(frozen=True)
class Filters:
    person: User | None = None
    kind: str = ""  # an AuditLog kind, EVENT_PREFIX + a ConversationEvent kind, or "" for all
    start: date | None = None  # local dates, inclusive
    end: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """What the export's own audit row says was exported."""
        return {
            "person": self.person.get_username() if self.person else None,
            "kind": self.kind or None,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class Cursor:
    """The last entry of a page: the next page starts after it."""

    at: datetime
    table: int
    id: int

    def encode(self) -> str:
        return f"{self.at.isoformat()}~{self.table}~{self.id}"

    @classmethod
    def decode(cls, text: str) -> "Cursor | None":
        try:
            at, table, row_id = text.split("~")
            parsed = datetime.fromisoformat(at)
            if parsed.tzinfo is None or int(table) not in (AUDIT, CONVERSATION):
                return None
            return cls(parsed, int(table), int(row_id))
        except ValueError:
            return None


@dataclass(frozen=True)
class Entry:
    at: datetime
    table: int
    id: int
    kind: str
    kind_label: str
    who: str
    address: str
    what: str
    from_value: str
    to_value: str
    details: dict[str, Any]
    conversation_id: int | None = None
    change_label: str = ""  # from → to as the page shows it (the CSV keeps the codes)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at, self.table, self.id)

    @property
    def details_text(self) -> str:
        return json.dumps(self.details, ensure_ascii=False) if self.details else ""


def kind_choices() -> list[tuple[str, str]]:
    """Every kind the filter offers: the audit log's, then the conversations' state changes."""
    return [(str(value), str(label)) for value, label in AuditLog.Kind.choices] + [
        (EVENT_PREFIX + str(value), _("Conversation: %(kind)s") % {"kind": label})
        for value, label in ConversationEvent.Kind.choices
    ]


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _after(cursor: Cursor | None, table: int) -> Q:
    """Entries of `table` that come after `cursor` in newest-first order."""
    if cursor is None:
        return Q()
    same_instant = Q(created_at=cursor.at)
    if table == cursor.table:
        same_instant &= Q(id__lt=cursor.id)
    elif table > cursor.table:  # this table's entries of that instant were shown before the cursor
        same_instant = Q(pk__in=[])
    return Q(created_at__lt=cursor.at) | same_instant


def _in_period(filters: Filters) -> Q:
    q = Q()
    if filters.start:
        q &= Q(created_at__gte=_local_midnight(filters.start))
    if filters.end:
        q &= Q(created_at__lt=_local_midnight(filters.end + timedelta(days=1)))
    return q


def _audit_rows(filters: Filters, cursor: Cursor | None, limit: int) -> list[AuditLog]:
    if filters.kind.startswith(EVENT_PREFIX):
        return []
    rows: QuerySet[AuditLog] = AuditLog.objects.filter(_in_period(filters), _after(cursor, AUDIT))
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.person is not None:
        rows = rows.filter(actor=filters.person)
    return list(rows.order_by("-created_at", "-id")[:limit])


def _event_rows(filters: Filters, cursor: Cursor | None, limit: int) -> list[ConversationEvent]:
    if filters.kind and not filters.kind.startswith(EVENT_PREFIX):
        return []
    rows = ConversationEvent.objects.filter(_in_period(filters), _after(cursor, CONVERSATION))
    if filters.kind:
        rows = rows.filter(kind=filters.kind.removeprefix(EVENT_PREFIX))
    if filters.person is not None:
        rows = rows.filter(actor=filters.person)
    rows = rows.select_related("conversation__contact", "actor", "to_operator")
    return list(rows.order_by("-created_at", "-id")[:limit])


def _from_audit(row: AuditLog) -> Entry:
    return Entry(
        at=row.created_at,
        table=AUDIT,
        id=row.pk,
        kind=row.kind,
        kind_label=str(row.get_kind_display()),
        who=row.actor_name,
        address=row.address or "",
        what=row.target,
        from_value="",
        to_value="",
        details=row.changes,
    )


def _from_event(event: ConversationEvent) -> Entry:
    contact = event.conversation.contact
    who = event.actor.name if event.actor else str(event.get_actor_kind_display())
    to_value = event.to_status
    statuses = dict(Conversation.Status.choices)
    change_label = (
        f"{statuses.get(event.from_status, '–')} → {statuses.get(event.to_status, event.to_status)}"
    )
    if event.to_operator is not None:
        to_value = f"{to_value} ({event.to_operator.name})"
        change_label = f"{change_label} ({event.to_operator.name})"
    return Entry(
        at=event.created_at,
        table=CONVERSATION,
        id=event.pk,
        kind=EVENT_PREFIX + event.kind,
        kind_label=_("Conversation: %(kind)s") % {"kind": event.get_kind_display()},
        who=who,
        address="",
        what=_("Conversation %(id)s with %(name)s")
        % {"id": event.conversation_id, "name": contact.display_name or contact.line_user_id},
        from_value=event.from_status,
        to_value=to_value,
        details={"note": event.note} if event.note else {},
        conversation_id=event.conversation_id,
        change_label=change_label,
    )


def page(filters: Filters, cursor: Cursor | None = None, size: int = PAGE_SIZE) -> tuple[list[Entry], bool]:
    """One page of entries after `cursor`, newest first, and whether more follow."""
    entries = [_from_audit(row) for row in _audit_rows(filters, cursor, size + 1)]
    entries += [_from_event(event) for event in _event_rows(filters, cursor, size + 1)]
    entries.sort(key=lambda e: (e.at, e.table, e.id), reverse=True)
    return entries[:size], len(entries) > size


def chunks(filters: Filters, size: int = 500) -> Iterator[list[Entry]]:
    """All entries the filters select, newest first, `size` at a time (for the export)."""
    cursor = None
    while True:
        entries, more = page(filters, cursor, size)
        yield entries
        if not more or not entries:
            return
        cursor = entries[-1].cursor
