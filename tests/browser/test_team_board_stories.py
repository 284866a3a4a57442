"""The supervisors' team board as a supervisor lives it, in a real browser: she opens the board,
sees an operator's load and a customer waiting, reassigns an active chat to another operator, and
that operator's console shows it. Same servers as the console stories (their `cluster`: a real
daphne with WebSocket, the LINE simulator, PostgreSQL/Redis when set); screenshots in
test-artifacts/.
"""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_console_stories as stories

pytestmark = pytest.mark.browser

cluster = stories.cluster  # a module-scoped server of this module's own
people = stories.people


def supervisor(browser: Any, people: list[stories.Person], servers: stories.Cluster) -> Page:
    """Malee, a supervisor, signed in; she lands on the console."""
    servers.manage(
        "shell",
        "-c",
        "from accounts.models import User\n"
        "u, _ = User.objects.get_or_create(username='malee', defaults={'role': 'supervisor'})\n"
        "u.display_name = 'Malee'; u.set_password('pw-malee'); u.save()\n",
    )
    page = stories.open_page(browser, people).page
    page.goto(f"{servers.url}/console/")
    page.get_by_test_id("login-username").fill("malee")
    page.get_by_test_id("login-password").fill("pw-malee")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("connection-badge")).to_have_attribute("data-state", "live")
    return page


def member_row(board: Page, name: str) -> Any:
    return board.locator("[data-testid=team-member]", has_text=name)


def test_a_supervisor_sees_the_load_and_the_queue_and_reassigns_a_chat(
    cluster: stories.Cluster, browser: Any, people: list[stories.Person], artifacts: Path
) -> None:
    somchai = stories.operator(browser, people, cluster, "somchai")
    nok = stories.operator(browser, people, cluster, "nok")
    first, _ = stories.customer(browser, people, cluster.url, "คุณมานี")
    stories.say(first, "คุยกับเจ้าหน้าที่")
    stories.claim(somchai, "คุณมานี")
    second, _ = stories.customer(browser, people, cluster.url, "คุณวิชัย")
    stories.say(second, "agent")
    expect(stories.row(somchai, "คุณวิชัย")).to_have_count(1)  # waiting in the queue

    malee = supervisor(browser, people, cluster)
    malee.get_by_test_id("team-link").click()
    expect(malee).to_have_url(re.compile(r"/console/team/$"))

    # Somchai holds one chat of five, online; the customer who asked second waits in the queue.
    expect(member_row(malee, "Somchai")).to_have_attribute("data-status", "online")
    expect(member_row(malee, "Somchai").get_by_test_id("load")).to_have_text("1 / 5")
    expect(member_row(malee, "Nok").get_by_test_id("load")).to_have_text("0 / 5")
    expect(malee.locator("[data-testid=queue-entry]", has_text="คุณวิชัย")).to_have_count(1)
    active = malee.locator("[data-testid=active-entry]", has_text="คุณมานี")
    expect(active.get_by_test_id("holder")).to_have_text("Somchai")
    malee.screenshot(path=artifacts / "team-board-story-before-reassign.png", full_page=True)

    nok_id = member_row(malee, "Nok").get_attribute("data-operator-id")
    assert nok_id
    active.get_by_test_id("reassign-target").select_option(nok_id)
    active.get_by_test_id("reassign-button").click()

    # The board follows, and Nok's console shows the chat under Mine, from the supervisor.
    expect(active.get_by_test_id("holder")).to_have_text("Nok")
    expect(member_row(malee, "Nok").get_by_test_id("load")).to_have_text("1 / 5")
    expect(member_row(malee, "Somchai").get_by_test_id("load")).to_have_text("0 / 5")
    nok.get_by_test_id("tab-mine").click()
    expect(stories.row(nok, "คุณมานี")).to_have_count(1)
    stories.row(nok, "คุณมานี").click()
    expect(nok.get_by_test_id("composer")).to_be_visible()
    expect(nok.locator("[data-testid=timeline-event][data-kind=transferred]")).to_contain_text("Malee")
    expect(somchai.get_by_test_id("composer")).to_be_hidden()  # no longer his
    malee.screenshot(path=artifacts / "team-board-story-after-reassign.png", full_page=True)
    nok.screenshot(path=artifacts / "team-board-story-nok-console.png")

    # The audit log has it too: the reassign, by Malee, from Somchai's hands to Nok's.
    malee.get_by_test_id("audit-link").click()
    transferred = malee.locator("[data-testid=audit-entry][data-kind='conversation:transferred']")
    expect(transferred.first).to_contain_text("Malee")
    expect(transferred.first).to_contain_text("คุณมานี")
    expect(transferred.first).to_contain_text("(Nok)")
    malee.screenshot(path=artifacts / "team-board-story-audit-log.png", full_page=True)
    stories.no_page_errors(people)
