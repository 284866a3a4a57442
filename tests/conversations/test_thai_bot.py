"""A bot that answers Thai customers (issue 12 §5): keywords found within what they write, polite
particles, punctuation and emoji aside; a fallback with quick reply buttons; "still waiting"
while in the queue. Everything is asserted on what reaches the customer's phone."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from livechat.conversations import bot, fast_path
from livechat.models import AutoReply, BotSettings, Contact, Conversation, Message
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)

HOURS = "เปิดทุกวัน 9:00–18:00 น. ค่ะ / Open daily 9:00–18:00."
SHIPPING = "ค่าส่ง 50 บาทค่ะ / Shipping is 50 THB."
RETURNS = "คืนสินค้าได้ภายใน 7 วันค่ะ / Returns within 7 days."
GREETING = "สวัสดีค่ะ มีอะไรให้ช่วยคะ / Hello, how can we help?"


@pytest.fixture
def replies() -> None:
    for keyword, text in [
        ("สวัสดี", GREETING),
        ("hello", GREETING),
        ("เวลาทำการ", HOURS),
        ("opening hours", HOURS),
        ("ส่ง", SHIPPING),
        ("ค่าส่ง", SHIPPING),
        ("ส่งคืน", RETURNS),
        ("return", RETURNS),
    ]:
        AutoReply.objects.create(keyword=keyword, reply_text=text)


def messages_to(line: Any, user: str) -> list[dict[str, Any]]:
    """Every message object LINE accepted for the customer, in order."""
    return [
        m
        for c in line.calls(user_id=user)
        if c["endpoint"] in ("reply", "push") and c["status"] == 200
        for m in (c["body"] or {}).get("messages", [])
    ]


def bot_settings(**fields: Any) -> BotSettings:
    settings, _ = BotSettings.objects.get_or_create(pk=1)
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.save()  # as admin does: every process reloads the bot's texts
    return settings


def conversation_of(user: str) -> Conversation:
    return Conversation.objects.exclude(status=Conversation.Status.CLOSED).get(contact__line_user_id=user)


def bot_spoke_minutes_ago(user: str, minutes: float) -> None:
    """Time passes: the bot's last unasked word was `minutes` ago."""
    Conversation.objects.filter(contact__line_user_id=user).update(
        bot_nudged_at=timezone.now() - timedelta(minutes=minutes)
    )


# --- 1. Keywords within the text ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("สวัสดีครับ", GREETING),  # a polite particle after the keyword
        ("สวัสดีค่ะ 🙏🙏", GREETING),
        ("สวัสดีจ้าาา!!", GREETING),
        ("HELLO krub", GREETING),  # Latin: case-folded, whole word
        ("hello!!!", GREETING),
        ("ขอทราบเวลาทำการหน่อยค่ะ", HOURS),  # Thai: anywhere in the text
        ("เวลา ทำการ ค่ะ?", HOURS),  # spaces inside a Thai phrase
        ("What are your opening hours?", HOURS),
        ("อยากส่งคืนสินค้าค่ะ", RETURNS),  # ส่งคืน is more specific than ส่ง
        ("ค่าส่งเท่าไหร่คะ", SHIPPING),  # ค่าส่ง, not ส่ง
        ("สวัสดีค่ะ ค่าส่งเท่าไหร่คะ", SHIPPING),  # as long as the greeting: the one said last
    ],
)
def test_a_keyword_is_found_within_what_the_customer_writes(replies, line, webhook, settle, text, answer):
    user = ev.new_user_id()

    webhook(ev.text_event(user, text))
    settle()

    assert [m["text"] for m in messages_to(line, user)] == [answer]


@pytest.mark.parametrize("text", ["this is great", "hellooo there", "returned?", "the agenda"])
def test_a_latin_keyword_inside_another_word_does_not_match(replies, text):
    assert bot.auto_reply_for(text) is None
    assert not bot.asks_for_human(text)


def test_a_keyword_written_with_a_particle_answers_other_particles(line, webhook, settle):
    AutoReply.objects.create(keyword="สวัสดีค่ะ!", reply_text=GREETING)
    user = ev.new_user_id()

    webhook(ev.text_event(user, "สวัสดีครับ"))
    settle()

    assert [m["text"] for m in messages_to(line, user)] == [GREETING]


