"""Several messages waiting in one conversation go to LINE together, up to 5 per request, in seq
order — fewer calls, and one free reply token carries them all. A batch is fixed before its first
call: every retry sends the same messages under the same retry key, so LINE never shows any of
them twice."""

from typing import Any

import pytest

from livechat.conversations import actions
from livechat.conversations.actions import Actor
from livechat.models import BotSettings, Conversation, Message
from livechat.simulator import events as ev
from tests.delivery.test_circuit import queue_sends
from tests.delivery.test_sender import delivered, expire_reply_tokens, sends

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat(line, webhook, settle) -> Conversation:
    """A customer who has just written in (the bot's fallback off: its token is for the batch)."""
    BotSettings.objects.update_or_create(pk=1, defaults={"fallback_enabled": False})
    webhook(ev.text_event(ev.new_user_id(), "ขอรายละเอียดสินค้าหน่อยค่ะ"))
    settle()
    return Conversation.objects.get()


def texts_of(call: dict[str, Any]) -> list[str]:
    return [m["text"] for m in call["body"]["messages"]]


def test_waiting_messages_go_out_five_per_request_in_order_the_first_five_free(
    chat, operator, line, settle
) -> None:
    texts = [f"ข้อ {i}" for i in range(1, 8)]

    messages = queue_sends(chat, operator, texts)
    settle()

    calls = sends(line)
    assert [(c["endpoint"], texts_of(c)) for c in calls] == [("reply", texts[:5]), ("push", texts[5:])]
    stored = Message.objects.filter(pk__in=[m.pk for m in messages]).order_by("seq")
    assert [m.sent_via for m in stored] == ["reply"] * 5 + ["push"] * 2
    assert all(m.status == Message.Status.SENT for m in stored)
    ids = [m.line_message_id for m in stored]
    assert None not in ids and len(set(ids)) == 7  # each has LINE's own id


def test_a_batch_whose_answer_was_lost_is_sent_again_whole_and_shown_once(
    chat, operator, line, settle, settings
) -> None:
    expire_reply_tokens(chat)
    settings.LINE_API_TIMEOUT_SECONDS = 0.2
    settings.LINE_RETRY_BASE_SECONDS = 1.0  # retry after LINE has finished the slow request
    line.fail(0, endpoint="push", delay=0.6)  # LINE takes it, the answer comes too late

    messages = queue_sends(chat, operator, ["หนึ่ง", "สอง", "สาม"])
    settle()

    first, retry = sends(line)
    assert texts_of(first) == texts_of(retry) == ["หนึ่ง", "สอง", "สาม"]
    assert first["headers"]["X-Line-Retry-Key"] == retry["headers"]["X-Line-Retry-Key"]
    assert retry["status"] == 409  # already accepted: nothing shown twice
    assert [texts_of(c) for c in delivered(line)] == [["หนึ่ง", "สอง", "สาม"]]
    stored = Message.objects.filter(pk__in=[m.pk for m in messages])
    assert set(stored.values_list("status", flat=True)) == {"sent"}


def test_retrying_one_failed_message_of_a_batch_sends_the_batch_again_under_its_key(
    chat, operator, supervisor, line, settle
) -> None:
    expire_reply_tokens(chat)
    line.fail(400, endpoint="push")  # LINE refuses the batch once
    messages = queue_sends(chat, operator, ["ก", "ข"])
    settle()
    assert set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True)) == {
        "failed"
    }

    actions.retry_message(messages[1].pk, Actor.staff(supervisor))
    settle()

    refused, accepted = sends(line)
    assert texts_of(accepted) == ["ก", "ข"]
    assert accepted["headers"]["X-Line-Retry-Key"] == refused["headers"]["X-Line-Retry-Key"]
    assert set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True)) == {
        "sent"
    }
