"""The KPIs of PRODUCT §10, defined once: the API, the CSV and the dashboard read these functions.

A conversation belongs to a period by the local date of its `created_at`. Counts (and CSAT) are
SQL aggregates on every database. Durations come in two ways that give the same figures:
- on PostgreSQL, durations are aggregated in the query itself (`percentile_cont`) — for the
  summary business seconds too, through analytics.calendar;
- on SQLite (no percentile_cont), and for the series and operators with `business_hours=1`, one
  more query reads the rows' four timestamps and Python computes each duration — business seconds
  through `Schedule.business_seconds`, the very function the SLA clocks use — and the percentiles
  by the same linear interpolation.
Either way each function runs a fixed number of queries, whatever the number of rows.

SLA hit rates are measured, not read from SlaAlert rows: an alert exists only for a clock
`check_sla` saw running, and a conversation answered between two passes has none. Each handed-off
conversation of the period with a first response (with a close) is measured against the default
SlaPolicy's first-response (resolution) target, counted the policy's way (business hours or wall
time), whatever `business_hours` asks of the durations.

Funnel steps are each a subset of the one before: conversations → handed off → claimed → claimed
and answered (`first_response_at`) → those closed → those rated.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from math import floor
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce, ExtractHour, ExtractIsoWeekDay, TruncDate, TruncHour
from django.utils import timezone

from accounts.models import User
from analytics import calendar as calendars
from analytics import rollup
from analytics.period import Period
from analytics.planning import planned_each_time
from livechat.models import Conversation, ConversationEvent, Message
from livechat.policies import business_hours, service

Clock = Callable[[datetime, datetime], float]

# Each duration: from which moment to which (both set, and the conversation handed off).
SPANS: dict[str, tuple[str, str]] = {
    "wait_seconds": ("handoff_requested_at", "claimed_at"),
    "first_response_seconds": ("handoff_requested_at", "first_response_at"),
    "resolution_seconds": ("handoff_requested_at", "closed_at"),
    "handle_seconds": ("claimed_at", "closed_at"),
}
TIMES = ("handoff_requested_at", "claimed_at", "first_response_at", "closed_at")
FRACTIONS = (0.5, 0.9, 0.95)
TRANSFER_KINDS = (ConversationEvent.Kind.TRANSFERRED, ConversationEvent.Kind.RETURNED)
FCR_WINDOW = timedelta(hours=72)
ROWS_CHUNK = 5000  # rows read at a time where Python goes through a period's rows

HANDED_OFF = Q(handoff_requested_at__isnull=False)
CLAIMED = HANDED_OFF & Q(claimed_at__isnull=False)
CLOSED = Q(closed_at__isnull=False)
RESPONDED = CLAIMED & Q(first_response_at__isnull=False)


# --- Rounding and arithmetic shared by both ways -------------------------------------------------


def one_decimal(value: float | Decimal | None) -> float | None:
    return None if value is None else round(float(value), 1)


def percent(part: int, whole: int) -> float | None:
    return None if not whole else round(part * 100 / whole, 1)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    position = fraction * (len(ordered) - 1)
    low = floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def describe(values: Iterable[float]) -> dict[str, Any]:
    """`{count, avg, p50, p90, p95}` of durations (nulls when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "avg": None, "p50": None, "p90": None, "p95": None}
    return {
        "count": len(ordered),
        "avg": one_decimal(sum(ordered) / len(ordered)),
        **{f"p{round(f * 100)}": one_decimal(percentile(ordered, f)) for f in FRACTIONS},
    }


def wall_seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def clock(period: Period) -> Clock:
    return business_hours.schedule().business_seconds if period.business_hours else wall_seconds


def span(row: Mapping[str, Any], key: str, seconds: Clock) -> float | None:
    """One duration of one conversation's row, or None where it does not apply."""
    begin, end = (row[name] for name in SPANS[key])
    if row["handoff_requested_at"] is None or begin is None or end is None:
        return None
    return seconds(begin, end)


# --- The rows -------------------------------------------------------------------------------------


