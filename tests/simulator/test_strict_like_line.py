"""The simulator refuses what LINE refuses, with LINE's status codes and bodies (issue 12 §2)."""

import json
import uuid
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client

from livechat.simulator import events as ev
from livechat.simulator.models import SimulatorCall, SimulatorContent, SimulatorProfile
from livechat.simulator.rules import new_mark_as_read_token, new_reply_token

pytestmark = pytest.mark.django_db

API = "/simulator/line-api/v2/bot"
USER = "U" + "2" * 32
HTTPS = "https://example.com/a.png"


@pytest.fixture
def client() -> Client:
    return Client(headers={"X-Simulator-Control-Token": settings.SIMULATOR_CONTROL_TOKEN})


@pytest.fixture
def line_api(client: Client) -> Any:
    def call(
        method: str, path: str, body: Any = None, content_type: str = "application/json", **headers: str
    ):
        return client.generic(
            method,
            API + path,
            data=json.dumps(body) if body is not None else "",
            content_type=content_type,
            headers={"Authorization": f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}", **headers},
        )

    return call


def push(line_api: Any, *messages: dict[str, Any], retry_key: str = "") -> Any:
    headers = {"X-Line-Retry-Key": retry_key} if retry_key else {}
    return line_api("POST", "/message/push", {"to": USER, "messages": list(messages)}, **headers)


def reply(line_api: Any, *messages: dict[str, Any]) -> Any:
    return line_api("POST", "/message/reply", {"replyToken": new_reply_token(), "messages": list(messages)})


# --- 1. Message objects, per type ----------------------------------------------------------------

VALID: list[dict[str, Any]] = [
    {"type": "text", "text": "สวัสดีค่ะ"},
    {"type": "sticker", "packageId": "446", "stickerId": "1988"},
    {"type": "image", "originalContentUrl": HTTPS, "previewImageUrl": HTTPS},
    {"type": "video", "originalContentUrl": "https://example.com/v.mp4", "previewImageUrl": HTTPS},
    {"type": "audio", "originalContentUrl": "https://example.com/a.m4a", "duration": 60000},
    {"type": "location", "title": "Siam", "address": "Bangkok", "latitude": 13.7, "longitude": 100.5},
    {"type": "flex", "altText": "Order", "contents": {"type": "bubble", "body": {"type": "box"}}},
    {"type": "template", "altText": "Pick", "template": {"type": "buttons", "text": "x", "actions": []}},
    {
        "type": "imagemap",
        "baseUrl": "https://example.com/map",
        "altText": "Map",
        "baseSize": {"width": 1040, "height": 1040},
        "actions": [{"type": "uri", "linkUri": HTTPS, "area": {"x": 0, "y": 0, "width": 1, "height": 1}}],
    },
    {
        "type": "text",
        "text": "ให้ช่วยอะไรดีคะ",
        "quickReply": {
            "items": [
                {"type": "action", "action": {"type": "postback", "label": "คุยกับเจ้าหน้าที่", "data": "a=h"}}
            ]
        },
        "sender": {"name": "Somchai", "iconUrl": HTTPS},
    },
]


@pytest.mark.parametrize("message", VALID, ids=lambda m: m["type"])
def test_it_accepts_every_valid_message_type(line_api, message):
    assert push(line_api, message).status_code == 200
    assert reply(line_api, message).status_code == 200


LONG_URL = "https://example.com/" + "a" * 2000
QUICK = {"type": "action", "action": {"type": "message", "label": "Hi", "text": "Hi"}}
INVALID = [
    ({"type": "sticker", "stickerId": "1988"}, "packageId", "must be specified"),
    ({"type": "sticker", "packageId": 446, "stickerId": "1988"}, "packageId", "must be a string"),
    ({"type": "image", "originalContentUrl": HTTPS}, "previewImageUrl", "must be specified"),
    (
        {"type": "image", "originalContentUrl": "http://example.com/a.png", "previewImageUrl": HTTPS},
        "originalContentUrl",
        "must be a valid HTTPS URL",
    ),
    (
        {"type": "video", "originalContentUrl": LONG_URL, "previewImageUrl": HTTPS},
        "originalContentUrl",
        "Length must be between 1 and 2000",
    ),
    ({"type": "audio", "originalContentUrl": HTTPS}, "duration", "must be specified"),
    ({"type": "audio", "originalContentUrl": HTTPS, "duration": "60"}, "duration", "must be an integer"),
    (
        {"type": "location", "title": "x" * 101, "address": "a", "latitude": 1, "longitude": 2},
        "title",
        "Length must be between 1 and 100",
    ),
    ({"type": "location", "title": "t", "address": "a", "latitude": 1}, "longitude", "must be specified"),
    ({"type": "flex", "altText": "Order"}, "contents", "must be specified"),
    (
        {"type": "flex", "altText": "", "contents": {"type": "bubble"}},
        "altText",
        "Length must be between 1 and 1500",
    ),
    (
        {"type": "template", "altText": "x" * 401, "template": {"type": "confirm"}},
        "altText",
        "Length must be between 1 and 400",
    ),
    ({"type": "template", "altText": "Pick"}, "template", "must be specified"),
    (
        {
            "type": "imagemap",
            "baseUrl": HTTPS,
            "altText": "Map",
            "baseSize": {"width": 1040},
            "actions": VALID[8]["actions"],
        },
        "baseSize.height",
        "must be specified",
    ),
    (
        {"type": "text", "text": "hi", "quickReply": {"items": []}},
        "quickReply.items",
        "Size must be between 1 and 13",
    ),
    (
        {"type": "text", "text": "hi", "quickReply": {"items": [QUICK] * 14}},
        "quickReply.items",
        "Size must be between 1 and 13",
    ),
    (
        {
            "type": "text",
            "text": "hi",
            "quickReply": {"items": [{"type": "action", "action": {"label": "x"}}]},
        },
        "quickReply.items[0].action.type",
        "must be specified",
    ),
    (
        {"type": "text", "text": "hi", "sender": {"name": "x" * 21}},
        "sender.name",
        "Length must be between 1 and 20",
    ),
    (
        {"type": "text", "text": "hi", "sender": {"iconUrl": "http://example.com/i.png"}},
        "sender.iconUrl",
        "must be a valid HTTPS URL",
    ),
]


