"""The console socket's protocol, frame by frame, in-process (Channels' WebsocketCommunicator)."""

import asyncio
import contextlib
import itertools
import json
from datetime import datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import AvailabilityPeriod
from livechat.conversations import queue
from livechat.conversations.store import append_message, start_conversation
from livechat.models import Contact, Conversation, ConversationEvent, Message, ReadMarker
from livechat.realtime import protocol
from livechat.simulator import events as ev
from livechat.simulator.rules import new_mark_as_read_token
from tests.conftest import post_webhook
from tests.ws import connect, operator_socket

pytestmark = pytest.mark.django_db(transaction=True)


def make_conversation(
    status: str = "waiting", holder=None, messages: int = 0, user_id: str | None = None
) -> int:
    with transaction.atomic():
        contact = Contact.objects.create(line_user_id=user_id or ev.new_user_id(), display_name="คุณลูกค้า")
        conversation, _ = start_conversation(contact)
        for i in range(messages):
            append_message(
                conversation,
                direction="in",
                sender_kind="customer",
                type="text",
                text=f"ข้อความ {i + 1}",
                status="received",
                reply_token=f"token-{i}",
                mark_as_read_token=new_mark_as_read_token(),  # as LINE hands them out
            )
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(
            status=status,
            assigned_operator=holder,
            handoff_requested_at=now,
            claimed_at=now if holder else None,
        )
    return conversation.pk


def make_user(django_user_model, username: str, role: str = "operator"):
    return django_user_model.objects.create_user(
        username=username, password="pw", display_name=username.title(), role=role
    )


# --- Authentication ------------------------------------------------------------------------------


async def test_a_logged_in_browser_is_authenticated_with_presence_right_away(operator):
    socket = await connect(operator)
    hello = await socket.expect("auth_success")
    assert hello["payload"]["operator"] == {"id": operator.pk, "name": "Somchai", "role": "operator"}
    assert "timestamp" in hello
    presence = await socket.expect("presence_update")
    assert [o["id"] for o in presence["payload"]["operators"]] == [operator.pk]
    await socket.expect("queue_update")
    await socket.close()


async def test_it_closes_an_unauthenticated_socket_with_4401():
    socket = await connect(None)
    await socket.send("ping")
    error = await socket.expect("error")
    assert error["payload"]["code"] == "unauthenticated"
    closed = await socket.expect("__closed__")
    assert closed["code"] == 4401


async def test_a_client_authenticates_with_an_api_token(operator):
    token = await sync_to_async(Token.objects.create)(user=operator)
    socket = await connect(None, origin=None)
    await socket.send("auth", {"token": token.key}, request_id="a1")
    hello = await socket.expect("auth_success")
    assert hello["request_id"] == "a1"
    assert hello["payload"]["operator"]["id"] == operator.pk
    await socket.send("ping", request_id="p1")
    assert (await socket.expect("pong"))["request_id"] == "p1"
    await socket.close()


async def test_a_wrong_token_is_refused_and_closed():
    socket = await connect(None, origin=None)
    await socket.send("auth", {"token": "not-a-token"})
    assert (await socket.expect("error"))["payload"]["code"] == "unauthenticated"
    assert (await socket.expect("__closed__"))["code"] == 4401


async def test_a_socket_that_never_authenticates_is_closed(monkeypatch):
    monkeypatch.setattr(protocol, "AUTH_TIMEOUT_SECONDS", 0.2)
    socket = await connect(None, origin=None)
    assert (await socket.expect("error"))["payload"]["code"] == "unauthenticated"
    assert (await socket.expect("__closed__"))["code"] == 4401


