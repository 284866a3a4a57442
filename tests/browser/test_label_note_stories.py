"""Labels and private notes as the team lives them, in a real browser against a real daphne (the
console stories' cluster: its own database, the LINE simulator on the same server).

1. An operator writes a private note naming a colleague: it appears in the colleague's console at
   once (with a notification), and the customer — on the simulator's phone — never receives it.
   The operator also keeps notes and a customer number on the customer, which the colleague sees.
2. A supervisor creates a label on the settings page, labels a conversation from the console and
   filters the list by that label.
Each story ends with a screenshot in test-artifacts/.
"""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_console_stories as stories
from tests.browser.test_console_stories import (
    CONTROL,
    Cluster,
    Person,
    claim,
    customer,
    messages,
    no_page_errors,
    oa_bubbles,
    open_in_tab,
    open_page,
    operator,
    reply,
    row,
    say,
)

pytestmark = pytest.mark.browser

# The console stories' fixtures: their server (a module of its own here) and the pages opened.
cluster = stories.cluster
people = stories.people


def supervisor(browser: Any, people: list[Person], cluster: Cluster) -> Page:
    """Malee, a supervisor, signed in to the console (her account made on first use)."""
    cluster.manage(
        "shell",
        "-c",
        "from accounts.models import User\n"
        "User.objects.filter(username='malee').exists() or User.objects.create_user(username='malee',"
        " password='pw-malee', display_name='Malee', role='supervisor', is_staff=True)\n",
    )
    page = open_page(browser, people).page
    page.goto(f"{cluster.url}/console/")
    page.get_by_test_id("login-username").fill("malee")
    page.get_by_test_id("login-password").fill("pw-malee")
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/console/"))
    expect(page.get_by_test_id("connection-badge")).to_have_attribute("data-state", "live")
    return page


def texts_line_received(cluster: Cluster, user_id: str) -> list[str]:
    calls = httpx.get(
        f"{cluster.url}/simulator/control/calls", params={"user_id": user_id}, headers=CONTROL
    ).json()["calls"]
    return [m.get("text", "") for c in calls for m in (c["body"] or {}).get("messages", [])]


def test_story_1_a_private_note_reaches_a_colleague_live_and_never_the_customer(
    cluster: Cluster,
    browser: Any,
    people: list[Person],
    artifacts: Path,
) -> None:
    a = operator(browser, people, cluster, "somchai")
    b = operator(browser, people, cluster, "nok")
    phone, user_id = customer(browser, people, cluster.url, "คุณนงลักษณ์")
    say(phone, "agent")
    claim(a, "คุณนงลักษณ์")
    open_in_tab(b, "open", "คุณนงลักษณ์")  # B watches the conversation
    reply(a, "สวัสดีค่ะ ยินดีให้บริการค่ะ")
    expect(oa_bubbles(phone, "ยินดีให้บริการค่ะ")).to_have_count(1, timeout=20_000)

    note = "@Nok ลูกค้ารายนี้เคยขอคืนเงินแล้ว ช่วยตรวจสอบด้วย"
    a.get_by_test_id("note-input").fill(note)
    a.get_by_test_id("note-add").click()

    # Both consoles show it in the timeline, after the reply and marked private.
    for console in (a, b):
        shown = console.get_by_test_id("private-note").filter(has_text="ลูกค้ารายนี้เคยขอคืนเงินแล้ว")
        expect(shown).to_have_count(1)
        expect(shown).to_contain_text("บันทึกภายใน")
        expect(console.get_by_test_id("message-list").locator("li").last).to_contain_text(
            "ลูกค้ารายนี้เคยขอคืนเงินแล้ว"
        )
    expect(a.get_by_test_id("note-input")).to_have_value("")
    # B was named: B's console says so.
    expect(b.get_by_test_id("toast").filter(has_text="Somchai แท็กคุณในบันทึกภายใน")).to_be_visible()

    # A later reply reaches the customer; the note never did.
    reply(a, "รอสักครู่นะคะ")
    expect(oa_bubbles(phone, "รอสักครู่นะคะ")).to_have_count(1, timeout=20_000)
    expect(phone.locator("[data-testid=bubble]", has_text="ลูกค้ารายนี้เคยขอคืนเงินแล้ว")).to_have_count(0)
    sent = texts_line_received(cluster, user_id)
    assert "รอสักครู่นะคะ" in sent and not any("เคยขอคืนเงิน" in text for text in sent)
    expect(messages(b, sender="operator", text="รอสักครู่นะคะ")).to_have_count(1)

    # The holder keeps notes and a customer number on the customer: B sees them at once, read-only.
    a.get_by_test_id("contact-notes").fill("ลูกค้าประจำ ชอบให้ติดต่อทางแชท")
    a.get_by_test_id("add-custom-field").click()
    a.get_by_test_id("custom-field-key").fill("หมายเลขลูกค้า")
    a.get_by_test_id("custom-field-value").fill("C-1042")
    a.get_by_test_id("contact-save").click()
    expect(a.get_by_test_id("toast").filter(has_text="บันทึกข้อมูลลูกค้าแล้ว")).to_be_visible()
    expect(b.get_by_test_id("contact-notes")).to_have_value("ลูกค้าประจำ ชอบให้ติดต่อทางแชท")
    expect(b.get_by_test_id("custom-field-key")).to_have_value("หมายเลขลูกค้า")
    expect(b.get_by_test_id("custom-field-value")).to_have_value("C-1042")
    expect(b.get_by_test_id("contact-save")).to_be_hidden()

    # Reopened later, the note is still in its place, and so are the customer's details.
    b.reload()
    expect(b.get_by_test_id("private-note").filter(has_text="ลูกค้ารายนี้เคยขอคืนเงินแล้ว")).to_have_count(1)
    expect(b.get_by_test_id("custom-field-value")).to_have_value("C-1042")
    a.screenshot(path=artifacts / "label-note-story-1-a-wrote-a-note.png")
    b.screenshot(path=artifacts / "label-note-story-1-b-sees-the-note.png")
    phone.screenshot(path=artifacts / "label-note-story-1-phone-without-the-note.png")
    no_page_errors(people)


