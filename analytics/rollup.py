"""LINE sends per local day, rolled up once the day is over (analytics.models.DailySends).

A year holds millions of outbound messages; counting them for every summary took most of its
time. Days that have a DailySends row are read from it, the others (today, yesterday until
`cleanup` counts it, any day never rolled up) from the messages: so the figures are exact as
long as no message of a rolled-up day is written, changed or removed afterwards. Sends get
`sent_at` when they go out, so a past day only changes when rows are written directly or
deleted — then `manage.py analytics_rollup --rebuild --start … --end …` counts those days again.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import DailySends
from livechat.models import Message

# Days `cleanup` counts again on each pass: yesterday, and the day before in case a pass missed
# midnight by a while.
RECENT_DAYS = 2
# A day is counted again until this long after its end: a send stamped 23:59:59 may commit late.
SETTLE = timedelta(minutes=10)


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), zone())


def last_closed_day(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now(), zone()) - timedelta(days=1)


def outbound() -> QuerySet[Message]:
    return Message.objects.filter(direction=Message.Direction.OUT, sent_at__isnull=False).order_by()


def rebuild(start: date, end: date, now: datetime | None = None) -> int:
    """Count the days `start`…`end` again from the messages (only days already over); returns how
    many days were written."""
    end = min(end, last_closed_day(now))
    if end < start:
        return 0
    counted = {
        row["day"]: row
        for row in outbound()
        .filter(sent_at__gte=_start(start), sent_at__lt=_start(end + timedelta(days=1)))
        .annotate(day=TruncDate("sent_at", tzinfo=zone()))
        .values("day")
        .annotate(
            reply=Count("sent_via", filter=Q(sent_via=Message.SentVia.REPLY)),
            push=Count("sent_via", filter=Q(sent_via=Message.SentVia.PUSH)),
        )
    }
    at = timezone.now()
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    with transaction.atomic():
        DailySends.objects.filter(zone=settings.TIME_ZONE, day__gte=start, day__lte=end).delete()
        DailySends.objects.bulk_create(
            DailySends(
                day=day,
                zone=settings.TIME_ZONE,
                reply_sends=counted[day]["reply"] if day in counted else 0,
                push_sends=counted[day]["push"] if day in counted else 0,
                counted_at=at,
            )
            for day in days
        )
    return len(days)


def refresh(now: datetime) -> int:
    """The recent days not yet counted after they were over by SETTLE (cleanup's pass: one small
    query a minute, and a count once a day)."""
    last = last_closed_day(now)
    first = last - timedelta(days=RECENT_DAYS - 1)
    settled = {
        row.day
        for row in DailySends.objects.filter(zone=settings.TIME_ZONE, day__gte=first, day__lte=last)
        if row.counted_at >= _start(row.day + timedelta(days=1)) + SETTLE
    }
    missing = [
        first + timedelta(days=n) for n in range(RECENT_DAYS) if first + timedelta(days=n) not in settled
    ]
    return rebuild(missing[0], missing[-1], now) if missing else 0


@dataclass(frozen=True)
class Sends:
    reply_sends: int = 0
    push_sends: int = 0


def rolled_up(start: date, end: date) -> dict[date, Sends]:
    return {
        row.day: Sends(row.reply_sends, row.push_sends)
        for row in DailySends.objects.filter(zone=settings.TIME_ZONE, day__gte=start, day__lte=end)
    }


def gaps(start: date, end: date, covered: set[date]) -> Iterator[tuple[datetime, datetime]]:
    """The spans of time of the days `start`…`end` not in `covered`, runs of days merged."""
    day, run = start, None
    while day <= end + timedelta(days=1):
        missing = day <= end and day not in covered
        if missing and run is None:
            run = day
        elif not missing and run is not None:
            yield _start(run), _start(day)
            run = None
        day += timedelta(days=1)