def first_claimer() -> Coalesce:
    """Whose first claim it was: the earliest `claimed` event's operator (its actor if it names
    none; rows written without events: the assigned operator)."""
    first = (
        ConversationEvent.objects.filter(conversation=OuterRef("pk"), kind=ConversationEvent.Kind.CLAIMED)
        .order_by("created_at", "id")
        .values(claimer=Coalesce("to_operator", "actor"))[:1]
    )
    return Coalesce(Subquery(first), F("assigned_operator_id"), output_field=IntegerField())


def with_first_claimer(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    if "first_claimer" in conversations.query.annotations:
        return conversations
    return conversations.annotate(first_claimer=first_claimer())


def transfer_events() -> QuerySet[ConversationEvent]:
    return ConversationEvent.objects.filter(conversation=OuterRef("pk"), kind__in=TRANSFER_KINDS)


def filtered(conversations: QuerySet[Conversation], period: Period) -> QuerySet[Conversation]:
    """The operator and label filters (not the dates)."""
    if period.operator_id is not None:
        conversations = with_first_claimer(conversations).filter(**{"first_claimer": period.operator_id})
    if period.label_id is not None:
        conversations = conversations.filter(**{"labels": period.label_id})  # see conversations_have_labels
    return conversations


def conversations(period: Period) -> QuerySet[Conversation]:
    """The period's conversations, filtered."""
    start, end = period.bounds
    return filtered(Conversation.objects.filter(created_at__gte=start, created_at__lt=end), period)


def _repeat_handoff() -> Exists:
    """The contact handed off in another conversation created within 72 h after this close."""
    return Exists(
        Conversation.objects.filter(
            contact=OuterRef("contact"),
            handoff_requested_at__isnull=False,
            created_at__gt=OuterRef("closed_at"),
            created_at__lte=OuterRef("closed_at") + FCR_WINDOW,
        )
    )


def _counts(*names: str) -> dict[str, Aggregate]:
    """The named count aggregates (all of them when none are named)."""
    rated = Q(csat__isnull=False)
    counts: dict[str, Aggregate] = {
        "conversations": Count("pk"),
        "handoffs": Count("pk", filter=HANDED_OFF),
        "claimed": Count("pk", filter=CLAIMED),
        "abandoned": Count("pk", filter=HANDED_OFF & CLOSED & Q(claimed_at__isnull=True)),
        "bot_contained": Count("pk", filter=Q(handoff_requested_at__isnull=True)),
        "responded": Count("pk", filter=RESPONDED),
        "responded_closed": Count("pk", filter=RESPONDED & CLOSED),
        "rated": Count("pk", filter=RESPONDED & CLOSED & rated),
        "closed": Count("pk", filter=CLAIMED & CLOSED),
        "surveys_sent": Count("pk", filter=Q(csat_sent_at__isnull=False)),
        "responses": Count("pk", filter=rated),
        "satisfied": Count("pk", filter=Q(csat__rating__gte=4)),
        "csat_average": Avg("csat__rating"),
    }
    for rating in range(1, 6):
        counts[f"rating_{rating}"] = Count("pk", filter=Q(csat__rating=rating))
    return {name: counts[name] for name in names} if names else counts


# --- Durations in PostgreSQL ----------------------------------------------------------------------


class PercentilesCont(Aggregate):
    """percentile_cont(ARRAY[…]) WITHIN GROUP (ORDER BY x): several percentiles in one sort."""

    function = "percentile_cont"
    template = (
        "%(function)s(ARRAY["
        + ", ".join(str(f) for f in FRACTIONS)
        + "]) WITHIN GROUP (ORDER BY %(expressions)s)"
    )
    output_field = ArrayField(FloatField())


def _epoch(key: str) -> Case:
    begin, end = SPANS[key]
    seconds = Func(
        F(end), F(begin), template="EXTRACT(EPOCH FROM (%(expressions)s))::float8", arg_joiner=" - "
    )
    return Case(When(HANDED_OFF & Q(**{f"{begin}__isnull": False, f"{end}__isnull": False}), then=seconds))


def in_sql(period: Period) -> bool:
    """Durations aggregated by the database: PostgreSQL, wall-clock time."""
    return connection.vendor == "postgresql" and not period.business_hours


def _sql_durations(keys: Iterable[str]) -> dict[str, Aggregate]:
    aggregates: dict[str, Aggregate] = {}
    for key in keys:
        aggregates[f"{key}__count"] = Count(_epoch(key))
        aggregates[f"{key}__avg"] = Avg(_epoch(key), output_field=FloatField())
        aggregates[f"{key}__pct"] = PercentilesCont(_epoch(key))
    return aggregates


class Median(Aggregate):
    """percentile_cont(0.5) WITHIN GROUP (ORDER BY x): NULL when there is no value."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _sql_medians(keys: Iterable[str]) -> dict[str, Aggregate]:
    """Only the p50 of each (the series shows no more): a third of the per-row work of
    _sql_durations, which a year of 366 days' groups notices."""
    return {f"{key}__p50": Median(_epoch(key)) for key in keys}


def _sql_described(row: Mapping[str, Any], key: str) -> dict[str, Any]:
    count = row[f"{key}__count"]
    if not count:
        return describe(())
    pct = row[f"{key}__pct"]
    return {
        "count": count,
        "avg": one_decimal(row[f"{key}__avg"]),
        **{f"p{round(f * 100)}": one_decimal(value) for f, value in zip(FRACTIONS, pct, strict=True)},
    }


def _python_durations(
    rows: Iterable[Mapping[str, Any]],
    keys: Iterable[str],
    seconds: Clock,
    group: Callable[[Mapping[str, Any]], Any],
) -> dict[Any, dict[str, list[float]]]:
    """Per group, each duration's values."""
    values: dict[Any, dict[str, list[float]]] = defaultdict(lambda: {key: [] for key in keys})
    for row in rows:
        bucket = values[group(row)]
        for key in bucket:
            value = span(row, key, seconds)
            if value is not None:
                bucket[key].append(value)
    return values


def _csat(row: Mapping[str, Any]) -> dict[str, Any]:
    average = row["csat_average"]
    return {
        "surveys_sent": row["surveys_sent"],
        "responses": row["responses"],
        "response_rate": percent(row["responses"], row["surveys_sent"]),
        "average": None if average is None else round(float(average), 2),
        "satisfied_percent": percent(row["satisfied"], row["responses"]),
        "distribution": {str(n): row[f"rating_{n}"] for n in range(1, 6)},
    }


# --- The reports ----------------------------------------------------------------------------------


@planned_each_time
def summary(period: Period) -> dict[str, Any]:
    """PRODUCT §10's summary: counts, durations, transfers, CSAT, FCR, SLA and LINE sends."""
    period_conversations = conversations(period)
    totals = period_conversations.aggregate(**_counts())
    if connection.vendor == "postgresql":
        durations, sla_figures = _timed_in_sql(period, period_conversations)
    else:
        durations, sla_figures = _timed_in_python(period, period_conversations)
    first_contacts, transfers = _first_contacts_and_transfers(period_conversations)
    return {
        "period": period.as_dict(),
        **{
            key: totals[key] for key in ("conversations", "handoffs", "claimed", "abandoned", "bot_contained")
        },
        **durations,
        "transfers": transfers,
        "csat": _csat(totals),
        "fcr_percent": percent(first_contacts, totals["closed"]),
        "sla": sla_figures,
        "line": line_sends(period),
    }


def _first_contacts_and_transfers(period_conversations: QuerySet[Conversation]) -> tuple[int, int]:
    """How many claimed and closed conversations were resolved at first contact (no transfer or
    return, no handoff of the contact within 72 h after the close), and the transfers and returns:
    two counts in one query. NOT EXISTS in WHERE (not in a COUNT's FILTER, where they ran once
    per row) lets PostgreSQL answer both as hash anti-joins: 0.1 s for a year, not 0.4."""
    first_contacts = (
        period_conversations.filter(CLAIMED & CLOSED)
        .filter(~Exists(transfer_events()), ~_repeat_handoff())
        .order_by()
        .values("pk")
    )
    transfers = (
        ConversationEvent.objects.filter(
            conversation__in=period_conversations.values("pk"), kind__in=TRANSFER_KINDS
        )
        .order_by()
        .values("pk")
    )
    first_sql, first_params = first_contacts.query.sql_with_params()
    moved_sql, moved_params = transfers.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM ({first_sql}) f), (SELECT COUNT(*) FROM ({moved_sql}) t)",  # noqa: S608
            [*first_params, *moved_params],
        )
        first, moved = cursor.fetchone()
    return int(first), int(moved)


