"""The supervisors' team board (/console/team/): who may see it, what it shows (availability, load
against capacity, the queue longest wait first, SLA risk), that it costs the same queries whatever
the data, and the reassign control (permission and effect)."""

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from django.utils import timezone

from accounts.models import User
from livechat.models import Conversation, ConversationEvent, SlaAlert
from livechat.realtime import presence
from tests.factories import open_conversation

pytestmark = pytest.mark.django_db

Status = Conversation.Status


def signed_in(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def present(user: User, status: str = "online") -> None:
    """The member's console is open (and says `status`), as the socket records it."""

    async def record() -> None:
        store = presence.store()
        await store.touch(user.pk, f"socket-of-{user.pk}")
        await store.set_status(user.pk, status)

    async_to_sync(record)()
    presence._stores.clear()  # its Redis client belonged to the loop async_to_sync made


def member(name: str, role: str = "operator", **extra: Any) -> User:
    return User.objects.create_user(
        username=name.lower(), password="pw", display_name=name, role=role, **extra
    )


def waiting(name: str, minutes_ago: float) -> Conversation:
    conversation = open_conversation(name)
    Conversation.objects.filter(pk=conversation.pk).update(
        handoff_requested_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return conversation


def alert(conversation: Conversation, level: str, due_in_minutes: float) -> None:
    now = timezone.now()
    SlaAlert.objects.create(
        conversation=conversation,
        kind=SlaAlert.Kind.FIRST_RESPONSE,
        level=level,
        started_at=now - timedelta(minutes=10),
        due_at=now + timedelta(minutes=due_in_minutes),
    )


@pytest.fixture
def boss(supervisor: User) -> Client:
    return signed_in(supervisor)


def board(client: Client) -> dict[str, Any]:
    response = client.get("/console/team/board.json")
    assert response.status_code == 200
    return response.json()


def reassign(client: Client, conversation: Conversation, body: Any) -> Any:
    return client.post(
        f"/console/team/conversations/{conversation.pk}/reassign",
        data=json.dumps(body),
        content_type="application/json",
    )


# --- Who may --------------------------------------------------------------------------------------


def test_operators_are_refused_everywhere_and_nothing_moves(operator: User, supervisor: User) -> None:
    chat = open_conversation("Khun Dao", Status.ACTIVE, operator=operator)
    somchai = signed_in(operator)

    assert somchai.get("/console/team/").status_code == 403
    assert somchai.get("/console/team/board.json").status_code == 403
    assert reassign(somchai, chat, {"to": supervisor.pk}).status_code == 403
    chat.refresh_from_db()
    assert chat.assigned_operator_id == operator.pk


def test_signed_out_visitors_are_sent_to_sign_in() -> None:
    response = Client().get("/console/team/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/console/team/"
    assert Client().get("/console/team/board.json").status_code == 401


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_open_the_board(role: str) -> None:
    client = signed_in(member(f"Boss-{role}", role))
    response = client.get("/console/team/")
    assert response.status_code == 200
    assert 'data-testid="team-board"' in response.content.decode()


def test_the_console_links_to_the_board_for_supervisors_only(operator: User, boss: Client) -> None:
    assert 'data-testid="team-link"' in boss.get("/console/").content.decode()
    assert 'data-testid="team-link"' not in signed_in(operator).get("/console/").content.decode()


# --- What it shows --------------------------------------------------------------------------------


def test_it_shows_availability_load_queue_and_sla_risk(boss: Client, supervisor: User) -> None:
    somchai = member("Somchai", max_chats=3)
    nok = member("Nok", max_chats=2)
    member("Dang")
    present(somchai)
    present(nok, "away")
    first = open_conversation("Khun A", Status.ACTIVE, operator=somchai)
    open_conversation("Khun B", Status.ACTIVE, operator=somchai)
    open_conversation("Khun C", Status.CLOSED, operator=somchai)
    recent = waiting("Khun Recent", minutes_ago=2)
    longest = waiting("Khun Longest", minutes_ago=15)
    alert(first, SlaAlert.Level.WARNING, due_in_minutes=3)
    alert(longest, SlaAlert.Level.BREACH, due_in_minutes=-5)

    data = board(boss)

    team = {m["name"]: (m["status"], m["active"], m["capacity"]) for m in data["team"]}
    assert team["Somchai"] == ("online", 2, 3)
    assert team["Nok"] == ("away", 0, 2)
    assert team["Dang"][0] == "offline"
    assert [row["id"] for row in data["queue"]] == [longest.pk, recent.pk]
    assert data["queue"][0]["waited_seconds"] >= 15 * 60
    assert [(row["id"], row["sla"]["level"]) for row in data["at_risk"]] == [
        (longest.pk, "breach"),
        (first.pk, "warning"),
    ]
    assert {row["contact"]["display_name"] for row in data["active"]} == {"Khun A", "Khun B"}


@pytest.mark.parametrize("size", [2, 20])
def test_the_board_takes_the_same_queries_whatever_the_data(
    boss: Client, size: int, django_assert_num_queries: Any
) -> None:
    for i in range(size):
        holder = member(f"Op{i}")
        chat = open_conversation(f"Active {i}", Status.ACTIVE, operator=holder)
        alert(chat, SlaAlert.Level.WARNING, due_in_minutes=i)
        waiting(f"Waiting {i}", minutes_ago=i)

    with django_assert_num_queries(4):  # session + user + the team + the open conversations
        board(boss)


# --- Reassign -------------------------------------------------------------------------------------


def test_a_supervisor_reassigns_an_active_chat_to_another_operator(boss: Client, supervisor: User) -> None:
    somchai, nok = member("Somchai"), member("Nok")
    chat = open_conversation("Khun Dao", Status.ACTIVE, operator=somchai)

    response = reassign(boss, chat, {"to": nok.pk, "note": "Nok knows this order"})

    assert response.status_code == 200
    chat.refresh_from_db()
    assert (chat.status, chat.assigned_operator_id) == (Status.ACTIVE, nok.pk)
    event = ConversationEvent.objects.get(conversation=chat, kind="transferred")
    assert (event.actor_id, event.actor_kind, event.from_operator_id, event.to_operator_id) == (
        supervisor.pk,
        "supervisor",
        somchai.pk,
        nok.pk,
    )
    assert event.note == "Nok knows this order"
    assert [row["operator"]["id"] for row in board(boss)["active"]] == [nok.pk]


def test_a_supervisor_sends_an_active_chat_back_to_the_queue(boss: Client) -> None:
    chat = open_conversation("Khun Dao", Status.ACTIVE, operator=member("Somchai"))

    assert reassign(boss, chat, {"to": "queue"}).status_code == 200

    chat.refresh_from_db()
    assert (chat.status, chat.assigned_operator_id) == (Status.WAITING, None)
    assert ConversationEvent.objects.get(conversation=chat).kind == "returned"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"to": "somebody"}, 400, "invalid"),
        ({"to": True}, 400, "invalid"),
        ({"to": 999999}, 404, "not_found"),
        ({"to": "queue", "note": 5}, 400, "invalid"),
    ],
)
def test_a_bad_reassign_is_explained_and_changes_nothing(
    boss: Client, body: dict[str, Any], status: int, code: str
) -> None:
    somchai = member("Somchai")
    chat = open_conversation("Khun Dao", Status.ACTIVE, operator=somchai)

    response = reassign(boss, chat, body)

    assert (response.status_code, response.json()["code"]) == (status, code)
    chat.refresh_from_db()
    assert chat.assigned_operator_id == somchai.pk
    assert not ConversationEvent.objects.filter(conversation=chat).exists()


