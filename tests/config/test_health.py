"""Load balancers and Prometheus can tell whether the app is alive, ready, and how busy it is."""

import pytest
from channels.layers import channel_layers

from livechat.conversations.store import append_message, start_conversation
from livechat.models import Contact, Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_it_answers_liveness_and_readiness(client):
    live = client.get("/healthz")
    ready = client.get("/readyz")

    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "channel_layer": "ok"}}


def test_it_is_not_ready_when_the_channel_layer_is_unreachable(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens on port 1
        }
    }
    channel_layers.backends = {}
    try:
        response = client.get("/readyz")
    finally:
        channel_layers.backends = {}

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["channel_layer"].startswith("error")


def test_it_exports_conversation_and_delivery_counts_for_prometheus(client):
    for n, status in enumerate(["bot", "waiting", "waiting", "closed"]):
        conversation, _ = start_conversation(Contact.objects.create(line_user_id=f"U{n:032d}"))
        Conversation.objects.filter(pk=conversation.pk).update(status=status)
    for status in ["pending", "failed", "failed", "sent"]:
        append_message(
            conversation,
            direction=Message.Direction.OUT,
            sender_kind=Message.SenderKind.OPERATOR,
            text="hi",
            status=status,
        )

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = response.content.decode().splitlines()
    assert "# TYPE livechat_conversations gauge" in lines
    assert 'livechat_conversations{status="bot"} 1.0' in lines
    assert 'livechat_conversations{status="waiting"} 2.0' in lines
    assert 'livechat_conversations{status="active"} 0.0' in lines
    assert 'livechat_conversations{status="closed"} 1.0' in lines
    assert 'livechat_outbound_messages{status="pending"} 1.0' in lines
    assert 'livechat_outbound_messages{status="failed"} 2.0' in lines


@pytest.mark.django_db
def test_metrics_in_production_need_the_token_or_an_allowed_address(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = "scrape-me"
    settings.METRICS_ALLOWED_ADDRESSES = ["10.1.2.3"]

    assert client.get("/metrics").status_code == 403  # the test client calls from 127.0.0.1
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200


@pytest.mark.django_db
def test_metrics_answer_this_machine_by_default(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = ["127.0.0.1", "::1"]

    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
