"""The analytics dashboard (/analytics/) as a supervisor lives it, in a real browser.

The page is served by the production-like daphne of tests/browser/conftest.py (`live_daphne`).
The numbers it draws come from the analytics API (/api/v1/analytics/…, PRODUCT §10): here a
TEST-ONLY stand-in answers those requests inside the browser (Playwright's `page.route`) with
fixed JSON in the exact shapes of the contract (HELPERS.md, "Analytics API shapes"), so these
stories reach what real rows hardly can: large figures, API refusals, an impossible range, the
live refresh and midnight on a fake clock. The page on the real API and CSV, with rows written
to its database, is tests/browser/test_analytics_real_stories.py.
"""

import json
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.processes import ROOT

pytestmark = pytest.mark.browser

API = "/api/v1/analytics/"
SUPERVISOR = ("dash_boss", "Boss Dao")
OPERATOR = ("dash_op", "Op Fah")
LOCALE = ROOT / "locale" / "th" / "LC_MESSAGES"


# --- The stand-in for the analytics API (test only) ---------------------------------------------


def duration(p50: float | None, count: int) -> dict[str, Any]:
    if not count or p50 is None:
        return {"count": 0, "avg": None, "p50": None, "p90": None, "p95": None}
    return {"count": count, "avg": p50 * 1.2, "p50": p50, "p90": p50 * 3, "p95": p50 * 4}


def days_in(start: str, end: str) -> int:
    return (date.fromisoformat(end) - date.fromisoformat(start)).days + 1


class AnalyticsStandIn:
    """Answers /api/v1/analytics/* like the contract says. A period that ends on the page's today
    is "this period" (20 conversations a day); any other is an earlier one (10 a day), so every
    key figure shows a change. Business hours only: shorter waits (they count fewer seconds)."""

    def __init__(self, today: date) -> None:
        self.today = today.isoformat()
        self.requests: list[tuple[str, dict[str, str]]] = []

    def summary(self, q: dict[str, str]) -> dict[str, Any]:
        days = days_in(q["start"], q["end"])
        current = q["end"] == self.today
        conversations = (20 if current else 10) * days
        handoffs = conversations // 2
        wait = (30.0 if q.get("business_hours") == "1" else 90.0) if current else 120.0
        return {
            "conversations": conversations,
            "handoffs": handoffs,
            "claimed": handoffs - 2,
            "abandoned": 2,
            "bot_contained": conversations - handoffs,
            "wait_seconds": duration(wait, handoffs - 2),
            "first_response_seconds": duration(wait + 30, handoffs - 2),
            "resolution_seconds": duration(1800.0, handoffs - 3),
            "handle_seconds": duration(1500.0, handoffs - 3),
            "transfers": 3,
            "csat": {
                "surveys_sent": 20,
                "responses": 10,
                "response_rate": 50.0,
                "average": 4.2 if current else 3.9,
                "satisfied_percent": 80.0 if current else 70.0,
                "distribution": {"1": 0, "2": 1, "3": 1, "4": 3, "5": 5},
            },
            "fcr_percent": 75.0,
            "sla": {  # the real API's shape when the resolution target is cleared
                "first_response": {"target_seconds": 300, "measured": 10, "met": 9, "hit_rate": 90.0},
                "resolution": {"target_seconds": None, "measured": 0, "met": None, "hit_rate": None},
            },
            "line": {"reply_sends": 120, "push_sends": 30},
            "period": {
                "start": q["start"],
                "end": q["end"],
                "business_hours": q.get("business_hours") == "1",
            },
        }

    def timeseries(self, q: dict[str, str]) -> dict[str, Any]:
        start = date.fromisoformat(q["start"])
        if q["interval"] == "hour":
            buckets = [f"{q['start']}T{hour:02d}:00" for hour in range(24)]
        else:
            buckets = [(start + timedelta(days=i)).isoformat() for i in range(days_in(q["start"], q["end"]))]
        return {
            "interval": q["interval"],
            "points": [
                {
                    "bucket": bucket,
                    "conversations": 20 + i % 3,
                    "handoffs": 10,
                    "claimed": 9,
                    "abandoned": 1,
                    "bot_contained": 10,
                    "wait_p50": 90.0 if i % 2 else None,
                    "first_response_p50": 120.0,
                    "resolution_p50": 1800.0,
                    "csat_average": 4.25,
                }
                for i, bucket in enumerate(buckets)
            ],
        }

    def heatmap(self, q: dict[str, str]) -> dict[str, Any]:
        return {
            "cells": [
                {"weekday": weekday, "hour": hour, "handoffs": 12 if (weekday, hour) == (4, 14) else hour % 3}
                for weekday in range(7)
                for hour in range(24)
            ]
        }

    def operators(self, q: dict[str, str]) -> dict[str, Any]:
        def operator(id: int, name: str, claimed: int, csat: float | None) -> dict[str, Any]:
            return {
                "id": id,
                "name": name,
                "claimed": claimed,
                "closed": claimed - 1,
                "wait_seconds": duration(60.0, claimed),
                "first_response_seconds": duration(75.0, claimed),
                "handle_seconds": duration(900.0, claimed - 1),
                "csat_average": csat,
                "csat_responses": 4 if csat else 0,
            }

        return {"operators": [operator(7, "Nok", 8, None), operator(3, "Somchai", 31, 4.5)]}

    def funnel(self, q: dict[str, str]) -> dict[str, Any]:
        counts = {
            "conversations": 140,
            "handoffs": 70,
            "claimed": 68,
            "responded": 66,
            "closed": 60,
            "rated": 10,
        }
        return {"steps": [{"key": key, "count": count} for key, count in counts.items()]}

    def answer(self, route: Route, request: Request) -> None:
        endpoint = urlsplit(request.url).path.removeprefix(API)
        query = dict(parse_qsl(urlsplit(request.url).query))
        self.requests.append((endpoint, query))
        body = getattr(self, endpoint)(query)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    def asked(self, endpoint: str) -> list[dict[str, str]]:
        return [query for name, query in self.requests if name == endpoint]


