"""The KPIs of PRODUCT §10 on one known day (tests/analytics/day.py), each figure worked out by
hand. Marked `smoke`: the SQLite run repeats them through the Python way of computing durations,
which must give the same figures as PostgreSQL's percentile_cont."""

from datetime import time

import pytest

from analytics import metrics
from analytics.period import Period
from livechat.models import BusinessHours, Holiday
from tests.analytics import day

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

MONDAY = Period(day.MONDAY, day.MONDAY)


def test_the_summary_of_the_day():
    day.build()

    figures = metrics.summary(MONDAY)

    assert figures["period"] == {"start": "2026-11-02", "end": "2026-11-02", "business_hours": False}
    # Everything created on Monday; "tuesday" (created Tue 00:05) is not, "midnight" (created
    # Mon 23:50, closed Tue 00:20) is.
    assert (
        figures["conversations"],  # all but "tuesday": 8
        figures["handoffs"],  # all but "bot_only": 7
        figures["claimed"],  # transferred, first_visit, came_back, out_of_hours, midnight: 5
        figures["abandoned"],  # handed off, closed, never claimed: abandoned
        figures["bot_contained"],  # bot_only
    ) == (8, 7, 5, 1, 1)
    # Wait, claim − handoff: transferred 10:05−10:02 = 180, first_visit 240, came_back 120,
    # midnight 180, out_of_hours Mon 19:00 → Tue 09:10 = 14 h 10 min = 51000.
    # Sorted 120, 180, 180, 240, 51000; avg 51720 / 5 = 10344; p50 the 3rd = 180;
    # p90 at rank 0.9 × 4 = 3.6: 240 + 0.6 × (51000 − 240) = 30696; p95 at 3.8: 240 + 0.8 × 50760.
    assert figures["wait_seconds"] == {
        "count": 5,
        "avg": 10344.0,
        "p50": 180.0,
        "p90": 30696.0,
        "p95": 40848.0,
    }
    # First response − handoff: 240, 300, 180, 360 (midnight), 51120 (14 h 12 min).
    # Sorted 180, 240, 300, 360, 51120; avg 52200 / 5; p90 360 + 0.6 × 50760; p95 360 + 0.8 × 50760.
    assert figures["first_response_seconds"] == {
        "count": 5,
        "avg": 10440.0,
        "p50": 300.0,
        "p90": 30816.0,
        "p95": 40968.0,
    }
    # Close − handoff, handed off and closed: abandoned 1200, transferred 2880, first_visit 1800,
    # came_back 1140, midnight 23:52 → 00:20 = 1680, out_of_hours 14 h 40 min = 52800.
    # Sorted 1140, 1200, 1680, 1800, 2880, 52800; avg 61500 / 6 = 10250;
    # p50 at rank 2.5: (1680 + 1800) / 2 = 1740; p90 at 4.5: 2880 + 0.5 × 49920 = 27840;
    # p95 at 4.75: 2880 + 0.75 × 49920 = 40320.
    assert figures["resolution_seconds"] == {
        "count": 6,
        "avg": 10250.0,
        "p50": 1740.0,
        "p90": 27840.0,
        "p95": 40320.0,
    }
    # Close − first claim: 2700, 1560, 1020, 1500 (midnight, from the FIRST claim 23:55), 1800.
    # Sorted 1020, 1500, 1560, 1800, 2700; avg 8580 / 5 = 1716; p90 1800 + 0.6 × 900; p95 + 0.8 × 900.
    assert figures["handle_seconds"] == {
        "count": 5,
        "avg": 1716.0,
        "p50": 1560.0,
        "p90": 2340.0,
        "p95": 2520.0,
    }
    # transferred's transfer + midnight's return to the queue.
    assert figures["transfers"] == 2
    # Surveys to transferred, first_visit, came_back; answers 5 and 2: 2/3 = 66.7 %, mean 3.5,
    # satisfied (4–5) 1 of 2.
    assert figures["csat"] == {
        "surveys_sent": 3,
        "responses": 2,
        "response_rate": 66.7,
        "average": 3.5,
        "satisfied_percent": 50.0,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }
    # Claimed and closed: 5. Not first-contact: transferred (a transfer), midnight (a return),
    # first_visit (its contact handed off again in came_back, 1 h 31 min after the close).
    # Left: came_back and out_of_hours, 2 / 5.
    assert figures["fcr_percent"] == 40.0
    # The default policy: first response within 300 s (240, 300 and 180 are; 360, 51120 not:
    # 3 / 5), resolution within 24 h (all 6). No business hours set: wall time.
    assert figures["sla"] == {
        "first_response": {"target_seconds": 300, "measured": 5, "met": 3, "hit_rate": 60.0},
        "resolution": {"target_seconds": 86400, "measured": 6, "met": 6, "hit_rate": 100.0},
    }
    # Sent on Monday: two replies and the push at 23:58 (Tuesday's push is another day's).
    assert figures["line"] == {"reply_sends": 2, "push_sends": 1}


