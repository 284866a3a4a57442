"""The console on a phone, text anyone can read, and the CSAT survey lived on a phone.

Same servers as the console stories (a real daphne with the LINE simulator; PostgreSQL and Redis
when DATABASE_URL / REDIS_URL say so), a database of this module's own. Operators hold a phone
(390×844, an iPhone 12–15) or a desk screen; customers use the simulator's phone page. Screenshots
of each pane go to test-artifacts/.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.test_console_stories import (
    Cluster,
    Person,
    claim,
    customer,
    messages,
    no_page_errors,
    oa_bubbles,
    open_page,
    operator,
    reply,
    row,
    say,
    story_cluster,
)

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
# Not the console stories' Redis database: both modules may run at once on a developer's machine.
REDIS_DB = "/12"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # The supervisors asked for a rating when a chat closes (CSAT); set before the server starts.
    csat_on = (
        "from livechat.models import ServiceSettings\n"
        "ServiceSettings.objects.update_or_create(pk=1, defaults={'csat_enabled': True})\n"
    )
    with story_cluster(tmp_path_factory, "phone-stories", REDIS_DB, setup=(csat_on,)) as servers:
        yield servers


@pytest.fixture
def people(browser: Any) -> Iterator[list[Person]]:
    """Every page a story opens; closed at the end."""
    opened: list[Person] = []
    yield opened
    for person in opened:
        person.page.context.close()


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_an_operator_answers_from_a_phone_one_pane_at_a_time(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    phone, _ = customer(browser, people, cluster.url, "คุณมะลิ")
    say(phone, "คุยกับเจ้าหน้าที่ค่ะ สั่งของไปสามวันแล้วยังไม่ได้รับเลย")

    a = operator(browser, people, cluster, "somchai", **PHONE)
    # The list fills the screen; the chat and the panel wait their turn.
    expect(a.get_by_test_id("conversation-list")).to_be_visible()
    expect(a.get_by_test_id("chat-pane")).to_be_hidden()
    expect(a.get_by_test_id("customer-panel")).to_be_hidden()
    assert page_width(a) <= 390
    a.screenshot(path=artifacts / "phone-console-1-list.png")

    claim(a, "คุณมะลิ")
    # The chat took the whole screen: the list is gone, the composer is in view at the bottom.
    expect(a.get_by_test_id("conversation-list")).to_be_hidden()
    chat = a.get_by_test_id("chat-pane").bounding_box()
    assert chat is not None and chat["width"] == 390
    composer = a.get_by_test_id("composer-input")
    expect(composer).to_be_in_viewport()
    box = a.get_by_test_id("composer").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844
    # The customer's Thai wraps as sentences, not one syllable a line.
    text = messages(a, sender="customer", text="สั่งของไปสามวันแล้ว").last
    assert (text.bounding_box() or {"width": 0})["width"] > 200
    reply(a, "ขออภัยค่ะ ขอเลขคำสั่งซื้อด้วยนะคะ")
    expect(oa_bubbles(phone, "ขอเลขคำสั่งซื้อด้วยนะคะ")).to_have_count(1)
    expect(composer).to_have_value("")
    assert page_width(a) <= 390
    a.screenshot(path=artifacts / "phone-console-2-chat.png")

    # The customer panel is a page of its own, with its way back to the chat.
    a.get_by_test_id("panel-toggle").click()
    expect(a.get_by_test_id("customer-name")).to_have_text("คุณมะลิ")
    expect(a.get_by_test_id("chat-pane")).to_be_hidden()
    assert page_width(a) <= 390
    a.screenshot(path=artifacts / "phone-console-3-panel.png")
    a.get_by_test_id("back-to-chat").click()
    expect(composer).to_be_in_viewport()

    # Back (the page's button, or the browser's) walks back to the list.
    a.get_by_test_id("back-to-list").click()
    expect(a.get_by_test_id("conversation-list")).to_be_visible()
    expect(a.get_by_test_id("chat-pane")).to_be_hidden()
    a.get_by_test_id("tab-mine").click()
    row(a, "คุณมะลิ").click()
    expect(composer).to_be_in_viewport()
    a.go_back()
    expect(a.get_by_test_id("conversation-list")).to_be_visible()
    expect(a.get_by_test_id("chat-pane")).to_be_hidden()
    assert page_width(a) <= 390
    no_page_errors(people)


# The colour and background an element really shows: the first opaque background up the tree,
# with translucent ones blended in on the way; colours as [r, g, b, a].
CONTRAST_JS = """
(selectors) => {
  const rgba = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, below) => {
    const a = top[3] + below[3] * (1 - top[3]);
    if (!a) return [255, 255, 255, 0];
    return [0, 1, 2].map((i) => (top[i] * top[3] + below[i] * below[3] * (1 - top[3])) / a).concat(a);
  };
  const background = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    return layers.reduceRight((below, top) => over(top, below), [255, 255, 255, 1]);
  };
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const found = [];
  for (const selector of selectors) {
    for (const element of document.querySelectorAll(selector)) {
      if (!element.checkVisibility() || !element.textContent.trim()) continue;
      const style = getComputedStyle(element);
      const back = background(element);
      // Text colour with the element's (and its ancestors') opacity, over what is behind it.
      let opacity = 1;
      for (let node = element; node; node = node.parentElement) {
        opacity *= Number(getComputedStyle(node).opacity);
      }
      if (opacity === 0) continue; // not shown until hovered or focused (then at full opacity)
      const fore = over([...rgba(style.color).slice(0, 3), rgba(style.color)[3] * opacity], back);
      const [hi, lo] = [luminance(fore), luminance(back)].sort((x, y) => y - x);
      found.push({
        selector, text: element.textContent.trim().slice(0, 30),
        ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
      });
    }
  }
  return found;
}
"""

# Timestamps, labels, hints and badges: the small print that used to be the faintest.
SMALL_PRINT = [
    ".row-time",
    ".row-preview",
    ".row-meta",
    ".chip",
    ".tab",
    ".tab .count",
    ".badge",
    ".presence h2",
    ".presence li",
    ".message .who",
    ".meta",
    ".day-separator",
    ".history-edge",
    ".chat-sub",
    ".composer-hint",
    ".composer-locked",
    ".panel-body h3",
    ".facts dt",
    ".facts dd",
    ".timeline .when",
    ".timeline li",
    ".muted",
    ".button",
    ".unread",
    ".avatar-initials",
    ".brand",
    ".me",
    ".link-button",
    ".bubble",
]


def test_every_text_in_the_console_reads_at_wcag_aa_contrast(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    phone, _ = customer(browser, people, cluster.url, "Contrast Kanya")
    say(phone, "agent")
    a = operator(browser, people, cluster, "nok")
    claim(a, "Contrast Kanya")
    reply(a, "สวัสดีค่ะ")
    expect(messages(a, sender="operator", text="สวัสดีค่ะ")).to_have_count(1)
    a.get_by_test_id("tab-mine").click()
    expect(row(a, "Contrast Kanya")).to_have_count(1)
    expect(a.locator("[data-testid=timeline-event]").first).to_be_visible()
    measured = a.evaluate(CONTRAST_JS, SMALL_PRINT)
    a.screenshot(path=artifacts / "contrast-console.png")
    a.get_by_test_id("tab-closed").click()
    expect(a.get_by_test_id("list-empty")).to_be_visible()  # "nothing here", in the faint colour
    measured += a.evaluate(CONTRAST_JS, [".list-empty"])
    seen = {m["selector"] for m in measured}
    # The sample really covers the small print (a typo in a selector would pass vacuously).
    for selector in (".row-time", ".meta", ".facts dt", ".timeline .when", ".tab .count", ".list-empty"):
        assert selector in seen, selector
    # The login page, a wrong password's banner included.
    login = open_page(browser, people).page
    login.goto(f"{cluster.url}/console/")
    login.get_by_test_id("login-username").fill("nobody")  # not a team member: no lockout of one
    login.get_by_test_id("login-password").fill("not-the-password")
    login.get_by_test_id("login-submit").click()
    expect(login.locator(".banner-error")).to_be_visible()
    measured += login.evaluate(
        CONTRAST_JS, [".login-card label", ".login-card h1", ".banner", ".button", ".brand"]
    )
    assert ".login-card label" in {m["selector"] for m in measured}
    too_faint = [m for m in measured if m["ratio"] < 4.5]
    assert too_faint == []


# A Thai letter's face really came from the vendored files (no CDN, no system font needed).
THAI_WEBFONT_LOADED = """
async () => {
  await document.fonts.ready;
  return [...document.fonts].some(
    (face) => face.family.replace(/"/g, "") === "Noto Sans Thai" && face.status === "loaded"
      && face.unicodeRange.includes("U+E01-E5B")
  );
}
"""


def test_the_login_page_the_console_and_the_phone_page_render_thai_with_the_vendored_font(
    cluster: Cluster, browser: Any, people: list[Person]
) -> None:
    login = open_page(browser, people, width=390, height=844).page
    login.goto(f"{cluster.url}/console/")
    expect(login.get_by_test_id("login-username")).to_be_visible()
    phone, _ = customer(browser, people, cluster.url, "คุณฟ้า")
    a = operator(browser, people, cluster, "somchai", **PHONE)
    for page in (login, phone, a):
        assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith('"Noto Sans Thai"')
        assert page.evaluate(THAI_WEBFONT_LOADED), page.url
    no_page_errors(people)


def test_a_customer_rates_the_chat_on_their_phone_and_the_operator_reads_it(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    phone, _ = customer(browser, people, cluster.url, "คุณดาว")
    phone.set_viewport_size(PHONE)
    say(phone, "ขอคุยกับเจ้าหน้าที่")
    a = operator(browser, people, cluster, "nok")
    claim(a, "คุณดาว")
    reply(a, "เปลี่ยนที่อยู่จัดส่งให้เรียบร้อยแล้วค่ะ")
    expect(oa_bubbles(phone, "เปลี่ยนที่อยู่จัดส่งให้เรียบร้อยแล้วค่ะ")).to_have_count(1)

    a.get_by_test_id("close-button").click()
    a.get_by_test_id("close-confirm").click()
    expect(a.get_by_test_id("chat-status")).to_have_attribute("data-status", "closed")

    # The survey card arrives on the phone; its buttons are the card's own (quick replies aside).
    card = phone.locator("[data-testid=bubble][data-from=oa]").filter(has_text="Excellent").last
    five = card.get_by_role("button", name=re.compile(r"5 · ดีมาก"))
    expect(five).to_be_visible()
    assert page_width(phone) <= 390
    phone.screenshot(path=artifacts / "phone-csat-1-survey.png")
    five.click()
    expect(phone.locator("[data-testid=bubble][data-from=oa]").last).not_to_contain_text("Excellent")
    answers = phone.locator("[data-testid=bubble][data-from=oa]")
    before = answers.count()  # up to the thanks for the rating
    say(phone, "พนักงานตอบเร็วและสุภาพมากค่ะ")
    expect(answers).to_have_count(before + 1)  # the thanks for the comment
    phone.screenshot(path=artifacts / "phone-csat-2-rated.png")

    # The operator finds the rating and the comment in the customer panel.
    a.get_by_test_id("tab-closed").click()
    row(a, "คุณดาว").click()
    result = a.get_by_test_id("csat-result")
    expect(result).to_be_visible()
    expect(result.locator("[data-role=csat-stars]")).to_have_text("★★★★★")
    expect(result.locator("[data-role=csat-comment]")).to_have_text("พนักงานตอบเร็วและสุภาพมากค่ะ")
    a.screenshot(path=artifacts / "phone-csat-3-console.png")
    no_page_errors(people)