def test_a_thai_handoff_keyword_with_particles_and_emoji_hands_over(webhook):
    user = ev.new_user_id()

    webhook(ev.text_event(user, "ขอคุยกับเจ้าหน้าที่หน่อยนะคะ 🙏"))

    assert conversation_of(user).status == Conversation.Status.WAITING


def test_a_keyword_in_an_open_conversation_is_answered_after_the_bot_has_just_spoken(
    replies, line, webhook, settle
):
    """The webhook's one-statement path must not swallow a message the bot has an answer for."""
    user = ev.new_user_id()
    webhook(ev.text_event(user, "มีของแถมไหมคะ"))  # nothing matches: the fallback
    settle()

    webhook(ev.text_event(user, "แล้วค่าส่งเท่าไหร่คะ"))
    settle()

    texts = [m["text"] for m in messages_to(line, user)]
    assert texts[-1] == SHIPPING
    assert len(texts) == 2


# --- 2. The fallback and its quick reply buttons --------------------------------------------------


def test_what_the_bot_does_not_understand_gets_the_fallback_with_quick_replies(line, webhook, settle):
    bot_settings(quick_replies=[{"label": "เวลาทำการ", "text": "เวลาทำการ"}])
    user = ev.new_user_id()

    webhook(ev.text_event(user, "สินค้ารุ่นนี้มีสีอื่นไหมคะ"))
    settle()

    (fallback,) = messages_to(line, user)
    assert fallback["text"] == BotSettings().fallback_message
    assert "คุยกับเจ้าหน้าที่" in fallback["text"] and "talk to an agent" in fallback["text"]
    assert fallback["quickReply"]["items"] == [
        {
            "type": "action",
            "action": {
                "type": "postback",
                "label": "คุยกับเจ้าหน้าที่",
                "data": "action=handoff&from=quickreply",
                "displayText": "คุยกับเจ้าหน้าที่",
            },
        },
        {"type": "action", "action": {"type": "message", "label": "เวลาทำการ", "text": "เวลาทำการ"}},
    ]
    assert conversation_of(user).status == Conversation.Status.BOT


def test_tapping_talk_to_a_human_puts_the_customer_in_the_queue(line, webhook, settle):
    user = ev.new_user_id()
    webhook(ev.text_event(user, "สินค้ารุ่นนี้มีสีอื่นไหมคะ"))
    settle()
    (fallback,) = messages_to(line, user)
    action = fallback["quickReply"]["items"][0]["action"]

    webhook(ev.postback_event(user, action["data"]))  # LINE does not send displayText back
    settle()

    assert conversation_of(user).status == Conversation.Status.WAITING
    assert "ลำดับที่ 1" in messages_to(line, user)[-1]["text"]


def test_the_fallback_comes_at_most_once_per_interval(line, webhook, settle):
    user = ev.new_user_id()
    webhook(ev.text_event(user, "มีสีอื่นไหมคะ"))
    webhook(ev.text_event(user, "แล้วไซซ์ L ล่ะคะ"))
    settle()
    assert len(messages_to(line, user)) == 1

    bot_spoke_minutes_ago(user, 9)
    webhook(ev.text_event(user, "ยังอยู่ไหมคะ"))
    settle()
    assert len(messages_to(line, user)) == 1

    bot_spoke_minutes_ago(user, 10)
    webhook(ev.text_event(user, "ยังอยู่ไหมคะ"))
    settle()
    assert len(messages_to(line, user)) == 2
    assert conversation_of(user).messages.filter(sender_kind=Message.SenderKind.BOT).count() == 2


def test_the_interval_is_configurable(line, webhook, settle):
    bot_settings(fallback_minutes=2)
    user = ev.new_user_id()
    webhook(ev.text_event(user, "มีสีอื่นไหมคะ"))
    settle()

    bot_spoke_minutes_ago(user, 2)
    webhook(ev.text_event(user, "ยังอยู่ไหมคะ"))
    settle()

    assert len(messages_to(line, user)) == 2


@pytest.mark.parametrize("text", ["ค่ะ", "ครับ 🙏", "👍", "...", "555555", "นะคะ!!"])
def test_a_text_that_says_nothing_gets_no_fallback(line, webhook, settle, text):
    user = ev.new_user_id()

    webhook(ev.text_event(user, text))
    settle()

    assert messages_to(line, user) == []


def test_with_the_fallback_off_the_bot_stays_silent(line, webhook, settle):
    bot_settings(fallback_enabled=False)
    user = ev.new_user_id()

    webhook(ev.text_event(user, "สินค้ารุ่นนี้มีสีอื่นไหมคะ"))
    settle()

    assert messages_to(line, user) == []


