"""Operator actions under concurrency, and what every operator's list hears about."""

import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, transaction
from django.utils import timezone

from livechat.conversations import actions
from livechat.conversations.actions import Actor
from livechat.conversations.store import start_conversation
from livechat.models import Contact, Conversation, Message
from livechat.simulator import events as ev
from tests.conftest import post_webhook
from tests.ws import operator_socket

pytestmark = pytest.mark.django_db(transaction=True)


def active_conversation(holder) -> int:
    with transaction.atomic():
        contact = Contact.objects.create(line_user_id=ev.new_user_id())
        conversation, _ = start_conversation(contact)
        Conversation.objects.filter(pk=conversation.pk).update(
            status="active", assigned_operator=holder, claimed_at=timezone.now()
        )
    return conversation.pk


def test_two_tabs_resending_the_same_message_at_once_store_it_once(operator, line):
    conversation_id = active_conversation(operator)
    results, errors = [], []
    start = threading.Barrier(4)

    def resend() -> None:
        try:
            start.wait()
            results.append(
                actions.send_operator_message(
                    conversation_id, Actor.staff(operator), client_id="tab-x", text="ok"
                )
            )
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=resend) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    assert len({message.pk for message, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert Message.objects.filter(conversation_id=conversation_id, client_id="tab-x").count() == 1


async def test_every_operators_list_hears_the_bots_reply(operator, client, line):
    socket = await operator_socket(operator)
    user = ev.new_user_id()
    await sync_to_async(post_webhook)(client, ev.text_event(user, "agent"))
    update = await socket.expect(
        "conversation_update",
        timeout=5,
        where=lambda p: any(m["sender_kind"] == "bot" for m in p["messages"]),
    )
    assert update["payload"]["conversation"]["status"] == "waiting"
    assert "ลำดับที่ 1" in update["payload"]["messages"][0]["text"]
    await socket.close()


def test_messages_reach_the_customer_in_the_order_they_were_written_even_if_one_is_slow(
    operator, line, settle
):
    conversation_id = active_conversation(operator)
    user_id = Conversation.objects.get(pk=conversation_id).contact.line_user_id
    line.fail(status=0, count=1, delay=1.0)  # LINE is slow to take the first one
    actions.send_operator_message(conversation_id, Actor.staff(operator), client_id="m1", text="ข้อความแรก")
    actions.send_operator_message(conversation_id, Actor.staff(operator), client_id="m2", text="ข้อความที่สอง")
    actions.send_operator_message(conversation_id, Actor.staff(operator), client_id="m3", text="ข้อความที่สาม")
    settle()
    assert line.sent_texts(user_id) == ["ข้อความแรก", "ข้อความที่สอง", "ข้อความที่สาม"]
    assert list(
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("seq")
        .values_list("status", flat=True)
    ) == ["sent", "sent", "sent"]
