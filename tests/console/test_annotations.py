"""Labels, private notes and customer details over the console socket (set_labels, add_note,
update_contact): who may, what every console hears, what bad frames get — and that a private note
never reaches LINE.
"""

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from accounts.models import User
from livechat.conversations import permissions
from livechat.models import Contact, Conversation, Label, Note
from tests.conftest import Simulator
from tests.console.test_consumer import make_conversation, make_user
from tests.factories import open_conversation
from tests.ws import operator_socket

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def make_label(name: str, colour: str = "#1f8a4c") -> Label:
    return Label.objects.create(name=name, colour=colour)


@sync_to_async
def labels_of(conversation_id: int) -> list[str]:
    return list(
        Conversation.objects.get(pk=conversation_id).labels.order_by("name").values_list("name", flat=True)
    )


@sync_to_async
def contact_of(conversation_id: int) -> Contact:
    return Conversation.objects.select_related("contact").get(pk=conversation_id).contact


# --- Labels ---------------------------------------------------------------------------------------


async def test_the_holder_labels_a_conversation_and_every_console_sees_it(operator, django_user_model):
    nok = await sync_to_async(make_user)(django_user_model, "nok")
    billing, urgent = await make_label("billing", "#2563eb"), await make_label("urgent", "#dc2626")
    conversation_id = await sync_to_async(make_conversation)("active", holder=operator)
    mine, theirs = await operator_socket(operator), await operator_socket(nok)

    await mine.send("set_labels", {"conversation_id": conversation_id, "label_ids": [urgent.pk, billing.pk]})

    for socket in (mine, theirs):
        frame = await socket.expect("labels_updated", conversation_id=conversation_id)
        assert frame["payload"]["labels"] == [
            {"id": billing.pk, "name": "billing", "colour": "#2563eb"},
            {"id": urgent.pk, "name": "urgent", "colour": "#dc2626"},
        ]
        assert frame["payload"]["by"]["id"] == operator.pk
    assert await labels_of(conversation_id) == ["billing", "urgent"]

    await mine.send("set_labels", {"conversation_id": conversation_id, "label_ids": [urgent.pk]})
    await theirs.expect(
        "labels_updated", where=lambda p: [label["name"] for label in p["labels"]] == ["urgent"]
    )
    assert await labels_of(conversation_id) == ["urgent"]
    await mine.close()
    await theirs.close()


async def test_an_operator_cannot_label_a_conversation_someone_else_holds(operator, django_user_model):
    nok = await sync_to_async(make_user)(django_user_model, "nok")
    billing = await make_label("billing")
    conversation_id = await sync_to_async(make_conversation)("active", holder=nok)
    socket = await operator_socket(operator)

    await socket.send("set_labels", {"conversation_id": conversation_id, "label_ids": [billing.pk]}, "l1")

    error = await socket.expect("error")
    assert (error["payload"]["code"], error["request_id"]) == ("forbidden", "l1")
    assert await labels_of(conversation_id) == []
    await socket.send("ping")
    await socket.expect("pong")  # the socket stays open
    await socket.close()


async def test_a_supervisor_labels_any_conversation(supervisor, django_user_model):
    nok = await sync_to_async(make_user)(django_user_model, "nok")
    billing = await make_label("billing")
    conversation_id = await sync_to_async(make_conversation)("active", holder=nok)
    socket = await operator_socket(supervisor)

    await socket.send("set_labels", {"conversation_id": conversation_id, "label_ids": [billing.pk]})

    await socket.expect("labels_updated", conversation_id=conversation_id)
    assert await labels_of(conversation_id) == ["billing"]
    await socket.close()


@pytest.mark.parametrize(
    "payload",
    [
        {"label_ids": [1]},
        {"conversation_id": 1},
        {"conversation_id": 1, "label_ids": "billing"},
        {"conversation_id": 1, "label_ids": [0]},
        {"conversation_id": 1, "label_ids": list(range(1, 30))},
    ],
)
async def test_bad_set_labels_frames_are_invalid(operator, payload):
    socket = await operator_socket(operator)
    await socket.send("set_labels", payload)
    assert (await socket.expect("error"))["payload"]["code"] == "invalid"
    await socket.close()


