"""PostgreSQL counts business seconds in SQL (analytics.calendar); they must be the very figures
of Schedule.business_seconds, which the Python way (SQLite) uses — also for instants far outside
the period, where the query runs again with a calendar that covers them."""

from datetime import timedelta

import pytest
from django.db import connection

from analytics import metrics
from analytics.period import Period
from livechat.models import Conversation
from tests.analytics import day
from tests.analytics.test_kpis import (
    open_weekdays_nine_to_six_and_tuesday_a_holiday_from_nine_oh_five_to_noon,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL way is PostgreSQL's"),
]


def both_ways(period: Period) -> tuple[metrics.Timed, metrics.Timed]:
    conversations = metrics.conversations(period)
    return metrics._timed_in_sql(period, conversations), metrics._timed_in_python(period, conversations)


@pytest.mark.parametrize("in_hours", [False, True])
def test_sql_and_python_agree_on_the_day_with_business_hours(in_hours):
    day.build()
    open_weekdays_nine_to_six_and_tuesday_a_holiday_from_nine_oh_five_to_noon()

    in_sql, in_python = both_ways(Period(day.MONDAY, day.MONDAY, business_hours=in_hours))

    assert in_sql == in_python


def test_an_instant_years_away_is_still_counted_right(django_assert_num_queries):
    built = day.build()
    open_weekdays_nine_to_six_and_tuesday_a_holiday_from_nine_oh_five_to_noon()
    # Closed three years later, and handed off a week before it was created: outside the calendar
    # the query first builds.
    Conversation.objects.filter(pk=built.conversations["waiting"].pk).update(
        handoff_requested_at=day.mon(10, 0) - timedelta(days=7),
        closed_at=day.mon(10, 0) + timedelta(days=3 * 365),
        status="closed",
    )
    period = Period(day.MONDAY, day.MONDAY, business_hours=True)

    in_sql, in_python = both_ways(period)  # the SLA policy and the schedule read (then cached)
    with django_assert_num_queries(2):  # the query, and once more with a calendar that covers all
        metrics._timed_in_sql(period, metrics.conversations(period))

    assert in_sql == in_python
    assert in_sql[0]["resolution_seconds"]["count"] == 7