def test_the_welcome_carries_the_talk_to_a_human_button(line, webhook, settle):
    user = ev.new_user_id()

    webhook(ev.follow_event(user))
    settle()

    (welcome,) = messages_to(line, user)
    assert "ยินดีต้อนรับ" in welcome["text"]
    (button,) = welcome["quickReply"]["items"]
    assert button["action"]["type"] == "postback"
    assert bot.postback_action(button["action"]["data"]) == "handoff"
    assert button["action"]["displayText"] == button["action"]["label"] == "คุยกับเจ้าหน้าที่"


@pytest.mark.parametrize(
    "buttons",
    [
        {"label": "x", "text": "x"},  # not a list
        [{"label": "x"}],
        [{"label": "", "text": "x"}],
        [{"label": "ก" * 21, "text": "x"}],  # LINE: at most 20 characters
        [{"label": "😊" * 11, "text": "x"}],  # 22 as LINE counts
        [{"label": "x", "text": "x" * 301}],
        [{"label": f"b{i}", "text": "x"} for i in range(13)],  # 13 with "talk to a human"
        [{"label": "x", "text": "x", "data": "action=buy"}],
    ],
)
def test_quick_reply_buttons_that_line_would_refuse_cannot_be_saved(buttons):
    settings = BotSettings(quick_replies=buttons)

    with pytest.raises(ValidationError):
        settings.full_clean()


def test_a_label_line_would_refuse_cannot_be_saved():
    with pytest.raises(ValidationError):
        BotSettings(handoff_button_label="คุยกับเจ้าหน้าที่ได้เลย").full_clean()


# --- The webhook's one-statement path stays right -------------------------------------------------

needs_one_statement = pytest.mark.skipif(
    not fast_path.can_append_in_one_statement(), reason="the one-statement path is PostgreSQL's"
)


def open_conversation(status: str, nudged_minutes_ago: float | None) -> str:
    user = ev.new_user_id()
    contact = Contact.objects.create(line_user_id=user)
    Conversation.objects.create(
        contact=contact,
        status=status,
        handoff_requested_at=timezone.now() if status != Conversation.Status.BOT else None,
        bot_nudged_at=(
            None if nudged_minutes_ago is None else timezone.now() - timedelta(minutes=nudged_minutes_ago)
        ),
    )
    return user


@needs_one_statement
@pytest.mark.parametrize(
    ("status", "nudged_minutes_ago"),
    [("active", None), ("waiting", 1), ("bot", 1)],
    ids=["active", "waiting-acknowledged-lately", "bot-answered-lately"],
)
def test_a_message_the_bot_has_nothing_to_say_to_is_one_statement(
    line, webhook, settle, django_assert_num_queries, status, nudged_minutes_ago
):
    user = open_conversation(status, nudged_minutes_ago)
    webhook(ev.text_event(ev.new_user_id(), "warm-up"))
    settle()

    with django_assert_num_queries(1):
        webhook(ev.text_event(user, "ขอสอบถามหน่อยค่ะ"))
    settle()

    assert messages_to(line, user) == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [("bot", "ขอบคุณสำหรับข้อความค่ะ"), ("waiting", "ลำดับที่ 1")],
)
def test_a_message_the_bot_answers_is_stored_with_its_answer(line, webhook, settle, status, expected):
    user = open_conversation(status, nudged_minutes_ago=30)

    webhook(ev.text_event(user, "ขอสอบถามหน่อยค่ะ"))
    settle()

    (answer,) = messages_to(line, user)
    assert expected in answer["text"]
    stored = list(conversation_of(user).messages.order_by("seq").values_list("direction", "sender_kind"))
    assert stored == [("in", "customer"), ("out", "bot")]


def test_quiet_for_agrees_with_what_the_bot_does(replies):
    """The one-statement path's rule (bot.quiet_for) is the bot's own (bot.answer_to)."""
    now = timezone.now()
    texts = ["ค่าส่งเท่าไหร่", "agent", "มีสีอื่นไหม", "ค่ะ", "hello"]
    nudges = [None, now - timedelta(minutes=1), now - timedelta(minutes=7), now - timedelta(hours=1)]
    for text in texts:
        quiet = bot.quiet_for(text, now)
        for status in ("bot", "waiting", "active"):
            for nudged_at in nudges:
                silent = status in quiet.statuses or any(
                    status == s and nudged_at is not None and nudged_at > after
                    for s, after in quiet.nudged_after
                )
                acts = bot.answer_to(status, text, nudged_at, now).act != bot.Act.NOTHING
                assert silent != acts, (text, status, nudged_at)


