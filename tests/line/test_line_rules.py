"""LINE's rules that its schemas do not spell out: a chat in standby belongs to another channel
(store, never answer); a postback arrives as bare data (operators see words, not a query
string); media from an external provider is shown from its URLs, not "downloading…" forever."""

from typing import Any

import pytest

from livechat.models import Contact, Conversation, Message, WebhookEvent
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


def in_standby(event: dict[str, Any]) -> dict[str, Any]:
    """As LINE delivers an event while another channel holds the chat: no reply token."""
    event["mode"] = "standby"
    event.pop("replyToken", None)
    return event


def sends(line: Any) -> list[dict[str, Any]]:
    return [c for c in line.calls() if c["endpoint"] in ("reply", "push")]


def test_in_standby_messages_are_stored_but_nothing_is_ever_sent(webhook, line, settle) -> None:
    user = ev.new_user_id()

    for event in (
        ev.follow_event(user),
        ev.text_event(user, "สวัสดีค่ะ"),
        ev.text_event(user, "agent"),
        ev.postback_event(user, "action=handoff&from=richmenu"),
    ):
        assert webhook(in_standby(event)).status_code == 200
    settle()

    conversation = Conversation.objects.get(contact__line_user_id=user)
    assert conversation.status == Conversation.Status.BOT  # neither the keyword nor the postback handed off
    assert list(conversation.messages.order_by("seq").values_list("type", flat=True)) == [
        "text",
        "text",
        "postback",
    ]
    assert Contact.objects.get(line_user_id=user).is_following
    assert sends(line) == []


def test_the_same_events_in_active_mode_are_answered(webhook, line, settle) -> None:
    user = ev.new_user_id()

    webhook(ev.follow_event(user))
    webhook(ev.text_event(user, "agent"))
    settle()

    assert Conversation.objects.get(contact__line_user_id=user).status == Conversation.Status.WAITING
    # The welcome and the queue position, in one request or two (the sender batches what is due).
    sent = [m["text"] for c in sends(line) for m in c["body"]["messages"]]
    assert len(sent) == 2 and "welcome" in sent[0] and "queue" in sent[1]


def test_chat_control_events_are_stored_and_acknowledged(webhook, line, settle) -> None:
    user = ev.new_user_id()
    activated = {**ev.follow_event(user), "type": "activated", "chatControl": {"expireAt": 1767225600000}}
    activated.pop("follow")
    deactivated = {**activated, "type": "deactivated", "webhookEventId": "01DEACTIVATED000000000000"}
    deactivated.pop("chatControl")

    assert webhook(activated, deactivated).status_code == 200
    settle()

    assert set(WebhookEvent.objects.values_list("event_type", flat=True)) == {"activated", "deactivated"}
    assert not WebhookEvent.objects.exclude(processing_error="").exists()
    assert sends(line) == []


@pytest.mark.parametrize(
    ("data", "params", "shown"),
    [
        ("action=handoff&from=richmenu", None, "คุยกับเจ้าหน้าที่ · Talk to a person"),
        ("size=L&color=red", None, "size: L · color: red"),
        ("action=book", {"datetime": "2026-12-24T10:00"}, "action: book — 2026-12-24T10:00"),
    ],
)
def test_a_postback_is_shown_as_words_not_as_its_data(webhook, data, params, shown) -> None:
    user = ev.new_user_id()
    event = ev.postback_event(user, data)
    event["postback"].pop("displayText", None)  # LINE never sends it
    if params:
        event["postback"]["params"] = params

    webhook(event)

    message = Message.objects.get(type=Message.Type.POSTBACK)
    assert message.text == shown
    assert message.payload["data"] == data


def test_media_from_an_external_provider_is_shown_from_its_urls(webhook) -> None:
    user = ev.new_user_id()
    provider = {
        "type": "external",
        "originalContentUrl": "https://cdn.example.com/photo.jpg",
        "previewImageUrl": "https://cdn.example.com/photo-small.jpg",
    }
    sneaky = {"type": "external", "originalContentUrl": "javascript:alert(1)"}

    webhook(ev.message_event(user, {"type": "image", "contentProvider": provider}))
    webhook(ev.message_event(user, {"type": "image", "contentProvider": sneaky}))

    shown, refused = Message.objects.order_by("seq")
    assert shown.media_status == Message.MediaStatus.NONE  # nothing to download, nothing pending
    assert shown.payload["originalContentUrl"] == "https://cdn.example.com/photo.jpg"
    assert shown.payload["previewImageUrl"] == "https://cdn.example.com/photo-small.jpg"
    assert "originalContentUrl" not in refused.payload


def video_event_whose_content_line_is_preparing(user: str, transcoding: str) -> dict[str, Any]:
    from livechat.simulator.models import SimulatorContent

    event = ev.message_event(user, {"type": "video", "duration": 3000, "contentProvider": {"type": "line"}})
    SimulatorContent.objects.create(
        message_id=event["message"]["id"],
        content_type="video/mp4",
        data=b"\x00\x00\x00\x18ftypmp42",
        transcoding=transcoding,
    )
    return event


def test_a_video_is_fetched_once_line_has_prepared_it(webhook, line, settle) -> None:
    from livechat.line import media
    from livechat.simulator.models import SimulatorContent

    event = video_event_whose_content_line_is_preparing(ev.new_user_id(), "processing")
    webhook(event)
    settle()

    video = Message.objects.get(type=Message.Type.VIDEO)
    assert video.media_status == Message.MediaStatus.PENDING  # still being prepared: not failed,
    assert video.attempts == 0  # and no attempt spent on waiting
    assert [c["endpoint"] for c in line.calls() if c["endpoint"] in ("content", "transcoding")] == [
        "transcoding"
    ]

    SimulatorContent.objects.update(transcoding="succeeded")
    Message.objects.filter(pk=video.pk).update(claimed_until=None)  # the recheck is due
    assert media.download(video.pk)

    video.refresh_from_db()
    assert video.media_status == Message.MediaStatus.STORED
    assert str(video.media.name).endswith(".mp4")


def test_a_video_line_could_not_prepare_is_marked_so(webhook, line, settle) -> None:
    webhook(video_event_whose_content_line_is_preparing(ev.new_user_id(), "failed"))
    settle()

    video = Message.objects.get(type=Message.Type.VIDEO)
    assert video.media_status == Message.MediaStatus.FAILED
    assert "could not prepare" in video.error
