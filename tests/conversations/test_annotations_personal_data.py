"""PDPA and what the team wrote about a customer: the export holds the customer's notes and custom
fields and the private notes of their conversations; the erasure removes them (and nobody else's).
"""

import json

import pytest

from accounts.models import AuditLog, User
from livechat.conversations import annotations, personal_data
from livechat.conversations.actions import Actor
from livechat.models import Contact, Conversation, Note
from tests.factories import open_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def ploy(team: dict[str, User]) -> Conversation:
    conversation = open_conversation("Ploy", Conversation.Status.ACTIVE, operator=team["somchai"])
    somchai = Actor.staff(team["somchai"])
    annotations.update_contact(
        conversation.contact_id, somchai, notes="แพ้อาหารทะเล", custom_fields={"customer number": "C-1042"}
    )
    annotations.add_note(conversation.pk, somchai, "@nok ลูกค้าขอใบกำกับภาษี")
    return conversation


def test_the_export_holds_the_customers_details_and_private_notes(
    ploy: Conversation, team: dict[str, User]
) -> None:
    other = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["nok"])
    annotations.add_note(other.pk, Actor.staff(team["nok"]), "someone else's note")

    document = json.loads(
        "".join(personal_data.export(ploy.contact, personal_data.Requester(user=team["malee"])))
    )

    assert document["contact"]["notes"] == "แพ้อาหารทะเล"
    assert document["contact"]["custom_fields"] == {"customer number": "C-1042"}
    assert [(n["conversation_id"], n["author"], n["text"]) for n in document["private_notes"]] == [
        (ploy.pk, "Somchai", "@nok ลูกค้าขอใบกำกับภาษี")
    ]
    [entry] = AuditLog.objects.filter(kind=AuditLog.Kind.EXPORT)
    assert entry.changes["private_notes"] == 1


def test_erasing_removes_the_customers_details_and_private_notes(
    ploy: Conversation, team: dict[str, User]
) -> None:
    other = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["nok"])
    annotations.add_note(other.pk, Actor.staff(team["nok"]), "someone else's note")
    annotations.update_contact(other.contact_id, Actor.staff(team["nok"]), notes="Krit's notes")

    result = personal_data.erase(ploy.contact, personal_data.Requester(user=team["malee"]))

    assert (result["private_notes"], result["contact_details"]) == (1, 1)
    contact = Contact.objects.get(pk=ploy.contact_id)
    assert (contact.notes, contact.custom_fields) == ("", {})
    assert not Note.objects.filter(conversation__contact=contact).exists()
    assert list(Note.objects.values_list("text", flat=True)) == ["someone else's note"]
    assert Contact.objects.get(pk=other.contact_id).notes == "Krit's notes"
    again = personal_data.erase(contact, personal_data.Requester(user=team["malee"]))
    assert (again["private_notes"], again["contact_details"]) == (0, 0)
