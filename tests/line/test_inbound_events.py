"""Every kind of LINE webhook event a customer can cause is stored and acted on as they expect."""

import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from livechat.models import (
    AutoReply,
    Contact,
    Conversation,
    ConversationEvent,
    HandoffKeyword,
    Message,
    WebhookEvent,
)
from livechat.simulator import events as ev
from livechat.simulator.models import SimulatorContent, SimulatorProfile

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + secrets.token_bytes(2048) + b"\xff\xd9"


def only_message(user: str) -> Message:
    return Message.objects.get(conversation__contact__line_user_id=user, direction=Message.Direction.IN)


def conversation_of(user: str) -> Conversation:
    return Conversation.objects.exclude(status=Conversation.Status.CLOSED).get(contact__line_user_id=user)


# --- Message types ---------------------------------------------------------------------------

EMOJI = {"index": 0, "length": 6, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"}
MENTION = {"mentionees": [{"index": 7, "length": 8, "type": "user", "userId": "U" + "0" * 32}]}

MESSAGE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "text-with-emoji-and-mention",
        {"type": "text", "text": "(love) @Somchai สวัสดีค่ะ 😊", "emojis": [EMOJI], "mention": MENTION},
        {"type": "text", "text": "(love) @Somchai สวัสดีค่ะ 😊", "media_status": ""},
    ),
    (
        "sticker",
        {"type": "sticker", "packageId": "446", "stickerId": "1988", "stickerResourceType": "STATIC"},
        {"type": "sticker", "text": "", "media_status": ""},
    ),
    (
        "image",
        {"type": "image", "contentProvider": {"type": "line"}},
        {"type": "image", "text": "", "media_status": "pending"},
    ),
    (
        "video",
        {"type": "video", "duration": 8000, "contentProvider": {"type": "line"}},
        {"type": "video", "text": "", "media_status": "pending"},
    ),
    (
        "audio",
        {"type": "audio", "duration": 4000, "contentProvider": {"type": "line"}},
        {"type": "audio", "text": "", "media_status": "pending"},
    ),
    (
        "file",
        {"type": "file", "fileName": "ใบเสร็จ.pdf", "fileSize": 52341},
        {"type": "file", "text": "ใบเสร็จ.pdf", "media_status": "pending"},
    ),
    (
        "location",
        {
            "type": "location",
            "title": "สยามพารากอน",
            "address": "991 ถนนพระราม 1 ปทุมวัน กรุงเทพฯ",
            "latitude": 13.7462,
            "longitude": 100.5347,
        },
        {"type": "location", "text": "สยามพารากอน", "media_status": ""},
    ),
    (
        "image-hosted-elsewhere",
        {
            "type": "image",
            "contentProvider": {
                "type": "external",
                "originalContentUrl": "https://example.com/a.jpg",
                "previewImageUrl": "https://example.com/a-small.jpg",
            },
        },
        {"type": "image", "text": "", "media_status": ""},
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [c[1:] for c in MESSAGE_CASES], ids=[c[0] for c in MESSAGE_CASES]
)
def test_it_stores_every_message_type_with_its_details(webhook, body, expected):
    user = ev.new_user_id()
    event = ev.message_event(user, body)

    response = webhook(event)

    assert response.status_code == 200
    message = only_message(user)
    assert {k: getattr(message, k) for k in expected} == expected
    assert message.line_message_id == event["message"]["id"]
    assert message.direction == Message.Direction.IN
    assert message.sender_kind == Message.SenderKind.CUSTOMER
    assert message.status == Message.Status.RECEIVED
    assert message.reply_token == event["replyToken"]
    assert message.mark_as_read_token == event["message"]["markAsReadToken"]
    assert message.line_timestamp is not None
    assert int(message.line_timestamp.timestamp() * 1000) == event["timestamp"]
    # Everything else LINE said about the message is kept for display.
    for key, value in body.items():
        if key not in ("type", "text"):
            assert message.payload[key] == value
    assert message.conversation.status == Conversation.Status.BOT


def test_it_stores_a_message_type_line_adds_later_instead_of_losing_it(webhook):
    user = ev.new_user_id()

    response = webhook(ev.message_event(user, {"type": "hologram", "shape": "cube"}))

    assert response.status_code == 200
    message = only_message(user)
    assert message.type == Message.Type.UNKNOWN
    assert message.payload["original_type"] == "hologram"
    assert message.payload["shape"] == "cube"


