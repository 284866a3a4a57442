"""The webhook as daphne serves it: the lean ASGI endpoint in front of Django's request stack."""

import httpx
import pytest
from django.conf import settings

from config.asgi import application
from livechat.models import Message, WebhookEvent
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


def asgi_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver")


def signed(body: bytes) -> dict[str, str]:
    return {
        "X-Line-Signature": ev.sign(body, settings.LINE_CHANNEL_SECRET),
        "Content-Type": "application/json",
    }


async def test_a_signed_delivery_is_stored_through_the_asgi_endpoint():
    user = ev.new_user_id()
    body = ev.webhook_body(ev.text_event(user, "สวัสดีค่ะ"), ev.sticker_event(user))
    async with asgi_client() as client:
        response = await client.post("/webhooks/line/", content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.json() == {}
    stored = [
        m
        async for m in Message.objects.filter(
            conversation__contact__line_user_id=user, direction=Message.Direction.IN
        ).order_by("seq")
    ]
    # (seq 2 is the bot's fallback to the greeting)
    assert [(m.seq, m.type, m.text) for m in stored] == [(1, "text", "สวัสดีค่ะ"), (3, "sticker", "")]


async def test_the_asgi_endpoint_refuses_a_bad_signature_and_stores_nothing():
    body = ev.webhook_body(ev.text_event(ev.new_user_id(), "hi"))
    async with asgi_client() as client:
        response = await client.post(
            "/webhooks/line/",
            content=body,
            headers={"X-Line-Signature": "bm9wZQ==", "Content-Type": "application/json"},
        )
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid X-Line-Signature."}
    assert await WebhookEvent.objects.acount() == 0


async def test_the_asgi_endpoint_answers_only_post():
    async with asgi_client() as client:
        response = await client.get("/webhooks/line/")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_the_asgi_endpoint_refuses_an_oversized_body_without_storing_it():
    event = ev.text_event(ev.new_user_id(), "x" * (settings.WEBHOOK_MAX_BODY_BYTES + 10))
    body = ev.webhook_body(event)

    async def chunks():  # streamed, so no Content-Length: the limit is enforced while reading
        for i in range(0, len(body), 64 * 1024):
            yield body[i : i + 64 * 1024]

    async with asgi_client() as client:
        declared = await client.post("/webhooks/line/", content=body, headers=signed(body))
        streamed = await client.post("/webhooks/line/", content=chunks(), headers=signed(body))
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert await WebhookEvent.objects.acount() == 0


async def test_other_urls_still_reach_django():
    async with asgi_client() as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