@pytest.mark.parametrize(("message", "prop", "said"), INVALID, ids=lambda v: str(v)[:40])
def test_it_refuses_a_message_object_line_refuses_naming_the_property(line_api, message, prop, said):
    response = push(line_api, {"type": "text", "text": "ok"}, message)

    assert response.status_code == 400
    assert response.json() == {
        "message": "The request body has 1 error(s)",
        "details": [{"message": said, "property": f"messages[1].{prop}"}],
    }
    assert reply(line_api, message).status_code == 400


def test_a_push_to_something_that_is_no_line_id_is_refused(line_api):
    response = line_api("POST", "/message/push", {"to": "Somchai", "messages": [VALID[0]]})

    assert response.status_code == 400
    assert response.json() == {
        "message": "The property, 'to', in the request body is invalid (line: -, column: -)"
    }


def test_a_loading_animation_is_for_one_on_one_chats_only(line_api):
    group = "C" + "3" * 32

    assert line_api("POST", "/chat/loading/start", {"chatId": group, "loadingSeconds": 5}).status_code == 400
    assert line_api("POST", "/chat/loading/start", {"chatId": USER, "loadingSeconds": 5}).status_code == 202


# --- 2. X-Line-Request-Id on every answer -------------------------------------------------------


def test_every_answer_carries_a_request_id(line_api, client):
    SimulatorContent.objects.create(message_id="7", content_type="image/png", data=b"png")
    client.post(
        "/simulator/control/fail", {"status": 500, "endpoint": "reply"}, content_type="application/json"
    )
    answers = [
        push(line_api, VALID[0]),  # 200
        push(line_api, {"type": "sticker"}),  # 400
        line_api("GET", f"/profile/{USER}"),  # 404
        line_api("GET", "/message/7/content"),  # 200, bytes
        line_api("GET", "/message/push"),  # 405
        reply(line_api, VALID[0]),  # the 500 asked for
        client.post(f"{API}/message/push", "{}", content_type="application/json"),  # 401
    ]

    assert [a.status_code for a in answers] == [200, 400, 404, 200, 405, 500, 401]
    ids = [a["X-Line-Request-Id"] for a in answers]
    assert all(uuid.UUID(i) for i in ids) and len(set(ids)) == len(ids)
    assert [c.request_id for c in SimulatorCall.objects.order_by("id")] == ids  # recorded with it


# --- 4. The monthly quota ------------------------------------------------------------------------


def set_quota(client: Client, limit: int | None) -> Any:
    response = client.post("/simulator/control/quota", {"limit": limit}, content_type="application/json")
    assert response.status_code == 200
    return response.json()


def test_pushes_beyond_the_monthly_limit_get_lines_429_and_replies_stay_free(line_api, client):
    assert set_quota(client, 2) == {"limit": 2, "used": 0}
    assert push(line_api, VALID[0], VALID[1]).status_code == 200  # one recipient: counts once
    assert reply(line_api, VALID[0]).status_code == 200  # replies are free
    assert push(line_api, VALID[0]).status_code == 200

    key = str(uuid.uuid4())
    refused = push(line_api, VALID[0], retry_key=key)

    assert refused.status_code == 429
    assert refused.json() == {"message": "You have reached your monthly limit."}
    assert reply(line_api, VALID[0]).status_code == 200
    assert line_api("GET", "/message/quota").json() == {"type": "limited", "value": 2}
    assert line_api("GET", "/message/quota/consumption").json() == {"totalUsage": 2}
    set_quota(client, None)
    assert line_api("GET", "/message/quota").json() == {"type": "none"}
    assert push(line_api, VALID[0], retry_key=key).status_code == 200  # the refused try spent no key


def test_the_quota_control_refuses_nonsense_and_is_for_controllers_only(client, settings):
    assert (
        client.post("/simulator/control/quota", {"limit": -1}, content_type="application/json").status_code
        == 400
    )
    assert client.post("/simulator/control/quota", {}, content_type="application/json").status_code == 400
    settings.DEBUG = False
    assert (
        Client().post("/simulator/control/quota", {"limit": 1}, content_type="application/json").status_code
        == 403
    )


