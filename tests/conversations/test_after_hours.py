"""A handoff outside business hours (issue 13 §1): the customer is told when the team opens next,
in Thai and English, instead of a queue position — and still waits in the queue."""

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from livechat.models import BusinessHours, Conversation, Holiday, ServiceSettings
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)

BANGKOK = ZoneInfo("Asia/Bangkok")


@pytest.fixture
def office_hours() -> None:
    for weekday in range(5):
        BusinessHours.objects.create(weekday=weekday, opens_at=time(9), closes_at=time(12))
        BusinessHours.objects.create(weekday=weekday, opens_at=time(13), closes_at=time(18))


def texts_to(line: Any, user: str) -> list[str]:
    return [
        m["text"]
        for c in line.calls(user_id=user)
        if c["endpoint"] in ("reply", "push") and c["status"] == 200
        for m in (c["body"] or {}).get("messages", [])
    ]


def hand_off_at(when: datetime, webhook: Any, settle: Any) -> str:
    user = ev.new_user_id()
    with time_machine.travel(when, tick=True):
        webhook(ev.text_event(user, "คุยกับเจ้าหน้าที่"))
        settle()
    return user


def test_on_saturday_the_customer_hears_we_open_on_monday_and_still_waits(
    office_hours, line, webhook, settle
):
    user = hand_off_at(datetime(2026, 12, 5, 10, 0, tzinfo=BANGKOK), webhook, settle)

    (text,) = texts_to(line, user)
    assert "วันจันทร์ที่ 7 ธันวาคม เวลา 09:00 น." in text
    assert "Monday 7 December at 09:00" in text
    assert "queue" in text and "number" not in text  # no position: it means nothing overnight
    conversation = Conversation.objects.get(contact__line_user_id=user)
    assert conversation.status == Conversation.Status.WAITING


def test_in_the_lunch_break_the_customer_hears_we_open_again_today(office_hours, line, webhook, settle):
    user = hand_off_at(datetime(2026, 12, 1, 12, 15, tzinfo=BANGKOK), webhook, settle)

    (text,) = texts_to(line, user)
    assert "วันนี้ เวลา 13:00 น." in text and "today at 13:00" in text


def test_inside_business_hours_the_customer_gets_their_place_in_the_queue(
    office_hours, line, webhook, settle
):
    user = hand_off_at(datetime(2026, 12, 1, 10, 0, tzinfo=BANGKOK), webhook, settle)

    (text,) = texts_to(line, user)
    assert "number 1 in the queue" in text


def test_a_holiday_on_a_weekday_is_after_hours_and_the_message_is_the_supervisors(
    office_hours, line, webhook, settle
):
    Holiday.objects.create(date=datetime(2026, 12, 10).date(), name="วันรัฐธรรมนูญ (Constitution Day)")
    ServiceSettings.objects.update_or_create(
        pk=1, defaults={"after_hours_message": "ปิดค่ะ เปิด {next_open_th} / Closed, open {next_open_en}"}
    )

    user = hand_off_at(datetime(2026, 12, 10, 10, 0, tzinfo=BANGKOK), webhook, settle)

    assert texts_to(line, user) == ["ปิดค่ะ เปิด พรุ่งนี้ เวลา 09:00 น. / Closed, open tomorrow at 09:00"]