# --- People -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def team(live_daphne: Any) -> None:
    live_daphne.manage(
        "shell",
        "-c",
        "from accounts.models import User\n"
        f"for username, name, role in [({SUPERVISOR[0]!r}, {SUPERVISOR[1]!r}, 'supervisor'),"
        f" ({OPERATOR[0]!r}, {OPERATOR[1]!r}, 'operator')]:\n"
        "    User.objects.filter(username=username).delete()\n"
        "    User.objects.create_user(username=username, password='pw-' + username, display_name=name,"
        " role=role)\n",
    )


@pytest.fixture
def pages(browser: Any) -> Iterator[list[tuple[Page, list[str]]]]:
    opened: list[tuple[Page, list[str]]] = []
    yield opened
    for page, _ in opened:
        page.context.close()


def open_page(
    browser: Any, pages: list[tuple[Page, list[str]]], locale: str = "en-GB"
) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale=locale)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    pages.append((page, errors))
    return page, errors


def sign_in(page: Page, base_url: str, username: str, path: str = "/analytics/") -> None:
    page.goto(f"{base_url}{path}")
    expect(page).to_have_url(f"{base_url}/accounts/login/?next={path}")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(f"pw-{username}")
    page.get_by_test_id("login-submit").click()


def card(page: Page, key: str) -> Any:
    return page.locator(f"[data-testid=kpi-card][data-kpi={key}]")


def js_catalog(source: str) -> dict[str, str]:
    """English → Thai for the djangojs.po entries from `source` files (no placeholders)."""
    pairs = {}
    for entry in (LOCALE / "djangojs.po").read_text().split("\n\n"):
        msgid = re.search(r'^msgid "(.*)"', entry, re.M)
        msgstr = re.search(r'^msgstr "(.*)"', entry, re.M)
        if source in entry and msgid and msgstr and msgid.group(1) and "%(" not in msgid.group(1):
            pairs[json.loads(f'"{msgid.group(1)}"')] = json.loads(f'"{msgstr.group(1)}"')
    return pairs


