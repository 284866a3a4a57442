"""The label filter (`label=<id>`) on every analytics endpoint and the CSV's `labels` column
(names joined by `;`, sorted by name), on the known day of tests/analytics/day.py."""

import csv
import io

import pytest
from django.test import Client

from accounts.models import User
from analytics import metrics
from analytics.period import Period
from livechat.models import Contact, Conversation, Label
from tests.analytics import day
from tests.analytics.test_export import URL, body

pytestmark = pytest.mark.django_db

MONDAY = {"start": "2026-11-02", "end": "2026-11-02"}


@pytest.fixture
def boss(supervisor: User) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


def labelled() -> tuple[day.Day, Label, Label]:
    """vip: transferred, first_visit, midnight; billing: transferred, came_back."""
    built = day.build()
    vip = Label.objects.create(name="vip", colour="#ff0000")
    billing = Label.objects.create(name="billing")
    c = built.conversations
    for name in ("transferred", "first_visit", "midnight"):
        c[name].labels.add(vip)
    for name in ("transferred", "came_back"):
        c[name].labels.add(billing)
    return built, vip, billing


def test_the_summary_of_one_label():
    _built, vip, _billing = labelled()

    figures = metrics.summary(Period(day.MONDAY, day.MONDAY, label_id=vip.pk))

    # transferred, first_visit, midnight: all three handed off, claimed and closed.
    counts = ("conversations", "handoffs", "claimed", "abandoned", "bot_contained")
    assert [figures[key] for key in counts] == [3, 3, 3, 0, 0]
    # Waits 180, 240, 180 → 180, 180, 240: avg 200; p90 at rank 1.8: 180 + 0.8 × 60; p95 + 0.9 × 60.
    assert figures["wait_seconds"] == {"count": 3, "avg": 200.0, "p50": 180.0, "p90": 228.0, "p95": 234.0}
    # First responses 240, 300, 360.
    assert figures["first_response_seconds"] == {
        "count": 3,
        "avg": 300.0,
        "p50": 300.0,
        "p90": 348.0,
        "p95": 354.0,
    }
    # Resolutions 2880, 1800, 1680 → 1680, 1800, 2880: avg 2120; p90 1800 + 0.8 × 1080.
    assert figures["resolution_seconds"] == {
        "count": 3,
        "avg": 2120.0,
        "p50": 1800.0,
        "p90": 2664.0,
        "p95": 2772.0,
    }
    # Handles (close − first claim) 2700, 1560, 1500 → avg 1920; p90 1560 + 0.8 × 1140.
    assert figures["handle_seconds"] == {
        "count": 3,
        "avg": 1920.0,
        "p50": 1560.0,
        "p90": 2472.0,
        "p95": 2586.0,
    }
    # transferred's transfer and midnight's return.
    assert figures["transfers"] == 2
    # Surveys to transferred (5) and first_visit (2).
    assert figures["csat"] == {
        "surveys_sent": 2,
        "responses": 2,
        "response_rate": 100.0,
        "average": 3.5,
        "satisfied_percent": 50.0,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }
    # None is a first-contact resolution: a transfer, a return, and first_visit's contact came back.
    assert figures["fcr_percent"] == 0.0
    # First responses within 300 s: 240 and 300, not 360.
    assert figures["sla"] == {
        "first_response": {"target_seconds": 300, "measured": 3, "met": 2, "hit_rate": 66.7},
        "resolution": {"target_seconds": 86400, "measured": 3, "met": 3, "hit_rate": 100.0},
    }
    # transferred's reply at 10:06 and midnight's push at 23:58 (came_back's reply is not vip's).
    assert figures["line"] == {"reply_sends": 1, "push_sends": 1}


def test_every_endpoint_reads_the_label_filter(boss):
    built, vip, _billing = labelled()
    params = {**MONDAY, "label": vip.pk}

    def get(name: str, **extra: object) -> dict:
        response = boss.get(f"/api/v1/analytics/{name}", {**params, **extra})
        assert response.status_code == 200, name
        return response.json()

    assert get("summary")["conversations"] == 3
    (point,) = get("timeseries")["points"]
    assert (point["conversations"], point["handoffs"], point["claimed"]) == (3, 3, 3)
    cells = {(cell["weekday"], cell["hour"]): cell["handoffs"] for cell in get("heatmap")["cells"]}
    assert sum(cells.values()) == 3
    assert (cells[(0, 10)], cells[(0, 11)], cells[(0, 23)]) == (1, 1, 1)
    # First claims: transferred and midnight Somchai's, first_visit Nok's.
    claims = {row["name"]: row["claimed"] for row in get("operators")["operators"]}
    assert claims == {"Somchai": 2, "Nok": 1}
    steps = {step["key"]: step["count"] for step in get("funnel")["steps"]}
    assert steps == {"conversations": 3, "handoffs": 3, "claimed": 3, "responded": 3, "closed": 3, "rated": 2}
    rows = list(csv.DictReader(io.StringIO(body(boss.get(URL, params))[1:])))
    assert sorted(int(row["conversation_id"]) for row in rows) == sorted(
        built.conversations[name].pk for name in ("transferred", "first_visit", "midnight")
    )


def test_a_label_nobody_wears_gives_zeros(boss):
    day.build()
    unused = Label.objects.create(name="unused")

    figures = boss.get("/api/v1/analytics/summary", {**MONDAY, "label": unused.pk}).json()

    assert (figures["conversations"], figures["wait_seconds"]["count"], figures["transfers"]) == (0, 0, 0)
    assert figures["line"] == {"reply_sends": 0, "push_sends": 0}


def test_the_csv_lists_label_names_sorted_and_joined(boss):
    built, _vip, _billing = labelled()
    Label.objects.create(name="=SUM(1)").conversations.add(built.conversations["bot_only"])

    text = body(boss.get(URL, MONDAY))
    rows = {int(row["conversation_id"]): row for row in csv.DictReader(io.StringIO(text[1:]))}

    c = built.conversations
    assert rows[c["transferred"].pk]["labels"] == "billing;vip"
    assert rows[c["came_back"].pk]["labels"] == "billing"
    assert rows[c["midnight"].pk]["labels"] == "vip"
    assert rows[c["abandoned"].pk]["labels"] == ""
    # A label name is text a spreadsheet could run too.
    assert rows[c["bot_only"].pk]["labels"] == "'=SUM(1)"


def test_the_csv_costs_the_same_queries_however_many_rows_and_labels(boss, django_assert_num_queries):
    _built, vip, billing = labelled()
    # Session, user, audit row, the operators' names, one page.
    with django_assert_num_queries(5):
        assert body(boss.get(URL, MONDAY)).count("\r\n") == 1 + 8

    monday = _built.conversations["first_visit"].created_at
    for n in range(20):
        contact = Contact.objects.create(line_user_id=f"Ulabel{n:027d}", display_name=f"more {n}")
        more = Conversation.objects.create(contact=contact, status="closed")
        Conversation.objects.filter(pk=more.pk).update(created_at=monday)
        more.labels.add(vip, billing)

    with django_assert_num_queries(5):
        text = body(boss.get(URL, MONDAY))
    assert text.count("\r\n") == 1 + 28
    assert text.count(",billing;vip\r\n") == 21