def test_reset_lifts_the_quota(line_api, client):
    set_quota(client, 0)
    assert push(line_api, VALID[0]).status_code == 429

    client.post("/simulator/control/reset")

    assert push(line_api, VALID[0]).status_code == 200


# --- 5. Content that LINE is still preparing -----------------------------------------------------


def test_video_content_is_202_while_line_prepares_it(line_api, client):
    SimulatorContent.objects.create(
        message_id="99",
        content_type="video/mp4",
        data=b"mp4",
        transcoding=SimulatorContent.Transcoding.PROCESSING,
    )

    assert line_api("GET", "/message/99/content/transcoding").json() == {"status": "processing"}
    waiting = line_api("GET", "/message/99/content")
    assert (waiting.status_code, waiting.content) == (202, b"")

    flip = client.post(
        "/simulator/control/transcoding",
        {"message_id": "99", "status": "succeeded"},
        content_type="application/json",
    )
    assert flip.status_code == 200
    assert line_api("GET", "/message/99/content/transcoding").json() == {"status": "succeeded"}
    ready = line_api("GET", "/message/99/content")
    assert (ready.status_code, ready.content, ready["Content-Type"]) == (200, b"mp4", "video/mp4")

    client.post(
        "/simulator/control/transcoding",
        {"message_id": "99", "status": "failed"},
        content_type="application/json",
    )
    assert line_api("GET", "/message/99/content").status_code == 404
    assert line_api("GET", "/message/100/content/transcoding").status_code == 404


# --- 9. Tokens, friends, methods, content types, sizes -------------------------------------------


def test_mark_as_read_needs_a_token_line_handed_out(line_api):
    unknown = line_api("POST", "/chat/markAsRead", {"markAsReadToken": "read-2"})
    event = ev.text_event(USER, "hi")

    assert unknown.status_code == 400
    assert unknown.json()["details"][0]["property"] == "markAsReadToken"
    known = {"markAsReadToken": event["message"]["markAsReadToken"]}
    assert line_api("POST", "/chat/markAsRead", known).status_code == 200
    assert (
        line_api(
            "POST", "/chat/markAsRead", {"markAsReadToken": new_mark_as_read_token()[:-1] + "x"}
        ).status_code
        == 400
    )


def test_a_profile_is_only_for_a_friend(line_api):
    SimulatorProfile.objects.create(user_id=USER, display_name="Nok")
    blocked = SimulatorProfile.objects.create(user_id="U" + "4" * 32, display_name="Krit", is_friend=False)

    assert line_api("GET", f"/profile/{USER}").json()["displayName"] == "Nok"
    for stranger in (blocked.user_id, "U" + "5" * 32):  # blocked the account / LINE never heard of
        response = line_api("GET", f"/profile/{stranger}")
        assert response.status_code == 404
        assert response.json() == {"message": "Not found"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/message/push", "POST"),
        ("POST", f"/profile/{USER}", "GET"),
        ("DELETE", "/message/1/content", "GET"),
    ],
)
def test_a_wrong_method_is_405(line_api, method, path, allowed):
    response = line_api(method, path, {})

    assert response.status_code == 405
    assert response["Allow"] == allowed


def test_a_body_that_is_not_json_by_its_content_type_is_415(client):
    response = client.post(
        f"{API}/message/push",
        "to=U&messages=x",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}"},
    )

    assert response.status_code == 415
    assert response.json() == {
        "message": "The content type, application/x-www-form-urlencoded, is not supported"
    }


def test_a_body_over_lines_limit_is_413(line_api):
    huge = {"type": "text", "text": "x" * 5000}
    response = line_api(
        "POST", "/message/push", {"to": USER, "messages": [huge], "padding": "x" * (2 * 1024 * 1024)}
    )

    assert response.status_code == 413
    assert push(line_api, huge).status_code == 200


def test_unparsable_json_is_answered_with_where(line_api, client):
    response = client.post(
        f"{API}/message/push",
        '{"to": ',
        content_type="application/json",
        headers={"Authorization": f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}"},
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "The request body could not be parsed as JSON (line: 1, column:"
    )


# --- 6. A timeout that LINE processed anyway ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_delay_fault_answers_late_after_line_accepted_the_push(line):
    key = str(uuid.uuid4())
    line.fail(0, endpoint="push", delay=1.0)
    body = {"to": USER, "messages": [VALID[0]]}
    headers = {"Authorization": f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}", "X-Line-Retry-Key": key}
    url = f"{line.base_url}{API}/message/push"

    with pytest.raises(httpx.TimeoutException):
        httpx.post(url, json=body, headers=headers, timeout=0.3)

    (accepted,) = line.calls(endpoint="push")  # recorded before the answer was lost
    assert accepted["status"] == 200
    retried = httpx.post(url, json=body, headers=headers, timeout=5)
    assert retried.status_code == 409
    assert retried.json()["sentMessages"] == accepted["response"]["sentMessages"]
