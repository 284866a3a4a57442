"""Refusals reach the operator in the console's language: socket `error` frames and REST answers.

The console page is Thai unless the operator switched it to English (the language cookie) or the
browser asks for English first; the socket follows the same choice.
"""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from config.asgi import application
from livechat.conversations.actions import ActionRefused
from livechat.conversations.permissions import require_in_charge
from livechat.models import Conversation
from tests.console.test_consumer import make_conversation, make_user
from tests.ws import Socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def console_socket(user, *, language_cookie: str | None = None, accept_language: str = "") -> Socket:
    cookies = f"{settings.SESSION_COOKIE_NAME}={await sync_to_async(session_cookie)(user)}"
    if language_cookie:
        cookies += f"; {settings.LANGUAGE_COOKIE_NAME}={language_cookie}"
    headers = [(b"origin", b"http://testserver"), (b"cookie", cookies.encode())]
    if accept_language:
        headers.append((b"accept-language", accept_language.encode()))
    communicator = WebsocketCommunicator(application, "/ws/live-chat/", headers=headers)
    communicator.scope["client"] = ["127.0.0.1", 50000]
    connected, _ = await communicator.connect()
    assert connected
    socket = Socket(communicator)
    await socket.expect("auth_success")
    return socket


async def refusal_of_claiming_noks_conversation(django_user_model, **language) -> dict:
    somchai = await sync_to_async(make_user)(django_user_model, "somchai")
    nok = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("active", nok)
    socket = await console_socket(somchai, **language)
    await socket.send("claim_session", {"conversation_id": conversation_id}, request_id="r1")
    error = await socket.expect("error", request_id="r1")
    await socket.close()
    return error["payload"]


async def test_a_thai_console_is_told_in_thai_who_already_claimed_the_conversation(django_user_model):
    refusal = await refusal_of_claiming_noks_conversation(django_user_model, accept_language="th-TH,th;q=0.9")
    assert refusal == {"code": "already_claimed", "message": "Nok รับเรื่องนี้ไปแล้ว", "request_id": "r1"}


async def test_thai_is_the_default_when_the_browser_says_nothing(django_user_model):
    refusal = await refusal_of_claiming_noks_conversation(django_user_model)
    assert refusal["message"] == "Nok รับเรื่องนี้ไปแล้ว"


async def test_an_operator_who_switched_the_console_to_english_reads_english(django_user_model):
    refusal = await refusal_of_claiming_noks_conversation(
        django_user_model, language_cookie="en", accept_language="th-TH,th;q=0.9"
    )
    assert refusal["message"] == "Already claimed by Nok."


async def test_an_english_browser_reads_english_and_parameters_are_filled_in(django_user_model):
    somchai = await sync_to_async(make_user)(django_user_model, "somchai")
    socket = await console_socket(somchai, accept_language="en-US,en;q=0.8")
    await socket.send("claim_session", {"conversation_id": 987654}, request_id="r2")
    error = await socket.expect("error", request_id="r2")
    assert error["payload"]["message"] == "Conversation 987654 does not exist."
    await socket.close()


def test_the_rest_api_answers_in_the_requests_language(django_user_model):
    somchai = make_user(django_user_model, "somchai")
    conversation_id = make_conversation("closed")
    client = Client()
    client.force_login(somchai)
    url = reverse("api:close", kwargs={"conversation_id": conversation_id})
    thai = client.post(url, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="th")
    assert thai.json() == {"code": "invalid_state", "message": "การสนทนานี้ปิดไปแล้ว"}
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.post(url, {}, content_type="application/json")
    assert english.json() == {"code": "invalid_state", "message": "The conversation is already closed."}


def test_a_refusal_is_put_in_words_when_read_not_when_raised(django_user_model):
    somchai, nok = make_user(django_user_model, "somchai"), make_user(django_user_model, "nok")
    conversation = Conversation.objects.get(pk=make_conversation("active", nok))
    with translation.override("en"), pytest.raises(ActionRefused) as raised:
        require_in_charge(somchai, conversation, gettext_lazy("close it"))
    with translation.override("th"):
        assert raised.value.message == "เฉพาะเจ้าหน้าที่ที่ดูแลการสนทนานี้เท่านั้นที่ปิดการสนทนาได้"
        assert str(raised.value) == raised.value.message
    with translation.override("en"):
        assert raised.value.message == "Only the operator holding the conversation may close it."


def test_the_consoles_own_pages_say_not_found_in_its_language(django_user_model):
    client = Client()
    client.force_login(make_user(django_user_model, "somchai"))
    url = reverse("console:conversation", kwargs={"conversation_id": 424242})
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="th").json() == {
        "code": "not_found",
        "message": "ไม่พบการสนทนาหมายเลข 424242",
    }
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.get(url).json()["message"] == "Conversation 424242 does not exist."
    api = client.get(
        reverse("api:conversation", kwargs={"conversation_id": 424242}), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert api.json() == {"code": "not_found", "message": "No such conversation."}
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
    api = client.get(reverse("api:conversation", kwargs={"conversation_id": 424242}))
    assert api.json() == {"code": "not_found", "message": "ไม่พบการสนทนานี้"}