def open_weekdays_nine_to_six_and_tuesday_a_holiday_from_nine_oh_five_to_noon() -> None:
    BusinessHours.objects.bulk_create(
        BusinessHours(weekday=weekday, opens_at=time(9), closes_at=time(18)) for weekday in range(5)
    )
    Holiday.objects.create(date=day.TUESDAY, name="Special day", opens_at=time(9, 5), closes_at=time(12))


def test_business_hours_count_only_the_open_seconds_with_a_holidays_special_hours():
    day.build()
    open_weekdays_nine_to_six_and_tuesday_a_holiday_from_nine_oh_five_to_noon()

    figures = metrics.summary(Period(day.MONDAY, day.MONDAY, business_hours=True))

    # The counts stay; only durations shrink. midnight (Mon 23:52 → Tue 00:20) is all closed
    # time: 0 each. out_of_hours: Monday closed at 18:00 and Tuesday (the holiday) opens 09:05:
    # wait 09:05 → 09:10 = 300, first response → 09:12 = 420, resolution → 09:40 = 2100,
    # handle 09:10 → 09:40 = 1800. The rest happened in Monday's hours (unchanged).
    assert (figures["conversations"], figures["claimed"]) == (8, 5)
    # 180, 240, 120, 0, 300 → sorted 0, 120, 180, 240, 300; avg 840 / 5 = 168;
    # p90 240 + 0.6 × 60 = 276; p95 240 + 0.8 × 60 = 288.
    assert figures["wait_seconds"] == {"count": 5, "avg": 168.0, "p50": 180.0, "p90": 276.0, "p95": 288.0}
    # 240, 300, 180, 0, 420 → 0, 180, 240, 300, 420; avg 1140 / 5 = 228; p90 300 + 0.6 × 120.
    assert figures["first_response_seconds"] == {
        "count": 5,
        "avg": 228.0,
        "p50": 240.0,
        "p90": 372.0,
        "p95": 396.0,
    }
    # 1200, 2880, 1800, 1140, 0, 2100 → 0, 1140, 1200, 1800, 2100, 2880; avg 9120 / 6 = 1520;
    # p50 (1200 + 1800) / 2; p90 2100 + 0.5 × 780; p95 2100 + 0.75 × 780.
    assert figures["resolution_seconds"] == {
        "count": 6,
        "avg": 1520.0,
        "p50": 1500.0,
        "p90": 2490.0,
        "p95": 2685.0,
    }
    # 2700, 1560, 1020, 0, 1800 → 0, 1020, 1560, 1800, 2700; avg 7080 / 5 = 1416.
    assert figures["handle_seconds"] == {
        "count": 5,
        "avg": 1416.0,
        "p50": 1560.0,
        "p90": 2340.0,
        "p95": 2520.0,
    }
    # The SLA counts business seconds (the policy says so): first responses 240, 300, 180, 0 and
    # 420 → 4 of 5 within 300 s.
    assert figures["sla"]["first_response"] == {
        "target_seconds": 300,
        "measured": 5,
        "met": 4,
        "hit_rate": 80.0,
    }


def test_the_sla_follows_its_policy_even_when_durations_are_wall_time():
    day.build()
    open_weekdays_nine_to_six_and_tuesday_a_holiday_from_nine_oh_five_to_noon()

    figures = metrics.summary(MONDAY)

    assert figures["wait_seconds"]["avg"] == 10344.0
    assert figures["sla"]["first_response"]["met"] == 4


