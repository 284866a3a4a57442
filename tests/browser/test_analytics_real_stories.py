"""The analytics dashboard (/analytics/) on the real analytics API and CSV, in a real browser.

A daphne of this module's own serves the app production-like (PostgreSQL when DATABASE_URL is
one — created, migrated and dropped here — else a SQLite file; REDIS_URL when set). Before it
starts, known conversations are written straight into its rows (tests/browser/analytics_rows.py
has them as a table): a supervisor then reads figures computed by hand on the dashboard, changes
the period and the business-hours switch, reads them in Thai, and downloads the CSV.
(tests/browser/test_dashboard_stories.py keeps the page's edge cases — API refusals, midnight,
the live refresh — on a stand-in API.)
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from analytics.export import HEADER
from tests.browser import test_console_stories as stories

pytestmark = pytest.mark.browser

SUPERVISOR = "dao"


@dataclass
class Desk:
    """The server, and the ids of analytics_rows' conversations ("a" … "f")."""

    daphne: stories.Daphne
    ids: dict[str, int]

    @property
    def url(self) -> str:
        return self.daphne.url


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    write_rows = "from tests.browser.analytics_rows import write; write()"
    with stories.story_cluster(tmp_path_factory, "analytics-stories", "/13", setup=(write_rows,)) as servers:
        yield Desk(daphne=servers.primary, ids=json.loads(servers.setup_output[0].strip().splitlines()[-1]))


@pytest.fixture
def supervisor(browser: Any, desk: Desk) -> Iterator[tuple[Page, list[str]]]:
    """Dao, a supervisor, signed in on the dashboard (in English first); what her page logged as
    errors and its uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.goto(f"{desk.url}/analytics/")
    page.get_by_test_id("login-username").fill(SUPERVISOR)
    page.get_by_test_id("login-password").fill(f"pw-{SUPERVISOR}")
    page.get_by_test_id("login-submit").click()
    yield page, errors
    context.close()


def card(page: Page, key: str) -> Any:
    return page.locator(f"[data-testid=kpi-card][data-kpi={key}]")


def value(page: Page, key: str) -> Any:
    return card(page, key).get_by_test_id("kpi-value")


def numbers(page: Page, chart: str) -> Any:
    """The cells of a chart's "Show the numbers" table."""
    return page.get_by_test_id(f"chart-{chart}").get_by_test_id("chart-table").locator("td")


def ticks(page: Page, chart: str) -> list[str]:
    """The labels of a chart's value axis, as Chart.js drew them."""
    return page.evaluate(
        "(id) => Chart.getChart(document.querySelector(`[data-testid=chart-${id}] canvas`))"
        ".scales.y.ticks.map((tick) => tick.label)",
        chart,
    )


def local(day: date, hh: int, mm: int) -> str:
    """A local time as the CSV writes it (Asia/Bangkok: +07:00, no daylight saving)."""
    return f"{day.isoformat()}T{hh:02d}:{mm:02d}:00+07:00"


