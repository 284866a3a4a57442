"""SLA clocks: which targets of the default policy are running for each open conversation, how
far along they are, and the warnings and breaches `check_sla` records once each and announces.

Three clocks, each started by a moment already in the rows (nothing is added to the webhook):
- first response: from the handoff to the operator's first message, while waiting or active;
- next response: while active, after the first response, from the customer's earliest message
  since the operator's last one to the operator's next message;
- resolution: from the handoff to the close.
With the policy's `business_hours_only`, elapsed time and due times count business seconds only
(livechat.policies.business_hours); otherwise wall time.

A clock that passes the policy's warning percent is recorded as a warning, one that passes its
target as a breach: an SlaAlert per (conversation, kind, level, started_at), inserted with ON
CONFLICT DO NOTHING … RETURNING, so of several checkers that find it at once exactly one records
it and only that one sends `sla_alert` to the holder and the supervisors. A clock found already
past its target records only the breach: a warning after the deadline warns of nothing, and a
warning row would say the team had notice it never had (later passes see the breach level and
never add the warning either).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from livechat.models import Conversation, Message, SlaAlert, SlaPolicy
from livechat.policies import business_hours, service
from livechat.realtime import frames, groups, publish

Status = Conversation.Status
Kind = SlaAlert.Kind
Level = SlaAlert.Level


@dataclass(frozen=True)
class Clock:
    """One running SLA clock of one conversation, measured at `now`."""

    conversation: Conversation
    kind: str
    started_at: datetime
    target_seconds: int
    elapsed_seconds: float
    due_at: datetime | None  # None: the schedule has no opening within its horizon

    def level(self, warning_percent: int) -> str | None:
        """The highest level the clock has reached (None: still within the warning threshold)."""
        if self.due_at is None:
            return None
        if self.elapsed_seconds >= self.target_seconds:
            return Level.BREACH
        if self.elapsed_seconds * 100 >= self.target_seconds * warning_percent:
            return Level.WARNING
        return None


@dataclass(frozen=True)
class Alert:
    """A clock that reached a level not yet recorded."""

    clock: Clock
    level: str

    def describe(self) -> str:
        c = self.clock
        return (
            f"#{c.conversation.pk} {c.kind} {self.level}: {c.elapsed_seconds:.0f} s of {c.target_seconds} s"
            f" since {c.started_at.isoformat()}, due {c.due_at.isoformat() if c.due_at else '-'}"
        )


def _open_conversations() -> QuerySet[Conversation]:
    """Waiting and active conversations, each with `awaiting_since`: when the customer's earliest
    message after the operator's last one was received (None: nothing awaits an answer)."""
    last_reply_seq = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.OUT,
            sender_kind=Message.SenderKind.OPERATOR,
        )
        .order_by("-seq")
        .values("seq")[:1]
    )
    awaiting = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.IN,
            is_unsent=False,
            seq__gt=OuterRef("last_reply_seq"),
        )
        .order_by("seq")
        .values("created_at")[:1]
    )
    return (
        Conversation.objects.filter(
            status__in=(Status.WAITING, Status.ACTIVE), handoff_requested_at__isnull=False
        )
        .select_related("contact", "assigned_operator")
        .annotate(last_reply_seq=Coalesce(Subquery(last_reply_seq), Value(0)))
        .annotate(awaiting_since=Subquery(awaiting))
        .order_by("handoff_requested_at", "pk")
    )


def _starts(conversation: Conversation, policy: SlaPolicy) -> Iterable[tuple[str, datetime, int]]:
    """(kind, started_at, target) of each tracked clock running for the conversation."""
    handoff = conversation.handoff_requested_at
    assert handoff is not None  # _open_conversations
    if policy.first_response_seconds is not None and conversation.first_response_at is None:
        yield Kind.FIRST_RESPONSE, handoff, policy.first_response_seconds
    awaiting_since: datetime | None = getattr(conversation, "awaiting_since", None)
    if (
        policy.next_response_seconds is not None
        and conversation.status == Status.ACTIVE
        and conversation.first_response_at is not None
        and awaiting_since is not None
    ):
        yield Kind.NEXT_RESPONSE, awaiting_since, policy.next_response_seconds
    if policy.resolution_seconds is not None:
        yield Kind.RESOLUTION, handoff, policy.resolution_seconds


def running_clocks(now: datetime | None = None) -> list[Clock]:
    """Every running clock of every open conversation, measured at `now` (two queries: the
    policy's and the conversations' — the business-hours schedule is held in memory)."""
    now = now or timezone.now()
    policy = service.sla_policy()
    hours = business_hours.schedule()
    clocks = []
    for conversation in _open_conversations():
        for kind, started_at, target in _starts(conversation, policy):
            if policy.business_hours_only:
                elapsed = hours.business_seconds(started_at, now)
                due_at = hours.deadline(started_at, target)
            else:
                elapsed = max(0.0, (now - started_at).total_seconds())
                due_at = started_at + timedelta(seconds=target)
            clocks.append(Clock(conversation, kind, started_at, target, elapsed, due_at))
    return clocks