async def test_an_unknown_label_changes_nothing(operator):
    billing = await make_label("billing")
    conversation_id = await sync_to_async(make_conversation)("active", holder=operator)
    socket = await operator_socket(operator)

    await socket.send(
        "set_labels", {"conversation_id": conversation_id, "label_ids": [billing.pk, billing.pk + 99]}
    )

    assert (await socket.expect("error"))["payload"]["code"] == "invalid"
    assert await labels_of(conversation_id) == []
    await socket.close()


# --- Private notes --------------------------------------------------------------------------------


async def test_a_private_note_reaches_the_room_and_never_line(operator, django_user_model, line: Simulator):
    nok = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("active", holder=operator, messages=1)
    writer, colleague = await operator_socket(operator), await operator_socket(nok)
    for socket in (writer, colleague):
        await socket.send("join_room", {"conversation_id": conversation_id})
        await socket.expect("conversation_update", where=lambda p: p["conversation"]["id"] == conversation_id)

    await writer.send("add_note", {"conversation_id": conversation_id, "text": "  ลูกค้า VIP ระวังเรื่องส่วนลด  "})

    for socket in (writer, colleague):
        note = (await socket.expect("note_added"))["payload"]["note"]
        assert (note["conversation_id"], note["text"]) == (conversation_id, "ลูกค้า VIP ระวังเรื่องส่วนลด")
        assert note["author"]["id"] == operator.pk and note["mentions"] == []
    assert await sync_to_async(Note.objects.filter(conversation_id=conversation_id).count)() == 1
    await colleague.nothing_of("new_message")  # a note is not a message
    assert await sync_to_async(line.calls)() == []  # LINE never heard of it
    await writer.close()
    await colleague.close()


async def test_an_at_mention_notifies_the_operator_on_their_own_sockets(operator, django_user_model):
    nok = await sync_to_async(make_user)(django_user_model, "nok")  # display name "Nok"
    ploy = await sync_to_async(make_user)(django_user_model, "ploy")
    conversation_id = await sync_to_async(make_conversation)("active", holder=operator)
    writer = await operator_socket(operator)
    nok_tab, nok_other_tab, ploy_tab = (
        await operator_socket(nok),
        await operator_socket(nok),
        await operator_socket(ploy),
    )

    await writer.send("add_note", {"conversation_id": conversation_id, "text": "@NOK ช่วยดูเรื่องคืนเงินหน่อย"})

    for tab in (nok_tab, nok_other_tab):  # neither joined the room: the mention finds them anyway
        mention = await tab.expect("note_mention", conversation_id=conversation_id)
        assert mention["payload"]["note"]["text"] == "@NOK ช่วยดูเรื่องคืนเงินหน่อย"
        assert [m["id"] for m in mention["payload"]["note"]["mentions"]] == [nok.pk]
        await tab.nothing_of("note_added", within=0.2)
    await ploy_tab.nothing_of("note_mention")
    note = await sync_to_async(Note.objects.get)(conversation_id=conversation_id)
    assert await sync_to_async(lambda: list(note.mentions.all()))() == [nok]
    for socket in (writer, nok_tab, nok_other_tab, ploy_tab):
        await socket.close()


def test_mentions_are_whole_names_by_username_or_display_name(team: dict[str, User]) -> None:
    from livechat.conversations.annotations import mentioned_in

    members = list(team.values())
    assert mentioned_in("@somchai and @Malee please", members) == [team["somchai"], team["malee"]]
    assert mentioned_in("@noknoi is someone else; mail nok@example.com", members) == []
    assert mentioned_in("ถาม @Nok.", members) == [team["nok"]]


