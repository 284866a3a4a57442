"""When the team is open (issue 13 §1): one schedule answers "open at t?", "when do we open
next?", "how many business seconds between a and b?" and "when does a target of n business
seconds run out?" — for the handoff, the SLA and analytics alike."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from livechat.models import BusinessHours, Holiday
from livechat.policies import business_hours, thai_holidays
from livechat.policies.business_hours import Schedule

BANGKOK = ZoneInfo("Asia/Bangkok")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the week of Monday 30 November 2026, in Bangkok."""
    return datetime.combine(date(2026, 11, 30) + timedelta(days=day), time(hour, minute), BANGKOK)


SPLIT = ((time(9), time(12)), (time(13), time(18)))
OFFICE = Schedule(weekly={d: SPLIT for d in (MON, TUE, WED, THU, FRI)}, zone=BANGKOK)


def test_the_helper_dates_are_the_weekdays_they_name() -> None:
    assert [at(d, 12).weekday() for d in range(7)] == list(range(7))


@pytest.mark.parametrize(
    ("when", "open_"),
    [
        (at(MON, 8, 59), False),
        (at(MON, 9), True),  # opens at the minute
        (at(MON, 11, 59), True),
        (at(MON, 12), False),  # the lunch break of a split shift
        (at(MON, 12, 59), False),
        (at(MON, 13), True),
        (at(MON, 18), False),  # closes at the minute
        (at(SAT, 10), False),
    ],
)
def test_open_during_each_period_of_a_split_shift(when: datetime, open_: bool) -> None:
    assert OFFICE.is_open(when) is open_


def test_a_time_given_in_utc_is_judged_in_bangkok() -> None:
    assert OFFICE.is_open(datetime(2026, 11, 30, 2, 30, tzinfo=ZoneInfo("UTC")))  # 09:30 in Bangkok
    assert not OFFICE.is_open(datetime(2026, 11, 30, 1, 30, tzinfo=ZoneInfo("UTC")))  # 08:30


def test_business_seconds_count_only_the_open_periods() -> None:
    # Monday 08:00 → 14:00: 09–12 and 13–14 = 4 hours.
    assert OFFICE.business_seconds(at(MON, 8), at(MON, 14)) == 4 * 3600
    # Friday 17:00 → Monday 10:00: one hour on Friday, one on Monday, nothing at the weekend.
    assert OFFICE.business_seconds(at(FRI, 17), datetime(2026, 12, 7, 10, tzinfo=BANGKOK)) == 2 * 3600
    assert OFFICE.business_seconds(at(MON, 14), at(MON, 8)) == 0


def test_next_opening_after_the_lunch_break_the_evening_and_the_weekend() -> None:
    assert OFFICE.next_opening(at(MON, 10)) == at(MON, 10)  # open now
    assert OFFICE.next_opening(at(MON, 12, 30)) == at(MON, 13)
    assert OFFICE.next_opening(at(MON, 19)) == at(TUE, 9)
    assert OFFICE.next_opening(at(FRI, 18)) == datetime(2026, 12, 7, 9, tzinfo=BANGKOK)


def test_a_deadline_skips_the_closed_hours() -> None:
    # A 10-minute target set at 17:55 on Friday runs out at 09:05 on Monday.
    assert OFFICE.deadline(at(FRI, 17, 55), 600) == datetime(2026, 12, 7, 9, 5, tzinfo=BANGKOK)
    # Set during the lunch break: counted from 13:00.
    assert OFFICE.deadline(at(MON, 12, 10), 1800) == at(MON, 13, 30)
    # Ends exactly at a period's end: that instant, not the next opening.
    assert OFFICE.deadline(at(MON, 11), 3600) == at(MON, 12)


NIGHT = Schedule(
    weekly={MON: ((time(22), time(0)),), TUE: ((time(0), time(2)), (time(22), time(0)))}, zone=BANGKOK
)


def test_a_period_that_ends_at_midnight_runs_to_the_end_of_the_day() -> None:
    assert NIGHT.is_open(at(MON, 23, 59))
    assert NIGHT.is_open(at(TUE, 0))  # Tuesday's own 00:00–02:00
    assert not NIGHT.is_open(at(TUE, 2))


