"""CSAT inside LINE (PRODUCT §5b): the card on close, the first valid tap stored, the comment
that follows it — all as the customer's phone (the strict simulator) sees it."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from livechat.conversations import actions, csat
from livechat.conversations.actions import Actor
from livechat.models import Conversation, CsatResponse, ServiceSettings
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def csat_on() -> ServiceSettings:
    settings, _ = ServiceSettings.objects.update_or_create(pk=1, defaults={"csat_enabled": True})
    return settings


def calls_to(line: Any, user: str) -> list[dict[str, Any]]:
    return [c for c in line.calls(user_id=user) if c["endpoint"] in ("reply", "push")]


def messages_to(line: Any, user: str) -> list[dict[str, Any]]:
    return [
        m for c in calls_to(line, user) if c["status"] == 200 for m in (c["body"] or {}).get("messages", [])
    ]


def served_and_closed(user: str, operator: Any, webhook: Any, settle: Any) -> Conversation:
    """The customer asked for a human, `operator` took the chat and closed it."""
    webhook(ev.text_event(user, "agent"))
    settle()
    conversation = Conversation.objects.get(contact__line_user_id=user)
    actions.claim(conversation.pk, Actor.staff(operator))
    actions.close(conversation.pk, Actor.staff(operator), "solved")
    settle()
    conversation.refresh_from_db()
    return conversation


def tap(webhook: Any, settle: Any, user: str, conversation_id: int, rating: int) -> None:
    webhook(ev.postback_event(user, csat.postback_data(conversation_id, rating)))
    settle()


def test_closing_sends_a_card_with_five_rating_buttons_that_line_accepts(
    csat_on, operator, line, webhook, settle
):
    user = ev.new_user_id()
    conversation = served_and_closed(user, operator, webhook, settle)

    survey = calls_to(line, user)[-1]
    assert survey["endpoint"] == "push" and survey["status"] == 200  # the strict simulator took it
    (card,) = survey["body"]["messages"]
    assert card["type"] == "flex"
    buttons = [c for c in card["contents"]["body"]["contents"] if c["type"] == "button"]
    assert [b["action"]["data"] for b in buttons] == [
        f"action=csat&conversation={conversation.pk}&rating={n}" for n in (5, 4, 3, 2, 1)
    ]
    assert "ดีมาก" in buttons[0]["action"]["label"] and "Excellent" in buttons[0]["action"]["label"]
    quick = [item["action"]["data"] for item in card["quickReply"]["items"]]
    assert quick == [b["action"]["data"] for b in buttons]
    assert conversation.csat_sent_at is not None


def test_a_rating_and_a_comment_are_stored_and_open_no_conversation(csat_on, operator, line, webhook, settle):
    user = ev.new_user_id()
    conversation = served_and_closed(user, operator, webhook, settle)

    tap(webhook, settle, user, conversation.pk, 4)
    webhook(ev.text_event(user, "บริการดีมากค่ะ แต่รอนานนิดนึง"))
    settle()

    response = CsatResponse.objects.get(conversation=conversation)
    assert (response.rating, response.comment) == (4, "บริการดีมากค่ะ แต่รอนานนิดนึง")
    assert Conversation.objects.filter(contact__line_user_id=user).count() == 1  # no new conversation
    texts = [m.get("text", "") for m in messages_to(line, user)]
    assert "Thank you for rating us" in texts[-2] and "Thank you for your feedback" in texts[-1]
    assert not any("fallback" in t or "ขอบคุณสำหรับข้อความ" in t for t in texts)  # the bot stayed asleep


def test_a_second_tap_is_thanked_but_changes_nothing(csat_on, operator, line, webhook, settle):
    user = ev.new_user_id()
    conversation = served_and_closed(user, operator, webhook, settle)

    tap(webhook, settle, user, conversation.pk, 5)
    tap(webhook, settle, user, conversation.pk, 1)

    assert CsatResponse.objects.get(conversation=conversation).rating == 5
    assert "already have your rating" in messages_to(line, user)[-1]["text"]


def test_taps_that_are_no_answer_change_nothing(csat_on, operator, line, webhook, settle):
    user, stranger = ev.new_user_id(), ev.new_user_id()
    conversation = served_and_closed(user, operator, webhook, settle)
    before = len(calls_to(line, stranger))

    tap(webhook, settle, stranger, conversation.pk, 1)  # another customer's conversation
    for data in (
        f"action=csat&conversation={conversation.pk}&rating=6",
        f"action=csat&conversation={conversation.pk}&rating=0",
        f"action=csat&conversation={conversation.pk}&rating=x",
        "action=csat&conversation=99999999999999999999&rating=5",
        f"action=csat&conversation={conversation.pk}&rating=5&rating=1",
    ):
        webhook(ev.postback_event(user, data))
    settle()

    assert not CsatResponse.objects.exists()
    assert len(calls_to(line, stranger)) == before
    assert not Conversation.objects.filter(contact__line_user_id=stranger).exists()


def test_a_tap_after_the_survey_expired_changes_nothing(csat_on, operator, line, webhook, settle):
    user = ev.new_user_id()
    conversation = served_and_closed(user, operator, webhook, settle)

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=True):
        tap(webhook, settle, user, conversation.pk, 5)

    assert not CsatResponse.objects.exists()


def test_a_text_after_the_comment_window_is_a_new_conversation(csat_on, operator, line, webhook, settle):
    user = ev.new_user_id()
    conversation = served_and_closed(user, operator, webhook, settle)
    tap(webhook, settle, user, conversation.pk, 3)

    with time_machine.travel(timezone.now() + csat.COMMENT_WINDOW + timedelta(seconds=5), tick=True):
        webhook(ev.text_event(user, "สอบถามอีกเรื่องค่ะ"))
        settle()

    assert CsatResponse.objects.get(conversation=conversation).comment == ""
    assert Conversation.objects.filter(contact__line_user_id=user).count() == 2


def test_no_survey_when_csat_is_off_or_nobody_served_or_an_automatic_close(operator, line, webhook, settle):
    user = ev.new_user_id()
    served_and_closed(user, operator, webhook, settle)  # CSAT off by default
    assert not any(m["type"] == "flex" for m in messages_to(line, user))

    ServiceSettings.objects.update_or_create(pk=1, defaults={"csat_enabled": True})
    waiting_user = ev.new_user_id()
    webhook(ev.text_event(waiting_user, "agent"))
    settle()
    waiting = Conversation.objects.get(contact__line_user_id=waiting_user)
    actions.close(waiting.pk, actions.SYSTEM, "inactivity")  # never served, closed by the system
    settle()
    assert not any(m["type"] == "flex" for m in messages_to(line, waiting_user))

    auto_user = ev.new_user_id()
    webhook(ev.text_event(auto_user, "agent"))
    settle()
    auto = Conversation.objects.get(contact__line_user_id=auto_user)
    actions.claim(auto.pk, Actor.staff(operator))
    actions.close(auto.pk, actions.SYSTEM, "inactivity")
    settle()
    assert not any(m["type"] == "flex" for m in messages_to(line, auto_user))  # not after an automatic close…

    ServiceSettings.objects.filter(pk=1).update(csat_after_auto_close=True)
    ServiceSettings.objects.get(pk=1).save()  # …unless the supervisors say so
    later_user = ev.new_user_id()
    webhook(ev.text_event(later_user, "agent"))
    settle()
    later = Conversation.objects.get(contact__line_user_id=later_user)
    actions.claim(later.pk, Actor.staff(operator))
    actions.close(later.pk, actions.SYSTEM, "inactivity")
    settle()
    assert [m["type"] for m in messages_to(line, later_user)][-1] == "flex"
