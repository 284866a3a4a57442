"""An operator can answer a specific customer message: LINE shows it quoted above the answer
(the message's quote token); what a customer quotes is shown to operators."""

import pytest
from django.test import Client

from livechat.conversations import actions
from livechat.conversations.actions import ActionRefused, Actor
from livechat.models import Conversation, Message
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat(line, webhook, settle, operator) -> Conversation:
    user = ev.new_user_id()
    webhook(ev.text_event(user, "พัสดุหมายเลข TH123 ถึงไหนแล้วคะ"))
    webhook(ev.text_event(user, "แล้วอีกกล่องล่ะคะ"))
    settle()
    conversation = Conversation.objects.get()
    actions.request_handoff(conversation)
    actions.claim(conversation.pk, Actor.staff(operator))
    return conversation


def test_an_answer_quoting_a_customer_message_carries_its_quote_token(chat, operator, line, settle) -> None:
    first = chat.messages.filter(direction=Message.Direction.IN).order_by("seq").first()
    client = Client()
    client.force_login(operator)

    answer = client.post(
        f"/api/v1/conversations/{chat.pk}/send",
        {"client_id": "q-1", "text": "ถึงศูนย์ลำลูกกาแล้วค่ะ", "quote_message_id": first.pk},
        content_type="application/json",
    )
    settle()

    assert answer.status_code == 201
    (sent,) = [c for c in line.calls() if c["endpoint"] in ("reply", "push") and "ถึงศูนย์" in str(c["body"])]
    assert sent["body"]["messages"][0]["quoteToken"] == first.payload["quoteToken"]


def test_only_a_customer_message_of_the_same_conversation_can_be_quoted(
    chat, operator, webhook, settle
) -> None:
    webhook(ev.text_event(ev.new_user_id(), "another customer"))
    settle()
    stranger = Message.objects.exclude(conversation=chat).filter(direction=Message.Direction.IN).get()

    with pytest.raises(ActionRefused) as refused:
        actions.send_operator_message(
            chat.pk, Actor.staff(operator), client_id="q-2", text="no", quote_message_id=stranger.pk
        )

    assert refused.value.code == "not_found"
    assert not Message.objects.filter(client_id="q-2").exists()


def test_what_a_customer_quotes_reaches_the_console(chat, webhook, operator) -> None:
    first = chat.messages.filter(direction=Message.Direction.IN).order_by("seq").first()
    quoting = ev.text_event(chat.contact.line_user_id, "อันนี้ค่ะ")
    quoting["message"]["quotedMessageId"] = first.line_message_id
    webhook(quoting)
    client = Client()
    client.force_login(operator)

    shown = client.get(f"/console/api/conversations/{chat.pk}").json()["messages"]

    by_text = {m["text"]: m for m in shown}
    assert by_text["อันนี้ค่ะ"]["payload"]["quotedMessageId"] == by_text[first.text]["line_message_id"]