VISIBLE_TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    if (text && node.parentElement && node.parentElement.checkVisibility()) texts.push(text);
  }
  return texts;
}"""


# --- The stories --------------------------------------------------------------------------------


def test_a_supervisor_reads_the_dashboard_changes_the_period_and_hours_and_switches_to_thai(
    live_daphne: Any, team: None, browser: Any, pages: list[tuple[Page, list[str]]], artifacts: Path
) -> None:
    page, errors = open_page(browser, pages)
    # The stand-in needs the page's "today" (the server's local date, in the page): requests that
    # come before it is read wait, then are answered.
    stand_in: AnalyticsStandIn | None = None
    waiting: list[tuple[Route, Request]] = []

    def answer(route: Route, request: Request) -> None:
        if stand_in is None:
            waiting.append((route, request))
        else:
            stand_in.answer(route, request)

    page.route(f"**{API}**", answer)
    sign_in(page, live_daphne.url, SUPERVISOR[0])
    expect(page).to_have_url(re.compile(r"/analytics/\?preset=7d$"))
    config = json.loads(page.locator("#dashboard-config").text_content() or "{}")
    today = date.fromisoformat(config["today"])
    stand_in = AnalyticsStandIn(today)
    for route, request in waiting:
        stand_in.answer(route, request)

    # Last 7 days by default, each figure against the 7 days before.
    week = (today - timedelta(days=6)).isoformat(), today.isoformat()
    before = (today - timedelta(days=13)).isoformat(), (today - timedelta(days=7)).isoformat()
    expect(page.get_by_test_id("preset-7d")).to_have_attribute("aria-pressed", "true")
    expect(card(page, "conversations").get_by_test_id("kpi-value")).to_have_text("140")
    expect(card(page, "conversations").get_by_test_id("kpi-change")).to_contain_text("+100.0%")
    expect(card(page, "wait_seconds").get_by_test_id("kpi-value")).to_have_text("1 min 30 s")
    wait_change = card(page, "wait_seconds").get_by_test_id("kpi-change")
    expect(wait_change).to_have_attribute("data-direction", "down")
    expect(wait_change).to_have_attribute("data-quality", "good")  # shorter waits are good news
    expect(card(page, "csat_satisfied").get_by_test_id("kpi-change")).to_contain_text("+10.0 pts")
    expect(card(page, "sla_resolution").get_by_test_id("kpi-value")).to_have_text("—")
    expect(card(page, "sla_resolution").get_by_test_id("kpi-detail")).to_have_text("No target set")
    expect(card(page, "sla_first_response").get_by_test_id("kpi-detail")).to_have_text(
        "target 5 min · 9 of 10 met"
    )
    summaries = {(q["start"], q["end"]) for q in stand_in.asked("summary")}
    assert summaries == {week, before}
    assert stand_in.asked("timeseries")[0]["interval"] == "day"

    # Every chart is drawn and has its numbers as a table.
    trends = page.get_by_test_id("trend-charts")
    expect(trends.locator("figure")).to_have_count(9)
    conversations_trend = page.get_by_test_id("chart-trend-conversations")
    expect(conversations_trend.locator("canvas[role=img]")).to_have_attribute(
        "aria-label", re.compile("Conversations")
    )
    expect(conversations_trend.get_by_test_id("chart-table").locator("tbody tr")).to_have_count(7)
    conversations_trend.locator("summary").click()
    expect(conversations_trend.get_by_test_id("chart-table")).to_be_visible()
    expect(page.get_by_test_id("heatmap-cell")).to_have_count(168)
    expect(page.locator("[data-testid=heatmap-cell][data-weekday='4'][data-hour='14']")).to_have_text("12")
    expect(page.get_by_test_id("chart-funnel").get_by_test_id("chart-table")).to_contain_text(
        "Answered by an operator"
    )
    expect(page.get_by_test_id("operator-row").first).to_contain_text("Somchai")  # the most claimed first
    expect(
        page.get_by_test_id("chart-csat-distribution").get_by_test_id("chart-table").locator("td")
    ).to_have_text(["0", "1", "1", "3", "5"])
    expect(page.get_by_test_id("chart-line-cost").get_by_test_id("chart-table")).to_contain_text(
        "Pushes (paid)"
    )
    for figure in page.locator("figure.chart-card").all():
        box = figure.locator("canvas").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100
    csv = page.get_by_test_id("download-csv")
    expect(csv).to_have_attribute("href", f"/analytics/export.csv?start={week[0]}&end={week[1]}")
    page.screenshot(path=artifacts / "dashboard-story-1-week.png", full_page=True)

    # 30 days: the page asks every endpoint again for the new period, and its previous 30 days.
    stand_in.requests.clear()
    month = (today - timedelta(days=29)).isoformat(), today.isoformat()
    page.get_by_test_id("preset-30d").click()
    expect(card(page, "conversations").get_by_test_id("kpi-value")).to_have_text("600")
    expect(page).to_have_url(re.compile(r"\?preset=30d$"))
    assert {name for name, _ in stand_in.requests} == {
        "summary",
        "timeseries",
        "heatmap",
        "operators",
        "funnel",
    }
    assert all((q["start"], q["end"]) == month for name, q in stand_in.requests if name != "summary")
    assert {(q["start"], q["end"]) for q in stand_in.asked("summary")} == {
        month,
        ((today - timedelta(days=59)).isoformat(), (today - timedelta(days=30)).isoformat()),
    }
    assert not any("business_hours" in q for _, q in stand_in.requests)
    expect(csv).to_have_attribute("href", f"/analytics/export.csv?start={month[0]}&end={month[1]}")
    expect(
        page.get_by_test_id("chart-trend-conversations").get_by_test_id("chart-table").locator("tbody tr")
    ).to_have_count(30)

    # Business hours only: every request again, now with business_hours=1.
    stand_in.requests.clear()
    page.get_by_test_id("business-hours-toggle").check()
    expect(card(page, "wait_seconds").get_by_test_id("kpi-value")).to_have_text("30 s")
    expect(page).to_have_url(re.compile(r"\?preset=30d&business_hours=1$"))
    assert len(stand_in.requests) == 6
    assert all(q.get("business_hours") == "1" for _, q in stand_in.requests)

    # A custom period; an impossible one is refused on the page, without asking the API.
    stand_in.requests.clear()
    page.get_by_test_id("range-start").fill((today - timedelta(days=3)).isoformat())
    expect(page.get_by_test_id("preset-custom")).to_have_attribute("aria-pressed", "true")
    expect(card(page, "conversations").get_by_test_id("kpi-value")).to_have_text("80")
    custom = (today - timedelta(days=3)).isoformat(), today.isoformat()
    expect(csv).to_have_attribute(
        "href", f"/analytics/export.csv?start={custom[0]}&end={custom[1]}&business_hours=1"
    )
    assert {(q["start"], q["end"]) for q in stand_in.asked("heatmap")} == {custom}
    stand_in.requests.clear()
    page.get_by_test_id("range-start").fill((today + timedelta(days=5)).isoformat())
    expect(page.get_by_test_id("dashboard-error")).to_have_text("The end date is before the start date.")
    expect(page.get_by_test_id("live-badge")).to_be_hidden()  # nothing on the page refreshes now
    assert stand_in.requests == []
    # A period in the past: its figures do not change, so nothing refreshes them.
    page.get_by_test_id("range-end").fill((today - timedelta(days=8)).isoformat())
    page.get_by_test_id("range-start").fill((today - timedelta(days=10)).isoformat())
    expect(card(page, "conversations").get_by_test_id("kpi-value")).to_have_text("30")
    expect(page.get_by_test_id("live-badge")).to_be_hidden()

    # Thai, switched in the page: same period, Thai labels (and no English one left).
    page.get_by_test_id("preset-7d").click()
    expect(page.get_by_test_id("dashboard-error")).to_be_hidden()
    expect(card(page, "conversations").get_by_test_id("kpi-value")).to_have_text("140")
    page.get_by_test_id("language-th").click()
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page).to_have_url(re.compile(r"/analytics/\?preset=7d&business_hours=1$"))
    expect(page.get_by_test_id("business-hours-toggle")).to_be_checked()
    expect(card(page, "conversations").locator("h3")).to_have_text("การสนทนา")
    expect(card(page, "wait_seconds").get_by_test_id("kpi-value")).to_have_text("30 วินาที")
    expect(page.get_by_test_id("preset-7d")).to_have_text("7 วัน")
    expect(page.get_by_test_id("preset-today")).to_have_text("วันนี้")
    expect(page.get_by_test_id("download-csv")).to_have_text("ดาวน์โหลด CSV")
    expect(page.locator("#kpi-heading")).to_have_text("ตัวเลขสำคัญ")
    expect(page.get_by_test_id("chart-line-cost").locator("figcaption")).to_have_text("ข้อความที่ส่งผ่าน LINE")
    english = js_catalog("static/analytics/")
    left_in_english = [text for text in page.evaluate(VISIBLE_TEXTS) if text in english]
    assert left_in_english == []
    page.screenshot(path=artifacts / "dashboard-story-1-thai.png", full_page=True)

    # Today: hourly trends, and the key figures refresh by themselves (the clock is the page's
    # fake one: 45 s pass at once).
    page.clock.install()
    stand_in.requests.clear()
    page.get_by_test_id("preset-today").click()
    expect(card(page, "conversations").get_by_test_id("kpi-value")).to_have_text("20")
    expect(page.get_by_test_id("live-badge")).to_be_visible()
    assert stand_in.asked("timeseries")[0]["interval"] == "hour"
    stand_in.requests.clear()
    with page.expect_response(lambda response: "/summary?" in response.url):
        page.clock.run_for(46_000)
    expect(page.get_by_test_id("live-badge")).to_contain_text("สด")
    assert [(q["start"], q["end"]) for q in stand_in.asked("summary")] == [
        (today.isoformat(), today.isoformat())
    ]
    assert [name for name, _ in stand_in.requests] == ["summary"]  # only the cards refresh

    # Left open past midnight (a wall screen): "Today" moves on to the new day by itself.
    desk = ZoneInfo(config["time_zone"])
    now = datetime.now(desk)
    next_midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=desk)
    tomorrow = (today + timedelta(days=1)).isoformat()
    with page.expect_response(lambda response: f"/heatmap?start={tomorrow}&end={tomorrow}" in response.url):
        page.clock.fast_forward(int((next_midnight - now).total_seconds() * 1000) + 60_000)
    expect(page.get_by_test_id("download-csv")).to_have_attribute(
        "href", f"/analytics/export.csv?start={tomorrow}&end={tomorrow}&business_hours=1"
    )
    expect(page.get_by_test_id("preset-today")).to_have_attribute("aria-pressed", "true")
    assert errors == []


def test_operators_are_refused_and_visitors_are_asked_to_sign_in(
    live_daphne: Any, team: None, browser: Any, pages: list[tuple[Page, list[str]]], artifacts: Path
) -> None:
    page, _ = open_page(browser, pages)
    sign_in(page, live_daphne.url, OPERATOR[0])

    expect(page.get_by_test_id("analytics-forbidden-page")).to_contain_text(
        "The analytics dashboard is for supervisors and admins"
    )
    response = page.goto(f"{live_daphne.url}/analytics/")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("analytics-dashboard")).to_have_count(0)
    page.screenshot(path=artifacts / "dashboard-story-2-operator-refused.png")


def test_when_the_api_refuses_the_period_the_page_says_why(
    live_daphne: Any, team: None, browser: Any, pages: list[tuple[Page, list[str]]]
) -> None:
    page, _ = open_page(browser, pages)
    refusal = {"code": "invalid", "message": "The period is longer than 366 days."}
    page.route(
        f"**{API}**",
        lambda route: route.fulfill(status=400, content_type="application/json", body=json.dumps(refusal)),
    )
    sign_in(page, live_daphne.url, SUPERVISOR[0])

    expect(page.get_by_test_id("dashboard-error")).to_have_text(
        "Could not load the figures: The period is longer than 366 days."
    )
    expect(page.get_by_test_id("kpi-card")).to_have_count(0)
    expect(page.get_by_test_id("live-badge")).to_be_hidden()
