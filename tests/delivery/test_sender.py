"""What operators send reaches the customer exactly once: by reply token, push, retry or worker."""

import signal
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone, translation

from livechat.conversations import actions
from livechat.conversations.actions import ActionRefused, Actor
from livechat.conversations.store import append_message
from livechat.delivery import circuit, outbox, sender
from livechat.jobs.loop import JobLoop
from livechat.management.commands.worker import one_pass
from livechat.models import AutoReply, BotSettings, Conversation, Message
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat(line, webhook, settle) -> Conversation:
    """A customer who has just written in: their message's reply token is fresh (the bot's
    fallback, which would spend it, is off: these tests are about what operators send)."""
    BotSettings.objects.update_or_create(pk=1, defaults={"fallback_enabled": False})
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
    # The customer sees who answers: the operator's name above the message (LINE's `sender`).
    assert reply["body"]["messages"] == [
        {"type": "text", "text": "สวัสดีค่ะ ยินดีให้บริการค่ะ", "sender": {"name": "Somchai"}}
    ]
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
    assert push["body"]["messages"] == [
        {"type": "text", "text": "ขอโทษที่ตอบช้าค่ะ", "sender": {"name": "Somchai"}}
    ]
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
    # The retry goes the same way: a push with the message's key (safe to repeat, whatever
    # happened), a reply with the same token (LINE takes it once, so it cannot arrive twice).
    assert [c["endpoint"] for c in sends(line)] == [path, path]
    if path == "push":
        assert delivered(line)[0]["headers"]["X-Line-Retry-Key"] == str(message.uuid)
    else:
        assert sends(line)[0]["body"]["replyToken"] == sends(line)[1]["body"]["replyToken"]
        assert message.sent_via == "reply"


def test_a_500_storm_pauses_the_message_instead_of_failing_it(chat, operator, line, settle):
    """LINE failing over and over is an outage: the circuit opens (tests/delivery/test_circuit.py)
    and the message waits with LINE's error, its retry key unchanged, rather than ending failed."""
    expire_reply_tokens(chat)
    line.fail(500, count=50, endpoint="push")

    message = send_as_operator(chat, operator, "are you there?")
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.PENDING
    assert message.error == "Internal server error (simulated)"
    assert [c["status"] for c in sends(line)] == [500] * circuit.FAILURES_TO_OPEN
    assert {c["headers"]["X-Line-Retry-Key"] for c in sends(line)} == {str(message.uuid)}
    assert delivered(line) == []


def test_a_429_storm_ends_in_failed_with_lines_error(chat, operator, line, settle):
    """Rate limits are not an outage: after its attempts the message is failed, with LINE's words,
    for the operator to retry."""
    expire_reply_tokens(chat)
    line.fail(429, count=50, endpoint="push")

    message = send_as_operator(chat, operator, "are you there?")
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error == "The API rate limit has been exceeded. Try again later."  # LINE's words
    assert message.attempts == sender.MAX_ATTEMPTS
    assert [c["status"] for c in sends(line)] == [429] * sender.MAX_ATTEMPTS
    assert delivered(line) == []


def test_an_html_error_page_from_lines_edge_is_retried_and_the_send_goes_through(
    chat, operator, line, settle
):
    """A 502 page from a proxy in front of LINE is a failure like any 5xx: retried with backoff,
    however unlike LINE's JSON its body is."""
    expire_reply_tokens(chat)
    line.fail(502, count=2, endpoint="push", html=True)

    message = send_as_operator(chat, operator, "ยังอยู่ไหมคะ")
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.attempts == 3
    assert [c["status"] for c in sends(line)] == [502, 502, 200]
    assert len(delivered(line)) == 1