@pytest.mark.parametrize(
    "payload", [{"conversation_id": 1}, {"conversation_id": 1, "text": ""}, {"text": "x"}]
)
async def test_bad_add_note_frames_are_invalid(operator, payload):
    socket = await operator_socket(operator)
    await socket.send("add_note", payload)
    assert (await socket.expect("error"))["payload"]["code"] == "invalid"
    await socket.close()


async def test_a_blank_note_is_invalid_and_stores_nothing(operator):
    conversation_id = await sync_to_async(make_conversation)("active", holder=operator)
    socket = await operator_socket(operator)
    await socket.send("add_note", {"conversation_id": conversation_id, "text": "   \n "})
    assert (await socket.expect("error"))["payload"]["code"] == "invalid"
    assert not await sync_to_async(Note.objects.exists)()
    await socket.close()


# --- Customer details -----------------------------------------------------------------------------


async def test_the_holder_edits_the_customers_notes_and_fields_and_every_console_sees_it(
    operator, django_user_model
):
    nok = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("active", holder=operator)
    contact = await contact_of(conversation_id)
    mine, theirs = await operator_socket(operator), await operator_socket(nok)

    await mine.send(
        "update_contact",
        {
            "contact_id": contact.pk,
            "notes": "ชอบให้ติดต่อทางแชท",
            "custom_fields": {" customer number ": "C-1042"},
        },
    )

    for socket in (mine, theirs):
        frame = await socket.expect("contact_updated")
        assert frame["payload"]["contact"] == {
            "id": contact.pk,
            "notes": "ชอบให้ติดต่อทางแชท",
            "custom_fields": {"customer number": "C-1042"},
        }
    await sync_to_async(contact.refresh_from_db)()
    assert (contact.notes, contact.custom_fields) == ("ชอบให้ติดต่อทางแชท", {"customer number": "C-1042"})

    await mine.send("update_contact", {"contact_id": contact.pk, "notes": ""})  # fields stay
    await theirs.expect("contact_updated", where=lambda p: p["contact"]["notes"] == "")
    await sync_to_async(contact.refresh_from_db)()
    assert (contact.notes, contact.custom_fields) == ("", {"customer number": "C-1042"})
    await mine.close()
    await theirs.close()


async def test_an_operator_not_serving_the_customer_cannot_edit_them(operator, django_user_model):
    nok = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("active", holder=nok)
    contact = await contact_of(conversation_id)
    socket = await operator_socket(operator)

    await socket.send("update_contact", {"contact_id": contact.pk, "notes": "hijack"})

    assert (await socket.expect("error"))["payload"]["code"] == "forbidden"
    await sync_to_async(contact.refresh_from_db)()
    assert contact.notes == ""
    await socket.close()


@pytest.mark.parametrize(
    "payload",
    [
        {"notes": "x"},
        {"contact_id": 1},
        {"contact_id": 1, "custom_fields": ["a"]},
        {"contact_id": 1, "custom_fields": {"": "x"}},
        {"contact_id": 1, "custom_fields": {"k": {"nested": 1}}},
        {"contact_id": 1, "custom_fields": {f"k{i}": "v" for i in range(31)}},
        {"contact_id": 1, "notes": "x" * 5001},
    ],
)
async def test_bad_update_contact_frames_are_invalid(supervisor, payload):
    socket = await operator_socket(supervisor)
    await socket.send("update_contact", payload)
    assert (await socket.expect("error"))["payload"]["code"] == "invalid"
    await socket.close()


# --- Who may --------------------------------------------------------------------------------------


