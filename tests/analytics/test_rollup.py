"""The daily LINE-sends rollup (analytics.rollup): the summary gives the same figures from it as
from the messages, only days already over are rolled up, and `cleanup` keeps it current."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics import metrics
from analytics.models import DailySends
from analytics.period import Period
from livechat.models import Message
from tests.analytics import day

pytestmark = pytest.mark.django_db

PERIODS = [
    Period(day.MONDAY, day.MONDAY),
    Period(day.MONDAY, day.TUESDAY),
    Period(day.MONDAY - timedelta(days=3), day.TUESDAY + timedelta(days=3)),
    Period(day.TUESDAY, day.TUESDAY),
]


def sends() -> list[dict[str, int]]:
    return [metrics.line_sends(period) for period in PERIODS]


def test_rolled_up_days_give_the_figures_of_the_rows(django_assert_num_queries):
    day.build()
    raw = sends()

    call_command("analytics_rollup", "--rebuild", "--start", "2026-11-01", "--end", "2026-11-03")

    rows = {row.day: (row.reply_sends, row.push_sends) for row in DailySends.objects.all()}
    # Monday: replies 10:06 and 13:04, the push at 23:58; Tuesday: the push at 09:12.
    assert rows == {date(2026, 11, 1): (0, 0), day.MONDAY: (2, 1), day.TUESDAY: (0, 1)}
    assert sends() == raw
    assert raw[0] == {"reply_sends": 2, "push_sends": 1}
    # A period of rolled-up days only: the rollup rows, no count of messages.
    with django_assert_num_queries(1):
        assert metrics.line_sends(PERIODS[1]) == {"reply_sends": 2, "push_sends": 2}


def test_only_some_days_rolled_up_still_count_every_day():
    day.build()
    raw = sends()

    call_command("analytics_rollup", "--rebuild", "--start", "2026-11-02", "--end", "2026-11-02")

    assert list(DailySends.objects.values_list("day", flat=True)) == [day.MONDAY]
    assert sends() == raw


def test_a_day_not_over_is_not_rolled_up():
    with time_machine.travel(day.tue(10, 0), tick=False):
        day.build()
        call_command("analytics_rollup", "--rebuild", "--start", "2026-11-02", "--end", "2026-11-03")

        assert list(DailySends.objects.values_list("day", flat=True)) == [day.MONDAY]
        # Tuesday's push at 09:12 comes from the rows.
        assert metrics.line_sends(PERIODS[1]) == {"reply_sends": 2, "push_sends": 2}


def test_each_cleanup_pass_rolls_up_the_days_just_over():
    with time_machine.travel(day.tue(10, 0), tick=False):
        day.build()
    with time_machine.travel(day.tue(0, 0) + timedelta(days=1, minutes=1), tick=False):
        call_command("cleanup")

    rows = {row.day: (row.reply_sends, row.push_sends) for row in DailySends.objects.all()}
    assert rows == {day.MONDAY: (2, 1), day.TUESDAY: (0, 1)}


def test_rows_written_afterwards_count_once_the_days_are_rebuilt():
    built = day.build()
    call_command("analytics_rollup", "--rebuild", "--start", "2026-11-02", "--end", "2026-11-03")
    Message.objects.filter(conversation=built.conversations["came_back"]).delete()

    call_command("analytics_rollup", "--rebuild", "--start", "2026-11-02", "--end", "2026-11-02")

    assert metrics.line_sends(PERIODS[0]) == {"reply_sends": 1, "push_sends": 1}


def test_bad_dates_are_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("analytics_rollup", "--rebuild", "--start", "2026-02-30")
    with pytest.raises(CommandError, match="before"):
        call_command("analytics_rollup", "--rebuild", "--start", "2026-11-05", "--end", "2026-11-01")
    with pytest.raises(CommandError, match="--rebuild"):
        call_command("analytics_rollup", "--start", "2026-11-05")


def test_a_settled_day_is_not_counted_again_on_every_pass(django_assert_num_queries):
    with time_machine.travel(day.tue(10, 0), tick=False):
        day.build()
    wednesday_night = day.tue(0, 0) + timedelta(days=1, minutes=30)
    with time_machine.travel(wednesday_night, tick=False):
        call_command("analytics_rollup")
        # Monday and Tuesday counted after they were over by 10 minutes: one look, nothing more.
        with django_assert_num_queries(1):
            call_command("analytics_rollup")
