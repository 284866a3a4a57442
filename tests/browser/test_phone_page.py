"""The phone page in a real browser, against a real daphne server (see conftest.py)."""

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ACCESS_TOKEN = "simulator-access-token"  # what the server's simulator accepts with no credentials set


def own_errors(errors: list[str]) -> list[str]:
    """Errors the page caused itself (LINE's sticker CDN is unreachable offline: that is fine)."""
    return [e for e in errors if "Failed to load resource" not in e]


def push(live_daphne: Any, user_id: str, *messages: dict[str, Any]) -> None:
    """What the app would push, sent straight to the server's simulated Messaging API."""
    httpx.post(
        f"{live_daphne.url}/simulator/line-api/v2/bot/message/push",
        json={"to": user_id, "messages": list(messages)},
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
    ).raise_for_status()


def test_a_new_customer_asks_for_a_human_and_sees_their_place_in_the_queue(
    live_daphne, page, page_errors, artifacts
):
    page.goto(f"{live_daphne.url}/simulator/")
    page.get_by_test_id("user-name-input").fill("คุณแพรวา")
    page.get_by_test_id("create-user").click()
    tab = page.get_by_test_id("user-tab")
    expect(tab).to_have_count(1)
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(tab).to_have_attribute("data-user-id", re.compile(r"^U[0-9a-f]{32}$"))

    page.get_by_test_id("composer-input").fill("agent")
    page.get_by_test_id("send-button").click()

    mine = page.locator("[data-testid=bubble][data-from=user]")
    expect(mine).to_have_text(["agent"])
    expect(mine).to_have_attribute("data-state", "sent")
    answer = page.locator("[data-testid=bubble][data-from=oa]")
    expect(answer).to_have_count(2, timeout=15_000)  # the welcome (creating the user follows the OA)
    expect(answer.filter(has_text="ยินดีต้อนรับ")).to_have_count(1)
    expect(answer.filter(has_text="ลำดับที่ 1")).to_contain_text("number 1 in the queue")
    expect(page.get_by_test_id("composer-input")).to_have_value("")

    page.screenshot(path=artifacts / "phone-page.png")
    assert own_errors(page_errors) == []


def test_cards_quick_replies_media_and_tabs(live_daphne, page, page_errors, artifacts):
    page.goto(f"{live_daphne.url}/simulator/?user=U{'c0ffee' * 5}ab&name=Somchai")
    user_id = f"U{'c0ffee' * 5}ab"
    expect(page.get_by_test_id("user-tab")).to_have_attribute("data-user-id", user_id)
    page.get_by_test_id("follow").click()
    oa = page.locator("[data-testid=bubble][data-from=oa]")
    expect(oa.first).to_contain_text("ยินดีต้อนรับ", timeout=15_000)  # the welcome, as a reply

    push(
        live_daphne,
        user_id,
        {
            "type": "flex",
            "altText": "Order #1024",
            "contents": {
                "type": "bubble",
                "body": {
                    "type": "box",
                    "layout": "vertical",
                    "spacing": "sm",
                    "contents": [
                        {"type": "text", "text": "คำสั่งซื้อ #1024", "weight": "bold", "size": "lg"},
                        {"type": "text", "text": "Shipped · ส่งแล้ว", "color": "#06c755", "size": "sm"},
                    ],
                },
                "footer": {
                    "type": "box",
                    "layout": "vertical",
                    "contents": [
                        {
                            "type": "button",
                            "style": "primary",
                            "action": {"type": "message", "label": "Track my order", "text": "track 1024"},
                        }
                    ],
                },
            },
        },
        {
            "type": "text",
            "text": "ให้ช่วยอะไรดีคะ?\nHow can we help?",
            "quickReply": {
                "items": [
                    {
                        "type": "action",
                        "action": {
                            "type": "postback",
                            "label": "คุยกับเจ้าหน้าที่",
                            "data": "action=handoff",
                            "displayText": "คุยกับเจ้าหน้าที่",
                        },
                    },
                    {"type": "action", "action": {"type": "message", "label": "Hours", "text": "hours"}},
                ]
            },
        },
    )
    expect(oa.nth(1)).to_contain_text("คำสั่งซื้อ #1024")
    expect(oa.nth(1).get_by_role("button", name="Track my order")).to_be_visible()
    expect(oa.nth(2)).to_have_text("ให้ช่วยอะไรดีคะ?\nHow can we help?")
    chips = page.get_by_test_id("quick-reply")
    expect(chips).to_have_text(["คุยกับเจ้าหน้าที่", "Hours"])
    page.screenshot(path=artifacts / "phone-page-cards.png")

    chips.first.click()  # a postback with displayText: drawn as the customer's message, not sent
    mine = page.locator("[data-testid=bubble][data-from=user]")
    expect(mine.last).to_have_text("คุยกับเจ้าหน้าที่")
    expect(chips).to_have_count(0)  # quick replies go away once the customer answers
    expect(oa.last).to_contain_text(re.compile(r"ลำดับที่ \d+"), timeout=15_000)  # the session's queue

    oa.nth(1).get_by_role("button", name="Track my order").click()  # a Flex button's message action
    expect(mine.last).to_have_text("track 1024")

    page.get_by_test_id("sticker-picker").click()
    page.get_by_test_id("sticker-option").nth(4).click()
    page.get_by_test_id("send-image").click()
    page.get_by_test_id("send-location").click()
    expect(mine).to_have_count(5)
    expect(mine.nth(2)).to_have_attribute("data-type", "sticker")
    expect(mine.nth(3).locator("img")).to_have_js_property("naturalWidth", 360)  # the stored PNG, served back
    expect(mine.nth(4)).to_contain_text("สยามพารากอน")
    expect(page.locator("[data-testid=bubble][data-from=user][data-state=sent]")).to_have_count(5)

    page.get_by_test_id("user-name-input").fill("Nok")
    page.get_by_test_id("create-user").click()
    tabs = page.get_by_test_id("user-tab")
    expect(tabs).to_have_count(2)
    expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("bubble")).to_have_count(0)  # Nok's own, empty chat
    tabs.first.click()
    expect(mine).to_have_count(5)  # Somchai's chat is all still there

    page.reload()  # tabs and the customer's own messages survive a reload
    expect(tabs).to_have_count(2)
    expect(page.locator("[data-testid=bubble][data-from=user]")).to_have_count(5)

    page.screenshot(path=artifacts / "phone-page-tabs.png")
    assert own_errors(page_errors) == []
