"""The simulator's phone page: fake users, customer actions as real signed webhooks, and what the
app sent back, as the page reads it."""

import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from livechat.models import Contact, Conversation, Message, WebhookEvent
from livechat.simulator import phone as phone_module
from livechat.simulator.models import SimulatorCall, SimulatorContent, SimulatorProfile

USER_ID = re.compile(r"^U[0-9a-f]{32}$")
SELECTORS = [
    'data-testid="composer-input"',
    'data-testid="send-button"',
    'data-testid="follow"',
    'data-testid="unfollow"',
    'data-testid="send-sticker"',
    'data-testid="sticker-picker"',
    'data-testid="send-image"',
    'data-testid="send-location"',
    'data-testid="user-name-input"',
    'data-testid="create-user"',
]


def page_data(response: Any) -> dict[str, Any]:
    match = re.search(rb'<script id="phone-data" type="application/json">(.*?)</script>', response.content)
    assert match, "the page carries its data as json_script"
    return json.loads(match.group(1))


class Phone:
    """The phone page's endpoints, called as its script calls them, on the live server's host."""

    def __init__(self, client: Client, live_url: str) -> None:
        self.client = client
        self.host = urlsplit(live_url).netloc

    def create_user(self, name: str = "คุณแพรวา", picture_url: str = "") -> str:
        """A new LINE user, who adds the OA as a friend (the app welcomes them)."""
        response = self.client.post(
            "/simulator/phone/users", {"name": name, "picture_url": picture_url}, HTTP_HOST=self.host
        )
        assert response.status_code == 200, response.content
        assert response.json()["follow"]["webhook_status"] == 200
        return response.json()["userId"]

    def send(self, user_id: str, kind: str, **fields: Any) -> Any:
        return self.client.post(
            "/simulator/phone/send", {"user_id": user_id, "kind": kind, **fields}, HTTP_HOST=self.host
        )

    def inbox(self, *user_ids: str, since: int = 0) -> dict[str, Any]:
        query: dict[str, list[str] | int] = {"user_id": list(user_ids), "since": since}
        response = self.client.get("/simulator/phone/inbox", query)
        assert response.status_code == 200
        return response.json()

    def texts(self, *user_ids: str) -> list[str]:
        return [m.get("text", "") for item in self.inbox(*user_ids)["items"] for m in item["messages"]]


@pytest.fixture
def phone(line: Any, live_server: Any, client: Client) -> Phone:
    return Phone(client, live_server.url)


# --- Off switch and the page -----------------------------------------------------------------


@pytest.mark.django_db
def test_it_is_404_when_the_simulator_is_off(client, settings):
    settings.LINE_SIMULATOR = False
    assert client.get("/simulator/").status_code == 404
    assert client.post("/simulator/phone/users", {"name": "x"}).status_code == 404
    assert client.post("/simulator/phone/send", {"kind": "text"}).status_code == 404
    assert client.get("/simulator/phone/inbox").status_code == 404
    assert SimulatorProfile.objects.count() == 0


@pytest.mark.django_db
def test_the_page_renders_the_selector_contract_with_a_csp_nonce_free_module(client):
    response = client.get("/simulator/")
    assert response.status_code == 200
    html = response.content.decode()
    for selector in SELECTORS:
        assert selector in html, selector
    assert '<script type="module" src="/static/simulator/phone.js"></script>' in html
    assert "onclick" not in html
    data = page_data(response)
    assert data["initialUser"] is None
    assert data["urls"]["send"] == "/simulator/phone/send"


