"""The operator console as operators and customers live it: five user stories in a real browser.

The server is a real daphne (WebSocket!) started here on a free port, with its own database
(PostgreSQL when DATABASE_URL is one — created, migrated and dropped here — else a SQLite file)
and REDIS_URL when set, the LINE simulator on and the app's Messaging API calls pointed at the
server itself. Customers act on the simulator's phone page (/simulator/); operators in
/console/. Story 4 stops that server mid-conversation and starts it again, while a second daphne
on the same database keeps serving the customer. Each story ends with assertions on what the
pages show and a screenshot in test-artifacts/.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.processes import ROOT, flush_redis, free_port, run_manage, wait_until_up

# The cluster's simulator answers its control endpoints to this token (DEBUG is off there).
CONTROL_TOKEN = "console-stories-control"
CONTROL = {"X-Simulator-Control-Token": CONTROL_TOKEN}

pytestmark = pytest.mark.browser

BIN = Path(sys.executable).parent
OPERATORS = {"somchai": "Somchai", "nok": "Nok"}
LOCALE = ROOT / "locale" / "th" / "LC_MESSAGES"


# --- The servers --------------------------------------------------------------------------------


@dataclass
class Daphne:
    """One daphne process; it can be stopped and started again on the same port."""

    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**self.env, "LINE_API_BASE_URL": f"{self.url}/simulator/line-api"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(self.url, self.process, self.log)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@dataclass
class Cluster:
    primary: Daphne
    env: dict[str, str]
    home: Path
    secondary: Daphne | None = None
    # What each of story_cluster's `setup` snippets printed, in order.
    setup_output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.primary.url

    def manage(self, *args: str) -> str:
        return run_manage(self.env, *args)

    def start_secondary(self) -> Daphne:
        """A second process on the same database (and Redis, when there is one)."""
        if self.secondary is None:
            self.secondary = Daphne(free_port(), self.env, self.home / "daphne-2.log")
            self.secondary.start()
        return self.secondary


def _postgres_admin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl(), parts.path.lstrip("/")


def _recreate_database(url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    admin, _ = _postgres_admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@contextmanager
def story_cluster(
    tmp_path_factory: pytest.TempPathFactory, name: str, redis_db: str, setup: tuple[str, ...] = ()
) -> Iterator[Cluster]:
    """A daphne (and its database, Redis db and team) of a story module's own; `setup` are Python
    snippets run by `manage.py shell` before the server starts (e.g. a setting the story needs).

    Each module has its own PostgreSQL database and Redis db, so two story modules may run at
    once on a developer's machine."""
    home = tmp_path_factory.mktemp(name)
    base_url = os.environ.get("DATABASE_URL", "")
    postgres_name = ""
    if base_url.startswith(("postgres://", "postgresql://")):
        _, base_name = _postgres_admin(base_url)
        postgres_name = f"{base_name}_{name.replace('-', '_')}"[:63]
        _recreate_database(base_url, postgres_name)
        database_url = urlsplit(base_url)._replace(path=f"/{postgres_name}").geturl()
    else:
        database_url = f"sqlite:///{home / 'stories.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LINE_", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.browser.server_settings",
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "HTTPS_ONLY": "0",
            "SIMULATOR_CONTROL_TOKEN": CONTROL_TOKEN,
            "SECRET_KEY": f"{name}-secret",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LINE_SIMULATOR": "1",
            "STATIC_ROOT": str(home / "static"),
            "MEDIA_ROOT": str(home / "media"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if os.environ.get("REDIS_URL"):
        # A Redis database of its own: the in-process tests flush theirs before every test, and
        # the stories' presence and cache must outlive those flushes (and start empty).
        env["REDIS_URL"] = urlsplit(os.environ["REDIS_URL"])._replace(path=redis_db).geturl()
        flush_redis(env["REDIS_URL"])
    primary = Daphne(free_port(), env, home / "daphne-1.log")
    servers = Cluster(primary=primary, env=env, home=home)
    servers.manage("migrate", "--noinput", "-v0")
    servers.manage("collectstatic", "--noinput", "-v0")
    team = ", ".join(f"({u!r}, {n!r})" for u, n in OPERATORS.items())
    servers.manage(
        "shell",
        "-c",
        "from accounts.models import User\n"
        f"for username, name in [{team}]:\n"
        "    User.objects.create_user(username=username, password='pw-' + username, display_name=name,"
        " role='operator', is_staff=True)\n",
    )
    for snippet in setup:
        servers.setup_output.append(servers.manage("shell", "-c", snippet))
    primary.start()
    try:
        yield servers
    finally:
        primary.stop()
        if servers.secondary is not None:
            servers.secondary.stop()
        if postgres_name:
            _recreate_database(base_url, postgres_name, drop_only=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with story_cluster(tmp_path_factory, "console-stories", "/2") as servers:
        yield servers


# --- People -------------------------------------------------------------------------------------


@dataclass
class Person:
    page: Page
    errors: list[str]

    def own_errors(self) -> list[str]:
        # LINE's sticker CDN is unreachable from the test machine; a stopped server refuses.
        return [e for e in self.errors if "Failed to load resource" not in e and "ERR_CONNECTION" not in e]


@pytest.fixture
def people(browser: Any) -> Iterator[list[Person]]:
    """Every page a story opens; closed (and checked for page errors) at the end."""
    opened: list[Person] = []
    yield opened
    for person in opened:
        person.page.context.close()


def open_page(
    browser: Any, people: list[Person], *, width: int = 1440, height: int = 900, locale: str = "th-TH"
) -> Person:
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    context.set_default_timeout(15_000)
    page = context.new_page()
    person = Person(page, [])

    def record_error(message: ConsoleMessage) -> None:
        if message.type == "error":
            person.errors.append(message.text)

    page.on("console", record_error)
    page.on("pageerror", lambda e: person.errors.append(f"uncaught: {e}"))
    people.append(person)
    return person


def operator(browser: Any, people: list[Person], cluster: Cluster, username: str, **kw: Any) -> Page:
    """An operator signed in to the console, its socket live."""
    page = open_page(browser, people, **kw).page
    page.goto(f"{cluster.url}/console/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(f"pw-{username}")
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/console/"))
    expect(page.get_by_test_id("connection-badge")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("presence-list")).to_contain_text(OPERATORS[username])
    return page


def customer(browser: Any, people: list[Person], base_url: str, name: str) -> tuple[Page, str]:
    """A LINE user on the simulator's phone page."""
    user_id = "U" + secrets.token_hex(16)
    page = open_page(browser, people, width=420, height=860).page
    page.goto(f"{base_url}/simulator/?user={user_id}&name={quote(name)}")
    expect(page.get_by_test_id("composer-input")).to_be_visible()
    return page, user_id


def say(phone: Page, text: str) -> None:
    phone.get_by_test_id("composer-input").fill(text)
    phone.get_by_test_id("send-button").click()
    mine = phone.locator("[data-testid=bubble][data-from=user]", has_text=text)
    expect(mine.last).to_have_attribute("data-state", "sent")


def row(page: Page, name: str) -> Any:
    return page.locator("[data-testid=conversation-row]", has_text=name)


def claim(page: Page, name: str) -> None:
    page.get_by_test_id("tab-queue").click()
    row(page, name).click()
    expect(page.get_by_test_id("chat-title")).to_have_text(name)
    page.get_by_test_id("claim-button").click()
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-status", "active")
    expect(page.get_by_test_id("composer")).to_be_visible()


def open_in_tab(page: Page, tab: str, name: str) -> None:
    page.get_by_test_id(f"tab-{tab}").click()
    row(page, name).click()
    expect(page.get_by_test_id("chat-title")).to_have_text(name)


def messages(page: Page, *, sender: str, text: str) -> Any:
    return page.locator(f"[data-testid=message][data-sender={sender}]", has_text=text)


def reply(page: Page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")


def oa_bubbles(phone: Page, text: str) -> Any:
    return phone.locator("[data-testid=bubble][data-from=oa]", has_text=text)


def no_page_errors(people: list[Person]) -> None:
    assert [e for person in people for e in person.own_errors()] == []


# --- The stories --------------------------------------------------------------------------------


def test_story_1_a_customer_asks_for_a_human_and_operator_a_claims_while_b_watches_the_queue(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    a = operator(browser, people, cluster, "somchai")
    b = operator(browser, people, cluster, "nok")
    for console in (a, b):
        console.get_by_test_id("tab-queue").click()
    queued_before = int(b.get_by_test_id("tab-count-queue").inner_text())

    phone, _ = customer(browser, people, cluster.url, "คุณแพรวา")
    say(phone, "คุยกับเจ้าหน้าที่")
    answer = oa_bubbles(phone, "ลำดับที่")
    expect(answer).to_have_count(1, timeout=20_000)
    told = re.search(r"ลำดับที่ (\d+)", answer.inner_text())
    assert told is not None
    position = told.group(1)

    # Live in every operator's Queue, with the position the customer was told.
    for console in (a, b):
        waiting = row(console, "คุณแพรวา")
        expect(waiting).to_have_attribute("data-status", "waiting")
        expect(waiting.get_by_test_id("row-position")).to_have_text(f"คิวที่ {position}")
        expect(console.get_by_test_id("tab-count-queue")).to_have_text(str(queued_before + 1))
    b.screenshot(path=artifacts / "console-story-1-queue-before-claim.png")

    row(a, "คุณแพรวา").get_by_test_id("row-claim").click()  # straight from the queue
    expect(a.get_by_test_id("chat-title")).to_have_text("คุณแพรวา")
    expect(a.get_by_test_id("chat-status")).to_have_attribute("data-status", "active")
    expect(a.get_by_test_id("composer")).to_be_visible()

    # B sees it leave the queue; A has it under Mine with the send box.
    expect(row(b, "คุณแพรวา")).to_have_count(0)
    expect(b.get_by_test_id("tab-count-queue")).to_have_text(str(queued_before))
    a.get_by_test_id("tab-mine").click()
    expect(row(a, "คุณแพรวา").get_by_test_id("row-assignee")).to_have_text("คุณ")
    expect(a.get_by_test_id("chat-assignee")).to_have_text("ดูแลโดย คุณ")
    expect(a.get_by_test_id("event-timeline")).to_contain_text("รับเรื่องโดย คุณ")
    b.get_by_test_id("tab-open").click()
    expect(row(b, "คุณแพรวา").get_by_test_id("row-assignee")).to_have_text("Somchai")
    a.screenshot(path=artifacts / "console-story-1-a-claimed.png")
    b.screenshot(path=artifacts / "console-story-1-b-queue-after-claim.png")
    no_page_errors(people)


def test_story_2_a_replies_the_customer_answers_live_and_b_sees_a_typing(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    a = operator(browser, people, cluster, "somchai")
    b = operator(browser, people, cluster, "nok")
    phone, _ = customer(browser, people, cluster.url, "Krit")
    say(phone, "agent")
    claim(a, "Krit")
    open_in_tab(b, "open", "Krit")  # B watches the same conversation

    reply(a, "สวัสดีค่ะ คุณ Krit ยินดีให้บริการค่ะ 😊")
    sent = messages(a, sender="operator", text="ยินดีให้บริการค่ะ")
    expect(sent).to_have_count(1)
    expect(sent).to_have_attribute("data-status", "sent")
    expect(oa_bubbles(phone, "สวัสดีค่ะ คุณ Krit ยินดีให้บริการค่ะ")).to_have_count(1, timeout=20_000)
    expect(messages(b, sender="operator", text="ยินดีให้บริการค่ะ")).to_have_count(1)

    # A types (without sending): B sees it.
    a.get_by_test_id("composer-input").press_sequentially("กำลังตรวจสอบให้นะคะ", delay=20)
    expect(b.get_by_test_id("typing-indicator")).to_be_visible()
    expect(b.get_by_test_id("typing-indicator")).to_have_text("Somchai กำลังพิมพ์…")
    b.screenshot(path=artifacts / "console-story-2-b-sees-a-typing.png")

    alerts = int(a.get_by_test_id("toasts").get_attribute("data-alert-count") or 0)
    say(phone, "ขอบคุณค่ะ สั่งของไปเมื่อวาน\nยังไม่ได้รับเลย")
    answer = messages(a, sender="customer", text="ขอบคุณค่ะ สั่งของไปเมื่อวาน")
    expect(answer).to_have_count(1)
    expect(answer.get_by_test_id("message-text")).to_have_text("ขอบคุณค่ะ สั่งของไปเมื่อวาน\nยังไม่ได้รับเลย")
    # The notification: A's console alerted (sound; a desktop notification if the tab were hidden).
    expect(a.get_by_test_id("toasts")).to_have_attribute("data-alert-count", str(alerts + 1))
    expect(messages(b, sender="customer", text="ขอบคุณค่ะ สั่งของไปเมื่อวาน")).to_have_count(1)
    a.get_by_test_id("tab-mine").click()
    expect(row(a, "Krit").get_by_test_id("row-preview")).to_contain_text("ขอบคุณค่ะ สั่งของไปเมื่อวาน")
    a.screenshot(path=artifacts / "console-story-2-a-chat.png")
    phone.screenshot(path=artifacts / "console-story-2-phone.png")
    no_page_errors(people)


def test_story_3_a_transfers_to_b_with_a_note_and_b_closes(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    a = operator(browser, people, cluster, "somchai")
    b = operator(browser, people, cluster, "nok")
    phone, _ = customer(browser, people, cluster.url, "Somsri")
    say(phone, "agent")
    claim(a, "Somsri")
    expect(a.get_by_test_id("presence-list")).to_contain_text("Nok")

    a.get_by_test_id("transfer-button").click()
    expect(a.get_by_test_id("transfer-dialog")).to_be_visible()
    a.get_by_test_id("transfer-target").select_option(label="Nok")
    a.get_by_test_id("transfer-note").fill("ลูกค้าขอคืนเงิน รบกวนตรวจสอบคำสั่งซื้อ #1024")
    a.get_by_test_id("transfer-confirm").click()

    # A no longer holds it; B is told and finds it under Mine.
    expect(a.get_by_test_id("chat-assignee")).to_have_text("ดูแลโดย Nok")
    expect(a.get_by_test_id("composer")).to_be_hidden()
    expect(b.get_by_test_id("toast").filter(has_text="Somchai โอนการสนทนามาให้คุณ")).to_be_visible()
    b.get_by_test_id("tab-mine").click()
    expect(row(b, "Somsri")).to_have_count(1)
    row(b, "Somsri").click()
    expect(b.get_by_test_id("composer")).to_be_visible()
    transferred = b.locator("[data-testid=timeline-event][data-kind=transferred]")
    expect(transferred).to_contain_text("Somchai โอนให้ คุณ")
    expect(transferred).to_contain_text("ลูกค้าขอคืนเงิน รบกวนตรวจสอบคำสั่งซื้อ #1024")
    b.screenshot(path=artifacts / "console-story-3-b-mine.png")

    b.get_by_test_id("close-button").click()
    expect(b.get_by_test_id("close-dialog")).to_be_visible()
    b.get_by_test_id("close-reason").fill("คืนเงินเรียบร้อย")
    b.get_by_test_id("close-confirm").click()

    expect(b.get_by_test_id("chat-status")).to_have_attribute("data-status", "closed")
    expect(b.get_by_test_id("composer")).to_be_hidden()
    expect(b.get_by_test_id("composer-locked")).to_have_text("การสนทนานี้ปิดแล้ว")
    expect(row(b, "Somsri")).to_have_count(0)  # gone from B's Mine
    expect(b.locator("[data-testid=timeline-event][data-kind=closed]")).to_contain_text("คืนเงินเรียบร้อย")
    expect(a.get_by_test_id("chat-status")).to_have_attribute("data-status", "closed")  # A's view follows
    b.screenshot(path=artifacts / "console-story-3-b-closed.png")
    no_page_errors(people)


def test_story_4_offline_nothing_lost_nothing_doubled(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    other = cluster.start_secondary()  # serves the customer while A's server is down
    a = operator(browser, people, cluster, "somchai")
    phone, user_id = customer(browser, people, other.url, "น้องมิว")
    say(phone, "agent")
    claim(a, "น้องมิว")

    cluster.primary.stop()  # A's connection is cut
    badge = a.get_by_test_id("connection-badge")
    expect(badge).not_to_have_attribute("data-state", "live")
    first, second = "ข้อความแรกระหว่างออฟไลน์", "ข้อความที่สองระหว่างออฟไลน์"
    reply(a, first)
    reply(a, second)
    for text in (first, second):
        pending = messages(a, sender="operator", text=text)
        expect(pending).to_have_attribute("data-status", "pending")
        expect(pending).not_to_have_attribute("data-seq", re.compile(r"."))
    outbox = a.evaluate(
        "() => JSON.parse(localStorage.getItem('livechat:outbox:' + "
        "JSON.parse(document.getElementById('console-data').textContent).me.id))"
    )
    assert [item["text"] for item in outbox] == [first, second], "queued in the browser, surviving a reload"
    say(phone, "ยังอยู่ไหมคะ")  # the customer writes meanwhile (through the other server)
    a.screenshot(path=artifacts / "console-story-4-offline.png")

    cluster.primary.start()

    expect(badge).to_have_attribute("data-state", "live", timeout=40_000)
    for text in (first, second):
        delivered = messages(a, sender="operator", text=text)
        expect(delivered).to_have_count(1)
        expect(delivered).to_have_attribute("data-status", "sent", timeout=20_000)
        expect(delivered).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    expect(messages(a, sender="customer", text="ยังอยู่ไหมคะ")).to_have_count(1)
    seq_of = {
        text: int(messages(a, sender="operator", text=text).get_attribute("data-seq"))
        for text in (first, second)
    }
    assert seq_of[first] < seq_of[second], "delivered in the order they were typed"
    assert a.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('livechat:outbox:'))"
        ".map(k => JSON.parse(localStorage.getItem(k)).length)"
    ) == [0]
    # The customer got each message exactly once.
    for text in (first, second):
        expect(oa_bubbles(phone, text)).to_have_count(1, timeout=20_000)
    expect(phone.locator("[data-testid=bubble][data-from=oa]").last).to_have_text(second)
    calls = httpx.get(
        f"{other.url}/simulator/control/calls", params={"user_id": user_id}, headers=CONTROL
    ).json()["calls"]
    texts = [
        m.get("text") for c in calls if c["status"] == 200 for m in (c["body"] or {}).get("messages", [])
    ]
    assert texts.count(first) == 1 and texts.count(second) == 1
    # In order, after what the customer said before the outage, and nothing twice.
    seqs = a.eval_on_selector_all("[data-testid=message]", "els => els.map(e => Number(e.dataset.seq))")
    assert seqs == sorted(set(seqs))
    a.screenshot(path=artifacts / "console-story-4-back-online.png")
    phone.screenshot(path=artifacts / "console-story-4-phone.png")
    no_page_errors(people)


def _catalog(po_file: Path, source: str) -> dict[str, str]:
    """English → Thai for the entries of a .po file that come from `source` files."""
    pairs = {}
    for entry in po_file.read_text().split("\n\n"):
        if source not in entry:
            continue
        msgid = re.search(r'^msgid "(.*)"', entry, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? "(.*)"', entry, re.M)
        if msgid and msgstr and msgid.group(1) and "%(" not in msgid.group(1):
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
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label]")) {
    if (!el.checkVisibility()) continue;
    for (const attr of ["placeholder", "title", "aria-label"]) {
      if (el.getAttribute(attr)) texts.push(el.getAttribute(attr));
    }
  }
  return texts;
}"""


def test_story_5_both_languages_login_required_and_no_sending_without_holding(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    catalog = {
        **_catalog(LOCALE / "django.po", "templates/console/"),
        **_catalog(LOCALE / "django.po", "templates/registration/"),
        **_catalog(LOCALE / "djangojs.po", "static/console/"),
    }

    # Signed out: sent to the login page (in Thai).
    visitor = open_page(browser, people).page
    visitor.goto(f"{cluster.url}/console/")
    expect(visitor).to_have_url(f"{cluster.url}/accounts/login/?next=/console/")
    expect(visitor.get_by_test_id("login-page")).to_contain_text("เข้าสู่ระบบคอนโซล")
    assert [t for t in visitor.evaluate(VISIBLE_TEXTS) if t in catalog] == []
    visitor.screenshot(path=artifacts / "console-story-5-login.png")

    a = operator(browser, people, cluster, "somchai")
    b = operator(browser, people, cluster, "nok")
    phone, _ = customer(browser, people, cluster.url, "Malee")
    say(phone, "agent")
    claim(a, "Malee")
    reply(a, "รับเรื่องแล้วค่ะ")
    expect(messages(a, sender="operator", text="รับเรื่องแล้วค่ะ")).to_have_attribute("data-status", "sent")

    # B does not hold it: no send box, and says who does.
    open_in_tab(b, "open", "Malee")
    expect(b.get_by_test_id("composer")).to_be_hidden()
    expect(b.get_by_test_id("composer-input")).to_be_hidden()
    expect(b.get_by_test_id("claim-button")).to_be_hidden()
    expect(b.get_by_test_id("composer-locked")).to_have_text(
        "Somchai กำลังดูแลการสนทนานี้ มีเพียงผู้ดูแลเท่านั้นที่ตอบกลับได้"
    )
    expect(messages(b, sender="operator", text="รับเรื่องแล้วค่ะ")).to_have_count(1)  # B can still read
    b.screenshot(path=artifacts / "console-story-5-not-holder.png")

    # Thai: no English UI string anywhere on the page, dialogs included.
    untranslated = [t for t in a.evaluate(VISIBLE_TEXTS) if t in catalog]
    a.get_by_test_id("transfer-button").click()
    untranslated += [t for t in a.evaluate(VISIBLE_TEXTS) if t in catalog]
    a.keyboard.press("Escape")
    assert untranslated == []
    expect(a.get_by_test_id("tab-queue")).to_contain_text("คิว")
    a.screenshot(path=artifacts / "console-story-5-thai.png")

    # English, switched in the page: every string in English, none left in Thai.
    a.get_by_test_id("language-en").click()
    expect(a.locator("html")).to_have_attribute("lang", "en")
    expect(a.get_by_test_id("connection-badge")).to_have_text("Live")
    expect(a).to_have_url(re.compile(r"/console/\?c=\d+$"))  # back in the same conversation
    expect(messages(a, sender="operator", text="รับเรื่องแล้วค่ะ")).to_have_count(1)
    expect(a.get_by_test_id("event-timeline")).to_contain_text("Claimed by You")
    expect(a.get_by_test_id("tab-queue")).to_contain_text("Queue")
    expect(a.get_by_test_id("send-button")).to_have_text("Send")
    expect(a.get_by_test_id("chat-assignee")).to_have_text("Handled by you")
    thai = set(catalog.values())
    left_in_thai = [t for t in a.evaluate(VISIBLE_TEXTS) if t in thai]
    assert left_in_thai == [], left_in_thai
    a.screenshot(path=artifacts / "console-story-5-english.png")
    no_page_errors(people)


def png_file(folder: Path) -> Path:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    width, height = 320, 200
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path = folder / "photo.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def test_the_composer_sends_canned_replies_stickers_images_and_retries_what_line_refused(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path, tmp_path: Path
) -> None:
    cluster.manage(
        "shell",
        "-c",
        "from livechat.models import CannedResponse\n"
        "CannedResponse.objects.get_or_create(shortcut='thanks', defaults={'title': 'ขอบคุณ',"
        " 'text': 'ขอบคุณที่ติดต่อเรานะคะ 🙏'})\n",
    )
    a = operator(browser, people, cluster, "somchai")
    phone, _ = customer(browser, people, cluster.url, "Ploy")
    say(phone, "agent")
    claim(a, "Ploy")

    # "/" opens the canned responses; the chosen one lands in the composer, Enter sends it.
    box = a.get_by_test_id("composer-input")
    box.press_sequentially("/tha")
    expect(a.get_by_test_id("canned-item")).to_have_count(1)
    box.press("Enter")
    expect(box).to_have_value("ขอบคุณที่ติดต่อเรานะคะ 🙏")
    box.press("Enter")
    expect(oa_bubbles(phone, "ขอบคุณที่ติดต่อเรานะคะ")).to_have_count(1, timeout=20_000)

    a.get_by_test_id("sticker-button").click()
    a.locator("[data-testid=sticker][data-package-id='446'][data-sticker-id='1989']").click()
    sticker = a.locator("[data-testid=message][data-sender=operator][data-type=sticker]")
    expect(sticker).to_have_attribute("data-status", "sent")
    expect(phone.locator("[data-testid=bubble][data-from=oa][data-type=sticker]")).to_have_count(1)

    a.get_by_test_id("image-input").set_input_files(png_file(tmp_path))
    image = a.locator("[data-testid=message][data-sender=operator][data-type=image]")
    expect(image).to_have_attribute("data-status", "sent", timeout=20_000)
    expect(image.get_by_test_id("message-image")).to_have_js_property("naturalWidth", 320)
    shown = phone.locator("[data-testid=bubble][data-from=oa][data-type=image] img")
    expect(shown).to_have_js_property("naturalWidth", 320)  # LINE (here: the phone) fetched the public URL

    # LINE refuses the next push (no fresh reply token is left: it goes by push): Retry sends it again.
    httpx.post(
        f"{cluster.url}/simulator/control/fail",
        json={"status": 400, "count": 1, "endpoint": "push"},
        headers=CONTROL,
    ).raise_for_status()
    reply(a, "ข้อความนี้ต้องส่งซ้ำ")
    failed = messages(a, sender="operator", text="ข้อความนี้ต้องส่งซ้ำ")
    expect(failed).to_have_attribute("data-status", "failed", timeout=20_000)
    a.screenshot(path=artifacts / "console-composer-failed.png")
    failed.get_by_test_id("retry-button").click()
    expect(failed).to_have_attribute("data-status", "sent", timeout=20_000)
    expect(oa_bubbles(phone, "ข้อความนี้ต้องส่งซ้ำ")).to_have_count(1, timeout=20_000)
    a.screenshot(path=artifacts / "console-composer.png")
    phone.screenshot(path=artifacts / "console-composer-phone.png")
    no_page_errors(people)


def test_an_operator_quotes_a_customer_message_and_a_supervisor_sees_what_line_costs(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    cluster.manage(
        "shell",
        "-c",
        "from accounts.models import User\n"
        "User.objects.filter(username='malee').exists() or User.objects.create_user(username='malee',"
        " password='pw-malee', display_name='Malee', role='supervisor')\n",
    )
    a = operator(browser, people, cluster, "somchai")
    phone, _ = customer(browser, people, cluster.url, "Fah")
    say(phone, "agent")
    claim(a, "Fah")
    say(phone, "ส่งของวันไหนคะ")
    say(phone, "แล้วค่าส่งเท่าไหร่คะ")

    # Quote the first question: the answer shows it quoted, and went out free with the reply token.
    question = messages(a, sender="customer", text="ส่งของวันไหนคะ")
    question.hover()
    question.get_by_test_id("quote-button").click()
    expect(a.get_by_test_id("composer-quote")).to_contain_text("ส่งของวันไหนคะ")
    reply(a, "ส่งพรุ่งนี้ค่ะ")
    answer = messages(a, sender="operator", text="ส่งพรุ่งนี้ค่ะ")
    expect(answer.get_by_test_id("message-quote")).to_contain_text("ส่งของวันไหนคะ")
    expect(answer.get_by_test_id("message-status")).to_have_attribute("data-via", "reply")
    expect(a.get_by_test_id("composer-quote")).to_be_hidden()
    expect(oa_bubbles(phone, "ส่งพรุ่งนี้ค่ะ")).to_have_count(1, timeout=20_000)
    expect(a.get_by_test_id("line-usage")).to_have_count(0)  # an operator has no quota meter
    a.screenshot(path=artifacts / "console-quote.png")

    supervisor = open_page(browser, people).page
    supervisor.goto(f"{cluster.url}/console/")
    supervisor.get_by_test_id("login-username").fill("malee")
    supervisor.get_by_test_id("login-password").fill("pw-malee")
    supervisor.get_by_test_id("login-submit").click()
    meter = supervisor.get_by_test_id("line-usage")
    expect(meter).to_be_visible()
    expect(meter).to_contain_text(re.compile(r"ตอบกลับฟรี [1-9]"))
    supervisor.screenshot(path=artifacts / "console-line-usage.png")
    no_page_errors(people)


def test_without_a_websocket_the_console_works_over_rest(
    cluster: Cluster, browser: Any, people: list[Person], artifacts: Path
) -> None:
    person = open_page(browser, people)
    a = person.page
    a.route_web_socket(re.compile(r"/ws/live-chat/"), lambda ws: ws.close())  # the socket never gets through
    a.goto(f"{cluster.url}/console/")
    a.get_by_test_id("login-username").fill("somchai")
    a.get_by_test_id("login-password").fill("pw-somchai")
    a.get_by_test_id("login-submit").click()
    expect(a.get_by_test_id("connection-badge")).to_have_attribute("data-state", "offline")

    phone, _ = customer(browser, people, cluster.url, "Fon")
    say(phone, "agent")
    claim(a, "Fon")  # found by polling, claimed over REST
    reply(a, "ตอบผ่าน REST ค่ะ")
    expect(messages(a, sender="operator", text="ตอบผ่าน REST ค่ะ")).to_have_attribute(
        "data-seq", re.compile(r"^\d+$")
    )
    expect(oa_bubbles(phone, "ตอบผ่าน REST ค่ะ")).to_have_count(1, timeout=20_000)
    say(phone, "ได้รับแล้วค่ะ")
    expect(messages(a, sender="customer", text="ได้รับแล้วค่ะ")).to_have_count(1, timeout=20_000)
    expect(a.get_by_test_id("connection-badge")).to_have_attribute("data-state", "offline")
    a.screenshot(path=artifacts / "console-rest-fallback.png")
    no_page_errors(people)