async def test_a_page_on_another_site_cannot_open_a_socket(operator):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    communicator = WebsocketCommunicator(
        application, "/ws/live-chat/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_logging_out_ends_every_socket_of_the_operator(operator):
    socket = await connect(operator)
    await socket.expect("auth_success")
    client = Client()
    await sync_to_async(client.force_login)(operator)
    await sync_to_async(client.post)("/accounts/logout/")
    assert (await socket.expect("error"))["payload"]["code"] == "unauthenticated"
    assert (await socket.expect("__closed__"))["code"] == 4401


async def test_deactivating_an_operator_ends_their_sockets(operator):
    socket = await operator_socket(operator)
    operator.is_active = False
    await sync_to_async(operator.save)()
    assert (await socket.expect("__closed__"))["code"] == 4401


async def test_a_password_change_ends_their_sockets(operator):
    socket = await operator_socket(operator)

    def change_password() -> None:
        operator.set_password("a-new-pass-phrase-9")
        operator.save()

    await sync_to_async(change_password)()

    error = await socket.expect("error")
    assert "password" in error["payload"]["message"]
    assert (await socket.expect("__closed__"))["code"] == 4401


async def test_losing_the_team_role_ends_their_sockets(operator):
    socket = await operator_socket(operator)
    operator.role = ""
    await sync_to_async(operator.save)()
    assert (await socket.expect("__closed__"))["code"] == 4401


async def test_an_ordinary_edit_leaves_their_sockets_open(operator):
    socket = await operator_socket(operator)
    operator.display_name = "Somchai K."
    await sync_to_async(operator.save)()
    await socket.send("ping")
    await socket.expect("pong")
    await socket.close()


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "bad_json"),
        ('["a list"]', "invalid"),
        (json.dumps({"type": "launch_rockets", "payload": {}}), "unknown_type"),
        (json.dumps({"type": "join_room", "payload": {"conversation_id": "seven"}}), "invalid"),
        (
            json.dumps({"type": "send_message", "payload": {"conversation_id": 1, "client_id": "c"}}),
            "invalid",
        ),
        (json.dumps({"type": "transfer_session", "payload": {"conversation_id": 1}}), "invalid"),
        (json.dumps({"type": "join_room", "payload": {"conversation_id": 999999}}), "not_found"),
        (json.dumps({"type": "ping", "payload": "x" * (70 * 1024)}), "too_large"),
        ('{"type": "ping", "payload": {}, "request_id": "\\ud800"}', "invalid"),  # half a surrogate pair
        ('{"type": "join_room", "payload": {"conversation_id": 1, "x": "a\\udfffb"}}', "invalid"),
    ],
)
async def test_bad_frames_get_a_precise_error_and_the_socket_stays_open(operator, raw, code):
    socket = await operator_socket(operator)
    await socket.send_raw(raw)
    error = await socket.expect("error")
    assert error["payload"]["code"] == code
    assert "Traceback" not in error["payload"]["message"]
    await socket.send("ping")
    await socket.expect("pong")
    await socket.close()


async def test_errors_echo_the_request_id(operator):
    socket = await operator_socket(operator)
    await socket.send_raw(json.dumps({"type": "nope", "payload": {}, "request_id": "r-42"}))
    error = await socket.expect("error")
    assert error["request_id"] == "r-42"
    assert error["payload"]["request_id"] == "r-42"
    await socket.close()


async def test_more_than_20_frames_a_second_are_refused_but_the_socket_stays(operator):
    socket = await operator_socket(operator)
    for _ in range(30):
        await socket.send("ping")
    frames = [await socket.receive() for _ in range(30)]
    kinds = [f["type"] if f["type"] != "error" else f["payload"]["code"] for f in frames]
    assert kinds.count("rate_limited") >= 5
    assert kinds.count("pong") <= 21
    await asyncio.sleep(1.1)
    await socket.send("ping")
    await socket.expect("pong")
    await socket.close()


async def test_flooding_closes_the_socket_with_4429(operator, caplog):
    socket = await operator_socket(operator)
    with caplog.at_level("INFO", logger="livechat"):
        for _ in range(protocol.ABUSE_FRAMES_PER_SECOND * 3):  # and keeps flooding after the close
            await socket.send("ping")
        assert (await socket.expect("__closed__", timeout=5))["code"] == 4429
    flood_logs = [r for r in caplog.records if r.name.startswith("livechat")]
    assert [r.levelname for r in flood_logs] == ["INFO"]  # one line, no ERROR or traceback
    assert "closed for flooding" in flood_logs[0].getMessage()


# --- Rooms, messages, resync ---------------------------------------------------------------------


async def test_joining_a_room_returns_the_latest_50_messages_then_streams_new_ones(operator, client):
    user_id = ev.new_user_id()
    conversation_id = await sync_to_async(make_conversation)("active", operator, messages=60, user_id=user_id)
    socket = await operator_socket(operator)
    await socket.send("join_room", {"conversation_id": conversation_id}, request_id="j")
    snapshot = await socket.expect("conversation_update")
    assert snapshot["request_id"] == "j"
    assert [m["seq"] for m in snapshot["payload"]["messages"]] == list(range(11, 61))
    assert snapshot["payload"]["conversation"]["status"] == "active"

    response = await sync_to_async(post_webhook)(client, ev.text_event(user_id, "ยังอยู่ไหมคะ"))
    assert response.status_code == 200
    new = await socket.expect("new_message")
    assert new["payload"]["message"]["seq"] == 61
    assert new["payload"]["message"]["text"] == "ยังอยู่ไหมคะ"
    await socket.close()


