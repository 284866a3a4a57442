"""The LINE simulator holds the app to LINE's rules, and can be told to misbehave like LINE does."""

import json
import time
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern

from livechat.simulator import urls as simulator_urls
from livechat.simulator.models import SimulatorCall, SimulatorContent, SimulatorProfile
from livechat.simulator.rules import new_mark_as_read_token, new_reply_token

pytestmark = pytest.mark.django_db

API = "/simulator/line-api/v2/bot"
USER = "U" + "1" * 32


@pytest.fixture
def client() -> Client:
    """The tests steer the simulator as the benches do: with the control token."""
    return Client(headers={"X-Simulator-Control-Token": settings.SIMULATOR_CONTROL_TOKEN})


@pytest.mark.django_db
def test_with_debug_off_only_staff_or_the_token_may_steer_it(settings, django_user_model):
    settings.DEBUG = False
    anonymous = Client()
    operator = django_user_model.objects.create_user(username="op", password="pw-op-1", role="operator")
    staff = django_user_model.objects.create_user(username="st", password="pw-st-1", is_staff=True)
    as_operator, as_staff = Client(), Client()
    as_operator.force_login(operator)
    as_staff.force_login(staff)

    assert anonymous.get("/simulator/control/calls").status_code == 403
    assert anonymous.post("/simulator/control/reset").status_code == 403
    assert as_operator.get("/simulator/control/calls").status_code == 403
    assert as_staff.get("/simulator/control/calls").status_code == 200
    token = {"X-Simulator-Control-Token": settings.SIMULATOR_CONTROL_TOKEN}
    assert Client(headers=token).get("/simulator/control/calls").status_code == 200
    assert (
        Client(headers={"X-Simulator-Control-Token": "wrong"}).get("/simulator/control/calls").status_code
        == 403
    )


@pytest.fixture
def line_api(client, settings):
    """Calls the simulated Messaging API the way the SDK does: JSON with the bearer token."""

    def call(method: str, path: str, body: Any = None, token: str | None = None, **headers: str) -> Any:
        auth = f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN if token is None else token}"
        return client.generic(
            method,
            API + path,
            data=json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers={"Authorization": auth, **headers},
        )

    return call


def text(n: int) -> dict[str, str]:
    return {"type": "text", "text": "ก" * n}


def push(line_api, messages: list[dict[str, Any]], retry_key: str | None = None) -> Any:
    headers = {"X-Line-Retry-Key": retry_key} if retry_key else {}
    return line_api("POST", "/message/push", {"to": USER, "messages": messages}, **headers)


def reply(line_api, token: str, messages: list[dict[str, Any]] | None = None) -> Any:
    return line_api("POST", "/message/reply", {"replyToken": token, "messages": messages or [text(3)]})


def fail(client, **spec: Any) -> None:
    assert client.post("/simulator/control/fail", spec, content_type="application/json").status_code == 200


def test_it_accepts_a_push_and_records_it(line_api, client):
    response = push(line_api, [text(10), {"type": "sticker", "packageId": "446", "stickerId": "1988"}])

    assert response.status_code == 200
    assert len(response.json()["sentMessages"]) == 2
    (call,) = client.get("/simulator/control/calls").json()["calls"]
    assert (call["endpoint"], call["status"], call["user_id"]) == ("push", 200, USER)


def test_it_refuses_more_than_five_messages_per_request(line_api):
    response = push(line_api, [text(1)] * 6)

    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == "messages"
    assert push(line_api, [text(1)] * 5).status_code == 200


def test_it_refuses_no_messages(line_api):
    assert push(line_api, []).status_code == 400


def test_it_refuses_text_over_5000_characters(line_api):
    response = push(line_api, [text(5001)])

    assert response.status_code == 400
    assert response.json()["details"] == [
        {"message": "Length must be between 1 and 5000", "property": "messages[0].text"}
    ]
    assert push(line_api, [text(5000)]).status_code == 200


def test_it_refuses_a_message_type_line_does_not_know(line_api):
    response = push(line_api, [{"type": "hologram"}])

    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == "messages[0].type"


def test_a_reply_token_works_only_once(line_api):
    token = new_reply_token()

    assert reply(line_api, token).status_code == 200
    second = reply(line_api, token)

    assert second.status_code == 400
    assert second.json() == {"message": "Invalid reply token"}


def test_a_stale_reply_token_is_refused(line_api):
    stale = new_reply_token(issued_at=time.time() - 61)

    response = reply(line_api, stale)

    assert response.status_code == 400
    assert response.json() == {"message": "Invalid reply token"}
    assert reply(line_api, new_reply_token(issued_at=time.time() - 55)).status_code == 200