# --- Media -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_downloads_a_customers_image_and_shows_it_only_to_staff(line, webhook, settle, client, operator):
    user = ev.new_user_id()
    message_id = ev.new_message_id()
    SimulatorContent.objects.create(message_id=message_id, content_type="image/jpeg", data=JPEG)

    webhook(ev.message_event(user, {"type": "image", "id": message_id, "contentProvider": {"type": "line"}}))
    settle()

    message = only_message(user)
    assert message.media_status == Message.MediaStatus.STORED
    with message.media.open("rb") as stored:
        assert stored.read() == JPEG
    url = f"/media/messages/{message.pk}/"

    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")

    client.force_login(operator)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == JPEG


@pytest.mark.parametrize(
    ("content_type", "extension"), [("image/png", ".png"), ("image/gif", ".gif"), ("video/mp4", ".mp4")]
)
def test_customer_media_keeps_its_real_type(line, webhook, settle, client, operator, content_type, extension):
    """A PNG is stored as .png and served as image/png, not as the JPEG an image usually is."""
    from tests.factories import png_bytes

    user = ev.new_user_id()
    message_id = ev.new_message_id()
    data = png_bytes() if content_type == "image/png" else secrets.token_bytes(512)
    SimulatorContent.objects.create(message_id=message_id, content_type=content_type, data=data)
    kind = "video" if content_type.startswith("video/") else "image"

    webhook(ev.message_event(user, {"type": kind, "id": message_id, "contentProvider": {"type": "line"}}))
    settle()

    message = only_message(user)
    assert str(message.media.name).endswith(extension)
    client.force_login(operator)
    response = client.get(f"/media/messages/{message.pk}/")
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content) == data


@pytest.mark.django_db(transaction=True)
def test_an_image_in_an_open_conversation_is_numbered_next_and_downloaded(line, webhook, settle):
    """The second message takes the one-statement path on PostgreSQL: it must still be fetched."""
    user = ev.new_user_id()
    message_id = ev.new_message_id()
    SimulatorContent.objects.create(message_id=message_id, content_type="image/jpeg", data=JPEG)

    webhook(ev.text_event(user, "สวัสดีค่ะ"))
    webhook(ev.message_event(user, {"type": "image", "id": message_id, "contentProvider": {"type": "line"}}))
    settle()

    image = Message.objects.get(conversation__contact__line_user_id=user, type=Message.Type.IMAGE)
    assert (image.seq, image.conversation.last_seq) == (3, 3)  # after the bot's fallback to the greeting
    assert image.media_status == Message.MediaStatus.STORED
    with image.media.open("rb") as stored:
        assert stored.read() == JPEG