async def test_every_operator_hears_about_a_new_customer_message(operator, client):
    user_id = ev.new_user_id()
    await sync_to_async(make_conversation)("waiting", None, user_id=user_id)
    socket = await operator_socket(operator)
    await sync_to_async(post_webhook)(client, ev.text_event(user_id, "สวัสดี"))
    update = await socket.expect("conversation_update")
    assert update["payload"]["messages"][0]["text"] == "สวัสดี"
    await socket.close()


async def test_sync_after_a_disconnect_returns_exactly_the_missed_messages(operator, client):
    user_id = ev.new_user_id()
    conversation_id = await sync_to_async(make_conversation)("active", operator, messages=3, user_id=user_id)
    socket = await operator_socket(operator)
    await socket.send("join_room", {"conversation_id": conversation_id})
    last_seen = (await socket.expect("conversation_update"))["payload"]["messages"][-1]["seq"]
    await socket.close()

    for i in range(10):
        await sync_to_async(post_webhook)(client, ev.text_event(user_id, f"missed {i}"))

    socket = await operator_socket(operator)
    await socket.send("sync", {"conversation_id": conversation_id, "after_seq": last_seen}, request_id="s")
    page = await socket.expect("conversation_update")
    assert page["request_id"] == "s"
    assert [m["text"] for m in page["payload"]["messages"]] == [f"missed {i}" for i in range(10)]
    assert [m["seq"] for m in page["payload"]["messages"]] == list(range(4, 14))
    assert page["payload"]["has_more"] is False
    await socket.close()


async def test_the_rest_fallback_returns_the_same_messages_after_a_seq(operator):
    conversation_id = await sync_to_async(make_conversation)("active", operator, messages=12)
    client = Client()
    await sync_to_async(client.force_login)(operator)
    response = await sync_to_async(client.get)(
        f"/api/v1/conversations/{conversation_id}/messages?after_seq=9"
    )
    assert response.status_code == 200
    assert [m["seq"] for m in response.json()["messages"]] == [10, 11, 12]
    anonymous = await sync_to_async(Client().get)(
        f"/api/v1/conversations/{conversation_id}/messages?after_seq=9"
    )
    assert anonymous.status_code in (401, 403)


# --- Sending -------------------------------------------------------------------------------------


async def test_the_holder_sends_and_gets_an_ack_then_the_delivery_status(operator, line):
    user_id = ev.new_user_id()
    conversation_id = await sync_to_async(make_conversation)("active", operator, user_id=user_id)
    socket = await operator_socket(operator)
    await socket.send("join_room", {"conversation_id": conversation_id})
    await socket.expect("conversation_update")
    await socket.send(
        "send_message", {"conversation_id": conversation_id, "text": "สวัสดีค่ะ", "client_id": "c-1"}
    )
    ack = await socket.expect("message_sent")
    assert ack["payload"]["client_id"] == "c-1"
    assert ack["payload"]["message"]["status"] == "pending"
    message_id = ack["payload"]["message"]["id"]
    status = await socket.expect("message_status", timeout=10, message_id=message_id)
    assert status["payload"]["status"] == "sent"
    assert "สวัสดีค่ะ" in await sync_to_async(line.sent_texts)(user_id)

    await socket.send(
        "send_message", {"conversation_id": conversation_id, "text": "สวัสดีค่ะ", "client_id": "c-1"}
    )
    again = await socket.expect("message_sent")
    assert again["payload"]["message"]["id"] == message_id
    assert await sync_to_async(Message.objects.filter(client_id="c-1").count)() == 1
    conversation = await sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert conversation.first_response_at is not None
    await socket.close()


async def test_an_operator_cannot_send_in_a_conversation_they_do_not_hold(operator, django_user_model):
    other = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("active", other)
    socket = await operator_socket(operator)
    await socket.send("send_message", {"conversation_id": conversation_id, "text": "hi", "client_id": "x"})
    assert (await socket.expect("error"))["payload"]["code"] == "forbidden"
    assert await sync_to_async(Message.objects.filter(conversation_id=conversation_id).count)() == 0
    await socket.send("ping")
    await socket.expect("pong")
    await socket.close()


