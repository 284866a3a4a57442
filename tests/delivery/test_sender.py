"""What operators send reaches the customer exactly once: by reply token, push, retry or worker."""

import signal
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from livechat.conversations import actions
from livechat.conversations.actions import ActionRefused, Actor
from livechat.conversations.store import append_message
from livechat.delivery import outbox, sender
from livechat.jobs.loop import JobLoop
from livechat.management.commands.worker import one_pass
from livechat.models import Conversation, Message
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat(line, webhook, settle) -> Conversation:
    """A customer who has just written in: their message's reply token is fresh."""
    webhook(ev.text_event(ev.new_user_id(), "ขอสอบถามเรื่องการจัดส่งค่ะ"))
    settle()
    return Conversation.objects.get()


def send_as_operator(conversation: Conversation, operator: Any, text: str) -> Message:
    with transaction.atomic():
        return actions.queue_outbound(
            conversation,
            outbox.text_message(text),
            sender_kind=Message.SenderKind.OPERATOR,
            operator=operator,
        )


def expire_reply_tokens(conversation: Conversation) -> None:
    long_ago = timezone.now() - timedelta(seconds=settings.LINE_REPLY_TOKEN_TTL_SECONDS + 1)
    conversation.messages.filter(direction=Message.Direction.IN).update(created_at=long_ago)


def sends(line) -> list[dict[str, Any]]:
    """Every reply and push the app made, in order."""
    return [c for c in line.calls() if c["endpoint"] in ("reply", "push")]


def delivered(line) -> list[dict[str, Any]]:
    """The sends LINE accepted: what actually appeared on the customer's phone."""
    return [c for c in sends(line) if c["status"] == 200]


def leave_pending(conversation: Conversation, text: str, **fields: Any) -> Message:
    """An operator message accepted and stored by a process that then died before sending."""
    with transaction.atomic():
        return append_message(
            conversation,
            direction=Message.Direction.OUT,
            sender_kind=Message.SenderKind.OPERATOR,
            type=Message.Type.TEXT,
            text=text,
            payload={"type": "text", "text": text},
            status=Message.Status.PENDING,
            next_attempt_at=timezone.now(),
            **fields,
        )


@pytest.mark.smoke
def test_an_operator_message_uses_the_customers_fresh_reply_token(chat, operator, line, settle):
    inbound = chat.messages.get()

    message = send_as_operator(chat, operator, "สวัสดีค่ะ ยินดีให้บริการค่ะ")
    settle()

    (reply,) = sends(line)
    assert reply["endpoint"] == "reply"
    assert reply["status"] == 200
    assert reply["body"]["replyToken"] == inbound.reply_token
    assert reply["body"]["messages"] == [{"type": "text", "text": "สวัสดีค่ะ ยินดีให้บริการค่ะ"}]
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.sent_at is not None
    assert message.line_message_id == reply["response"]["sentMessages"][0]["id"]
    inbound.refresh_from_db()
    assert inbound.reply_token_used_at is not None


def test_the_next_message_is_pushed_because_a_reply_token_works_only_once(chat, operator, line, settle):
    send_as_operator(chat, operator, "first")
    settle()
    second = send_as_operator(chat, operator, "second")
    settle()

    assert [(c["endpoint"], c["status"]) for c in sends(line)] == [("reply", 200), ("push", 200)]
    assert sends(line)[1]["headers"]["X-Line-Retry-Key"] == str(second.uuid)


def test_it_pushes_with_a_retry_key_once_the_reply_token_has_expired(chat, operator, line, settle):
    expire_reply_tokens(chat)

    message = send_as_operator(chat, operator, "ขอโทษที่ตอบช้าค่ะ")
    settle()

    (push,) = sends(line)
    assert push["endpoint"] == "push"
    assert push["status"] == 200
    assert push["headers"]["X-Line-Retry-Key"] == str(message.uuid)
    assert push["body"]["to"] == chat.contact.line_user_id
    assert push["body"]["messages"] == [{"type": "text", "text": "ขอโทษที่ตอบช้าค่ะ"}]
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def test_a_message_is_pending_until_line_has_accepted_it(chat, operator, line, settle):
    expire_reply_tokens(chat)
    line.fail(0, endpoint="push", delay=0.5)  # LINE is slow today

    message = send_as_operator(chat, operator, "one moment please")

    message.refresh_from_db()
    assert message.status == Message.Status.PENDING
    settle()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


@pytest.mark.parametrize("path", ["push", "reply"])
def test_a_rate_limited_send_is_retried_and_delivered_exactly_once(chat, operator, line, settle, path):
    if path == "push":
        expire_reply_tokens(chat)
    line.fail(429, endpoint=path)

    message = send_as_operator(chat, operator, "ได้รับสินค้าแล้วหรือยังคะ")
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.attempts == 2
    assert [c["status"] for c in sends(line)] == [429, 200]
    assert len(delivered(line)) == 1
    # The retry is always a push with the message's key: safe to repeat, whatever happened.
    assert delivered(line)[0]["endpoint"] == "push"
    assert delivered(line)[0]["headers"]["X-Line-Retry-Key"] == str(message.uuid)


