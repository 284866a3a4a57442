"""The inbound path's compiled statements behave exactly like the ORM calls they replace."""

import threading
import time
import uuid

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.models import User
from livechat.conversations import fast_path
from livechat.conversations.store import OPEN_STATUSES
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

    found = fast_path.find_conversation("U-compiled", OPEN_STATUSES)
    assert found is not None
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

    found = fast_path.find_conversation("U-bot-only", OPEN_STATUSES)

    assert found is not None
    assert found.pk == conversation.pk and found.assigned_operator is None
    assert fast_path.find_conversation("U-nobody", OPEN_STATUSES) is None


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

    assert fast_path.insert(message) is True

    stored = Message.objects.get(pk=message.pk)
    assert _field_values(stored) == _field_values(message)
    assert message.created_at is not None and isinstance(message.uuid, uuid.UUID)


def test_unless_exists_skips_a_duplicate_and_leaves_the_first_row_alone():
    first = WebhookEvent(webhook_event_id="EV-1", event_type="message", raw={"n": 1})
    again = WebhookEvent(webhook_event_id="EV-1", event_type="follow", raw={"n": 2})

    with transaction.atomic():
        assert fast_path.insert(first, unless_exists="webhook_event_id") is True
    with transaction.atomic():
        assert fast_path.insert(again, unless_exists="webhook_event_id") is False

    assert again.pk is None
    stored = WebhookEvent.objects.get()
    assert (stored.pk, stored.event_type, stored.raw) == (first.pk, "message", {"n": 1})


# --- the webhook's one-statement append (PostgreSQL) ---

one_statement = pytest.mark.skipif(
    not fast_path.can_append_in_one_statement(), reason="data-modifying WITH needs PostgreSQL"
)


def _event(event_id: str) -> WebhookEvent:
    return WebhookEvent(
        webhook_event_id=event_id, event_type="message", source_type="user", raw={"id": event_id}
    )


def _text(text: str) -> Message:
    return Message(
        direction=Message.Direction.IN,
        sender_kind=Message.SenderKind.CUSTOMER,
        text=text,
        payload={"emojis": [{"index": 0}]},
        status=Message.Status.RECEIVED,
        line_message_id=f"line-{text}",
        reply_token=f"token-{text}",
        line_timestamp=timezone.now(),
    )


def _append(event_id: str, text: str, user: str) -> tuple[Conversation | None, Message]:
    message = _text(text)
    conversation = fast_path.append_to_open_conversation(
        _event(event_id), message, user, OPEN_STATUSES, timezone.now()
    )
    return conversation, message


@one_statement
def test_one_statement_stores_event_and_next_message_as_the_orm_would_read_them():
    operator = User.objects.create_user("op-append", password="x", display_name="Ploy")
    contact = Contact.objects.create(line_user_id="U-append", display_name="Somchai")
    Conversation.objects.create(
        contact=contact, status=Conversation.Status.ACTIVE, assigned_operator=operator, last_seq=4
    )

    conversation, message = _append("EV-append", "ขอบคุณค่ะ", "U-append")

    expected = Conversation.objects.select_related("contact", "assigned_operator").get(contact=contact)
    assert conversation is not None
    assert expected.last_seq == 5 and expected.last_message_at is not None
    assert _field_values(conversation) == _field_values(expected)
    assert _field_values(conversation.contact) == _field_values(expected.contact)
    assert _field_values(conversation.assigned_operator) == _field_values(expected.assigned_operator)
    stored = Message.objects.get()
    assert (message.pk, message.seq, message.conversation) == (stored.pk, 5, expected)
    assert _field_values(stored) == _field_values(message)
    assert message._state.adding is False
    event = WebhookEvent.objects.get()
    assert (event.webhook_event_id, event.raw, event.received_at is not None) == (
        "EV-append",
        {"id": "EV-append"},
        True,
    )


@one_statement
def test_one_statement_writes_nothing_for_a_stored_event_or_without_an_open_conversation():
    contact = Contact.objects.create(line_user_id="U-dup")
    Conversation.objects.create(contact=contact, last_seq=1)
    Conversation.objects.create(
        contact=Contact.objects.create(line_user_id="U-closed"),
        status=Conversation.Status.CLOSED,
        closed_at=timezone.now(),
    )
    WebhookEvent.objects.create(webhook_event_id="EV-seen", event_type="message", raw={"first": True})

    for event_id, user in [("EV-seen", "U-dup"), ("EV-closed", "U-closed"), ("EV-nobody", "U-nobody")]:
        conversation, message = _append(event_id, f"text for {user}", user)
        assert conversation is None and message.pk is None

    assert Conversation.objects.get(contact=contact).last_seq == 1  # a duplicate takes no seq
    assert Message.objects.count() == 0
    assert list(WebhookEvent.objects.values_list("webhook_event_id", "raw")) == [("EV-seen", {"first": True})]


def _wait_until_blocked_on_a_lock(timeout: float = 10.0) -> None:
    """Until another session of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the statement never waited for the conversation's lock")


@one_statement
def test_a_conversation_closed_while_the_statement_waits_gets_no_message_and_no_event():
    """The close commits first: the statement must not store the message in the closed
    conversation, nor the event (the transactional path then opens a new conversation)."""
    contact = Contact.objects.create(line_user_id="U-race")
    conversation = Conversation.objects.create(contact=contact, status=Conversation.Status.ACTIVE, last_seq=3)
    closer = connections.create_connection("default")
    result: list[tuple[Conversation | None, Message]] = []

    def append() -> None:
        try:
            result.append(_append("EV-race", "are you there?", "U-race"))
        finally:
            connection.close()

    try:
        closer.set_autocommit(False)
        with closer.cursor() as cursor:
            cursor.execute(
                "UPDATE livechat_conversation SET status = 'closed', closed_at = now() WHERE id = %s",
                [conversation.pk],
            )
        appender = threading.Thread(target=append)
        appender.start()
        _wait_until_blocked_on_a_lock()
        closer.commit()
        appender.join(10)
    finally:
        closer.close()

    assert result and result[0][0] is None
    conversation.refresh_from_db()
    assert (conversation.status, conversation.last_seq) == (Conversation.Status.CLOSED, 3)
    assert not Message.objects.exists() and not WebhookEvent.objects.exists()


@one_statement
def test_appends_racing_for_one_conversation_take_consecutive_seqs():
    contact = Contact.objects.create(line_user_id="U-many")
    Conversation.objects.create(contact=contact, status=Conversation.Status.WAITING)
    start = threading.Barrier(10)
    found: list[bool] = []

    def append(n: int) -> None:
        try:
            start.wait()
            found.append(_append(f"EV-many-{n}", f"message {n}", "U-many")[0] is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert found == [True] * 10
    assert sorted(Message.objects.values_list("seq", flat=True)) == list(range(1, 11))
    assert Conversation.objects.get(contact=contact).last_seq == 10


@one_statement
def test_the_append_is_prepared_on_a_connection_after_a_few_runs():
    """Settings turn psycopg's prepared statements on (Django's default is off): PostgreSQL then
    skips parsing and planning the webhook's statement."""
    Conversation.objects.create(contact=Contact.objects.create(line_user_id="U-prepared"))

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH conv AS%'")
            return int(cursor.fetchone()[0])

    # The pool may hand this test a connection an earlier test already prepared it on.
    before = prepared()
    for n in range(6):
        assert _append(f"EV-prepared-{n}", f"message {n}", "U-prepared")[0] is not None

    after = prepared()
    assert after >= 1  # prepared (and kept) on this connection
    assert after - before <= 1  # once, not once per run