async def test_a_supervisor_may_send_anywhere(supervisor, django_user_model, line):
    other = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("active", other)
    socket = await operator_socket(supervisor)
    await socket.send(
        "send_message",
        {
            "conversation_id": conversation_id,
            "sticker": {"package_id": "446", "sticker_id": "1988"},
            "client_id": "s-1",
        },
    )
    ack = await socket.expect("message_sent")
    assert ack["payload"]["message"]["type"] == "sticker"
    await socket.close()


async def test_sending_to_a_customer_who_unfollowed_is_refused(operator):
    conversation_id = await sync_to_async(make_conversation)("active", operator)
    await sync_to_async(Contact.objects.filter(conversations__id=conversation_id).update)(is_following=False)
    socket = await operator_socket(operator)
    await socket.send("send_message", {"conversation_id": conversation_id, "text": "hi", "client_id": "u"})
    assert (await socket.expect("error"))["payload"]["code"] == "invalid_state"
    await socket.close()


# --- Claim, close, transfer ----------------------------------------------------------------------


async def test_of_two_simultaneous_claims_exactly_one_wins(operator, django_user_model):
    other = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("waiting")
    a, b = await operator_socket(operator), await operator_socket(other)
    await asyncio.gather(
        a.send("claim_session", {"conversation_id": conversation_id}),
        b.send("claim_session", {"conversation_id": conversation_id}),
    )
    claimed_a = await a.expect("session_claimed")
    claimed_b = await b.expect("session_claimed")
    assert claimed_a["payload"]["conversation"]["id"] == conversation_id
    winner = claimed_a["payload"]["operator"]["id"]
    assert claimed_b["payload"]["operator"]["id"] == winner
    loser = b if winner == operator.pk else a
    assert (await loser.expect("error"))["payload"]["code"] == "already_claimed"
    conversation = await sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert conversation.status == "active" and conversation.assigned_operator_id == winner
    events = await sync_to_async(
        lambda: list(ConversationEvent.objects.filter(conversation_id=conversation_id, kind="claimed"))
    )()
    assert len(events) == 1
    await a.close()
    await b.close()


async def test_claiming_updates_everyones_queue(operator, django_user_model):
    watcher = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("waiting")
    w = await operator_socket(watcher)
    initial = await w.expect("queue_update")
    assert [q["conversation_id"] for q in initial["payload"]["waiting"]] == [conversation_id]
    assert initial["payload"]["waiting"][0]["position"] == 1
    socket = await operator_socket(operator)
    await socket.send("claim_session", {"conversation_id": conversation_id})
    update = await w.expect("queue_update", where=lambda p: not p["waiting"])
    assert update["payload"]["waiting"] == []
    await socket.close()
    await w.close()


async def test_a_rush_of_handoffs_is_coalesced_into_few_queue_updates_that_miss_nobody(operator, line):
    socket = await operator_socket(operator)
    await socket.expect("queue_update")  # the snapshot every socket gets on connecting
    client = Client()
    users = [ev.new_user_id() for _ in range(6)]
    for user_id in users:  # six customers ask for a human within a fraction of a second
        await sync_to_async(post_webhook)(client, ev.text_event(user_id, "agent"))

    final = await socket.expect("queue_update", where=lambda p: len(p["waiting"]) == 6)
    with contextlib.suppress(AssertionError):  # anything still on its way (none may be)
        await socket.expect("queue_update", timeout=queue.QUEUE_UPDATE_INTERVAL * 3)

    assert [q["position"] for q in final["payload"]["waiting"]] == [1, 2, 3, 4, 5, 6]
    updates = [f for f in socket.seen if f["type"] == "queue_update"][1:]
    sizes = [len(f["payload"]["waiting"]) for f in updates]
    assert sizes[sizes.index(6) :] == [6] * (len(sizes) - sizes.index(6))  # nothing older after it
    # Not one per handoff: at most one per interval, however long the rush took on this host.
    sent_at = [datetime.fromisoformat(f["timestamp"]) for f in updates]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(sent_at)]
    assert all(gap >= queue.QUEUE_UPDATE_INTERVAL * 0.8 for gap in gaps), (sizes, gaps)
    await socket.close()


