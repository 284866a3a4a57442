"""The inbound path's compiled statements behave exactly like the ORM calls they replace."""

import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from livechat import compiled_sql
from livechat.conversations import OPEN_STATUSES
from livechat.models import Contact, Conversation, Message, WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _field_values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_open_conversation_it_finds_equals_the_orms_with_contact_and_operator():
    operator = User.objects.create_user("op-compiled", password="x", display_name="Ploy")
    contact = Contact.objects.create(line_user_id="U-compiled", display_name="Somchai", is_following=False)
    Conversation.objects.create(contact=contact, status=Conversation.Status.CLOSED, closed_at=timezone.now())
    Conversation.objects.create(
        contact=contact,
        status=Conversation.Status.ACTIVE,
        assigned_operator=operator,
        claimed_at=timezone.now(),
        last_seq=7,
    )

    found = compiled_sql.find_conversation("U-compiled", OPEN_STATUSES)
    expected = Conversation.objects.select_related("contact", "assigned_operator").get(
        contact=contact, status__in=OPEN_STATUSES
    )

    assert _field_values(found) == _field_values(expected)
    assert _field_values(found.contact) == _field_values(expected.contact)
    assert _field_values(found.assigned_operator) == _field_values(expected.assigned_operator)
    assert found._state.adding is False


def test_an_unassigned_conversation_has_no_operator_and_an_unknown_user_none():
    contact = Contact.objects.create(line_user_id="U-bot-only")
    conversation = Conversation.objects.create(contact=contact)

    found = compiled_sql.find_conversation("U-bot-only", OPEN_STATUSES)

    assert found.pk == conversation.pk and found.assigned_operator is None
    assert compiled_sql.find_conversation("U-nobody", OPEN_STATUSES) is None


def test_an_inserted_message_reads_back_as_the_orm_stores_it():
    contact = Contact.objects.create(line_user_id="U-insert")
    conversation = Conversation.objects.create(contact=contact)
    message = Message(
        conversation=conversation,
        seq=1,
        direction=Message.Direction.IN,
        sender_kind=Message.SenderKind.CUSTOMER,
        type=Message.Type.LOCATION,
        text="สยามพารากอน",
        payload={"latitude": 13.746, "longitude": 100.534, "nested": {"ok": True}},
        status=Message.Status.RECEIVED,
        line_message_id="line-1",
        line_timestamp=timezone.now(),
    )

    assert compiled_sql.insert(message) is True

    stored = Message.objects.get(pk=message.pk)
    assert _field_values(stored) == _field_values(message)
    assert message.created_at is not None and isinstance(message.uuid, uuid.UUID)


def test_unless_exists_skips_a_duplicate_and_leaves_the_first_row_alone():
    first = WebhookEvent(webhook_event_id="EV-1", event_type="message", raw={"n": 1})
    again = WebhookEvent(webhook_event_id="EV-1", event_type="follow", raw={"n": 2})

    with transaction.atomic():
        assert compiled_sql.insert(first, unless_exists="webhook_event_id") is True
    with transaction.atomic():
        assert compiled_sql.insert(again, unless_exists="webhook_event_id") is False

    assert again.pk is None
    stored = WebhookEvent.objects.get()
    assert (stored.pk, stored.event_type, stored.raw) == (first.pk, "message", {"n": 1})