def test_it_offers_a_customers_file_as_a_download_under_its_name(line, webhook, settle, client, operator):
    user = ev.new_user_id()
    message_id = ev.new_message_id()
    SimulatorContent.objects.create(message_id=message_id, content_type="application/pdf", data=b"%PDF-1.4")

    webhook(
        ev.message_event(user, {"type": "file", "id": message_id, "fileName": "quote.pdf", "fileSize": 8})
    )
    settle()

    message = only_message(user)
    client.force_login(operator)
    response = client.get(f"/media/messages/{message.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="quote.pdf"'
    assert b"".join(response.streaming_content) == b"%PDF-1.4"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trouble", ["line-fails", "an-html-error-page", "content-not-there-yet"])
def test_it_retries_a_failed_media_download_from_the_worker(line, webhook, settle, trouble):
    user = ev.new_user_id()
    message_id = ev.new_message_id()
    if trouble in ("line-fails", "an-html-error-page"):
        SimulatorContent.objects.create(message_id=message_id, content_type="image/jpeg", data=JPEG)
        line.fail(
            500 if trouble == "line-fails" else 502, endpoint="content", html=trouble == "an-html-error-page"
        )

    response = webhook(
        ev.message_event(user, {"type": "image", "id": message_id, "contentProvider": {"type": "line"}})
    )
    settle()

    assert response.status_code == 200
    message = only_message(user)
    assert message.media_status == Message.MediaStatus.PENDING
    assert message.error.startswith("media:")
    assert not message.media

    if trouble == "content-not-there-yet":
        SimulatorContent.objects.create(message_id=message_id, content_type="image/jpeg", data=JPEG)
    call_command("worker", "--once")

    message.refresh_from_db()
    assert message.media_status == Message.MediaStatus.STORED
    with message.media.open("rb") as stored:
        assert stored.read() == JPEG
    first = {"line-fails": 500, "an-html-error-page": 502, "content-not-there-yet": 404}[trouble]
    assert [c["status"] for c in line.calls(endpoint="content")] == [first, 200]


# --- Unsend ----------------------------------------------------------------------------------


def test_it_hides_an_unsent_message_but_keeps_the_record(webhook):
    user = ev.new_user_id()
    said = ev.text_event(user, "oops, wrong chat")
    webhook(said, ev.text_event(user, "sorry"))

    response = webhook(ev.unsend_event(user, said["message"]["id"]))

    assert response.status_code == 200
    unsent = Message.objects.get(line_message_id=said["message"]["id"])
    assert unsent.is_unsent
    assert unsent.unsent_at is not None
    assert unsent.text == "oops, wrong chat"  # the record stays for the audit trail
    assert not Message.objects.get(text="sorry").is_unsent
    assert conversation_of(user).messages.filter(direction=Message.Direction.IN).count() == 2


def test_it_acknowledges_unsend_of_a_message_it_never_saw(webhook):
    response = webhook(ev.unsend_event(ev.new_user_id(), ev.new_message_id()))

    assert response.status_code == 200
    assert Message.objects.count() == 0
    assert WebhookEvent.objects.filter(event_type="unsend").count() == 1


# --- Follow, unfollow ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_welcomes_a_new_follower_and_fetches_their_profile(line, webhook, settle):
    user = ev.new_user_id()
    SimulatorProfile.objects.create(
        user_id=user,
        display_name="พิมพ์ชนก",
        picture_url="https://profile.line-scdn.net/pim",
        status_message="วันนี้อากาศดี",
        language="th",
    )

    response = webhook(ev.follow_event(user))
    settle()

    assert response.status_code == 200
    contact = Contact.objects.get(line_user_id=user)
    assert contact.is_following
    assert contact.followed_at is not None
    assert contact.display_name == "พิมพ์ชนก"
    assert contact.picture_url == "https://profile.line-scdn.net/pim"
    assert contact.status_message == "วันนี้อากาศดี"
    assert contact.profile_fetched_at is not None
    (reply,) = line.calls(endpoint="reply")
    assert reply["status"] == 200
    assert "ยินดีต้อนรับ" in reply["body"]["messages"][0]["text"]
    welcome = Message.objects.get(conversation__contact=contact, direction=Message.Direction.OUT)
    assert welcome.sender_kind == Message.SenderKind.BOT
    assert welcome.status == Message.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_profile_fetch_answered_with_an_html_page_is_left_for_the_worker(line, webhook, settle):
    user = ev.new_user_id()
    SimulatorProfile.objects.create(user_id=user, display_name="Fon")
    line.fail(502, endpoint="profile", html=True)

    response = webhook(ev.text_event(user, "สวัสดีค่ะ"))
    settle()

    assert response.status_code == 200
    contact = Contact.objects.get(line_user_id=user)
    assert (contact.display_name, contact.profile_fetched_at) == ("", None)  # still due
    Contact.objects.filter(pk=contact.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    call_command("worker", "--once")
    contact.refresh_from_db()
    assert contact.display_name == "Fon"


@pytest.mark.django_db(transaction=True)
def test_it_marks_an_unfollower_and_refreshes_the_profile_when_they_come_back(line, webhook, settle):
    user = ev.new_user_id()
    profile = SimulatorProfile.objects.create(user_id=user, display_name="Krit")
    webhook(ev.follow_event(user))
    settle()

    assert webhook(ev.unfollow_event(user)).status_code == 200
    contact = Contact.objects.get(line_user_id=user)
    assert not contact.is_following
    assert contact.unfollowed_at is not None

    profile.display_name = "Krit S."
    profile.save()
    webhook(ev.follow_event(user))
    settle()

    contact.refresh_from_db()
    assert contact.is_following
    assert contact.display_name == "Krit S."
    assert Contact.objects.filter(line_user_id=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_customer_waiting_for_a_human_is_not_welcomed_again_on_follow(line, webhook, settle):
    user = ev.new_user_id()
    webhook(ev.text_event(user, "agent"))
    settle()
    replies_before = len(line.sent_texts())

    webhook(ev.follow_event(user))  # e.g. they unblocked the account meanwhile
    settle()

    assert conversation_of(user).status == Conversation.Status.WAITING
    assert len(line.sent_texts()) == replies_before
    assert Contact.objects.get(line_user_id=user).is_following


def test_it_records_an_unfollow_from_someone_it_never_met(webhook):
    assert webhook(ev.unfollow_event(ev.new_user_id())).status_code == 200
    assert WebhookEvent.objects.filter(event_type="unfollow").count() == 1


# --- Postback --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_handoff_postback_puts_the_customer_in_the_queue(line, webhook, settle):
    user = ev.new_user_id()

    response = webhook(ev.postback_event(user, "action=handoff&from=richmenu"))  # LINE sends data only
    settle()

    assert response.status_code == 200
    conversation = conversation_of(user)
    assert conversation.status == Conversation.Status.WAITING
    assert conversation.handoff_requested_at is not None
    postback = conversation.messages.get(direction=Message.Direction.IN)
    assert postback.type == Message.Type.POSTBACK
    assert postback.text == "คุยกับเจ้าหน้าที่ · Talk to a person"  # the button's label, not its data
    assert postback.payload["data"] == "action=handoff&from=richmenu"
    assert ConversationEvent.objects.filter(
        conversation=conversation, kind=ConversationEvent.Kind.HANDOFF, to_status="waiting"
    ).exists()
    (reply,) = line.calls(endpoint="reply")
    assert "ลำดับที่ 1" in reply["body"]["messages"][0]["text"]


def test_any_other_postback_is_stored_and_leaves_the_bot_in_charge(webhook):
    user = ev.new_user_id()

    webhook(ev.postback_event(user, "action=buy&itemid=111"))

    conversation = conversation_of(user)
    assert conversation.status == Conversation.Status.BOT
    assert conversation.messages.get().payload["data"] == "action=buy&itemid=111"


# --- Handoff keywords ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["คุยกับเจ้าหน้าที่", "ติดต่อเจ้าหน้าที่ค่ะ", "agent", "Can I talk to a HUMAN please?"],
)
def test_a_handoff_keyword_in_thai_or_english_puts_the_customer_in_the_queue(webhook, text):
    user = ev.new_user_id()

    webhook(ev.text_event(user, "สวัสดีค่ะ"), ev.text_event(user, text))

    conversation = conversation_of(user)
    assert conversation.status == Conversation.Status.WAITING
    assert conversation.events.filter(kind=ConversationEvent.Kind.HANDOFF).count() == 1


@pytest.mark.parametrize("text", ["สวัสดีค่ะ", "the agenda for today", "agents", "humanity"])
def test_ordinary_words_do_not_trigger_a_handoff(webhook, text):
    user = ev.new_user_id()

    webhook(ev.text_event(user, text))

    assert conversation_of(user).status == Conversation.Status.BOT


def test_an_auto_reply_keyword_in_an_open_conversation_is_answered_by_the_bot(line, webhook, settle):
    AutoReply.objects.create(keyword="เวลาทำการ", reply_text="เปิดทุกวัน 9:00–18:00 ค่ะ")
    user = ev.new_user_id()

    webhook(ev.text_event(user, "สวัสดีค่ะ"), ev.text_event(user, "เวลาทำการ"))
    settle()

    assert "เปิดทุกวัน 9:00–18:00 ค่ะ" in line.sent_texts(user)
    bot_reply = Message.objects.filter(
        conversation__contact__line_user_id=user, sender_kind=Message.SenderKind.BOT
    ).latest("seq")
    assert bot_reply.text == "เปิดทุกวัน 9:00–18:00 ค่ะ"


def test_a_keyword_edited_in_admin_takes_effect(webhook, admin_client):
    added = admin_client.post(
        "/admin/livechat/handoffkeyword/add/", {"keyword": "ขอสายคนจริง", "is_active": "on"}
    )
    assert added.status_code == 302
    agent = HandoffKeyword.objects.get(keyword="agent")
    changed = admin_client.post(f"/admin/livechat/handoffkeyword/{agent.pk}/change/", {"keyword": "agent"})
    assert changed.status_code == 302  # is_active left unticked: switched off

    new_keyword_user, switched_off_user = ev.new_user_id(), ev.new_user_id()
    webhook(ev.text_event(new_keyword_user, "ขอสายคนจริงค่ะ"), ev.text_event(switched_off_user, "agent"))

    assert conversation_of(new_keyword_user).status == Conversation.Status.WAITING
    assert conversation_of(switched_off_user).status == Conversation.Status.BOT


# --- Other events, other sources, several at once --------------------------------------------


def test_it_stores_and_acknowledges_an_unknown_event_type(webhook):
    user = ev.new_user_id()
    unknown = {**ev.text_event(user, "x"), "type": "somethingLineAddsNextYear", "novelty": {"a": 1}}
    del unknown["message"]

    response = webhook(unknown, ev.text_event(user, "still here"))

    assert response.status_code == 200
    stored = WebhookEvent.objects.get(event_type="somethingLineAddsNextYear")
    assert stored.raw["novelty"] == {"a": 1}
    assert stored.processing_error == ""
    assert only_message(user).text == "still here"  # the next event in the body still counts


@pytest.mark.parametrize(
    "source",
    [
        {"type": "group", "groupId": "C" + "a" * 32, "userId": "U" + "b" * 32},
        {"type": "room", "roomId": "R" + "c" * 32, "userId": "U" + "b" * 32},
        {"type": "group", "groupId": "C" + "a" * 32},  # a member who has not added the OA
    ],
    ids=["group", "room", "group-without-user"],
)
def test_it_stores_and_acknowledges_group_and_room_events(webhook, source):
    message = {**ev.text_event("Uunused", "hello everyone"), "source": source}
    join = {**ev.follow_event("Uunused"), "type": "join", "source": source}
    del join["follow"]

    response = webhook(join, message)

    assert response.status_code == 200
    assert list(WebhookEvent.objects.order_by("id").values_list("event_type", "source_type")) == [
        ("join", source["type"]),
        ("message", source["type"]),
    ]
    assert not WebhookEvent.objects.exclude(processing_error="").exists()
    assert Contact.objects.count() == 0  # 1:1 chats only, for now
    assert Message.objects.count() == 0


def test_it_processes_several_events_in_one_body_in_order(webhook):
    user = ev.new_user_id()
    texts = ["หนึ่ง", "two", "สาม", "four", "ห้า"]

    response = webhook(*(ev.text_event(user, t) for t in texts))

    assert response.status_code == 200
    inbound = conversation_of(user).messages.filter(direction=Message.Direction.IN)
    assert list(inbound.order_by("seq").values_list("text", flat=True)) == texts
    assert conversation_of(user).last_seq == len(texts) + 1  # and one fallback from the bot
    assert WebhookEvent.objects.count() == len(texts)
    assert Contact.objects.count() == 1


def test_it_handles_events_from_several_customers_in_one_body(webhook):
    alice, bob = ev.new_user_id(), ev.new_user_id()

    webhook(ev.text_event(alice, "hi"), ev.sticker_event(bob), ev.text_event(alice, "agent"))

    assert conversation_of(alice).status == Conversation.Status.WAITING
    assert conversation_of(bob).status == Conversation.Status.BOT
    assert only_message(bob).type == Message.Type.STICKER


@pytest.mark.django_db(transaction=True)
def test_the_queue_answer_estimates_the_wait_from_the_last_claimed_customers(line, webhook, settle):
    now = timezone.now()
    for minutes in (4, 6):  # two customers served after waiting 4 and 6 minutes: 5 per place
        contact = Contact.objects.create(line_user_id=ev.new_user_id())
        Conversation.objects.create(
            contact=contact,
            status=Conversation.Status.CLOSED,
            handoff_requested_at=now - timedelta(minutes=minutes + 1),
            claimed_at=now - timedelta(minutes=1),
            closed_at=now,
        )
    first, second = ev.new_user_id(), ev.new_user_id()

    webhook(ev.text_event(first, "agent"))
    webhook(ev.text_event(second, "agent"))
    settle()

    texts = [call["body"]["messages"][0]["text"] for call in line.calls(endpoint="reply")]
    assert "ลำดับที่ 1 รอประมาณ 5 นาที" in texts[0]
    assert "ลำดับที่ 2 รอประมาณ 10 นาที" in texts[1]