def test_a_reused_retry_key_is_answered_with_409(line_api):
    key = str(uuid.uuid4())

    first = push(line_api, [text(5)], retry_key=key)
    second = push(line_api, [text(5)], retry_key=key)

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json() == {
        "message": "The retry key is already accepted",
        "sentMessages": first.json()["sentMessages"],  # what the first, accepted push sent
    }
    assert second["X-Line-Accepted-Request-Id"] == first["X-Line-Request-Id"]
    assert push(line_api, [text(5)], retry_key=str(uuid.uuid4())).status_code == 200


def test_a_retry_key_must_be_a_uuid(line_api):
    assert push(line_api, [text(5)], retry_key="not-a-uuid").status_code == 400


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_it_refuses_a_wrong_access_token(line_api, token):
    assert push(line_api, [text(5)]).status_code == 200

    assert push_with_token(line_api, token).status_code == 401
    assert line_api("GET", f"/profile/{USER}", token=token).status_code == 401
    assert line_api("GET", "/message/1234/content", token=token).status_code == 401


def push_with_token(line_api, token: str) -> Any:
    return line_api("POST", "/message/push", {"to": USER, "messages": [text(5)]}, token=token)


@pytest.mark.parametrize(("status", "message"), [(429, "The API rate limit"), (500, "Internal server error")])
def test_it_fails_the_next_calls_when_told(line_api, client, status, message):
    fail(client, status=status, count=2, endpoint="push")

    assert push(line_api, [text(5)]).status_code == status
    assert push(line_api, [text(5)]).json()["message"].startswith(message)
    assert push(line_api, [text(5)]).status_code == 200
    assert [c.response_status for c in SimulatorCall.objects.order_by("id")] == [status, status, 200]


def test_a_fault_for_one_endpoint_leaves_the_others_alone(line_api, client):
    fail(client, status=500, endpoint="reply")

    assert push(line_api, [text(5)]).status_code == 200
    assert reply(line_api, new_reply_token()).status_code == 500


def test_it_delays_an_answer_when_told(line_api, client):
    fail(client, status=0, delay=0.3, endpoint="push")

    started = time.monotonic()
    response = push(line_api, [text(5)])

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_it_serves_a_users_content_and_profile(line_api):
    SimulatorContent.objects.create(message_id="42", content_type="image/png", data=b"\x89PNG")
    SimulatorProfile.objects.create(user_id=USER, display_name="LINE user 1111")

    content = line_api("GET", "/message/42/content")
    profile = line_api("GET", f"/profile/{USER}")

    assert content.status_code == 200
    assert content["Content-Type"] == "image/png"
    assert content.content == b"\x89PNG"
    assert line_api("GET", "/message/43/content").status_code == 404
    assert profile.json()["displayName"] == "LINE user 1111"
    assert line_api("GET", "/profile/not-a-user").status_code == 404


def test_it_accepts_loading_animation_mark_as_read_and_quota(line_api):
    assert line_api("POST", "/chat/loading/start", {"chatId": USER, "loadingSeconds": 20}).status_code == 202
    assert line_api("POST", "/chat/loading/start", {"chatId": USER, "loadingSeconds": 7}).status_code == 400
    token = new_mark_as_read_token()  # as the simulator hands them out in webhook events
    assert line_api("POST", "/chat/markAsRead", {"markAsReadToken": token}).status_code == 200
    assert line_api("POST", "/chat/markAsRead", {}).status_code == 400
    assert line_api("GET", "/message/quota").json() == {"type": "none"}  # until a test sets one
    push(line_api, [text(5)])
    assert line_api("GET", "/message/quota/consumption").json() == {"totalUsage": 1}


def test_reset_forgets_calls_faults_and_used_keys(line_api, client):
    token = new_reply_token()
    reply(line_api, token)
    fail(client, status=500, count=5)

    assert client.post("/simulator/control/reset").status_code == 200

    assert client.get("/simulator/control/calls").json()["calls"] == []
    assert reply(line_api, token).status_code == 200


def _simulator_paths() -> list[str]:
    sample = {"user_id": USER, "message_id": "42"}
    paths = ["/simulator/"]
    for pattern in simulator_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        for name, value in sample.items():
            route = route.replace(f"<str:{name}>", value)
        paths.append(f"/simulator/{route}")
    return paths


@pytest.mark.parametrize("path", _simulator_paths())
def test_every_simulator_url_is_404_when_the_simulator_is_off(client, settings, path):
    settings.LINE_SIMULATOR = False
    auth = {"Authorization": f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}"}

    assert client.get(path, headers=auth).status_code == 404
    assert client.post(path, "{}", content_type="application/json", headers=auth).status_code == 404


def test_it_counts_text_length_in_utf16_units_as_line_does(line_api):
    emoji = "😊" * 2501  # 2,501 characters, 5,002 UTF-16 units

    response = push(line_api, [{"type": "text", "text": emoji}])

    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == "messages[0].text"
    assert push(line_api, [{"type": "text", "text": "😊" * 2500}]).status_code == 200