async def test_the_holder_closes_with_a_reason(operator):
    conversation_id = await sync_to_async(make_conversation)("active", operator)
    socket = await operator_socket(operator)
    await socket.send("close_session", {"conversation_id": conversation_id, "reason": "resolved"})
    closed = await socket.expect("session_closed")
    assert closed["payload"]["reason"] == "resolved"
    assert closed["payload"]["conversation"]["status"] == "closed"
    event = await sync_to_async(ConversationEvent.objects.get)(conversation_id=conversation_id, kind="closed")
    assert (event.actor_id, event.from_status, event.to_status) == (operator.pk, "active", "closed")
    await socket.close()


async def test_only_the_holder_or_a_supervisor_may_close_an_active_conversation(
    operator, django_user_model, supervisor
):
    other = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("active", other)
    socket = await operator_socket(operator)
    await socket.send("close_session", {"conversation_id": conversation_id})
    assert (await socket.expect("error"))["payload"]["code"] == "forbidden"
    boss = await operator_socket(supervisor)
    await boss.send("close_session", {"conversation_id": conversation_id})
    await boss.expect("session_closed")
    await socket.close()
    await boss.close()


async def test_transfer_to_another_operator_with_a_note_reaches_them(operator, django_user_model):
    other = await sync_to_async(make_user)(django_user_model, "nok")
    conversation_id = await sync_to_async(make_conversation)("active", operator)
    theirs = await operator_socket(other)
    socket = await operator_socket(operator)
    await socket.send(
        "transfer_session", {"conversation_id": conversation_id, "to_operator_id": other.pk, "note": "VIP"}
    )
    moved = await theirs.expect("session_transferred")
    assert moved["payload"]["to_operator"]["id"] == other.pk
    assert moved["payload"]["note"] == "VIP"
    conversation = await sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert conversation.assigned_operator_id == other.pk
    event = await sync_to_async(ConversationEvent.objects.get)(
        conversation_id=conversation_id, kind="transferred"
    )
    assert (event.from_operator_id, event.to_operator_id, event.note) == (operator.pk, other.pk, "VIP")
    await socket.close()
    await theirs.close()


async def test_transfer_back_to_the_queue(operator):
    conversation_id = await sync_to_async(make_conversation)("active", operator)
    socket = await operator_socket(operator)
    await socket.send("transfer_session", {"conversation_id": conversation_id, "to_queue": True})
    moved = await socket.expect("session_transferred")
    assert moved["payload"]["to_queue"] is True
    queue = await socket.expect("queue_update", where=lambda p: bool(p["waiting"]))
    assert [q["conversation_id"] for q in queue["payload"]["waiting"]] == [conversation_id]
    await socket.close()


# --- Typing, read, presence ----------------------------------------------------------------------


async def test_typing_reaches_others_in_the_room_expires_and_shows_loading_to_the_customer(
    operator, supervisor, line, monkeypatch
):
    monkeypatch.setattr(protocol, "TYPING_EXPIRES_SECONDS", 0.3)
    user_id = ev.new_user_id()
    conversation_id = await sync_to_async(make_conversation)("active", operator, user_id=user_id)
    typist, watcher = await operator_socket(operator), await operator_socket(supervisor)
    for s in (typist, watcher):
        await s.send("join_room", {"conversation_id": conversation_id})
        await s.expect("conversation_update")
    await typist.send("typing_start", {"conversation_id": conversation_id})
    await typist.send("typing_start", {"conversation_id": conversation_id})
    started = await watcher.expect("typing")
    assert started["payload"] == {
        "conversation_id": conversation_id,
        "operator": started["payload"]["operator"],
        "is_typing": True,
    }
    assert started["payload"]["operator"]["id"] == operator.pk
    stopped = await watcher.expect("typing", timeout=2)
    assert stopped["payload"]["is_typing"] is False
    await typist.nothing_of("typing", within=0.3)

    await asyncio.sleep(0.5)
    from livechat.jobs import background

    await sync_to_async(background.wait_until_idle)()
    loading = await sync_to_async(line.calls)(endpoint="loading")
    assert len(loading) == 1
    assert loading[0]["body"]["chatId"] == user_id
    await typist.close()
    await watcher.close()