def test_business_seconds_across_midnight() -> None:
    # Monday 21:00 → Tuesday 03:00: 22:00–24:00 and 00:00–02:00.
    assert NIGHT.business_seconds(at(MON, 21), at(TUE, 3)) == 4 * 3600
    assert NIGHT.deadline(at(MON, 23), 2 * 3600) == at(TUE, 1)


def test_a_holiday_closes_the_day_and_special_hours_replace_the_schedule() -> None:
    hours = Schedule(
        weekly=OFFICE.weekly,
        holidays={date(2026, 12, 1): (), date(2026, 12, 2): ((time(10), time(11)),)},
        zone=BANGKOK,
    )
    assert not hours.is_open(at(TUE, 10))  # closed all day
    assert not hours.is_open(at(WED, 9, 30))  # special hours only
    assert hours.is_open(at(WED, 10, 30))
    assert not hours.is_open(at(WED, 14))
    assert hours.next_opening(at(MON, 19)) == at(WED, 10)
    assert (
        hours.business_seconds(at(MON, 17), at(THU, 10)) == 3600 + 3600 + 3600
    )  # Mon 17–18, Wed 10–11, Thu 9–10


def test_no_schedule_means_always_open() -> None:
    always = Schedule(zone=BANGKOK)
    assert always.is_open(at(SUN, 3))
    assert always.business_seconds(at(MON, 0), at(TUE, 0)) == 24 * 3600
    assert always.deadline(at(SAT, 23), 7200) == at(SUN, 1)


def test_a_schedule_that_never_opens_has_no_next_opening() -> None:
    closed = Schedule(weekly=OFFICE.weekly, holidays={}, zone=BANGKOK)
    everything_closed = Schedule(
        weekly={MON: ((time(9), time(10)),)},
        holidays={at(MON, 0).date() + timedelta(days=7 * w): () for w in range(0, 100)},
        zone=BANGKOK,
    )
    assert closed.next_opening(at(SAT, 9)) is not None
    assert everything_closed.next_opening(at(MON, 12)) is None
    assert everything_closed.deadline(at(MON, 12), 60) is None


@pytest.mark.django_db
def test_the_schedule_comes_from_the_rows_and_an_edit_is_seen_at_once() -> None:
    assert business_hours.is_open(at(SUN, 3))  # a fresh install has no hours: always open
    for start, end in SPLIT:
        BusinessHours.objects.create(weekday=MON, opens_at=start, closes_at=end)
    assert business_hours.is_open(at(MON, 9, 30))
    assert not business_hours.is_open(at(MON, 12, 30))

    Holiday.objects.create(date=date(2026, 11, 30), name="Special", opens_at=time(12), closes_at=time(13))
    assert business_hours.is_open(at(MON, 12, 30))
    assert not business_hours.is_open(at(MON, 9, 30))


def test_opening_times_are_said_in_thai_and_english() -> None:
    assert business_hours.describe_opening(at(MON, 13), at(MON, 12)) == (
        "วันนี้ เวลา 13:00 น.",
        "today at 13:00",
    )
    assert business_hours.describe_opening(at(TUE, 9), at(MON, 19)) == (
        "พรุ่งนี้ เวลา 09:00 น.",
        "tomorrow at 09:00",
    )
    assert business_hours.describe_opening(datetime(2026, 12, 7, 9, tzinfo=BANGKOK), at(FRI, 19)) == (
        "วันจันทร์ที่ 7 ธันวาคม เวลา 09:00 น.",
        "Monday 7 December at 09:00",
    )


@pytest.mark.django_db
def test_thai_public_holidays_load_once_per_year_and_keep_what_was_set_by_hand() -> None:
    Holiday.objects.create(
        date=date(2027, 4, 13), name="Songkran, open half day", opens_at=time(9), closes_at=time(12)
    )

    added = thai_holidays.load(2027)

    assert date(2027, 1, 1) in {h.date for h in added}
    assert Holiday.objects.get(date=date(2027, 4, 13)).opens_at == time(9)  # left as set
    assert Holiday.objects.filter(date=date(2027, 4, 14), opens_at__isnull=True).exists()
    assert thai_holidays.load(2027) == []  # a second load adds nothing
    assert (
        not business_hours.is_open(datetime(2027, 4, 14, 10, tzinfo=BANGKOK))
        or not BusinessHours.objects.exists()
    )
    assert thai_holidays.valid_through() >= date(2027, 12, 31)
    assert 2027 in thai_holidays.years()