def test_who_may_label_and_edit_customers(team: dict[str, User]) -> None:
    somchai, nok, malee = team["somchai"], team["nok"], team["malee"]
    held = open_conversation("Ploy", Conversation.Status.ACTIVE, operator=somchai)
    closed = open_conversation("Krit", Conversation.Status.CLOSED, operator=somchai)

    assert permissions.may_set_labels(somchai, held) and permissions.may_set_labels(malee, held)
    assert not permissions.may_set_labels(nok, held)
    assert permissions.may_set_labels(somchai, closed)  # wrapping up after the close
    assert permissions.may_add_note(nok, held)  # colleagues help the holder with notes
    assert permissions.may_edit_contact(somchai, held.contact_id) and permissions.may_edit_contact(
        malee, held.contact_id
    )
    assert not permissions.may_edit_contact(nok, held.contact_id)
    assert not permissions.may_edit_contact(somchai, closed.contact_id)  # no longer serving them
    assert permissions.may_manage_labels(malee) and not permissions.may_manage_labels(somchai)


# --- The list, filtered by label ------------------------------------------------------------------


@pytest.mark.parametrize("size", [4, 40])
def test_the_list_filters_by_label_in_the_same_queries_whatever_the_data(
    size: int, somchai: Client, team: dict[str, User], django_assert_num_queries: Any
) -> None:
    billing, urgent = (
        Label.objects.create(name="billing"),
        Label.objects.create(name="urgent", colour="#dc2626"),
    )
    labelled = []
    for i in range(size):
        conversation = open_conversation(f"ลูกค้า {i}", Conversation.Status.ACTIVE, operator=team["nok"])
        conversation.labels.add(urgent)
        if i % 2 == 0:
            conversation.labels.add(billing)
            labelled.append(conversation.pk)

    with django_assert_num_queries(4):  # session + user + the page + its rows' labels
        response = somchai.get(f"/console/api/conversations?tab=open&label={billing.pk}")

    rows = response.json()["rows"]
    assert sorted(row["id"] for row in rows) == sorted(labelled)
    assert all(
        row["labels"]
        == [
            {"id": billing.pk, "name": "billing", "colour": "#6b7280"},
            {"id": urgent.pk, "name": "urgent", "colour": "#dc2626"},
        ]
        for row in rows
    )
    assert somchai.get("/console/api/conversations?tab=open&label=billing").status_code == 400


def test_the_customer_panel_shows_private_notes_and_the_customers_details(
    somchai: Client, team: dict[str, User]
) -> None:
    from livechat.conversations import annotations
    from livechat.conversations.actions import Actor

    conversation = open_conversation("Ploy", Conversation.Status.ACTIVE, operator=team["somchai"])
    annotations.update_contact(
        conversation.contact_id,
        Actor.staff(team["somchai"]),
        notes="VIP",
        custom_fields={"customer number": "C-7"},
    )
    annotations.add_note(conversation.pk, Actor.staff(team["nok"]), "@somchai โทรกลับด้วย")
    Conversation.objects.filter(pk=conversation.pk).update(status="closed")
    later = Conversation.objects.create(
        contact=conversation.contact, status="bot"
    )  # kept across conversations

    panel = somchai.get(f"/console/api/conversations/{later.pk}/panel").json()
    assert (panel["contact"]["notes"], panel["contact"]["custom_fields"]) == (
        "VIP",
        {"customer number": "C-7"},
    )
    assert panel["notes"] == []
    [note] = somchai.get(f"/console/api/conversations/{conversation.pk}/panel").json()["notes"]
    assert (note["text"], note["author"]["name"], [m["name"] for m in note["mentions"]]) == (
        "@somchai โทรกลับด้วย",
        "Nok",
        ["Somchai"],
    )


async def test_joining_a_room_brings_the_conversations_labels(operator):
    billing = await make_label("billing", "#2563eb")
    conversation_id = await sync_to_async(make_conversation)("active", holder=operator)
    await sync_to_async(lambda: Conversation.objects.get(pk=conversation_id).labels.add(billing))()
    socket = await operator_socket(operator)

    await socket.send("join_room", {"conversation_id": conversation_id}, request_id="j1")

    snapshot = await socket.expect(
        "conversation_update", where=lambda p: p["conversation"]["id"] == conversation_id
    )
    assert snapshot["payload"]["conversation"]["labels"] == [
        {"id": billing.pk, "name": "billing", "colour": "#2563eb"}
    ]
    await socket.close()