def test_the_operator_filter_is_the_first_claimer():
    built = day.build()

    figures = metrics.summary(Period(day.MONDAY, day.MONDAY, operator_id=built.somchai.pk))

    # Somchai claimed transferred (then Nok's), came_back and midnight (Nok's after a return)
    # first: 3 conversations. Waits 180, 120, 180.
    assert (figures["conversations"], figures["claimed"], figures["transfers"]) == (3, 3, 2)
    assert figures["wait_seconds"] == {"count": 3, "avg": 160.0, "p50": 180.0, "p90": 180.0, "p95": 180.0}
    # Replies at 10:06 and 13:04 and the push at 23:58 were all in his conversations.
    assert figures["line"] == {"reply_sends": 2, "push_sends": 1}


def test_operators_are_ranked_by_first_claims():
    built = day.build()

    [somchai, nok] = metrics.operators(MONDAY)["operators"]

    assert (somchai["id"], somchai["name"], somchai["claimed"], somchai["closed"]) == (
        built.somchai.pk,
        "Somchai",
        3,
        3,
    )
    # First responses 240, 180, 360 → sorted 180, 240, 360; avg 260;
    # p90 at rank 1.8: 240 + 0.8 × 120 = 336; p95 at 1.9: 240 + 0.9 × 120 = 348.
    assert somchai["first_response_seconds"] == {
        "count": 3,
        "avg": 260.0,
        "p50": 240.0,
        "p90": 336.0,
        "p95": 348.0,
    }
    # Handle 2700, 1020, 1500 → 1020, 1500, 2700; avg 5220 / 3 = 1740; p90 1500 + 0.8 × 1200.
    assert somchai["handle_seconds"] == {
        "count": 3,
        "avg": 1740.0,
        "p50": 1500.0,
        "p90": 2460.0,
        "p95": 2580.0,
    }
    assert (somchai["csat_average"], somchai["csat_responses"]) == (5.0, 1)
    # Nok: first_visit and out_of_hours. Waits 240 and 51000: avg = p50 = 25620;
    # p90 240 + 0.9 × 50760 = 45924; p95 240 + 0.95 × 50760 = 48462.
    assert (nok["id"], nok["claimed"], nok["closed"]) == (built.nok.pk, 2, 2)
    assert nok["wait_seconds"] == {"count": 2, "avg": 25620.0, "p50": 25620.0, "p90": 45924.0, "p95": 48462.0}
    assert (nok["csat_average"], nok["csat_responses"]) == (2.0, 1)


def test_the_funnel_narrows_step_by_step():
    day.build()

    steps = metrics.funnel(MONDAY)["steps"]

    # 8 conversations, 7 handed off, 5 claimed, all 5 answered and closed, 2 rated.
    assert steps == [
        {"key": "conversations", "count": 8},
        {"key": "handoffs", "count": 7},
        {"key": "claimed", "count": 5},
        {"key": "responded", "count": 5},
        {"key": "closed", "count": 5},
        {"key": "rated", "count": 2},
    ]


def test_the_daily_series_has_a_point_for_every_day_even_empty_ones():
    day.build()

    series = metrics.timeseries(Period(day.MONDAY.replace(day=1), day.TUESDAY), "day")

    assert series["interval"] == "day"
    sunday, monday, tuesday = series["points"]
    assert sunday == {
        "bucket": "2026-11-01",
        "conversations": 0,
        "handoffs": 0,
        "claimed": 0,
        "abandoned": 0,
        "bot_contained": 0,
        "wait_p50": None,
        "first_response_p50": None,
        "resolution_p50": None,
        "csat_average": None,
    }
    # Monday as in the summary: medians 180, 300, 1740; CSAT (5 + 2) / 2.
    assert monday == {
        "bucket": "2026-11-02",
        "conversations": 8,
        "handoffs": 7,
        "claimed": 5,
        "abandoned": 1,
        "bot_contained": 1,
        "wait_p50": 180.0,
        "first_response_p50": 300.0,
        "resolution_p50": 1740.0,
        "csat_average": 3.5,
    }
    assert (tuesday["bucket"], tuesday["conversations"], tuesday["bot_contained"], tuesday["wait_p50"]) == (
        "2026-11-03",
        1,
        1,
        None,
    )