def test_when_line_keeps_answering_with_an_html_page_the_error_says_what_it_said(
    chat, operator, line, settle
):
    expire_reply_tokens(chat)
    line.fail(502, count=50, endpoint="push", html=True)

    message = send_as_operator(chat, operator, "are you there?")
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.PENDING  # an outage: it waits (the circuit is open)
    assert "502 Bad Gateway" in message.error
    assert "<" not in message.error  # the page's words, not its markup


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
    # LINE's 409 names what it had sent: the message keeps LINE's id, as if the answer had come.
    assert message.line_message_id == delivered(line)[0]["response"]["sentMessages"][0]["id"]


# --- A reply is never followed by a push of the same message -------------------------------------


def test_a_reply_that_reached_line_before_timing_out_is_not_pushed_as_well(
    chat, operator, line, settle, settings
):
    """LINE took the reply but its answer was lost: asking again with the same token gets
    'Invalid reply token' — the token was spent on this very message — so it is sent, once."""
    settings.LINE_API_TIMEOUT_SECONDS = 0.2
    settings.LINE_RETRY_BASE_SECONDS = 1.0  # retry after LINE has finished the slow request
    line.fail(0, endpoint="reply", delay=0.6)

    message = send_as_operator(chat, operator, "พัสดุออกจากคลังแล้วค่ะ")
    settle()

    message.refresh_from_db()
    assert (message.status, message.sent_via, message.error) == ("sent", "reply", "")
    assert [(c["endpoint"], c["status"]) for c in sends(line)] == [("reply", 200), ("reply", 400)]
    assert len(delivered(line)) == 1


def test_a_reply_that_failed_is_tried_again_with_the_same_free_token(chat, operator, line, settle):
    line.fail(500, endpoint="reply")

    message = send_as_operator(chat, operator, "ขอบคุณที่รอค่ะ")
    settle()

    message.refresh_from_db()
    assert (message.status, message.sent_via) == ("sent", "reply")
    assert [(c["endpoint"], c["status"]) for c in sends(line)] == [("reply", 500), ("reply", 200)]
    assert sends(line)[0]["body"]["replyToken"] == sends(line)[1]["body"]["replyToken"]