@pytest.mark.django_db
def test_a_url_opens_a_user_directly_creating_it_if_needed(client):
    user_id = "U" + "a1" * 16
    data = page_data(client.get("/simulator/", {"user": user_id, "name": "Nok"}))
    assert data["initialUser"] == {"userId": user_id, "name": "Nok", "pictureUrl": ""}
    assert SimulatorProfile.objects.get(user_id=user_id).display_name == "Nok"

    data = page_data(client.get("/simulator/", {"user": user_id, "name": "Nok Noi"}))
    assert data["initialUser"]["name"] == "Nok Noi"
    assert SimulatorProfile.objects.get(user_id=user_id).display_name == "Nok Noi"
    assert page_data(client.get("/simulator/", {"user": user_id}))["initialUser"]["name"] == "Nok Noi"


@pytest.mark.django_db
def test_a_url_with_a_malformed_user_id_is_refused_on_the_page(client):
    response = client.get("/simulator/", {"user": "Unot-an-id", "name": "x"})
    assert response.status_code == 200
    assert page_data(response)["initialUser"] is None
    assert "32 hexadecimal digits" in response.content.decode()
    assert SimulatorProfile.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_creating_a_user_gives_a_line_like_id_and_a_profile_and_adds_the_oa_as_a_friend(
    phone, client, line, settle
):
    response = client.post(
        "/simulator/phone/users",
        {"name": "  น้องมิว  ", "picture_url": "https://example.com/miu.png"},
        HTTP_HOST=phone.host,
    )
    assert response.status_code == 200
    body = response.json()
    assert USER_ID.match(body["userId"])
    follow = body.pop("follow")
    assert body == {"userId": body["userId"], "name": "น้องมิว", "pictureUrl": "https://example.com/miu.png"}
    assert follow["webhook_status"] == 200
    assert (follow["event"]["type"], follow["event"]["source"]["userId"]) == ("follow", body["userId"])
    profile = client.get(
        f"/simulator/line-api/v2/bot/profile/{body['userId']}",
        headers={"Authorization": f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}"},
    ).json()
    assert profile["displayName"] == "น้องมิว"
    assert profile["pictureUrl"] == "https://example.com/miu.png"
    settle()

    contact = Contact.objects.get(line_user_id=body["userId"])  # the app met a new friend…
    assert (contact.is_following, contact.display_name) == (True, "น้องมิว")
    assert any("ยินดีต้อนรับ" in text for text in phone.texts(body["userId"]))  # …and welcomed them
    assert WebhookEvent.objects.get().event_type == "follow"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": " "}, "name"),
        ({"name": "x", "picture_url": "javascript:alert(1)"}, "http(s)"),
        ({"name": "x", "user_id": "U123"}, "32 hexadecimal"),
    ],
)
def test_a_user_is_not_created_from_bad_input(client, fields, error):
    response = client.post("/simulator/phone/users", fields)
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert SimulatorProfile.objects.count() == 0


@pytest.mark.django_db
def test_writes_need_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/simulator/phone/users", {"name": "x"}).status_code == 403
    assert client.post("/simulator/phone/send", {"kind": "follow"}).status_code == 403


# --- Customer actions become real signed webhooks -----------------------------------------------

live = pytest.mark.django_db(transaction=True)


@live
def test_text_from_the_phone_is_stored_and_answered_with_the_queue_position(phone, line, settle):
    user = phone.create_user("คุณแพรวา")
    settle()
    response = phone.send(user, "text", text="agent")
    assert response.status_code == 200
    body = response.json()
    assert body["webhook_status"] == 200
    assert body["event"]["source"]["userId"] == user
    settle()

    event = WebhookEvent.objects.get(event_type="message")
    assert event.raw["message"]["text"] == "agent"
    message = Message.objects.get(direction=Message.Direction.IN)
    assert (message.type, message.text, message.conversation.contact.line_user_id) == ("text", "agent", user)
    assert message.conversation.status == Conversation.Status.WAITING
    assert Contact.objects.get(line_user_id=user).display_name == "คุณแพรวา"  # fetched from the profile API
    welcome, reply = line.calls(endpoint="reply", user_id=user)  # replies are attributed to their user
    assert "ยินดีต้อนรับ" in welcome["body"]["messages"][0]["text"]
    assert "ลำดับที่ 1" in reply["body"]["messages"][0]["text"]


