"""The webhook trusts only bodies signed with the channel secret, and refuses bad input cleanly."""

import json

import pytest

from livechat.models import Contact, Message, WebhookEvent
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db

# LINE's SDKs' own test vectors for X-Line-Signature = base64(HMAC-SHA256(secret, body)).
# line-bot-sdk-python, tests/test_webhook.py, TestSignatureValidator.test_validate:
SDK_SECRET = "channel_secret"
SDK_BODY = b"bodybodybodybody"
SDK_SIGNATURE = "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="
# line-bot-sdk-rust, tests/webhook_test.rs, test_validate_signature_valid: a real text event
# with an emoji and a mention. The whitespace is part of what was signed.
SDK_EVENT_SIGNATURE = "+uCVw4g3BuIOKnlseFJAYyFoVBFaMjxP8KXBbnIRRI0="
SDK_EVENT_BODY = b"""
          {
            "destination": "xxxxxxxxxx",
            "events": [
              {
                "replyToken": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA",
                "type": "message",
                "mode": "active",
                "timestamp": 1462629479859,
                "source": {
                  "type": "user",
                  "userId": "U4af4980629..."
                },
                "message": {
                  "id": "325708",
                  "type": "text",
                  "text": "@example Hello, world! (love)",
                  "emojis": [
                    {
                      "index": 14,
                      "length": 6,
                      "productId": "5ac1bfd5040ab15980c9b435",
                      "emojiId": "001"
                    }
                  ],
                  "mention": {
                    "mentionees": [
                      {
                        "index": 0,
                        "length": 8,
                        "userId": "U850014438e..."
                      }
                    ]
                  }
                }
              }
            ]
          }
        """


def post_raw(client, body: bytes, signature: str | None):
    headers = {} if signature is None else {"X-Line-Signature": signature}
    return client.post("/webhooks/line/", data=body, content_type="application/json", headers=headers)


def assert_nothing_stored() -> None:
    assert WebhookEvent.objects.count() == 0
    assert Contact.objects.count() == 0
    assert Message.objects.count() == 0


def test_it_signs_like_line_sdks_test_vectors():
    assert ev.sign(SDK_BODY, SDK_SECRET) == SDK_SIGNATURE
    assert ev.sign(SDK_EVENT_BODY, SDK_SECRET) == SDK_EVENT_SIGNATURE


def test_it_accepts_the_signature_from_line_sdks_test_vector(client, settings):
    settings.LINE_CHANNEL_SECRET = SDK_SECRET

    response = post_raw(client, SDK_BODY, SDK_SIGNATURE)

    # The signature passes; the body ("bodybodybodybody") is then refused as not LINE's JSON.
    assert response.status_code == 400
    assert response.json() == {"error": "Malformed webhook body."}
    assert_nothing_stored()


@pytest.mark.django_db(transaction=True)
def test_it_stores_the_signed_sample_event_from_line_sdks_tests(line, client, settings, settle):
    settings.LINE_CHANNEL_SECRET = SDK_SECRET

    response = post_raw(client, SDK_EVENT_BODY, SDK_EVENT_SIGNATURE)
    settle()

    assert response.status_code == 200
    message = Message.objects.get(line_message_id="325708")
    assert message.text == "@example Hello, world! (love)"
    assert message.conversation.contact.line_user_id == "U4af4980629..."
    assert message.payload["emojis"][0]["productId"] == "5ac1bfd5040ab15980c9b435"
    assert message.payload["mention"]["mentionees"][0]["userId"] == "U850014438e..."
    assert message.reply_token == "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"


@pytest.mark.smoke
def test_it_rejects_bad_signature(client, settings):
    settings.LINE_CHANNEL_SECRET = SDK_SECRET
    body = ev.webhook_body(ev.text_event(ev.new_user_id(), "hello"))

    response = post_raw(client, body, SDK_SIGNATURE)

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid X-Line-Signature."}
    assert_nothing_stored()


def test_it_rejects_the_sdk_vector_with_one_character_changed(client, settings):
    settings.LINE_CHANNEL_SECRET = SDK_SECRET

    response = post_raw(client, SDK_BODY, SDK_SIGNATURE.replace("/gg9", "/gg8"))

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid X-Line-Signature."}


def test_it_rejects_a_body_signed_with_another_channels_secret(client):
    body = ev.webhook_body(ev.text_event(ev.new_user_id(), "hello"))

    response = post_raw(client, body, ev.sign(body, "someone-elses-secret"))

    assert response.status_code == 400
    assert_nothing_stored()


def test_it_rejects_missing_signature(client):
    body = ev.webhook_body(ev.text_event(ev.new_user_id(), "hello"))

    response = post_raw(client, body, None)

    assert response.status_code == 400
    assert response.json() == {"error": "Missing X-Line-Signature."}
    assert_nothing_stored()


def test_it_rejects_a_body_changed_after_signing(client, settings):
    body = ev.webhook_body(ev.text_event(ev.new_user_id(), "pay 100 baht"))
    signature = ev.sign(body, settings.LINE_CHANNEL_SECRET)

    response = post_raw(client, body.replace(b"100", b"900"), signature)

    assert response.status_code == 400
    assert_nothing_stored()


@pytest.mark.parametrize(
    "body",
    # (Events that are not objects inside a well-formed body are each kept with the reason, and
    # the others processed: tests/line/test_hostile_events.py.)
    [b'{"events": [', b"[]", b'{"destination": "x"}', b'{"events": {"a": 1}}', b"\xff\xfe"],
    ids=["truncated", "a-list", "no-events", "events-not-a-list", "not-utf8"],
)
def test_it_rejects_malformed_json_even_when_correctly_signed(client, settings, body):
    response = post_raw(client, body, ev.sign(body, settings.LINE_CHANNEL_SECRET))

    assert response.status_code == 400
    assert_nothing_stored()


def test_it_refuses_a_body_over_one_mebibyte(client, settings):
    event = ev.text_event(ev.new_user_id(), "x" * (1024 * 1024))
    body = ev.webhook_body(event)
    assert len(body) > 1024 * 1024

    response = post_raw(client, body, ev.sign(body, settings.LINE_CHANNEL_SECRET))

    assert response.status_code == 413
    assert_nothing_stored()


def test_it_accepts_a_body_just_under_the_limit(client, settings):
    user = ev.new_user_id()
    event = ev.text_event(user, "hello")
    event["message"]["padding"] = ""  # LINE may add fields we do not know
    event["message"]["padding"] = "x" * (1024 * 1024 - len(ev.webhook_body(event)))
    body = ev.webhook_body(event)
    assert len(body) == 1024 * 1024

    response = post_raw(client, body, ev.sign(body, settings.LINE_CHANNEL_SECRET))

    assert response.status_code == 200
    assert (
        Message.objects.filter(
            conversation__contact__line_user_id=user, direction=Message.Direction.IN
        ).count()
        == 1
    )


def test_it_answers_lines_url_verification(client, settings):
    body = json.dumps({"destination": "Uxxxxxxxxxx", "events": []}).encode()

    response = post_raw(client, body, ev.sign(body, settings.LINE_CHANNEL_SECRET))

    assert response.status_code == 200
    assert_nothing_stored()


def test_it_allows_only_post(client):
    assert client.get("/webhooks/line/").status_code == 405
    assert client.put("/webhooks/line/").status_code == 405