def test_a_500_storm_ends_in_failed_with_lines_error(chat, operator, line, settle):
    expire_reply_tokens(chat)
    line.fail(500, count=50, endpoint="push")

    message = send_as_operator(chat, operator, "are you there?")
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error == "Internal server error (simulated)"
    assert message.attempts == sender.MAX_ATTEMPTS
    assert [c["status"] for c in sends(line)] == [500] * sender.MAX_ATTEMPTS
    assert {c["headers"]["X-Line-Retry-Key"] for c in sends(line)} == {str(message.uuid)}
    assert delivered(line) == []


def test_a_push_that_reached_line_before_timing_out_is_not_delivered_twice(
    chat, operator, line, settle, settings
):
    """LINE accepted the push but the answer never came back: the retry's 409 means 'sent'."""
    expire_reply_tokens(chat)
    settings.LINE_API_TIMEOUT_SECONDS = 0.2
    settings.LINE_RETRY_BASE_SECONDS = 1.0  # retry after LINE has finished the slow request
    line.fail(0, endpoint="push", delay=0.6)

    message = send_as_operator(chat, operator, "your parcel left the warehouse")
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.error == ""
    assert [c["status"] for c in sends(line)] == [200, 409]
    assert len(delivered(line)) == 1


@pytest.mark.smoke
def test_a_message_left_pending_by_a_crashed_process_is_sent_by_the_worker_once(chat, line):
    message = leave_pending(chat, "sent just before the crash")

    call_command("worker", "--once")
    call_command("worker", "--once")

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    (sent,) = delivered(line)
    assert sent["body"]["messages"] == [{"type": "text", "text": "sent just before the crash"}]


def test_a_message_whose_sender_died_mid_send_is_finished_by_push_with_its_key(chat, line):
    """The dead process may have used the reply token already: only a keyed push is safe."""
    message = leave_pending(
        chat, "half sent", attempts=1, claimed_until=timezone.now() - timedelta(seconds=1)
    )

    call_command("worker", "--once")

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    (push,) = sends(line)
    assert push["endpoint"] == "push"
    assert push["headers"]["X-Line-Retry-Key"] == str(message.uuid)


def test_the_worker_leaves_a_message_alone_while_a_live_sender_holds_it(chat, line):
    message = leave_pending(chat, "in flight elsewhere", claimed_until=timezone.now() + timedelta(seconds=30))

    call_command("worker", "--once")

    message.refresh_from_db()
    assert message.status == Message.Status.PENDING
    assert sends(line) == []


def test_two_workers_at_once_send_each_pending_message_once(chat, line):
    messages = [leave_pending(chat, f"backlog {i}") for i in range(10)]
    start = threading.Barrier(2)

    def work() -> None:
        try:
            worker = JobLoop(one_pass)
            start.wait()
            worker.run_once()
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True)) == {
        Message.Status.SENT
    }
    texts = sorted(m["text"] for c in delivered(line) for m in c["body"]["messages"])
    assert texts == sorted(f"backlog {i}" for i in range(10))


def test_text_over_5000_characters_is_refused_with_a_clear_error_and_nothing_stored(chat, operator, line):
    before = Message.objects.count()

    with pytest.raises(outbox.OutboundRefused, match="5001 characters; LINE accepts at most 5000"):
        send_as_operator(chat, operator, "ก" * 5001)
    with pytest.raises(outbox.OutboundRefused, match="5001 characters"), transaction.atomic():
        actions.queue_outbound(
            chat, {"type": "text", "text": "x" * 5001}, sender_kind=Message.SenderKind.OPERATOR
        )
    with pytest.raises(outbox.OutboundRefused, match="empty"):
        send_as_operator(chat, operator, "   ")

    assert Message.objects.count() == before
    assert sends(line) == []


def test_text_of_exactly_5000_characters_is_sent_whole(chat, operator, line, settle):
    message = send_as_operator(chat, operator, "ก" * 5000)
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert delivered(line)[0]["body"]["messages"][0]["text"] == "ก" * 5000


def test_a_failed_message_retried_from_the_console_gets_sent(chat, operator, line, settle):
    expire_reply_tokens(chat)
    line.fail(500, count=sender.MAX_ATTEMPTS, endpoint="push")
    message = send_as_operator(chat, operator, "second try")
    settle()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED

    chat.assigned_operator = operator
    chat.save(update_fields=["assigned_operator"])
    assert actions.retry_message(message.pk, Actor.staff(operator)).status == Message.Status.PENDING
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.error == ""
    assert len(delivered(line)) == 1
    with pytest.raises(ActionRefused, match="Only a failed outbound message"):
        actions.retry_message(message.pk, Actor.staff(operator))  # already sent: nothing to retry


def test_running_the_worker_leaves_ctrl_c_working():
    before = signal.getsignal(signal.SIGINT)

    call_command("worker", "--once")

    assert signal.getsignal(signal.SIGINT) is before