def test_a_reply_left_unconfirmed_by_a_dead_process_is_settled_without_a_push(chat, line):
    """The process called reply, LINE delivered it, and the process died before it heard back."""
    token = chat.messages.get().reply_token
    message = leave_pending(
        chat,
        "ส่งไปแล้วก่อนโปรเซสตาย",
        attempts=1,
        reply_token=token,
        reply_attempted_at=timezone.now(),
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    Message.objects.filter(reply_token=token).update(reply_token_used_at=timezone.now())
    line.http.post(
        "/simulator/line-api/v2/bot/message/reply",
        json={"replyToken": token, "messages": [message.payload]},
        headers={"Authorization": f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}"},
    ).raise_for_status()  # what the dead process did

    call_command("worker", "--once")

    message.refresh_from_db()
    assert (message.status, message.sent_via) == ("sent", "reply")
    assert [c["endpoint"] for c in sends(line)] == ["reply", "reply"]
    assert len(delivered(line)) == 1


def test_an_unconfirmed_reply_whose_token_expired_is_flagged_for_the_operator_not_pushed(
    chat, operator, line, settle
):
    token = chat.messages.get().reply_token
    message = leave_pending(
        chat,
        "อาจจะถึงหรือไม่ถึง",
        operator=operator,
        attempts=1,
        reply_token=token,
        reply_attempted_at=timezone.now(),
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    Message.objects.filter(reply_token=token).update(reply_token_used_at=timezone.now())
    expire_reply_tokens(chat)

    call_command("worker", "--once")

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error == sender.UNCONFIRMED_REPLY
    assert sends(line) == []  # no blind push: one doubtful message beats a silent duplicate

    Conversation.objects.filter(pk=chat.pk).update(assigned_operator=operator)
    actions.retry_message(message.pk, Actor.staff(operator))  # the operator chose to resend
    settle()
    message.refresh_from_db()
    assert (message.status, message.sent_via) == ("sent", "push")
    assert [c["endpoint"] for c in delivered(line)] == ["push"]


def test_a_token_the_bot_replied_with_is_not_tried_again_by_the_operator(line, webhook, settle, operator):
    user = ev.new_user_id()
    AutoReply.objects.create(keyword="ราคา", reply_text="ราคาเริ่มต้น 199 บาทค่ะ")
    webhook(ev.text_event(user, "ราคา"))
    settle()
    chat = Conversation.objects.get(contact__line_user_id=user)

    send_as_operator(chat, operator, "สอบถามเพิ่มเติมได้เลยค่ะ")
    settle()

    assert [(c["endpoint"], c["status"]) for c in sends(line)] == [("reply", 200), ("push", 200)]


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

    with pytest.raises(outbox.OutboundRefused, match=r"5001 characters .* accepts at most 5000"):
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
    line.fail(429, count=sender.MAX_ATTEMPTS, endpoint="push")  # rate-limited until it gave up
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
    with translation.override("en"), pytest.raises(ActionRefused, match="Only a failed outbound message"):
        actions.retry_message(message.pk, Actor.staff(operator))  # already sent: nothing to retry


def test_running_the_worker_leaves_ctrl_c_working():
    before = signal.getsignal(signal.SIGINT)

    call_command("worker", "--once")

    assert signal.getsignal(signal.SIGINT) is before


def test_the_customer_sees_who_answers_unless_it_is_turned_off(chat, operator, line, settle, settings):
    with transaction.atomic():
        actions.bot_reply(chat, "เปิด 9 โมงค่ะ", reply_token="")
    send_as_operator(chat, operator, "สวัสดีค่ะ")
    settings.LINE_SHOW_SENDER = False
    send_as_operator(chat, operator, "ไม่มีชื่อ")
    settle()

    senders = [m.get("sender") for c in delivered(line) for m in c["body"]["messages"]]
    assert senders == [{"name": "ผู้ช่วยอัตโนมัติ"}, {"name": "Somchai"}, None]


def test_lines_monthly_limit_fails_the_push_at_once_with_a_reason_people_understand(
    chat, operator, line, settle
):
    expire_reply_tokens(chat)  # a push: what the quota counts
    line.http.post("/simulator/control/quota", json={"limit": 0}).raise_for_status()

    message = send_as_operator(chat, operator, "โปรโมชั่นเดือนนี้ค่ะ")
    settle()

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error == sender.MONTHLY_LIMIT_REACHED  # in Thai and English, and what to do
    assert [c["status"] for c in sends(line)] == [429]  # not retried: no retry helps this month


def test_a_reply_token_the_bot_spent_is_never_tried_again_by_an_operator(line, webhook, settle, operator):
    """The bot answered with the customer's token: the operator's next message goes by push at
    once — no second reply with that token (LINE: 400 "Invalid reply token", then a push)."""
    webhook(ev.text_event(ev.new_user_id(), "มีสินค้าสีแดงไหมคะ"))  # nothing matches: the fallback answers
    settle()
    chat = Conversation.objects.get()

    send_as_operator(chat, operator, "มีค่ะ เหลือ 2 ชิ้น")
    settle()

    assert [(c["endpoint"], c["status"]) for c in sends(line)] == [("reply", 200), ("push", 200)]
    assert chat.messages.filter(direction=Message.Direction.IN).get().reply_token_used_at is not None


def test_the_word_line_is_left_out_of_a_sender_name_but_not_out_of_other_words():
    text = outbox.text_message("สวัสดีค่ะ")

    assert outbox.with_sender(text, "Caroline")["sender"] == {"name": "Caroline"}
    assert outbox.with_sender(text, "LINE Support ทีมงาน")["sender"] == {"name": "Support ทีมงาน"}
    assert "sender" not in outbox.with_sender(text, "line")
    long_name = outbox.with_sender(text, "ผู้ช่วยอัตโนมัติประจำร้านค้าออนไลน์")["sender"]["name"]
    assert len(long_name) == outbox.SENDER_NAME_LENGTH  # LINE's limit