async def test_mark_read_records_progress_and_tells_line_once(operator, line):
    conversation_id = await sync_to_async(make_conversation)("active", operator, messages=4)
    socket = await operator_socket(operator)
    await socket.send("mark_read", {"conversation_id": conversation_id, "seq": 3})
    await socket.send("mark_read", {"conversation_id": conversation_id, "seq": 3})
    await socket.send("ping")
    await socket.expect("pong")
    from livechat.jobs import background

    await sync_to_async(background.wait_until_idle)()
    marker = await sync_to_async(ReadMarker.objects.get)(conversation_id=conversation_id, operator=operator)
    assert marker.last_read_seq == 3
    calls = await sync_to_async(line.calls)(endpoint="mark_as_read")
    third = await sync_to_async(Message.objects.get)(conversation_id=conversation_id, seq=3)
    assert [(c["body"]["markAsReadToken"], c["status"]) for c in calls] == [(third.mark_as_read_token, 200)]
    await socket.close()


async def test_a_read_receipt_line_did_not_take_is_sent_again_on_the_next_read(operator, line):
    conversation_id = await sync_to_async(make_conversation)("active", operator, messages=4)
    socket = await operator_socket(operator)
    await sync_to_async(line.fail)(503, endpoint="mark_as_read")
    from livechat.jobs import background

    await socket.send("mark_read", {"conversation_id": conversation_id, "seq": 3})
    await socket.send("ping")
    await socket.expect("pong")
    await sync_to_async(background.wait_until_idle)()
    await socket.send("mark_read", {"conversation_id": conversation_id, "seq": 3})
    await socket.send("ping")
    await socket.expect("pong")
    await sync_to_async(background.wait_until_idle)()

    calls = await sync_to_async(line.calls)(endpoint="mark_as_read")
    third = await sync_to_async(Message.objects.get)(conversation_id=conversation_id, seq=3)
    token = third.mark_as_read_token
    assert [(c["status"], c["body"]["markAsReadToken"]) for c in calls] == [(503, token), (200, token)]
    await socket.close()


async def test_a_colleague_who_does_not_hold_it_neither_shows_loading_nor_marks_read_on_line(
    operator, django_user_model, line
):
    """A colleague drafting or reading from the queue has not answered the customer: LINE must
    not show them "…" or "read"."""
    colleague = await sync_to_async(django_user_model.objects.create_user)(
        username="nok", password="pw-nok-1", display_name="Nok", role="operator"
    )
    conversation_id = await sync_to_async(make_conversation)("active", operator, messages=4)
    socket = await operator_socket(colleague)
    await socket.send("join_room", {"conversation_id": conversation_id})
    await socket.expect("conversation_update")

    await socket.send("typing_start", {"conversation_id": conversation_id})
    await socket.send("mark_read", {"conversation_id": conversation_id, "seq": 3})
    await socket.send("ping")
    await socket.expect("pong")
    from livechat.jobs import background

    await sync_to_async(background.wait_until_idle)()
    assert await sync_to_async(line.calls)(endpoint="loading") == []
    assert await sync_to_async(line.calls)(endpoint="mark_as_read") == []
    marker = await sync_to_async(ReadMarker.objects.get)(conversation_id=conversation_id, operator=colleague)
    assert marker.last_read_seq == 3  # their own unread count still moves on
    await socket.close()


async def test_presence_counts_an_operator_once_across_tabs_and_tracks_away(operator, supervisor):
    tab1, tab2 = await operator_socket(operator), await operator_socket(operator)
    watcher = await operator_socket(supervisor)
    await tab1.send("set_status", {"status": "away"})
    update = await watcher.expect(
        "presence_update", where=lambda p: any(o["status"] == "away" for o in p["operators"])
    )
    statuses = {o["id"]: o["status"] for o in update["payload"]["operators"]}
    assert statuses == {operator.pk: "away", supervisor.pk: "online"}
    await tab1.close()
    await tab2.send("ping")
    await tab2.expect("pong")
    await tab2.close()
    gone = await watcher.expect(
        "presence_update", where=lambda p: [o["id"] for o in p["operators"]] == [supervisor.pk]
    )
    assert [o["id"] for o in gone["payload"]["operators"]] == [supervisor.pk]
    periods = await sync_to_async(
        lambda: list(AvailabilityPeriod.objects.filter(operator=operator).order_by("id"))
    )()
    assert [p.status for p in periods] == ["online", "away"]
    assert all(p.ended_at is not None for p in periods)
    await watcher.close()