def test_story_2_a_supervisor_labels_a_conversation_and_filters_the_list_by_it(
    cluster: Cluster,
    browser: Any,
    people: list[Person],
    artifacts: Path,
) -> None:
    for name in ("คุณวิภา", "คุณธนา"):
        phone, _ = customer(browser, people, cluster.url, name)
        say(phone, "agent")
    malee = supervisor(browser, people, cluster)

    malee.goto(f"{cluster.url}/console/settings/labels/")
    malee.get_by_test_id("label-form").get_by_label("ชื่อ").fill("คืนเงิน")
    malee.locator("#id_colour").fill("#dc2626")
    malee.get_by_test_id("add-label").click()
    expect(malee.get_by_test_id("settings-messages")).to_contain_text("เพิ่มป้ายกำกับแล้ว")
    expect(malee.get_by_test_id("label")).to_have_attribute("data-name", "คืนเงิน")
    malee.screenshot(path=artifacts / "label-note-story-2-settings.png")

    malee.goto(f"{cluster.url}/console/")
    open_in_tab(malee, "open", "คุณวิภา")
    malee.get_by_test_id("labels-button").click()
    malee.get_by_test_id("label-picker").get_by_text("คืนเงิน").click()
    expect(malee.get_by_test_id("chat-labels").get_by_test_id("label-chip")).to_have_text("คืนเงิน")
    expect(row(malee, "คุณวิภา").get_by_test_id("label-chip")).to_have_text("คืนเงิน")
    expect(row(malee, "คุณธนา")).to_have_count(1)

    malee.get_by_test_id("label-filter").select_option(label="คืนเงิน")
    expect(row(malee, "คุณวิภา")).to_have_count(1)
    expect(row(malee, "คุณธนา")).to_have_count(0)
    malee.screenshot(path=artifacts / "label-note-story-2-filtered.png")

    # Another console sees the label live, and the filter is only a view: clearing it brings all back.
    nok = operator(browser, people, cluster, "nok")
    nok.get_by_test_id("tab-open").click()
    expect(row(nok, "คุณวิภา").get_by_test_id("label-chip")).to_have_text("คืนเงิน")
    malee.get_by_test_id("label-filter").select_option(value="")
    expect(row(malee, "คุณธนา")).to_have_count(1)
    no_page_errors(people)
