"""Canned responses that know the customer: variables refused at save, filled in when sent, and
sent as text + image or sticker with quick replies, once, through the strict simulator."""

from datetime import UTC, datetime, time

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation

from livechat.conversations import actions, canned
from livechat.conversations.actions import Actor
from livechat.conversations.permissions import ActionRefused
from livechat.line import hosted_images
from livechat.models import BusinessHours, CannedResponse, Conversation, Holiday, Message
from livechat.policies import business_hours
from tests.factories import open_conversation, png_bytes

Status = Conversation.Status

# Tuesday 1 December 2026, 10:00 in Bangkok.
TUESDAY_MORNING = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def make(text: str = "ok", **fields) -> CannedResponse:
    response = CannedResponse(
        title=fields.pop("title", "T"), shortcut=fields.pop("shortcut", "s"), text=text, **fields
    )
    response.full_clean()
    response.save()
    return response


# --- saving ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_variable_is_refused_when_the_response_is_saved():
    with pytest.raises(ValidationError) as refused:
        CannedResponse(title="Hi", shortcut="hi", text="สวัสดีค่ะ {customer} ").full_clean()
    assert "{customer}" in str(refused.value)
    with pytest.raises(ValidationError):
        CannedResponse(title="Hi", shortcut="hi", text="a stray { brace").full_clean()
    CannedResponse(
        title="Hi",
        shortcut="hi",
        text="{customer_name} {operator_name} {queue_position} {business_hours_today} {conversation_id}",
    ).full_clean()


@pytest.mark.django_db
@translation.override("en")
def test_attachments_and_quick_replies_are_held_to_lines_limits():
    with pytest.raises(ValidationError, match="at most 13"):
        make(quick_replies=[{"label": f"b{i}", "text": "x"} for i in range(14)])
    with pytest.raises(ValidationError, match="longer than LINE"):
        make(quick_replies=[{"label": "ป" * 21, "text": "x"}])
    with pytest.raises(ValidationError, match="not both"):
        make(image_path="outbound/x/original.png", sticker_package_id="446", sticker_id="1988")
    with pytest.raises(ValidationError, match="Write a text"):
        make(text="")
    make(
        text="", sticker_package_id="446", sticker_id="1988", quick_replies=[{"label": "ป" * 20, "text": "x"}]
    )


@pytest.mark.django_db
def test_shortcuts_are_unique_among_the_shared_ones_and_among_each_operators_own(team):
    make(shortcut="hi")
    make(shortcut="hi", owner=team["somchai"])  # an operator's own may reuse a shared shortcut
    make(shortcut="hi", owner=team["nok"])
    with pytest.raises(ValidationError):
        make(shortcut="hi")
    with pytest.raises(ValidationError):
        make(shortcut="hi", owner=team["somchai"])


# --- rendering ------------------------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_each_variable_is_filled_in_for_the_conversation(team):
    BusinessHours.objects.create(weekday=1, opens_at=time(9), closes_at=time(12))
    BusinessHours.objects.create(weekday=1, opens_at=time(13), closes_at=time(18))
    business_hours.forget()
    open_conversation("Ploy")  # waits ahead
    waiting = open_conversation("คุณแก้ว")
    response = make(
        "{customer_name}|{operator_name}|{queue_position}|{business_hours_today}|{conversation_id}"
    )

    rendered = canned.render(response, waiting, team["somchai"])

    assert rendered == f"คุณแก้ว|Somchai|2|09:00–12:00, 13:00–18:00|{waiting.pk}"
    active = open_conversation("Ploy", Status.ACTIVE, operator=team["somchai"])
    assert canned.render(make("{queue_position}", shortcut="q"), active, team["somchai"]) == "-"


@pytest.mark.django_db
@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_todays_hours_say_closed_in_the_customers_language(team):
    BusinessHours.objects.create(weekday=1, opens_at=time(9), closes_at=time(18))
    Holiday.objects.create(date=TUESDAY_MORNING.date(), name="วันหยุด")
    business_hours.forget()
    thai = open_conversation("Ploy")
    english = open_conversation("Jane")
    english.contact.language = "en"
    english.contact.save()
    response = make("{business_hours_today}")

    assert canned.render(response, thai, team["somchai"]) == "ปิดทำการวันนี้"
    assert canned.render(response, english, team["somchai"]) == "closed today"


@pytest.mark.django_db
def test_todays_hours_without_a_schedule_say_open_all_day(team):
    assert canned.render(make("{business_hours_today}"), open_conversation("Ploy"), team["somchai"]) == (
        "เปิด 24 ชั่วโมง"
    )


@pytest.mark.django_db
def test_a_response_that_grows_past_lines_limit_when_filled_in_is_refused_and_nothing_is_queued(team):
    conversation = open_conversation("ก" * 200, Status.ACTIVE, operator=team["somchai"])
    response = make("x" * 4900 + "{customer_name}")

    with pytest.raises(ActionRefused) as refused:
        actions.send_operator_message(
            conversation.pk, Actor.staff(team["somchai"]), client_id="c1", canned_id=response.pk
        )

    assert refused.value.code == "invalid"
    assert "5000" in refused.value.message
    assert not Message.objects.filter(conversation=conversation, direction="out").exists()


