"""Business seconds in SQL: the schedule's open periods between two instants, as arrays that
PostgreSQL searches with `width_bucket`, so that a year of durations in business hours is
aggregated (percentile_cont) in the query instead of row by row in Python.

`B(t)` = business microseconds from the calendar's first instant to `t`; business seconds
between `a` and `b` = `B(b) − B(a)` (0 when b ≤ a) — the very figure of
`Schedule.business_seconds`, which sums the same open periods (merged here as they are there).
In whole microseconds, so the differences are exact.

A calendar covers `[first, last]`; an instant outside has no B. `summary` asks for the span it
expects (the period's first day up to a day after now or its end), reads the rows' earliest and
latest instants in the same query, and in the rare case one falls outside runs once more with a
calendar that covers them.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from livechat.policies.business_hours import Schedule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(t: datetime) -> int:
    return (t - EPOCH) // MICROSECOND


@dataclass(frozen=True)
class Calendar:
    first: datetime
    last: datetime
    starts: list[int]  # each open period's start (µs since the epoch), ascending
    lengths: list[int]  # its length (µs)
    before: list[int]  # the business µs of all the periods before it

    def covers(self, earliest: int | None, latest: int | None) -> bool:
        """Whether instants from `earliest` to `latest` (µs since the epoch) are inside."""
        return (earliest is None or earliest >= micros(self.first)) and (
            latest is None or latest <= micros(self.last)
        )

    def params(self) -> list[list[int]]:
        return [self.starts, self.lengths, self.before]


def build(schedule: Schedule, first: datetime, last: datetime) -> Calendar:
    """The open periods from `first` to `last` (whole local days around them)."""
    periods: list[tuple[int, int]] = []
    day = first.astimezone(schedule.zone).date() - timedelta(days=1)
    end_day = last.astimezone(schedule.zone).date() + timedelta(days=1)
    while day <= end_day:
        for start, end in schedule.periods_on(day):
            begin, finish = micros(start), micros(end)
            if periods and begin <= periods[-1][1]:
                periods[-1] = (periods[-1][0], max(finish, periods[-1][1]))
            else:
                periods.append((begin, finish))
        day += timedelta(days=1)
    # A first period of no length at the calendar's start: width_bucket finds one for every
    # instant from `first` on.
    origin = micros(first) - 2 * 86_400_000_000
    starts, lengths, before = [origin], [0], [0]
    total = 0
    for begin, finish in periods:
        starts.append(begin)
        lengths.append(finish - begin)
        before.append(total)
        total += finish - begin
    return Calendar(first=first, last=last, starts=starts, lengths=lengths, before=before)


def offset_sql(us: str) -> str:
    """SQL for B(t) in µs of a column `us` of µs since the epoch; `cal` is the row of the three
    arrays (see `Calendar.params`)."""
    bucket = f"width_bucket({us}, cal.starts)"
    return f"(cal.before[{bucket}] + LEAST({us} - cal.starts[{bucket}], cal.lengths[{bucket}]))"


def instant(us: int | None) -> datetime | None:
    return None if us is None else EPOCH + us * MICROSECOND