Timed = tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]


def _timed_in_python(period: Period, period_conversations: QuerySet[Conversation]) -> Timed:
    """SQLite: one pass over the handed-off rows, streamed, for the durations and the SLA."""
    rows = period_conversations.filter(HANDED_OFF).values(*TIMES).iterator(chunk_size=ROWS_CHUNK)
    values: dict[str, list[float]] = {key: [] for key in SPANS}
    seconds = clock(period)

    def collecting() -> Iterator[Mapping[str, Any]]:
        for row in rows:
            for key, found in values.items():
                value = span(row, key, seconds)
                if value is not None:
                    found.append(value)
            yield row

    sla_figures = sla(collecting())
    return {key: describe(values[key]) for key in SPANS}, sla_figures


SLA_SPANS = {"first_response": "first_response_seconds", "resolution": "resolution_seconds"}


def _timed_in_sql(period: Period, period_conversations: QuerySet[Conversation]) -> Timed:
    """PostgreSQL: the durations (wall or business seconds) and the SLA tallies in one query over
    the handed-off rows — business seconds through analytics.calendar, the same figures as
    `Schedule.business_seconds` gives in `sla` and `_timed_in_python`."""
    policy = service.sla_policy()
    schedule = business_hours.schedule()
    targets = {name: getattr(policy, key) for name, key in SLA_SPANS.items()}
    needs_business = period.business_hours or (
        policy.business_hours_only and any(target is not None for target in targets.values())
    )
    calendar = None
    if needs_business and not schedule.always_open:
        start, end = period.bounds
        calendar = calendars.build(schedule, start, max(end, timezone.now()) + timedelta(days=1))
    row = _timed_row(period, period_conversations, calendar, targets, policy.business_hours_only)
    if calendar is not None and not calendar.covers(row["earliest"], row["latest"]):
        # An instant outside the calendar (rows written far from their period): cover them all.
        start, end = period.bounds
        earliest = calendars.instant(row["earliest"])
        latest = calendars.instant(row["latest"])
        calendar = calendars.build(
            schedule, min(start, earliest or start), max(calendar.last, latest or calendar.last)
        )
        row = _timed_row(period, period_conversations, calendar, targets, policy.business_hours_only)
    durations = {key: _sql_described(row, key) for key in SPANS}
    sla_figures = {
        name: {
            "target_seconds": target,
            "measured": row[f"{name}__measured"],
            "met": None if target is None else row[f"{name}__met"],
            "hit_rate": None if target is None else percent(row[f"{name}__met"], row[f"{name}__measured"]),
        }
        for name, target in targets.items()
    }
    return durations, sla_figures