# --- who sees which -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_picker_finds_shared_and_own_responses_by_shortcut_title_or_text_thai_included(team):
    shared = make("ยินดีต้อนรับค่ะ", shortcut="welcome", title="Greeting")
    mine = make("เลขพัสดุของคุณคือ", shortcut="track", title="ติดตามพัสดุ", owner=team["somchai"])
    make("ของคนอื่น", shortcut="others", title="Other", owner=team["nok"])
    make("ปิดไว้", shortcut="off", title="Off", is_active=False)
    somchai = team["somchai"]

    assert list(canned.search(somchai, "")) == [mine, shared]
    assert list(canned.search(somchai, "/WEL")) == [shared]  # the typed slash, any case
    assert list(canned.search(somchai, "greet")) == [shared]
    assert list(canned.search(somchai, "พัสดุ")) == [mine]  # a Thai substring of title and text
    assert list(canned.search(somchai, "ต้อนรับ")) == [shared]
    assert list(canned.search(somchai, "คนอื่น")) == []  # Nok's own


@pytest.mark.django_db
def test_an_operator_cannot_send_another_operators_personal_response(team):
    conversation = open_conversation("Ploy", Status.ACTIVE, operator=team["somchai"])
    noks = make("ของ Nok", owner=team["nok"])

    with pytest.raises(ActionRefused) as refused:
        actions.send_operator_message(
            conversation.pk, Actor.staff(team["somchai"]), client_id="c1", canned_id=noks.pk
        )
    assert refused.value.code == "not_found"


# --- sending --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_canned_response_with_a_sticker_and_quick_replies_reaches_the_customer_once(team, line, settle):
    conversation = open_conversation("คุณแก้ว", Status.ACTIVE, operator=team["somchai"])
    response = make(
        "สวัสดีค่ะ คุณ{customer_name} ดิฉัน {operator_name} ค่ะ",
        sticker_package_id="446",
        sticker_id="1988",
        quick_replies=[{"label": "ใช่", "text": "ใช่ค่ะ"}, {"label": "ไม่ใช่", "text": "ไม่ใช่ค่ะ"}],
    )
    operator = Actor.staff(team["somchai"])

    first, created = actions.send_operator_message(
        conversation.pk, operator, client_id="c1", canned_id=response.pk
    )
    again, created_again = actions.send_operator_message(
        conversation.pk, operator, client_id="c1", canned_id=response.pk
    )
    settle()

    assert (created, created_again, again.pk) == (True, False, first.pk)
    (call,) = [c for c in line.calls() if c["endpoint"] in ("reply", "push")]
    assert call["status"] == 200  # the strict simulator took every object
    text, sticker = call["body"]["messages"]
    assert text["text"] == "สวัสดีค่ะ คุณคุณแก้ว ดิฉัน Somchai ค่ะ"
    assert "quickReply" not in text
    assert (sticker["type"], sticker["packageId"], sticker["stickerId"]) == ("sticker", "446", "1988")
    assert [i["action"] for i in sticker["quickReply"]["items"]] == [
        {"type": "message", "label": "ใช่", "text": "ใช่ค่ะ"},
        {"type": "message", "label": "ไม่ใช่", "text": "ไม่ใช่ค่ะ"},
    ]
    sent = Message.objects.filter(conversation=conversation, direction="out").order_by("seq")
    assert [(m.type, m.status) for m in sent] == [("text", "sent"), ("sticker", "sent")]


@pytest.mark.django_db(transaction=True)
def test_a_canned_response_with_an_image_sends_the_text_then_a_copy_of_the_image(
    team, line, settle, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    stored = hosted_images.store(ContentFile(png_bytes(), name="x.png"), None)
    url = "https://example.com" + reverse(
        "livechat:outbound-media", args=[stored.token, stored.original_name]
    )
    conversation = open_conversation("Ploy", Status.ACTIVE, operator=team["malee"])
    response = make(
        "ตามรูปนะคะ",
        image_path=stored.original_path,
        image_url=url,
        image_preview_url=url,
        quick_replies=[{"label": "ได้รับแล้ว", "text": "ได้รับแล้วค่ะ"}],
    )

    actions.send_operator_message(
        conversation.pk, Actor.staff(team["malee"]), client_id="c1", canned_id=response.pk
    )
    settle()

    (call,) = [c for c in line.calls() if c["endpoint"] in ("reply", "push")]
    assert call["status"] == 200
    text, image = call["body"]["messages"]
    assert text["text"] == "ตามรูปนะคะ"
    assert image["type"] == "image"
    assert image["quickReply"]["items"][0]["action"]["label"] == "ได้รับแล้ว"
    # The message owns a copy: erasing the conversation's files leaves the response's image.
    sent = Message.objects.get(conversation=conversation, type="image")
    assert sent.media.name != stored.original_path
    assert image["originalContentUrl"].endswith(str(sent.media.name).removeprefix("outbound/"))
    assert sent.media.read() == png_bytes()
    sent.media.delete(save=False)
    assert default_storage.exists(stored.original_path)