def due_alerts(now: datetime | None = None) -> list[Alert]:
    """The warnings and breaches reached by `now` and not yet recorded (what a pass would send)."""
    warning_percent = service.sla_policy().warning_percent
    reached = [
        Alert(clock, level)
        for clock in running_clocks(now)
        if (level := clock.level(warning_percent)) is not None
    ]
    if not reached:
        return []
    recorded = set(
        SlaAlert.objects.filter(conversation__in={a.clock.conversation.pk for a in reached}).values_list(
            "conversation_id", "kind", "level", "started_at"
        )
    )
    return [
        a
        for a in reached
        if (a.clock.conversation.pk, a.clock.kind, a.level, a.clock.started_at) not in recorded
    ]


# The table name is the model's, never input. The conflict target is the `sla_alert_once`
# constraint's columns (PostgreSQL and SQLite both take this form).
_INSERT_ONCE = (
    f"INSERT INTO {SlaAlert._meta.db_table}"  # noqa: S608
    " (conversation_id, kind, level, started_at, due_at, operator_id, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (conversation_id, kind, level, started_at) DO NOTHING RETURNING id"
)


def record(alert: Alert) -> SlaAlert | None:
    """Record the alert and send `sla_alert` — unless another checker recorded it first (None).

    INSERT … ON CONFLICT DO NOTHING RETURNING on the `sla_alert_once` constraint: a concurrent
    insert of the same row waits for the other to commit and then inserts nothing, so exactly one
    caller gets the row back and sends the alert.
    """
    clock = alert.clock
    conversation = clock.conversation
    assert clock.due_at is not None  # Clock.level
    holder = conversation.assigned_operator if conversation.status == Status.ACTIVE else None
    ops = connection.ops
    created_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_ONCE,
            [
                conversation.pk,
                clock.kind,
                alert.level,
                ops.adapt_datetimefield_value(clock.started_at),
                ops.adapt_datetimefield_value(clock.due_at),
                holder.pk if holder is not None else None,
                ops.adapt_datetimefield_value(created_at),
            ],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    row = SlaAlert(
        pk=inserted[0],
        conversation=conversation,
        kind=clock.kind,
        level=alert.level,
        started_at=clock.started_at,
        due_at=clock.due_at,
        operator=holder,
        created_at=created_at,
    )
    frame = frames.sla_alert(row, target_seconds=clock.target_seconds, elapsed_seconds=clock.elapsed_seconds)
    publish.on_commit(*((group, frame) for group in recipients(holder)))
    return row


def recipients(holder: User | None) -> list[str]:
    """The supervisors, and the holder (a supervisor holding it hears it once, as a supervisor)."""
    targets = [groups.SUPERVISORS]
    if holder is not None and not holder.is_supervisor:
        targets.append(groups.operator(holder.pk))
    return targets


def check(now: datetime | None = None) -> list[SlaAlert]:
    """One pass: record every warning and breach reached by `now` and alert on it; returns the
    alerts this pass recorded."""
    return [row for alert in due_alerts(now) if (row := record(alert)) is not None]


# --- What the console list shows -----------------------------------------------------------------


def worst_standing_alert(conversation: OuterRef) -> QuerySet[SlaAlert]:
    """The conversation's alerts whose clock still runs, worst first (a breach before a warning,
    then the earliest due): a subquery for list rows, `conversation` being an OuterRef.

    A first-response alert stands until the first response, a next-response alert until an
    operator writes after the message that started it (and only while active), a resolution
    alert until the close.
    """
    answered = Message.objects.filter(
        conversation=OuterRef("conversation"),
        direction=Message.Direction.OUT,
        sender_kind=Message.SenderKind.OPERATOR,
        created_at__gt=OuterRef("started_at"),
    )
    running = (
        Q(kind=Kind.RESOLUTION)
        | Q(kind=Kind.FIRST_RESPONSE, conversation__first_response_at__isnull=True)
        | (Q(kind=Kind.NEXT_RESPONSE, conversation__status=Status.ACTIVE) & ~Exists(answered))
    )
    severity = Case(When(level=Level.BREACH, then=Value(0)), default=Value(1))
    return (
        SlaAlert.objects.filter(conversation=conversation)
        .exclude(conversation__status=Status.CLOSED)
        .filter(running)
        .order_by(severity, "due_at")
    )