@live
def test_an_image_from_the_phone_is_stored_for_the_content_api_and_downloaded_by_the_app(
    phone, line, settle, client
):
    user = phone.create_user()
    response = phone.send(user, "image")
    assert response.status_code == 200
    message_id = response.json()["event"]["message"]["id"]
    stored = SimulatorContent.objects.get(message_id=message_id)
    assert stored.content_type == "image/png"
    assert bytes(stored.data).startswith(b"\x89PNG\r\n\x1a\n")
    settle()

    message = Message.objects.get(line_message_id=message_id)
    assert message.type == "image"
    assert message.media_status == Message.MediaStatus.STORED
    with message.media.open("rb") as media:
        assert media.read() == bytes(stored.data)
    assert [c["status"] for c in line.calls(endpoint="content")] == [200]
    shown = client.get(f"/simulator/phone/content/{message_id}")
    assert shown["Content-Type"] == "image/png"
    assert shown.content == bytes(stored.data)


@live
def test_an_uploaded_photo_is_sent_as_is_but_never_svg(phone, settle):
    user = phone.create_user()
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 512 + b"\xff\xd9"
    upload = SimpleUploadedFile("cat.jpg", jpeg, content_type="image/jpeg")
    response = phone.send(user, "image", file=upload)
    assert response.status_code == 200
    message_id = response.json()["event"]["message"]["id"]
    assert SimulatorContent.objects.get(message_id=message_id).content_type == "image/jpeg"
    settle()
    assert Message.objects.get(line_message_id=message_id).media_status == Message.MediaStatus.STORED

    svg = SimpleUploadedFile("x.svg", b"<svg onload='alert(1)'/>", content_type="image/svg+xml")
    response = phone.send(user, "image", file=svg)
    assert response.status_code == 400
    assert SimulatorContent.objects.count() == 1


@live
def test_a_quick_reply_postback_from_the_phone_hands_the_customer_over(phone, settle):
    user = phone.create_user()
    settle()
    # The page sends the button's displayText too (it draws it as the customer's message);
    # like LINE, the webhook carries only the postback's data.
    response = phone.send(user, "postback", data="action=handoff", display_text="คุยกับเจ้าหน้าที่")
    assert response.status_code == 200
    assert response.json()["event"]["postback"] == {"data": "action=handoff"}
    settle()

    message = Message.objects.get(direction=Message.Direction.IN)
    assert message.type == "postback"
    assert message.payload["data"] == "action=handoff"
    assert message.text == "คุยกับเจ้าหน้าที่ · Talk to a person"  # the action's label, not its data
    assert message.conversation.status == Conversation.Status.WAITING
    assert any("ลำดับที่ 1" in text for text in phone.texts(user))


@live
def test_sticker_location_follow_and_unfollow_reach_the_app(phone, settle):
    user = phone.create_user()
    assert phone.send(user, "follow").status_code == 200
    assert phone.send(user, "sticker", package_id="789", sticker_id="10855").status_code == 200
    assert phone.send(user, "location", place="3").status_code == 200
    settle()

    contact = Contact.objects.get(line_user_id=user)
    assert contact.is_following
    inbound = list(Message.objects.filter(direction=Message.Direction.IN).order_by("seq"))
    assert [m.type for m in inbound] == ["sticker", "location"]
    assert inbound[0].payload["stickerId"] == "10855"
    assert inbound[1].text == phone_module.BANGKOK_PLACES[3]["title"]
    assert inbound[1].payload["latitude"] == phone_module.BANGKOK_PLACES[3]["latitude"]
    assert any("ยินดีต้อนรับ" in text for text in phone.texts(user))  # the welcome, as a reply

    assert phone.send(user, "unfollow").status_code == 200
    settle()
    contact.refresh_from_db()
    assert not contact.is_following