def test_only_an_active_chat_can_be_reassigned(boss: Client) -> None:
    chat = waiting("Khun Dao", minutes_ago=1)

    response = reassign(boss, chat, {"to": member("Nok").pk})

    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")
    chat.refresh_from_db()
    assert chat.status == Status.WAITING
    assert boss.post(
        "/console/team/conversations/1/reassign", "{", content_type="application/json"
    ).json() == {
        "code": "bad_json",
        "message": "The body is not JSON.",
    }


def test_the_board_speaks_thai_and_english(supervisor: User) -> None:
    thai = Client(headers={"Accept-Language": "th"})
    thai.force_login(supervisor)
    page = thai.get("/console/team/").content.decode()
    assert "กระดานทีม" in page and "มอบหมายให้" in page and "เสี่ยงเกิน SLA" in page
    labels = re.search(r'<script id="team-labels" type="application/json">(.*?)</script>', page)
    assert labels is not None and json.loads(labels.group(1))["reassign"] == "มอบหมายใหม่"
    english = signed_in(supervisor).get("/console/team/").content.decode()
    assert "Team board" in english and "Reassign" in english and "At SLA risk" in english


def test_reassigning_to_the_holder_is_refused(boss: Client) -> None:
    somchai = member("Somchai")
    chat = open_conversation("Khun Dao", Status.ACTIVE, operator=somchai)

    response = reassign(boss, chat, {"to": somchai.pk})

    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")
    assert not ConversationEvent.objects.filter(conversation=chat).exists()


@pytest.mark.parametrize("size", [2, 20])
def test_the_page_takes_the_same_queries_whatever_the_data(
    boss: Client, size: int, django_assert_num_queries: Any
) -> None:
    for i in range(size):
        open_conversation(f"Active {i}", Status.ACTIVE, operator=member(f"Op{i}"))
        waiting(f"Waiting {i}", minutes_ago=i)

    with django_assert_num_queries(4):  # session + user + the team + the open conversations
        assert boss.get("/console/team/").status_code == 200