# --- 3. "Still waiting" while in the queue --------------------------------------------------------


def test_a_waiting_customer_who_writes_is_told_their_position_at_most_every_five_minutes(
    line, webhook, settle
):
    ahead = open_conversation("waiting", nudged_minutes_ago=1)
    Conversation.objects.filter(contact__line_user_id=ahead).update(
        handoff_requested_at=timezone.now() - timedelta(minutes=3)
    )
    user = ev.new_user_id()
    webhook(ev.text_event(user, "agent"))
    settle()
    assert "ลำดับที่ 2" in messages_to(line, user)[-1]["text"]  # the handoff answer

    webhook(ev.text_event(user, "ยังรออยู่นะคะ"))
    settle()
    assert len(messages_to(line, user)) == 1  # just told: nothing more

    bot_spoke_minutes_ago(user, 5)
    webhook(ev.text_event(user, "ยังรออยู่นะคะ"))
    webhook(ev.text_event(user, "รีบหน่อยค่ะ"))
    settle()
    texts = [m["text"] for m in messages_to(line, user)]
    assert len(texts) == 2
    assert texts[-1] == BotSettings().still_waiting_message.format(position=2, wait_minutes=0)


def test_asking_for_a_human_again_while_waiting_is_answered_at_once(line, webhook, settle):
    user = ev.new_user_id()
    webhook(ev.text_event(user, "agent"))
    webhook(ev.text_event(user, "คุยกับเจ้าหน้าที่ค่ะ"))
    settle()

    texts = [m["text"] for m in messages_to(line, user)]
    assert len(texts) == 2
    assert "ลำดับที่ 1" in texts[1] and "shortly" in texts[1]


def test_with_the_acknowledgement_off_a_waiting_customer_hears_nothing_more(line, webhook, settle):
    bot_settings(waiting_ack_enabled=False)
    user = open_conversation("waiting", nudged_minutes_ago=None)

    webhook(ev.text_event(user, "ยังรออยู่นะคะ"))
    settle()

    assert messages_to(line, user) == []


# --- Admin ------------------------------------------------------------------------------------------


def bot_settings_form(**changes: Any) -> dict[str, Any]:
    settings = BotSettings.objects.get_or_create(pk=1)[0]
    form = {
        "welcome_message": settings.welcome_message,
        "handoff_message": settings.handoff_message,
        "still_waiting_message": settings.still_waiting_message,
        "waiting_ack_enabled": "on",
        "waiting_ack_minutes": "5",
        "fallback_enabled": "on",
        "fallback_message": settings.fallback_message,
        "fallback_minutes": "10",
        "handoff_button_label": settings.handoff_button_label,
        "quick_replies": "[]",
    }
    return {**form, **changes}


def test_the_fallback_edited_in_admin_reaches_the_next_customer(admin_client, line, webhook, settle):
    edited = admin_client.post(
        "/admin/livechat/botsettings/1/change/",
        bot_settings_form(
            fallback_message="ขออภัยค่ะ บอทยังไม่เข้าใจ / Sorry, I did not get that.",
            quick_replies='[{"label": "ค่าส่ง", "text": "ค่าส่ง"}]',
        ),
    )
    assert edited.status_code == 302
    user = ev.new_user_id()

    webhook(ev.text_event(user, "มีสีอื่นไหมคะ"))
    settle()

    (fallback,) = messages_to(line, user)
    assert fallback["text"] == "ขออภัยค่ะ บอทยังไม่เข้าใจ / Sorry, I did not get that."
    assert [i["action"]["label"] for i in fallback["quickReply"]["items"]] == ["คุยกับเจ้าหน้าที่", "ค่าส่ง"]


def test_admin_explains_in_thai_why_a_button_is_refused(admin_client):
    response = admin_client.post(
        "/admin/livechat/botsettings/1/change/",
        bot_settings_form(quick_replies='[{"label": "ปุ่มที่ยาวเกินกว่ายี่สิบตัวอักษร", "text": "x"}]'),
        headers={"Accept-Language": "th"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert "LINE แสดงข้อความบนปุ่มได้สูงสุด 20 ตัวอักษร" in response.content.decode()
    assert BotSettings.objects.get(pk=1).quick_replies == []
