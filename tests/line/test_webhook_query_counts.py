"""The webhook's database work per inbound message is pinned, and does not grow with the data.

Counted: the request only (on_commit callbacks included — they run in the request); the
background pool's sends, downloads and profile fetches use their own connections and are not.
BEGIN and COMMIT are counted too.

On PostgreSQL a message in an open conversation is one statement without a transaction
(fast_path.append_to_open_conversation); when that statement finds no open conversation, it
is one query more before the transactional path. SQLite always takes the transactional path.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from livechat.conversations import fast_path
from livechat.models import Contact, Conversation, Message
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)

ONE_STATEMENT = fast_path.can_append_in_one_statement()
# PostgreSQL: the one statement. SQLite: BEGIN; INSERT webhook event; SELECT open conversation
# (with contact and operator); UPDATE … RETURNING the next seq; INSERT message; COMMIT.
EXISTING_CONVERSATION_QUERIES = 1 if ONE_STATEMENT else 6
# (PostgreSQL: the one statement, finding nothing;) BEGIN; INSERT webhook event; SELECT open
# conversation (none); SELECT a rating awaiting its comment (none: CSAT, issue 14); SELECT
# contact (none); SAVEPOINT, INSERT contact, RELEASE; SAVEPOINT,
# INSERT conversation, RELEASE; INSERT "created" conversation event; UPDATE … RETURNING seq;
# INSERT message; then the bot's fallback (the first text of a conversation is one nothing
# matched): UPDATE bot_nudged_at (claims the once-per-interval answer), UPDATE … RETURNING seq,
# INSERT the bot's message; COMMIT.
NEW_CONTACT_QUERIES = 18 + ONE_STATEMENT
# As for a new contact, without creating the contact: 3 fewer.
RETURNING_CONTACT_QUERIES = 15 + ONE_STATEMENT

OTHER_CONVERSATIONS = 200


@pytest.fixture(params=["empty", "busy"])
def database(request: pytest.FixtureRequest, line, webhook, settle) -> str:
    """An empty database, or one with 200 other customers' conversations and history in it."""
    if request.param == "busy":
        now = timezone.now()
        contacts = Contact.objects.bulk_create(
            Contact(line_user_id=ev.new_user_id(), display_name=f"Customer {i}", profile_fetched_at=now)
            for i in range(OTHER_CONVERSATIONS)
        )
        statuses = ["bot", "waiting", "active", "closed"]
        conversations = Conversation.objects.bulk_create(
            Conversation(contact=c, status=statuses[i % 4], last_seq=5, last_message_at=now)
            for i, c in enumerate(contacts)
        )
        Message.objects.bulk_create(
            Message(
                conversation=conversation,
                seq=seq,
                direction=Message.Direction.IN,
                sender_kind=Message.SenderKind.CUSTOMER,
                text=f"message {seq}",
                status=Message.Status.RECEIVED,
                reply_token=f"old-token-{conversation.pk}-{seq}",
                line_message_id=f"{conversation.pk}{seq:03d}",
                created_at=now - timedelta(minutes=seq),
            )
            for conversation in conversations
            for seq in range(1, 6)
        )
    # Warm up what every process warms once: imports, URL resolver, the bot's cached settings.
    webhook(ev.text_event(ev.new_user_id(), "warm-up"))
    settle()
    return request.param


def test_a_message_in_an_open_conversation_costs_a_fixed_number_of_queries(
    database, webhook, settle, django_assert_num_queries
):
    user = ev.new_user_id()
    webhook(ev.text_event(user, "สวัสดีค่ะ"))
    settle()

    with django_assert_num_queries(EXISTING_CONVERSATION_QUERIES):
        response = webhook(ev.text_event(user, "ขอสอบถามหน่อยค่ะ"))

    assert response.status_code == 200
    assert Message.objects.filter(conversation__contact__line_user_id=user, direction="in").count() == 2


def test_a_new_customers_first_message_costs_a_fixed_number_of_queries(
    database, webhook, django_assert_num_queries
):
    user = ev.new_user_id()

    with django_assert_num_queries(NEW_CONTACT_QUERIES):
        response = webhook(ev.text_event(user, "สวัสดีค่ะ"))

    assert response.status_code == 200
    assert Contact.objects.filter(line_user_id=user).exists()


def test_a_returning_customers_first_message_costs_a_fixed_number_of_queries(
    database, webhook, settle, django_assert_num_queries
):
    user = ev.new_user_id()
    webhook(ev.text_event(user, "last week"))
    settle()
    Conversation.objects.filter(contact__line_user_id=user).update(status=Conversation.Status.CLOSED)

    with django_assert_num_queries(RETURNING_CONTACT_QUERIES):
        response = webhook(ev.text_event(user, "hello again"))

    assert response.status_code == 200
    assert Conversation.objects.filter(contact__line_user_id=user).count() == 2
