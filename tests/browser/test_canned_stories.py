"""A browser story: an operator types "/", sees a canned response filled in for the open
conversation, picks it, and the customer's phone (the LINE simulator) gets the filled-in text with
its quick reply buttons."""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import test_console_stories as stories
from tests.browser.test_console_stories import (
    Cluster,
    Person,
    claim,
    customer,
    no_page_errors,
    oa_bubbles,
    operator,
    say,
)

# The console stories' servers and pages, shared rather than copied.
cluster = stories.cluster
people = stories.people

pytestmark = pytest.mark.browser

GREETING = "สวัสดีค่ะ คุณ{customer_name} ดิฉัน {operator_name} ยินดีให้บริการค่ะ"


def test_an_operator_picks_a_canned_response_and_the_customer_gets_it_filled_in(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    cluster.manage(
        "shell",
        "-c",
        "from livechat.models import CannedResponse\n"
        "CannedResponse.objects.get_or_create(owner=None, shortcut='greet', defaults={"
        f"'title': 'ทักทายลูกค้า', 'text': {GREETING!r},"
        " 'quick_replies': [{'label': 'สอบถามสินค้า', 'text': 'สอบถามสินค้าค่ะ'}]})\n"
        "CannedResponse.objects.get_or_create(owner=None, shortcut='bye', defaults={"
        "'title': 'สติกเกอร์ลาก่อน', 'text': '', 'sticker_package_id': '446', 'sticker_id': '1989'})\n",
    )
    a = operator(browser, people, cluster, "somchai")
    phone, _ = customer(browser, people, cluster.url, "แก้วตา")
    say(phone, "คุยกับเจ้าหน้าที่")
    claim(a, "แก้วตา")

    # "/" and a piece of the Thai title: the picker shows the text as แก้วตา will get it.
    box = a.get_by_test_id("composer-input")
    box.press_sequentially("/ทักทาย")
    filled = "สวัสดีค่ะ คุณแก้วตา ดิฉัน Somchai ยินดีให้บริการค่ะ"
    item = a.get_by_test_id("canned-item")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("canned-preview")).to_have_text(filled)
    a.screenshot(path=str(artifacts / "canned-picker-preview.png"))

    box.press("Enter")
    expect(box).to_have_value(filled)
    box.press("Enter")

    expect(oa_bubbles(phone, filled)).to_have_count(1, timeout=20_000)
    expect(phone.get_by_test_id("quick-reply")).to_have_text(["สอบถามสินค้า"])
    phone.screenshot(path=str(artifacts / "canned-customer-phone.png"))
    sent = a.locator("[data-testid=message][data-sender=operator]", has_text=filled)
    expect(sent).to_have_attribute("data-status", "sent")

    # A response of only a sticker: picked and sent as it is.
    box.press_sequentially("/bye")
    expect(a.get_by_test_id("canned-item")).to_have_count(1)
    box.press("Enter")
    box.press("Enter")
    expect(phone.locator("[data-testid=bubble][data-from=oa][data-type=sticker]")).to_have_count(
        1, timeout=20_000
    )
    sticker = a.locator("[data-testid=message][data-sender=operator][data-type=sticker]")
    expect(sticker).to_have_attribute("data-status", "sent")
    no_page_errors(people)


def test_an_operator_keeps_their_own_canned_response_and_is_told_about_an_unknown_variable(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    a = operator(browser, people, cluster, "nok")
    a.get_by_test_id("canned-settings-link").click()
    expect(a.get_by_test_id("settings-page")).to_have_attribute("data-section", "canned")

    form = a.get_by_test_id("canned-form")
    form.locator("[name=shortcut]").fill("track")
    form.locator("[name=title]").fill("เลขพัสดุ")
    form.locator("[name=text]").fill("คุณ{name} เลขพัสดุคือ TH123")
    form.locator("[name=quick_replies_text]").fill("ขอบคุณค่ะ\nติดตามพัสดุ | ขอลิงก์ติดตามพัสดุ")
    a.get_by_test_id("save").click()
    expect(a.locator(".errorlist")).to_contain_text("{name}")
    a.screenshot(path=str(artifacts / "canned-settings-unknown-variable.png"), full_page=True)

    form.locator("[name=text]").fill("คุณ{customer_name} เลขพัสดุคือ TH123")
    a.get_by_test_id("save").click()
    mine = a.locator("[data-testid=canned-row][data-shortcut=track]")
    expect(mine).to_have_attribute("data-shared", "false")
    expect(mine).to_contain_text("2")  # its two quick replies
    a.screenshot(path=str(artifacts / "canned-settings-saved.png"), full_page=True)
    no_page_errors(people)