def _timed_row(
    period: Period,
    period_conversations: QuerySet[Conversation],
    calendar: calendars.Calendar | None,
    targets: Mapping[str, int | None],
    business_only: bool,
) -> dict[str, Any]:
    handed_off = period_conversations.filter(HANDED_OFF).values(*TIMES).order_by()
    source, source_params = handed_off.query.sql_with_params()
    # Layer by layer, each behind OFFSET 0 (which keeps PostgreSQL from folding it into the next):
    # every row's instants, their calendar offsets and its spans are computed once, not once per
    # aggregate that reads them.
    quote = connection.ops.quote_name
    # date_part's float8 epoch is within 0.2 µs of the instant until the 23rd century, so its
    # µs rounded are the instant's exactly — at a fifth less cost than EXTRACT's numeric.
    instants = ", ".join(
        f"round(date_part('epoch', {quote(name)}) * 1000000)::bigint AS {name}" for name in TIMES
    )
    offsets = ", ".join(calendars.offset_sql(name) + f" AS b_{name}" for name in TIMES)
    spans = []
    for key, (begin, end) in SPANS.items():
        spans.append(f"({end} - {begin})::float8 / 1000000 AS wall_{key}")
        # NULL where the span does not apply; 0 when it ends before it begins (as in Python).
        business = f"b_{end} - b_{begin}" if calendar is not None else f"{end} - {begin}"
        spans.append(
            f"CASE WHEN {end} > {begin} THEN ({business})::float8 / 1000000"
            f" WHEN {end} <= {begin} THEN 0::float8 END AS business_{key}"
        )
    chosen = "business" if period.business_hours else "wall"
    fractions = ", ".join(str(f) for f in FRACTIONS)
    selected = []
    for key in SPANS:
        value = f"{chosen}_{key}"
        selected += [
            f"COUNT({value}) AS {key}__count",
            f"AVG({value}) AS {key}__avg",
            f"percentile_cont(ARRAY[{fractions}]) WITHIN GROUP (ORDER BY {value}) AS {key}__pct",
        ]
    params: list[Any] = []
    for name, key in SLA_SPANS.items():
        target = targets[name]
        selected.append(f"COUNT(wall_{key}) AS {name}__measured")
        if target is None:
            selected.append(f"0 AS {name}__met")
            continue
        # Business seconds never exceed wall seconds: only a span over its target by the clock
        # needs them (the policy's way of counting, whatever `business_hours` asks of durations).
        met = f"wall_{key} <= %s" + (f" OR business_{key} <= %s" if business_only else "")
        params += [target, target] if business_only else [target]
        selected.append(f"COUNT(*) FILTER (WHERE {met}) AS {name}__met")
    times = ", ".join(TIMES)
    selected += [f"MIN(LEAST({times})) AS earliest", f"MAX(GREATEST({times})) AS latest"]
    calendar_sql = "SELECT %s::bigint[] AS starts, %s::bigint[] AS lengths, %s::bigint[] AS before"
    # Only our own column names and the ORM's compiled SQL are put in the text; values are
    # parameters.
    with_instants = f"SELECT {instants} FROM ({source}) r OFFSET 0"  # noqa: S608
    with_offsets = (
        f"SELECT i.*, {offsets} FROM ({with_instants}) i CROSS JOIN cal OFFSET 0"  # noqa: S608
        if calendar is not None
        else with_instants
    )
    sql = (
        f"WITH cal AS ({calendar_sql}) SELECT {', '.join(selected)} FROM "  # noqa: S608
        f"(SELECT o.*, {', '.join(spans)} FROM ({with_offsets}) o OFFSET 0) s"
    )
    arrays = calendar.params() if calendar is not None else [[], [], []]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arrays, *params, *source_params])  # in the order they appear
        names = [column.name for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def sla(handed_off: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Hit rates of the default SLA policy's first-response and resolution targets (see the
    module's docstring)."""
    policy = service.sla_policy()
    schedule = business_hours.schedule()
    targets = {
        "first_response": ("first_response_seconds", policy.first_response_seconds),
        "resolution": ("resolution_seconds", policy.resolution_seconds),
    }
    measured: dict[str, int] = defaultdict(int)
    met: dict[str, int] = defaultdict(int)
    for row in handed_off:
        for name, (key, target) in targets.items():
            value = span(row, key, wall_seconds)
            if value is None:
                continue
            measured[name] += 1
            # Business seconds never exceed wall seconds: only a span over its target by the
            # clock needs them counted (most don't, which keeps a year's summary quick).
            if target is not None and value > target and policy.business_hours_only:
                value = span(row, key, schedule.business_seconds)
            if target is not None and value is not None and value <= target:
                met[name] += 1
    return {
        name: {
            "target_seconds": target,
            "measured": measured[name],
            "met": met[name] if target is not None else None,
            "hit_rate": percent(met[name], measured[name]) if target is not None else None,
        }
        for name, (_key, target) in targets.items()
    }


def line_sends(period: Period) -> dict[str, int]:
    """Outbound messages sent in the period (by `sent_at`), by reply token (free) or push (paid):
    without filters, past days from their rollup (analytics.rollup) and the rest from the rows."""
    start, end = period.bounds
    sent = Message.objects.filter(direction=Message.Direction.OUT, sent_at__gte=start, sent_at__lt=end)
    days: dict[Any, rollup.Sends] = {}
    if period.operator_id is not None or period.label_id is not None:
        sent = sent.filter(conversation__in=filtered(Conversation.objects.all(), period).values("pk"))
    else:
        days = rollup.rolled_up(period.start, period.end)
        spans = list(rollup.gaps(period.start, period.end, set(days)))
        if not spans:
            return {
                "reply_sends": sum(day.reply_sends for day in days.values()),
                "push_sends": sum(day.push_sends for day in days.values()),
            }
        within = Q()
        for begin, finish in spans:
            within |= Q(sent_at__gte=begin, sent_at__lt=finish)
        sent = sent.filter(within)
    # Counting sent_via, not id: the counts then read message_sent_out_idx alone (index-only).
    totals = sent.aggregate(
        reply_sends=Count("sent_via", filter=Q(sent_via=Message.SentVia.REPLY)),
        push_sends=Count("sent_via", filter=Q(sent_via=Message.SentVia.PUSH)),
    )
    return {
        "reply_sends": totals["reply_sends"] + sum(day.reply_sends for day in days.values()),
        "push_sends": totals["push_sends"] + sum(day.push_sends for day in days.values()),
    }


SERIES_DURATIONS = ("wait_seconds", "first_response_seconds", "resolution_seconds")
SERIES_COUNTS = ("conversations", "handoffs", "claimed", "abandoned", "bot_contained")


def _bucket_label(value: Any, interval: str, period: Period) -> str:
    if interval == "day":
        return str(value.isoformat())
    return str(timezone.localtime(value, period.zone).strftime("%Y-%m-%dT%H:00"))


def buckets(period: Period, interval: str) -> list[str]:
    days = [day.isoformat() for day in period.days()]
    if interval == "day":
        return days
    return [f"{day}T{hour:02d}:00" for day in days for hour in range(24)]


@planned_each_time
def timeseries(period: Period, interval: str) -> dict[str, Any]:
    """One point per local day or hour of the period: counts, p50 durations, CSAT average."""
    trunc = TruncDate if interval == "day" else TruncHour
    period_conversations = conversations(period)
    sql = in_sql(period)
    grouped = (
        period_conversations.annotate(bucket=trunc("created_at", tzinfo=period.zone))
        .values("bucket")
        .annotate(
            **_counts(*SERIES_COUNTS, "csat_average"), **(_sql_medians(SERIES_DURATIONS) if sql else {})
        )
        .order_by()
    )
    by_bucket: dict[str, Mapping[str, Any]] = {
        _bucket_label(row["bucket"], interval, period): row for row in grouped
    }
    medians: dict[str, dict[str, float | None]] = {}
    if sql:
        for label, grouped_row in by_bucket.items():
            medians[label] = {key: one_decimal(grouped_row[f"{key}__p50"]) for key in SERIES_DURATIONS}
    else:
        rows = (
            period_conversations.filter(HANDED_OFF)
            .values("created_at", *TIMES)
            .iterator(chunk_size=ROWS_CHUNK)
        )
        values = _python_durations(
            rows,
            SERIES_DURATIONS,
            clock(period),
            lambda row: _bucket_label(_local_bucket(row, interval, period), interval, period),
        )
        for label, bucket in values.items():
            medians[label] = {key: describe(bucket[key])["p50"] for key in SERIES_DURATIONS}
    points = []
    for label in buckets(period, interval):
        row = by_bucket.get(label)
        median = medians.get(label, {})
        average = row["csat_average"] if row else None
        points.append(
            {
                "bucket": label,
                **{key: row[key] if row else 0 for key in SERIES_COUNTS},
                "wait_p50": median.get("wait_seconds"),
                "first_response_p50": median.get("first_response_seconds"),
                "resolution_p50": median.get("resolution_seconds"),
                "csat_average": None if average is None else round(float(average), 2),
            }
        )
    return {"interval": interval, "points": points}


def _local_bucket(row: Mapping[str, Any], interval: str, period: Period) -> Any:
    local = timezone.localtime(row["created_at"], period.zone)
    return local.date() if interval == "day" else local.replace(minute=0, second=0, microsecond=0)


@planned_each_time
def heatmap(period: Period) -> dict[str, Any]:
    """Handoffs of the period's conversations by local weekday (0 = Monday) and hour of the
    handoff: all 168 cells."""
    counted = (
        conversations(period)
        .filter(HANDED_OFF)
        .annotate(
            weekday=ExtractIsoWeekDay("handoff_requested_at", tzinfo=period.zone),
            hour=ExtractHour("handoff_requested_at", tzinfo=period.zone),
        )
        .values("weekday", "hour")
        .annotate(handoffs=Count("pk"))
        .order_by()
    )
    cells = {(row["weekday"] - 1, row["hour"]): row["handoffs"] for row in counted}
    return {
        "cells": [
            {"weekday": weekday, "hour": hour, "handoffs": cells.get((weekday, hour), 0)}
            for weekday in range(7)
            for hour in range(24)
        ]
    }


OPERATOR_DURATIONS = ("wait_seconds", "first_response_seconds", "handle_seconds")


@planned_each_time
def operators(period: Period) -> dict[str, Any]:
    """Per first claimer: conversations claimed and closed, durations, CSAT."""
    claimed = with_first_claimer(conversations(period)).filter(CLAIMED)
    sql = in_sql(period)
    grouped = list(
        claimed.values(*["first_claimer"])  # an annotation (the stubs know only fields)
        .annotate(
            **_counts("claimed", "closed", "responses", "csat_average"),
            **(_sql_durations(OPERATOR_DURATIONS) if sql else {}),
        )
        .order_by()
    )
    if sql:
        durations = {
            row["first_claimer"]: {key: _sql_described(row, key) for key in OPERATOR_DURATIONS}
            for row in grouped
        }
    else:
        values = _python_durations(
            claimed.values("first_claimer", *TIMES).iterator(chunk_size=ROWS_CHUNK),
            OPERATOR_DURATIONS,
            clock(period),
            lambda row: row["first_claimer"],
        )
        durations = {
            operator_id: {key: describe(bucket[key]) for key in OPERATOR_DURATIONS}
            for operator_id, bucket in values.items()
        }
    names = dict(
        (user.pk, user.name) for user in User.objects.filter(pk__in=[row["first_claimer"] for row in grouped])
    )
    result = [
        {
            "id": row["first_claimer"],
            "name": names.get(row["first_claimer"], ""),
            "claimed": row["claimed"],
            "closed": row["closed"],
            **durations[row["first_claimer"]],
            "csat_average": None if row["csat_average"] is None else round(float(row["csat_average"]), 2),
            "csat_responses": row["responses"],
        }
        for row in grouped
        if row["first_claimer"] is not None
    ]
    result.sort(key=lambda item: (-item["claimed"], item["name"], item["id"]))
    return {"operators": result}


@planned_each_time
def funnel(period: Period) -> dict[str, Any]:
    """Each step a subset of the one before (see the module's docstring)."""
    totals = conversations(period).aggregate(
        **_counts("conversations", "handoffs", "claimed", "responded", "responded_closed", "rated")
    )
    steps = [
        ("conversations", "conversations"),
        ("handoffs", "handoffs"),
        ("claimed", "claimed"),
        ("responded", "responded"),
        ("closed", "responded_closed"),
        ("rated", "rated"),
    ]
    return {"steps": [{"key": key, "count": totals[total]} for key, total in steps]}