@live
@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "text", "text": "   "},
        {"kind": "launch-rocket"},
        {"kind": "location", "place": "99"},
        {"kind": "sticker", "sticker_id": "../../x"},
        {"kind": "postback", "data": ""},
    ],
)
def test_actions_that_cannot_be_events_are_refused_and_nothing_is_sent(phone, fields):
    user = phone.create_user()
    assert list(WebhookEvent.objects.values_list("event_type", flat=True)) == ["follow"]
    response = phone.send(user, **fields)
    assert response.status_code == 400
    assert response.json()["error"]
    assert WebhookEvent.objects.count() == 1


@live
def test_a_send_for_an_unknown_user_id_is_refused(phone):
    assert phone.send("not-a-user", "text", text="hi").status_code == 400
    assert WebhookEvent.objects.count() == 0


@live
def test_an_unreachable_webhook_is_reported_not_hidden(client, settings):
    settings.ALLOWED_HOSTS = ["*"]
    response = client.post(
        "/simulator/phone/send",
        {"user_id": "U" + "b" * 32, "kind": "text", "text": "hi"},
        HTTP_HOST="127.0.0.1:9",  # nothing listens on the discard port
    )
    assert response.status_code == 502
    assert response.json()["webhook_status"] == 0
    assert "ConnectError" in response.json()["error"]


# --- What the app sent, as the page reads it ------------------------------------------------------


def push(live_server: Any, user_id: str, *messages: dict[str, Any]) -> None:
    httpx.post(
        f"{live_server.url}/simulator/line-api/v2/bot/message/push",
        json={"to": user_id, "messages": list(messages)},
        headers={"Authorization": f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}"},
    ).raise_for_status()


FLEX = {
    "type": "flex",
    "altText": "Order #1024",
    "contents": {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "Order #1024"}]},
        "footer": {
            "type": "box",
            "layout": "vertical",
            "contents": [{"type": "button", "action": {"type": "postback", "label": "Track", "data": "a=t"}}],
        },
    },
}
QUICK = {
    "type": "text",
    "text": "ให้ช่วยอะไรดีคะ",
    "quickReply": {
        "items": [
            {"type": "action", "action": {"type": "postback", "label": "Agent", "data": "action=handoff"}}
        ]
    },
}


@live
def test_the_inbox_lists_what_line_accepted_for_these_users_in_order(phone, settle, live_server):
    somchai, nok = phone.create_user("Somchai"), phone.create_user("Nok")
    settle()  # each is welcomed
    phone.send(somchai, "text", text="agent")
    settle()
    push(live_server, somchai, FLEX, QUICK, {"type": "sticker", "packageId": "446", "stickerId": "1989"})
    push(live_server, nok, {"type": "text", "text": "for Nok only"})
    SimulatorCall.objects.create(  # refused by LINE: the customer never saw it
        endpoint="push",
        method="POST",
        path="/",
        body={"to": somchai, "messages": [{"type": "text", "text": "x"}]},
        user_id=somchai,
        response_status=429,
    )

    page = phone.inbox(somchai)
    assert [item["endpoint"] for item in page["items"]] == ["reply", "reply", "push"]
    welcome, reply, pushed = page["items"]
    assert "ยินดีต้อนรับ" in welcome["messages"][0]["text"]
    assert "ลำดับที่ 1" in reply["messages"][0]["text"]
    assert [m["type"] for m in pushed["messages"]] == ["flex", "text", "sticker"]
    assert pushed["messages"][0]["contents"]["footer"]["contents"][0]["action"]["data"] == "a=t"
    assert pushed["messages"][1]["quickReply"]["items"][0]["action"]["data"] == "action=handoff"
    assert page["last"] == pushed["id"]

    assert phone.inbox(somchai, since=page["last"])["items"] == []
    both = phone.inbox(somchai, nok)["items"]
    assert {item["userId"] for item in both} == {somchai, nok}
    assert phone.inbox(since=0)["items"] == []