def test_the_hourly_series_buckets_by_local_hour_of_creation():
    day.build()

    points = metrics.timeseries(MONDAY, "hour")["points"]

    assert [p["bucket"] for p in points[:2]] == ["2026-11-02T00:00", "2026-11-02T01:00"]
    assert len(points) == 24
    by_hour = {p["bucket"][-5:]: p for p in points}
    # 10:00 transferred: wait 180, first response 240, resolution 2880, rated 5.
    assert {
        k: by_hour["10:00"][k]
        for k in ("conversations", "wait_p50", "first_response_p50", "resolution_p50", "csat_average")
    } == {
        "conversations": 1,
        "wait_p50": 180.0,
        "first_response_p50": 240.0,
        "resolution_p50": 2880.0,
        "csat_average": 5.0,
    }
    # 23:00 midnight: created 23:50 local (16:50 UTC).
    assert (by_hour["23:00"]["conversations"], by_hour["23:00"]["wait_p50"]) == (1, 180.0)
    assert by_hour["12:00"]["conversations"] == 0


def test_the_heatmap_counts_handoffs_by_local_weekday_and_hour():
    day.build()

    cells = metrics.heatmap(MONDAY)["cells"]

    assert len(cells) == 168
    busy = {(c["weekday"], c["hour"]): c["handoffs"] for c in cells if c["handoffs"]}
    # Monday (0) at 09 abandoned, 10 transferred, 11 first_visit, 13 came_back, 17 waiting,
    # 19 out_of_hours, 23 midnight.
    assert busy == {(0, 9): 1, (0, 10): 1, (0, 11): 1, (0, 13): 1, (0, 17): 1, (0, 19): 1, (0, 23): 1}


def test_rows_written_without_events_count_for_their_assigned_operator(django_user_model):
    ploy = django_user_model.objects.create_user(username="ploy", password="pw", display_name="Ploy")
    contact = day.Contact.objects.create(line_user_id="U" + "p" * 32, display_name="p")
    written = day.Conversation.objects.create(
        contact=contact,
        status="closed",
        assigned_operator=ploy,
        handoff_requested_at=day.mon(9, 0),
        claimed_at=day.mon(9, 1),
        closed_at=day.mon(9, 11),
    )
    day.Conversation.objects.filter(pk=written.pk).update(created_at=day.mon(9, 0))

    [row] = metrics.operators(MONDAY)["operators"]
    by_ploy = metrics.summary(Period(day.MONDAY, day.MONDAY, operator_id=ploy.pk))

    # Claimed 60 s after the handoff, closed 600 s after the claim.
    assert (row["name"], row["claimed"], row["closed"], row["handle_seconds"]["avg"]) == ("Ploy", 1, 1, 600.0)
    assert (by_ploy["conversations"], by_ploy["wait_seconds"]["avg"]) == (1, 60.0)


def test_the_series_and_operators_count_business_hours_too():
    day.build()
    open_weekdays_nine_to_six_and_tuesday_a_holiday_from_nine_oh_five_to_noon()
    in_hours = Period(day.MONDAY, day.MONDAY, business_hours=True)

    [monday] = metrics.timeseries(in_hours, "day")["points"]
    by_name = {row["name"]: row for row in metrics.operators(in_hours)["operators"]}

    # Medians of the business-hours figures of the summary test: waits 0, 120, 180, 240, 300;
    # first responses 0, 180, 240, 300, 420; resolutions 0, 1140, 1200, 1800, 2100, 2880.
    assert (monday["wait_p50"], monday["first_response_p50"], monday["resolution_p50"]) == (
        180.0,
        240.0,
        1500.0,
    )
    # Nok's waits: first_visit 240 and out_of_hours 300 (Tuesday's special hours from 09:05).
    assert by_name["Nok"]["wait_seconds"] == {
        "count": 2,
        "avg": 270.0,
        "p50": 270.0,
        "p90": 294.0,
        "p95": 297.0,
    }
    # Somchai's handles: transferred 2700, came_back 1020, midnight 0.
    assert by_name["Somchai"]["handle_seconds"]["avg"] == 1240.0
