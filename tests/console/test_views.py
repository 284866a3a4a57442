"""The operator console's pages and endpoints, through Django's test client.

Who gets in, what the first page carries and in how many queries (pinned at two data sizes),
what an operator may do in a conversation they do not hold, the customer panel, translations.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from livechat.models import (
    CannedResponse,
    Conversation,
    ConversationEvent,
    Message,
    ReadMarker,
)
from tests.factories import open_conversation, outbound

ROOT = Path(__file__).resolve().parent.parent.parent
CONSOLE_DATA = re.compile(r'<script id="console-data" type="application/json">(.*?)</script>', re.S)
# Session + user, queue rows and their labels, Mine rows and their labels, tab counts, canned
# responses, every label.
CONSOLE_QUERIES = 9
# … plus the open conversation, its labels and its latest messages.
CONSOLE_WITH_CHAT_QUERIES = 12


def console_data(response: Any) -> dict[str, Any]:
    match = CONSOLE_DATA.search(response.content.decode())
    assert match, "the page carries its data as a json_script"
    return json.loads(match.group(1))


def composer_tag(response: Any) -> str:
    match = re.search(r'<form class="composer" data-testid="composer"[^>]*>', response.content.decode())
    assert match
    return match.group(0)


def seed(size: int, operators: list[Any]) -> None:
    """`size` conversations in every status, each with a few messages."""
    statuses = [
        Conversation.Status.WAITING,
        Conversation.Status.ACTIVE,
        Conversation.Status.BOT,
        Conversation.Status.CLOSED,
    ]
    for i in range(size):
        status = statuses[i % len(statuses)]
        operator = (
            operators[(i // len(statuses)) % len(operators)] if status in ("active", "closed") else None
        )
        conversation = open_conversation(
            f"ลูกค้า {i}", status, operator=operator, texts=("สวัสดีค่ะ", f"ขอถามเรื่อง #{i}", "agent")
        )
        if i % 3 == 0:
            ReadMarker.objects.create(operator=operators[0], conversation=conversation, last_read_seq=1)
        ConversationEvent.objects.create(
            conversation=conversation, kind="handoff", actor_kind="customer", to_status="waiting"
        )


# --- Who gets in ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/console/?c=5")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/console/%3Fc%3D5"
    login = client.get(response["Location"])
    assert login.status_code == 200
    assert b'data-testid="login-page"' in login.content


@pytest.mark.django_db
def test_it_refuses_signed_in_users_without_a_team_role(
    client: Client, django_user_model: type[User]
) -> None:
    user = django_user_model.objects.create_user(username="guest", password="pw-guest-1", role="")
    client.force_login(user)
    assert client.get("/console/").status_code == 403
    assert client.get("/console/api/conversations?tab=open").status_code == 403


@pytest.mark.django_db
def test_console_json_needs_a_signed_in_team_member(client: Client) -> None:
    for url in (
        "/console/api/conversations?tab=queue",
        "/console/api/counts",
        "/console/api/conversations/1",
    ):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"


@pytest.mark.django_db
def test_logging_in_leads_to_the_console(client: Client, team: dict[str, User]) -> None:
    response = client.post(
        "/accounts/login/", {"username": "somchai", "password": "pw-somchai", "next": "/console/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/console/"


# --- The first page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_console_shows_the_operators_worklists(somchai: Client, team: dict[str, User]) -> None:
    waiting = open_conversation("คุณแพรวา", texts=("สวัสดีค่ะ", "คุยกับเจ้าหน้าที่"))
    mine = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"], texts=("hi",))
    open_conversation("Somsri", Conversation.Status.ACTIVE, operator=team["nok"])
    open_conversation("น้องมิว", Conversation.Status.BOT)
    open_conversation("Old", Conversation.Status.CLOSED)
    CannedResponse.objects.create(shortcut="hello", title="ทักทาย", text="สวัสดีค่ะ ยินดีให้บริการค่ะ")

    response = somchai.get("/console/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    data = console_data(response)
    assert data["me"]["id"] == team["somchai"].pk
    assert data["counts"] == {"queue": 1, "mine": 1, "open": 4, "closed": 1}
    [queued] = data["lists"]["queue"]
    assert queued["id"] == waiting.pk
    assert queued["queue_position"] == 1
    assert queued["unread"] == 2
    assert queued["last_message"]["text"] == "คุยกับเจ้าหน้าที่"
    assert [row["id"] for row in data["lists"]["mine"]] == [mine.pk]
    assert data["canned"] == [
        {
            "id": CannedResponse.objects.get().pk,
            "shortcut": "hello",
            "title": "ทักทาย",
            "text": "สวัสดีค่ะ ยินดีให้บริการค่ะ",
            "shared": True,
            "image_url": "",
            "sticker": None,
            "quick_replies": [],
        }
    ]
    assert data["selected"] is None
    html = response.content.decode()
    for testid in (
        "tab-queue",
        "tab-mine",
        "tab-open",
        "tab-closed",
        "conversation-list",
        "connection-badge",
    ):
        assert f'data-testid="{testid}"' in html
    assert 'src="/jsi18n/"' in html
    # Scripts are same-origin files only (the CSP allows no inline script without a nonce).
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))[^>]*>", html) == []
    assert "Content-Security-Policy" in response.headers


@pytest.mark.django_db
def test_the_console_is_in_thai_unless_english_is_chosen(somchai: Client) -> None:
    thai = somchai.get("/console/").content.decode()
    assert '<html lang="th">' in thai
    assert "คิว" in thai

    somchai.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    english = somchai.get("/console/").content.decode()
    assert '<html lang="en">' in english
    assert "Queue" in english


@pytest.mark.django_db
@pytest.mark.parametrize("size", [4, 40])
def test_the_first_page_takes_the_same_queries_whatever_the_data(
    size: int, somchai: Client, team: dict[str, User], django_assert_num_queries: Any
) -> None:
    seed(size, [team["somchai"], team["nok"]])
    chat = Conversation.objects.filter(status="active", assigned_operator=team["somchai"]).first()
    assert chat is not None

    with django_assert_num_queries(CONSOLE_QUERIES):
        assert somchai.get("/console/").status_code == 200
    with django_assert_num_queries(CONSOLE_WITH_CHAT_QUERIES):
        response = somchai.get(f"/console/?c={chat.pk}")

    data = console_data(response)
    assert data["selected"]["conversation"]["id"] == chat.pk
    assert [m["seq"] for m in data["selected"]["messages"]] == [1, 2, 3]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [4, 40])
def test_list_pages_take_the_same_queries_whatever_the_data(
    size: int, somchai: Client, team: dict[str, User], django_assert_num_queries: Any
) -> None:
    seed(size, [team["somchai"], team["nok"]])
    for tab in ("queue", "mine", "open", "closed"):
        with django_assert_num_queries(4):  # session + user + the page + its rows' labels
            assert somchai.get(f"/console/api/conversations?tab={tab}").status_code == 200
    conversation = Conversation.objects.first()
    assert conversation is not None
    # session + user + conversation, past conversations, events, private notes
    with django_assert_num_queries(6):
        assert somchai.get(f"/console/api/conversations/{conversation.pk}/panel").status_code == 200


# --- The list -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_tab_pages_through_conversations_newest_activity_first(somchai: Client) -> None:
    created = [open_conversation(f"c{i}", Conversation.Status.BOT) for i in range(55)]
    first = somchai.get("/console/api/conversations?tab=open").json()
    assert len(first["rows"]) == 50
    assert first["rows"][0]["id"] == created[-1].pk
    second = somchai.get("/console/api/conversations", {"tab": "open", "cursor": first["next_cursor"]}).json()
    assert [row["id"] for row in second["rows"]] == [c.pk for c in reversed(created[:5])]
    assert second["next_cursor"] == ""


@pytest.mark.django_db
def test_search_finds_conversations_by_name_or_message_text(somchai: Client) -> None:
    by_name = open_conversation("สมหญิง ใจดี", texts=("hello",))
    by_text = open_conversation("Krit", texts=("เลขพัสดุ TH123456",))
    open_conversation("Other", texts=("nothing here",))

    def found(q: str) -> list[int]:
        return [
            r["id"]
            for r in somchai.get("/console/api/conversations", {"tab": "queue", "q": q}).json()["rows"]
        ]

    assert found("สมหญิง") == [by_name.pk]
    assert found("th123") == [by_text.pk]
    assert found("no such thing") == []


@pytest.mark.django_db
def test_unread_counts_what_the_customer_wrote_after_the_operators_read_marker(
    somchai: Client, team: dict[str, User]
) -> None:
    conversation = open_conversation(
        "Krit", Conversation.Status.ACTIVE, operator=team["somchai"], texts=("1", "2", "3", "4")
    )
    outbound(conversation, team["somchai"], "reply", Message.Status.SENT)
    ReadMarker.objects.create(operator=team["somchai"], conversation=conversation, last_read_seq=2)
    [row] = somchai.get("/console/api/conversations?tab=mine").json()["rows"]
    assert row["unread"] == 2  # seq 3 and 4; the operator's own reply is not "unread"
    assert row["last_message"]["sender_kind"] == "operator"


# --- What an operator may do --------------------------------------------------------------------


@pytest.mark.django_db
def test_there_is_no_send_box_in_a_conversation_the_operator_does_not_hold(
    somchai: Client, team: dict[str, User]
) -> None:
    theirs = open_conversation("Somsri", Conversation.Status.ACTIVE, operator=team["nok"])
    response = somchai.get(f"/console/?c={theirs.pk}")
    assert " hidden" in composer_tag(response)
    assert console_data(response)["selected"]["capabilities"] == {
        "can_send": False,
        "can_claim": False,
        "can_close": False,
        "can_transfer": False,
    }
    # And the server refuses the send itself.
    refused = somchai.post(
        f"/api/v1/conversations/{theirs.pk}/send",
        {"text": "hi", "client_id": "c1"},
        content_type="application/json",
    )
    assert refused.status_code == 403


@pytest.mark.django_db
def test_the_holder_and_supervisors_get_the_send_box(team: dict[str, User]) -> None:
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    for who in ("somchai", "malee"):
        client = Client()
        client.force_login(team[who])
        response = client.get(f"/console/?c={conversation.pk}")
        assert " hidden" not in composer_tag(response), who
        assert console_data(response)["selected"]["capabilities"]["can_send"] is True


@pytest.mark.django_db
def test_a_waiting_conversation_offers_claim_not_the_send_box(somchai: Client) -> None:
    waiting = open_conversation("คุณแพรวา")
    data = console_data(somchai.get(f"/console/?c={waiting.pk}"))
    assert data["selected"]["capabilities"] == {
        "can_send": False,
        "can_claim": True,
        "can_close": True,
        "can_transfer": False,
    }


@pytest.mark.django_db
def test_an_unfollowed_customer_gets_a_banner_and_no_send_box(somchai: Client, team: dict[str, User]) -> None:
    conversation = open_conversation(
        "Gone", Conversation.Status.ACTIVE, operator=team["somchai"], following=False
    )
    response = somchai.get(f"/console/?c={conversation.pk}")
    html = response.content.decode()
    assert re.search(r'data-testid="unfollowed-banner"\s*>', html), "the banner is shown"
    assert " hidden" in composer_tag(response)
    panel = somchai.get(f"/console/api/conversations/{conversation.pk}/panel").json()
    assert panel["contact"]["is_following"] is False


@pytest.mark.django_db
def test_the_customer_panel_lists_past_conversations_and_the_timeline(
    somchai: Client, team: dict[str, User]
) -> None:
    old = open_conversation("Krit", Conversation.Status.CLOSED)
    current = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    Conversation.objects.filter(pk=current.pk).update(contact=old.contact)
    ConversationEvent.objects.create(
        conversation=current,
        kind="transferred",
        actor_kind="operator",
        actor=team["nok"],
        from_operator=team["nok"],
        to_operator=team["somchai"],
        from_status="active",
        to_status="active",
        note="ลูกค้าถามเรื่องคืนเงิน",
    )
    panel = somchai.get(f"/console/api/conversations/{current.pk}/panel").json()
    assert [c["id"] for c in panel["past_conversations"]] == [old.pk]
    [event] = panel["events"]
    assert event["kind"] == "transferred"
    assert event["actor"]["name"] == "Nok"
    assert event["to_operator"]["name"] == "Somchai"
    assert event["note"] == "ลูกค้าถามเรื่องคืนเงิน"


# --- Translations ---------------------------------------------------------------------------------


def untranslated(po_file: Path, source: str) -> list[str]:
    """msgids referenced from files whose path contains `source` that have no Thai msgstr."""
    missing = []
    for entry in po_file.read_text().split("\n\n"):
        if source not in entry or "msgid" not in entry:
            continue
        msgstr = re.search(r'^msgstr(?:\[0\])? (".*"(?:\n".*")*)', entry, re.M)
        text = "".join(re.findall(r'"(.*)"', msgstr.group(1))) if msgstr else ""
        if not text or "#, fuzzy" in entry:
            msgid = re.search(r'^msgid (".*")', entry, re.M)
            assert msgid is not None
            missing.append(msgid.group(1))
    return missing


def test_every_console_string_has_a_thai_translation() -> None:
    locale = ROOT / "locale" / "th" / "LC_MESSAGES"
    assert (locale / "django.mo").exists() and (locale / "djangojs.mo").exists(), (
        "compiled catalogs are committed"
    )
    assert untranslated(locale / "django.po", "templates/console/") == []
    assert untranslated(locale / "django.po", "templates/registration/") == []
    assert untranslated(locale / "djangojs.po", "static/console/") == []


@pytest.mark.django_db
def test_the_javascript_catalog_speaks_thai(client: Client) -> None:
    response = client.get("/jsi18n/", headers={"Accept-Language": "th"})
    assert response.status_code == 200
    assert f'"Reconnecting": {json.dumps("กำลังเชื่อมต่อใหม่")}' in response.content.decode()