def test_a_supervisor_reads_known_figures_changes_the_period_and_hours_and_downloads_the_csv(
    desk: Desk, supervisor: tuple[Page, list[str]], artifacts: Path
) -> None:
    page, errors = supervisor
    expect(page).to_have_url(re.compile(r"/analytics/\?preset=7d$"))
    config = json.loads(page.locator("#dashboard-config").text_content() or "{}")
    assert config["time_zone"] == "Asia/Bangkok"
    today = date.fromisoformat(config["today"])
    d1, d2, d3 = (today - timedelta(days=n) for n in (1, 2, 3))

    # The last 7 days: a, b, c, d (e, ten days ago, is the 7 days before).
    expect(value(page, "conversations")).to_have_text("4")
    expect(card(page, "conversations").get_by_test_id("kpi-change")).to_contain_text("+300.0%")
    expect(value(page, "handoffs")).to_have_text("3")
    expect(value(page, "claimed")).to_have_text("2")
    expect(value(page, "abandoned")).to_have_text("1")
    abandoned_change = card(page, "abandoned").get_by_test_id("kpi-change")  # from none the week before
    expect(abandoned_change).to_contain_text("+1 vs 0")
    expect(abandoned_change).to_have_attribute("data-quality", "bad")
    expect(value(page, "bot_contained")).to_have_text("1")
    # Waits b 3 min, a 20 min: the median is halfway, 11 min 30 s (e's 30 min the week before).
    expect(value(page, "wait_seconds")).to_have_text("11 min 30 s")
    wait_change = card(page, "wait_seconds").get_by_test_id("kpi-change")
    expect(wait_change).to_have_attribute("data-direction", "down")
    expect(wait_change).to_have_attribute("data-quality", "good")
    # p90 of 180 and 1200 s: 180 + 0.9 × 1020 = 1098 s.
    expect(card(page, "wait_seconds")).to_contain_text("median · p90 18 min 18 s · 2 measured")
    expect(value(page, "first_response_seconds")).to_have_text("13 min 30 s")  # 5 min, 22 min
    expect(value(page, "resolution_seconds")).to_have_text("35 min")  # 25, 35, 50 min
    expect(card(page, "resolution_seconds").get_by_test_id("kpi-change")).to_contain_text("vs 1 h")  # e
    expect(value(page, "handle_seconds")).to_have_text("26 min")  # 22, 30 min
    expect(value(page, "transfers")).to_have_text("1")
    expect(value(page, "csat_average")).to_have_text("4.00")  # 5 and 3
    expect(value(page, "csat_satisfied")).to_have_text("50.0%")
    expect(value(page, "csat_response_rate")).to_have_text("100.0%")
    expect(value(page, "fcr_percent")).to_have_text("50.0%")  # b was transferred
    # First response within 5 business minutes: b (5 min) yes; a (09:00–09:12 open) no.
    expect(value(page, "sla_first_response")).to_have_text("50.0%")
    expect(card(page, "sla_first_response").get_by_test_id("kpi-detail")).to_have_text(
        "target 5 min · 1 of 2 met"
    )
    expect(value(page, "sla_resolution")).to_have_text("100.0%")
    expect(card(page, "sla_resolution").get_by_test_id("kpi-detail")).to_have_text("target 24 h · 3 of 3 met")
    # The charts' numbers: a day per row, from 6 days ago to today.
    expect(numbers(page, "trend-conversations")).to_have_text(["0", "0", "0", "2", "1", "1", "0"])
    expect(numbers(page, "trend-wait_p50")).to_have_text(["—", "—", "—", "—", "3 min", "20 min", "—"])
    # Its axis in round times (not Chart.js' own 200 s steps, "3 min 20 s").
    assert ticks(page, "trend-wait_p50") == ["0 s", "5 min", "10 min", "15 min", "20 min"]
    expect(numbers(page, "funnel")).to_have_text(["4", "3", "2", "2", "2", "2"])
    expect(numbers(page, "csat-distribution")).to_have_text(["0", "0", "1", "0", "1"])
    expect(numbers(page, "line-cost")).to_have_text(["3", "1"])  # replies, pushes
    heat = page.get_by_test_id("heatmap-cell")
    expect(heat).to_have_count(168)
    for day, hour in ((d1, 8), (d2, 10), (d3, 17)):
        cell = f"[data-testid=heatmap-cell][data-weekday='{day.weekday()}'][data-hour='{hour}']"
        expect(page.locator(cell)).to_have_text("1")
    assert sum(int(text) for text in heat.all_text_contents()) == 3
    rows = page.get_by_test_id("operator-row")  # rank, name, claimed, closed, medians, CSAT
    expect(rows).to_have_count(2)
    # One claim each (b's first claim was Nok's, though it went on to Somchai): by name.
    expect(rows.nth(0).locator("th")).to_have_text("Nok")
    expect(rows.nth(0).locator("td")).to_have_text(["1", "1", "1", "3 min", "5 min", "22 min", "3.00", "1"])
    expect(rows.nth(1).locator("td")).to_have_text(["2", "1", "1", "20 min", "22 min", "30 min", "5.00", "1"])
    page.screenshot(path=artifacts / "analytics-real-1-week.png", full_page=True)

    # 30 days: e and f join; the waits are 3, 20 and 30 min.
    page.get_by_test_id("preset-30d").click()
    expect(page).to_have_url(re.compile(r"\?preset=30d$"))
    expect(value(page, "conversations")).to_have_text("6")
    expect(value(page, "handoffs")).to_have_text("4")
    expect(value(page, "bot_contained")).to_have_text("2")
    expect(value(page, "wait_seconds")).to_have_text("20 min")
    expect(numbers(page, "line-cost")).to_have_text(["3", "2"])
    expect(rows.nth(0).locator("th")).to_have_text("Somchai")  # now the most claimed: a and e
    expect(rows.nth(0).locator("td").nth(3)).to_have_text("25 min")  # the median of 20 and 30

    # Business hours only (09:00–18:00): a waited 09:00–09:10 of its 20 min; counts stay.
    page.get_by_test_id("business-hours-toggle").check()
    expect(page).to_have_url(re.compile(r"\?preset=30d&business_hours=1$"))
    expect(value(page, "wait_seconds")).to_have_text("10 min")
    expect(value(page, "conversations")).to_have_text("6")

    # Back to 7 days, still business hours: waits 3 and 10 min; c's resolution only 17:55–18:00.
    page.get_by_test_id("preset-7d").click()
    expect(value(page, "conversations")).to_have_text("4")
    expect(value(page, "wait_seconds")).to_have_text("6 min 30 s")
    expect(value(page, "resolution_seconds")).to_have_text("25 min")  # 5, 25, 40 min
    page.screenshot(path=artifacts / "analytics-real-2-week-business-hours.png", full_page=True)

    # Thai: the same period and switch, the figures in Thai.
    page.get_by_test_id("language-th").click()
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page).to_have_url(re.compile(r"/analytics/\?preset=7d&business_hours=1$"))
    expect(card(page, "wait_seconds").locator("h3")).to_have_text("เวลารอก่อนมีคนรับเรื่อง")
    expect(value(page, "wait_seconds")).to_have_text("6 นาที 30 วินาที")
    expect(value(page, "conversations")).to_have_text("4")
    expect(card(page, "sla_first_response").get_by_test_id("kpi-detail")).to_have_text(
        "เป้าหมาย 5 นาที · ทันเวลา 1 จาก 2"
    )
    csv_link = page.get_by_test_id("download-csv")
    expect(csv_link).to_have_text("ดาวน์โหลด CSV")
    page.screenshot(path=artifacts / "analytics-real-3-thai.png", full_page=True)

    # The CSV of what is on the page: the 7 days, durations in business hours.
    with page.expect_download() as download:
        csv_link.click()
    assert download.value.suggested_filename == f"conversations-{today - timedelta(days=6)}-{today}.csv"
    body = Path(download.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert table[0] == list(HEADER)
    assert ",".join(table[0]) == (
        "conversation_id,created_at,status,contact_name,operator,handoff_requested_at,claimed_at,"
        "first_response_at,closed_at,close_reason,wait_seconds,first_response_seconds,"
        "resolution_seconds,handle_seconds,transfers,csat_rating,labels"
    )
    ids = desk.ids
    assert table[1:] == [
        [
            str(ids["a"]), local(d1, 8, 40), "closed", "คุณมานี", "Somchai", local(d1, 8, 50),
            local(d1, 9, 10), local(d1, 9, 12), local(d1, 9, 40), "resolved",
            "600.0", "720.0", "2400.0", "1800.0", "0", "5", "billing;vip",
        ],
        [
            str(ids["b"]), local(d2, 10, 0), "closed", "Wichai", "Nok", local(d2, 10, 5),
            local(d2, 10, 8), local(d2, 10, 10), local(d2, 10, 30), "resolved",
            "180.0", "300.0", "1500.0", "1320.0", "1", "3", "",
        ],
        [
            str(ids["c"]), local(d3, 17, 50), "closed", "Somsri", "", local(d3, 17, 55),
            "", "", local(d3, 18, 30), "customer left",
            "", "", "300.0", "", "0", "", "",
        ],
        [
            str(ids["d"]), local(d3, 12, 0), "bot", "คุณต้น", "", "",
            "", "", "", "",
            "", "", "", "", "0", "", "",
        ],
    ]  # fmt: skip

    # Today: nothing yet. Every section says so without an error; the trends go by the hour.
    page.get_by_test_id("preset-today").click()
    expect(page).to_have_url(re.compile(r"\?preset=today&business_hours=1$"))
    expect(value(page, "conversations")).to_have_text("0")
    expect(card(page, "conversations").get_by_test_id("kpi-change")).to_contain_text(
        "−100.0%"
    )  # a, yesterday
    expect(value(page, "wait_seconds")).to_have_text("—")
    expect(card(page, "wait_seconds").get_by_test_id("kpi-detail")).to_have_text("ยังไม่มีข้อมูล")
    expect(card(page, "sla_first_response").get_by_test_id("kpi-detail")).to_have_text(
        "เป้าหมาย 5 นาที · ทันเวลา 0 จาก 0"
    )
    expect(numbers(page, "trend-conversations")).to_have_count(24)
    expect(numbers(page, "trend-conversations")).to_have_text(["0"] * 24)
    assert ticks(page, "trend-wait_p50") == ["0 วินาที", "1 นาที"]  # not "0 s, 0 s, 1 s, 1 s"
    assert ticks(page, "trend-csat_average")[-1] == "5.00"  # a rating's scale, even empty
    expect(numbers(page, "funnel")).to_have_text(["0"] * 6)
    expect(numbers(page, "csat-distribution")).to_have_text(["0"] * 5)
    expect(numbers(page, "line-cost")).to_have_text(["0", "0"])
    assert sum(int(text) for text in heat.all_text_contents()) == 0
    expect(page.get_by_test_id("operators-empty")).to_have_text("ไม่มีการรับเรื่องในช่วงเวลานี้")
    expect(page.get_by_test_id("live-badge")).to_be_visible()
    with page.expect_download() as download:
        csv_link.click()
    assert Path(download.value.path()).read_bytes() == ("\ufeff" + ",".join(HEADER) + "\r\n").encode()
    page.screenshot(path=artifacts / "analytics-real-4-today-empty.png", full_page=True)
    assert errors == []
