"""A new customer firing many messages at once gets one conversation with gap-free numbering."""

import threading

import pytest
from django.db import connection
from django.test import Client

from livechat.models import Contact, Conversation, Message, WebhookEvent
from livechat.simulator import events as ev
from tests.conftest import post_webhook

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SENDERS = 20


def test_twenty_first_messages_at_once_make_one_conversation_numbered_1_to_20(require_postgres, line, settle):
    user = ev.new_user_id()
    texts = [f"ข้อความที่ {i} / message {i}" for i in range(SENDERS)]
    start = threading.Barrier(SENDERS)
    statuses: list[int] = []

    def send(text: str) -> None:
        try:
            client = Client()
            start.wait()
            statuses.append(post_webhook(client, ev.text_event(user, text)).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    settle()

    assert statuses == [200] * SENDERS
    assert Contact.objects.filter(line_user_id=user).count() == 1
    (conversation,) = Conversation.objects.filter(contact__line_user_id=user)
    assert conversation.status == Conversation.Status.BOT
    messages = list(conversation.messages.order_by("seq").values_list("seq", "direction", "text"))
    # The bot answered one of them (its fallback), only one: the others found it had just spoken.
    assert [seq for seq, _, _ in messages] == list(range(1, SENDERS + 2))
    assert sorted(text for _, direction, text in messages if direction == "in") == sorted(texts)
    assert [direction for _, direction, _ in messages].count("out") == 1
    assert conversation.last_seq == SENDERS + 1
    assert WebhookEvent.objects.exclude(processing_error="").count() == 0
    assert Message.objects.count() == SENDERS + 1
    # The profile is fetched once for the new contact, not once per racing request.
    assert len(line.calls(endpoint="profile")) == 1
