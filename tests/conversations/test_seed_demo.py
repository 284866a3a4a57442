"""`seed_demo` gives a new user a bot that answers and a "/" picker with something in it."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from livechat.models import AutoReply, BotSettings, CannedResponse
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


def texts_to(line: Any, user: str) -> list[str]:
    return line.sent_texts(user)


@pytest.mark.parametrize(
    ("question", "answer_says"),
    [
        ("ร้านเปิดกี่โมงคะ", "9:00–18:00"),
        ("ค่าส่งเท่าไหร่ครับ", "50 บาท"),
        ("จ่ายเงินทางไหนได้บ้างคะ", "พร้อมเพย์"),
        ("อยากคืนสินค้าค่ะ", "7 วัน"),
        ("สวัสดีค่ะ", "เวลาทำการ ค่าส่ง"),
        ("What are your opening hours?", "every day"),
    ],
)
def test_after_seed_demo_the_bot_answers_common_thai_questions(line, webhook, settle, question, answer_says):
    call_command("seed_demo", stdout=StringIO())
    user = ev.new_user_id()

    webhook(ev.text_event(user, question))
    settle()

    (answer,) = texts_to(line, user)
    assert answer_says in answer


def test_seed_demo_gives_the_picker_thai_canned_responses_and_the_welcome_buttons(line, webhook, settle):
    call_command("seed_demo", stdout=StringIO())

    canned = CannedResponse.objects.filter(is_active=True)
    assert canned.count() >= 8
    assert all(any("\u0e00" <= ch <= "\u0e7f" for ch in c.text) for c in canned)  # Thai text
    for response in canned:
        response.full_clean()
    BotSettings.objects.get(pk=1).full_clean()

    user = ev.new_user_id()
    webhook(ev.follow_event(user))
    settle()
    (welcome,) = line.calls(endpoint="reply")
    labels = [item["action"]["label"] for item in welcome["body"]["messages"][0]["quickReply"]["items"]]
    assert labels[:2] == ["คุยกับเจ้าหน้าที่", "เวลาทำการ"]


def test_seed_demo_can_run_again_and_keeps_edits(django_user_model):
    call_command("seed_demo", stdout=StringIO())
    counts = (AutoReply.objects.count(), CannedResponse.objects.count())
    AutoReply.objects.filter(keyword="ค่าส่ง").update(reply_text="ส่งฟรีทุกออเดอร์ค่ะ")

    call_command("seed_demo", stdout=StringIO())

    assert (AutoReply.objects.count(), CannedResponse.objects.count()) == counts
    assert AutoReply.objects.get(keyword="ค่าส่ง").reply_text == "ส่งฟรีทุกออเดอร์ค่ะ"
