"""When the team is open: the weekly schedule (several periods a day) and holidays, in TIME_ZONE.

One function of each question, used by the handoff (after-hours message), the SLA clocks and
analytics alike: `is_open(t)`, `next_opening(t)`, `business_seconds(a, b)`, and `deadline(start,
seconds)` (when a target of so many business seconds runs out).

A day's periods are the holiday's special hours when the date is a holiday (none: closed all day),
else the weekday's periods. A period closing at 00:00 runs to midnight at the end of its day.
No weekly periods at all means the team never set hours: open around the clock, except on
holidays. Bangkok has no daylight saving, but nothing here assumes it: each period's ends are
made aware in TIME_ZONE on their date.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from livechat.models import BusinessHours, Holiday
from livechat.policies import shared

Period = tuple[time, time]  # opens, closes (time(0) as the close: midnight at the day's end)
ALL_DAY: tuple[Period, ...] = ((time(0), time(0)),)

# How far ahead next_opening and deadline look before giving up (a schedule that is closed for
# a year and a half is a schedule with no opening).
HORIZON_DAYS = 550


@dataclass(frozen=True)
class Schedule:
    weekly: dict[int, tuple[Period, ...]] = field(default_factory=dict)  # weekday 0 = Monday
    holidays: dict[date, tuple[Period, ...]] = field(default_factory=dict)  # () = closed all day
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))
    # periods_on's answers: a schedule never changes (an edit makes a new one), and analytics asks
    # business_seconds about the same few hundred days for every conversation of a period.
    _periods: dict[date, list[tuple[datetime, datetime]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def always_open(self) -> bool:
        return not self.has_weekly and not self.holidays

    @property
    def has_weekly(self) -> bool:
        return any(self.weekly.values())

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open periods as aware datetimes, in order, overlapping ones merged."""
        known = self._periods.get(day)
        if known is None:
            known = self._periods[day] = self._compute_periods(day)
        return known

    def _compute_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        local = self.holidays.get(day)
        if local is None:
            local = self.weekly.get(day.weekday(), ()) if self.has_weekly else ALL_DAY
        spans = sorted(
            (
                datetime.combine(day, opens, self.zone),
                datetime.combine(day + timedelta(days=1) if closes == time(0) else day, closes, self.zone),
            )
            for opens, closes in local
        )
        merged: list[tuple[datetime, datetime]] = []
        for start, end in spans:
            if end <= start:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def _days(self, first: date, last: date) -> Iterator[date]:
        day = first
        while day <= last:
            yield day
            day += timedelta(days=1)

    def is_open(self, t: datetime) -> bool:
        if self.always_open:
            return True
        return any(start <= t < end for start, end in self.periods_on(t.astimezone(self.zone).date()))

    def next_opening(self, t: datetime) -> datetime | None:
        """`t` itself when open, else when the team opens next (None: not within the horizon)."""
        if self.is_open(t):
            return t
        today = t.astimezone(self.zone).date()
        for day in self._days(today, today + timedelta(days=HORIZON_DAYS)):
            for start, _end in self.periods_on(day):
                if start > t:
                    return start
        return None

    def business_seconds(self, a: datetime, b: datetime) -> float:
        """Seconds between `a` and `b` that fall inside business hours (0 when b ≤ a)."""
        if b <= a:
            return 0.0
        if self.always_open:
            return (b - a).total_seconds()
        total = 0.0
        first = a.astimezone(self.zone).date()
        for day in self._days(first, b.astimezone(self.zone).date()):
            for start, end in self.periods_on(day):
                overlap = (min(end, b) - max(start, a)).total_seconds()
                if overlap > 0:
                    total += overlap
        return total

    def deadline(self, start: datetime, seconds: float) -> datetime | None:
        """When `seconds` of business time after `start` have passed (None: not within the
        horizon)."""
        if self.always_open:
            return start + timedelta(seconds=seconds)
        left = seconds
        first = start.astimezone(self.zone).date()
        for day in self._days(first, first + timedelta(days=HORIZON_DAYS)):
            for period_start, period_end in self.periods_on(day):
                begin = max(period_start, start)
                if begin >= period_end:
                    continue
                available = (period_end - begin).total_seconds()
                if available >= left:
                    return begin + timedelta(seconds=left)
                left -= available
        return None


def _load() -> Schedule:
    weekly: dict[int, list[Period]] = defaultdict(list)
    for weekday, opens, closes in BusinessHours.objects.values_list("weekday", "opens_at", "closes_at"):
        weekly[weekday].append((opens, closes))
    holidays: dict[date, list[Period]] = defaultdict(list)
    closed: set[date] = set()
    for day, special_opens, special_closes in Holiday.objects.values_list("date", "opens_at", "closes_at"):
        if special_opens is None or special_closes is None:
            closed.add(day)
        else:
            holidays[day].append((special_opens, special_closes))
    return Schedule(
        weekly={k: tuple(v) for k, v in weekly.items()},
        holidays={day: () if day in closed else tuple(holidays.get(day, ())) for day in {*holidays, *closed}},
    )


_shared = shared.Shared("livechat:business-hours-version", _load)
forget = _shared.forget


def schedule() -> Schedule:
    """The schedule as it is now (every process sees an edit within a second)."""
    return _shared.get()


def is_open(t: datetime) -> bool:
    return schedule().is_open(t)


def next_opening(t: datetime) -> datetime | None:
    return schedule().next_opening(t)


def business_seconds(a: datetime, b: datetime) -> float:
    return schedule().business_seconds(a, b)


def deadline(start: datetime, seconds: float) -> datetime | None:
    return schedule().deadline(start, seconds)


THAI_DAYS = ("วันจันทร์", "วันอังคาร", "วันพุธ", "วันพฤหัสบดี", "วันศุกร์", "วันเสาร์", "วันอาทิตย์")
THAI_MONTHS = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ENGLISH_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def describe_opening(opening: datetime | None, now: datetime) -> tuple[str, str]:
    """When we open next, said to a customer in Thai and in English: "พรุ่งนี้ เวลา 09:00 น." /
    "tomorrow at 09:00". Both languages always: the message goes out before we know theirs."""
    if opening is None:
        return "เร็วที่สุด", "as soon as we can"
    zone = ZoneInfo(settings.TIME_ZONE)
    local, today = opening.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return f"วันนี้ เวลา {clock} น.", f"today at {clock}"
    if local.date() == today + timedelta(days=1):
        return f"พรุ่งนี้ เวลา {clock} น.", f"tomorrow at {clock}"
    day, month = local.weekday(), local.month - 1
    return (
        f"{THAI_DAYS[day]}ที่ {local.day} {THAI_MONTHS[month]} เวลา {clock} น.",
        f"{ENGLISH_DAYS[day]} {local.day} {ENGLISH_MONTHS[month]} at {clock}",
    )


for _model in (BusinessHours, Holiday):
    post_save.connect(forget, sender=_model, dispatch_uid=f"business-hours-{_model.__name__}")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"business-hours-del-{_model.__name__}")
