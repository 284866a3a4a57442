"""Every transition of a conversation and every refusal, called directly on the actions.

What each action must leave behind: the conversation's row, one ConversationEvent naming who
acted, and — after commit, never before — the frames operators' consoles rely on.
"""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from django.utils import timezone, translation

from livechat.conversations import actions
from livechat.conversations.actions import BOT, CUSTOMER, SYSTEM, ActionRefused, Actor
from livechat.conversations.store import start_conversation
from livechat.models import Contact, Conversation, ConversationEvent, Message
from livechat.realtime import groups
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db

Status = Conversation.Status
Kind = ConversationEvent.Kind


@pytest.fixture(autouse=True)
def in_memory_layer(settings: Any) -> None:
    """Frames are read back from the channel layer of this process."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class Listener:
    """A socket's place in the channel layer: what a console in these groups would receive."""

    def __init__(self, *group_names: str) -> None:
        from channels.layers import get_channel_layer

        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        for group in group_names:
            async_to_sync(self.layer.group_add)(group, self.channel)

    def frames(self) -> list[dict[str, Any]]:
        """Everything published to its groups so far (call once: it waits for the layer to be quiet)."""

        async def drain() -> list[dict[str, Any]]:
            received: list[dict[str, Any]] = []
            while True:
                try:
                    event = await asyncio.wait_for(self.layer.receive(self.channel), 0.2)
                except TimeoutError:
                    return received
                received.append(json.loads(event["text"]))

        return async_to_sync(drain)()


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield Listener(groups.OPERATORS)


def conversation_in(status: str, holder: Any = None) -> Conversation:
    with transaction.atomic():
        contact = Contact.objects.create(line_user_id=ev.new_user_id(), display_name="Nok")
        conversation, _ = start_conversation(contact)
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(
            status=status,
            assigned_operator=holder,
            handoff_requested_at=now if status != Status.BOT else None,
            claimed_at=now if holder else None,
            closed_at=now if status == Status.CLOSED else None,
        )
    return Conversation.objects.select_related("contact", "assigned_operator").get(pk=conversation.pk)


def last_event(conversation: Conversation) -> ConversationEvent:
    return ConversationEvent.objects.filter(conversation=conversation).latest("id")


def run_on_commit(capture: Any, action: Any, *args: Any, **kwargs: Any) -> Any:
    with capture(execute=True):
        return action(*args, **kwargs)


# --- claim ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.WAITING, Status.BOT])
def test_claim_makes_it_active_and_theirs_and_says_who(
    status, operator, listener, django_capture_on_commit_callbacks
):
    conversation = conversation_in(status)

    claimed = run_on_commit(
        django_capture_on_commit_callbacks, actions.claim, conversation.pk, Actor.staff(operator)
    )

    assert (claimed.status, claimed.assigned_operator_id) == (Status.ACTIVE, operator.pk)
    assert claimed.claimed_at is not None and claimed.handoff_requested_at is not None
    event = last_event(conversation)
    assert (event.kind, event.actor_kind, event.actor_id) == (Kind.CLAIMED, "operator", operator.pk)
    assert (event.from_status, event.to_status, event.to_operator_id) == (status, Status.ACTIVE, operator.pk)
    [frame] = [f for f in listener.frames() if f["type"] == "session_claimed"]
    assert frame["payload"]["operator"]["id"] == operator.pk
    assert frame["payload"]["conversation"]["status"] == "active"


def test_claiming_a_claimed_conversation_is_refused_and_names_the_holder(operator, supervisor):
    conversation = conversation_in(Status.ACTIVE, holder=supervisor)

    with pytest.raises(ActionRefused) as refused:
        actions.claim(conversation.pk, Actor.staff(operator))

    assert refused.value.code == "already_claimed"
    assert "Malee" in refused.value.message
    assert Conversation.objects.get(pk=conversation.pk).assigned_operator_id == supervisor.pk


def test_claiming_a_closed_or_missing_conversation_is_refused(operator):
    closed = conversation_in(Status.CLOSED)

    with pytest.raises(ActionRefused) as refused:
        actions.claim(closed.pk, Actor.staff(operator))
    assert refused.value.code == "invalid_state"
    with pytest.raises(ActionRefused) as missing:
        actions.claim(999_999, Actor.staff(operator))
    assert missing.value.code == "not_found"


def test_the_system_cannot_claim_for_nobody():
    conversation = conversation_in(Status.WAITING)

    with pytest.raises(ActionRefused) as refused:
        actions.claim(conversation.pk, SYSTEM)

    assert refused.value.code == "forbidden"
    assert Conversation.objects.get(pk=conversation.pk).status == Status.WAITING


def test_a_supervisor_claiming_is_recorded_as_a_supervisor(supervisor):
    conversation = conversation_in(Status.WAITING)

    actions.claim(conversation.pk, Actor.staff(supervisor))

    assert last_event(conversation).actor_kind == "supervisor"


# --- close ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.BOT, Status.WAITING])
def test_anyone_may_close_a_conversation_nobody_holds(
    status, operator, listener, django_capture_on_commit_callbacks
):
    conversation = conversation_in(status)

    closed = run_on_commit(
        django_capture_on_commit_callbacks, actions.close, conversation.pk, Actor.staff(operator), "spam"
    )

    assert (closed.status, closed.close_reason) == (Status.CLOSED, "spam")
    assert closed.closed_at is not None
    event = last_event(conversation)
    assert (event.kind, event.from_status, event.to_status, event.note) == (
        Kind.CLOSED,
        status,
        "closed",
        "spam",
    )
    [frame] = [f for f in listener.frames() if f["type"] == "session_closed"]
    assert frame["payload"]["reason"] == "spam"


def test_only_the_holder_or_a_supervisor_closes_an_active_conversation(
    operator, supervisor, django_user_model
):
    other = django_user_model.objects.create_user(username="other", password="pw", role="operator")
    conversation = conversation_in(Status.ACTIVE, holder=operator)

    with pytest.raises(ActionRefused) as refused:
        actions.close(conversation.pk, Actor.staff(other))
    assert refused.value.code == "forbidden"
    assert Conversation.objects.get(pk=conversation.pk).status == Status.ACTIVE

    actions.close(conversation.pk, Actor.staff(supervisor))
    event = last_event(conversation)
    assert (event.actor_id, event.from_operator_id) == (supervisor.pk, operator.pk)


def test_the_system_may_close_an_active_conversation(operator):
    conversation = conversation_in(Status.ACTIVE, holder=operator)

    actions.close(conversation.pk, SYSTEM, "inactivity")

    event = last_event(conversation)
    assert (event.actor_kind, event.actor_id, event.note) == ("system", None, "inactivity")


def test_closing_twice_is_refused_and_records_nothing(operator):
    conversation = conversation_in(Status.WAITING)
    actions.close(conversation.pk, Actor.staff(operator))
    events = ConversationEvent.objects.count()

    with pytest.raises(ActionRefused) as refused:
        actions.close(conversation.pk, Actor.staff(operator))

    assert refused.value.code == "invalid_state"
    assert ConversationEvent.objects.count() == events


# --- transfer -------------------------------------------------------------------------------------


def test_transfer_to_a_colleague_moves_it_and_says_from_whom_to_whom(
    operator, supervisor, listener, django_capture_on_commit_callbacks
):
    conversation = conversation_in(Status.ACTIVE, holder=operator)

    moved = run_on_commit(
        django_capture_on_commit_callbacks,
        actions.transfer,
        conversation.pk,
        Actor.staff(operator),
        to_operator_id=supervisor.pk,
        note="VIP",
    )

    assert (moved.status, moved.assigned_operator_id) == (Status.ACTIVE, supervisor.pk)
    event = last_event(conversation)
    assert (event.kind, event.from_operator_id, event.to_operator_id, event.note) == (
        Kind.TRANSFERRED,
        operator.pk,
        supervisor.pk,
        "VIP",
    )
    [frame] = [f for f in listener.frames() if f["type"] == "session_transferred"]
    assert frame["payload"]["from_operator"]["id"] == operator.pk
    assert frame["payload"]["to_operator"]["id"] == supervisor.pk
    assert frame["payload"]["by"]["id"] == operator.pk


def test_transfer_back_to_the_queue_makes_it_wait_for_anyone(operator):
    conversation = conversation_in(Status.ACTIVE, holder=operator)

    moved = actions.transfer(conversation.pk, Actor.staff(operator), to_queue=True)

    assert (moved.status, moved.assigned_operator_id) == (Status.WAITING, None)
    event = last_event(conversation)
    assert (event.kind, event.from_status, event.to_status) == (Kind.RETURNED, "active", "waiting")


def test_transfer_refusals(operator, supervisor, django_user_model):
    inactive = django_user_model.objects.create_user(username="gone", password="pw", is_active=False)
    active = conversation_in(Status.ACTIVE, holder=operator)
    waiting = conversation_in(Status.WAITING)
    cases = [
        (waiting.pk, Actor.staff(operator), {"to_queue": True}, "invalid_state"),
        (
            active.pk,
            Actor.staff(supervisor),
            {"to_operator_id": operator.pk},
            "invalid_state",
        ),  # already theirs
        (active.pk, Actor.staff(operator), {"to_operator_id": inactive.pk}, "not_found"),
        (active.pk, Actor.staff(operator), {"to_operator_id": 999_999}, "not_found"),
    ]
    other = django_user_model.objects.create_user(username="other", password="pw", role="operator")
    cases.append((active.pk, Actor.staff(other), {"to_queue": True}, "forbidden"))

    for conversation_id, actor, kwargs, code in cases:
        with pytest.raises(ActionRefused) as refused:
            actions.transfer(conversation_id, actor, **kwargs)
        assert refused.value.code == code, (kwargs, refused.value.message)
    assert Conversation.objects.get(pk=active.pk).assigned_operator_id == operator.pk


# --- handoff, the customer and the bot ------------------------------------------------------------


def test_a_handoff_puts_the_customer_in_the_queue_once(django_capture_on_commit_callbacks):
    conversation = conversation_in(Status.BOT)

    assert actions.request_handoff(conversation, actor=CUSTOMER) is True
    assert actions.request_handoff(conversation, actor=CUSTOMER) is False

    conversation.refresh_from_db()
    assert conversation.status == Status.WAITING
    events = list(ConversationEvent.objects.filter(conversation=conversation, kind=Kind.HANDOFF))
    assert [(e.actor_kind, e.from_status, e.to_status) for e in events] == [("customer", "bot", "waiting")]
    told = Message.objects.get(conversation=conversation, sender_kind=Message.SenderKind.BOT)
    assert "1" in told.text  # their place in the queue


def test_the_bot_reply_is_stored_pending_as_the_bot():
    conversation = conversation_in(Status.BOT)

    with transaction.atomic():
        message = actions.bot_reply(conversation, "เปิด 9 โมงค่ะ", reply_token="token-1")

    assert (message.sender_kind, message.status, message.reply_token) == ("bot", "pending", "token-1")
    assert (message.seq, message.text) == (1, "เปิด 9 โมงค่ะ")


def test_unfollow_and_follow_switch_sending_off_and_on(operator):
    conversation = conversation_in(Status.ACTIVE, holder=operator)
    user_id = conversation.contact.line_user_id

    actions.unfollow(user_id)
    with translation.override("en"), pytest.raises(ActionRefused, match="unfollowed"):
        actions.send_operator_message(conversation.pk, Actor.staff(operator), client_id="c1", text="hi")

    actions.follow(user_id, reply_token="")
    message, created = actions.send_operator_message(
        conversation.pk, Actor.staff(operator), client_id="c1", text="hi"
    )
    assert created and message.text == "hi"


def test_unsend_hides_the_message_once(operator):
    conversation = conversation_in(Status.ACTIVE, holder=operator)
    with transaction.atomic():
        from livechat.conversations.store import append_message

        append_message(
            conversation,
            direction="in",
            sender_kind="customer",
            status="received",
            text="oops",
            line_message_id="m-1",
        )

    assert actions.unsend("m-1") is not None
    assert actions.unsend("m-1") is None  # already hidden
    assert actions.unsend("no-such-message") is None
    assert Message.objects.get(line_message_id="m-1").is_unsent


# --- sending, retrying, reading --------------------------------------------------------------------


def test_sending_needs_the_holder_or_a_supervisor_and_an_open_conversation(
    operator, supervisor, django_user_model
):
    other = django_user_model.objects.create_user(username="other", password="pw", role="operator")
    active = conversation_in(Status.ACTIVE, holder=operator)
    closed = conversation_in(Status.CLOSED, holder=operator)

    with pytest.raises(ActionRefused) as forbidden:
        actions.send_operator_message(active.pk, Actor.staff(other), client_id="a", text="hi")
    with pytest.raises(ActionRefused) as shut:
        actions.send_operator_message(closed.pk, Actor.staff(operator), client_id="b", text="hi")
    with pytest.raises(ActionRefused) as empty:
        actions.send_operator_message(active.pk, Actor.staff(operator), client_id="c", text="   ")
    with pytest.raises(ActionRefused) as no_canned:
        actions.send_operator_message(active.pk, Actor.staff(operator), client_id="d", canned_id=999)

    assert [e.value.code for e in (forbidden, shut, empty, no_canned)] == [
        "forbidden",
        "invalid_state",
        "invalid",
        "not_found",
    ]
    _, created = actions.send_operator_message(active.pk, Actor.staff(supervisor), client_id="e", text="ok")
    assert created
    assert Message.objects.filter(conversation=active).count() == 1


def test_the_first_operator_message_sets_the_first_response_time_once(operator):
    conversation = conversation_in(Status.ACTIVE, holder=operator)

    actions.send_operator_message(conversation.pk, Actor.staff(operator), client_id="1", text="สวัสดีค่ะ")
    first = Conversation.objects.get(pk=conversation.pk).first_response_at
    actions.send_operator_message(conversation.pk, Actor.staff(operator), client_id="2", text="ยินดีค่ะ")

    assert first is not None
    assert Conversation.objects.get(pk=conversation.pk).first_response_at == first


def test_only_a_failed_outbound_message_can_be_retried(operator, django_user_model):
    conversation = conversation_in(Status.ACTIVE, holder=operator)
    message, _ = actions.send_operator_message(
        conversation.pk, Actor.staff(operator), client_id="1", text="x"
    )

    with pytest.raises(ActionRefused) as pending:
        actions.retry_message(message.pk, Actor.staff(operator))
    Message.objects.filter(pk=message.pk).update(status=Message.Status.FAILED, error="LINE 500")
    other = django_user_model.objects.create_user(username="other", password="pw", role="operator")
    with pytest.raises(ActionRefused) as forbidden:
        actions.retry_message(message.pk, Actor.staff(other))
    with pytest.raises(ActionRefused) as missing:
        actions.retry_message(999_999, Actor.staff(operator))

    assert [e.value.code for e in (pending, forbidden, missing)] == [
        "invalid_state",
        "forbidden",
        "not_found",
    ]
    retried = actions.retry_message(message.pk, Actor.staff(operator))
    assert (retried.status, retried.error, retried.attempts) == ("pending", "", 0)


def test_mark_read_moves_forward_only_and_spends_each_token_once(operator):
    conversation = conversation_in(Status.ACTIVE, holder=operator)
    with transaction.atomic():
        from livechat.conversations.store import append_message

        for seq in (1, 2):
            append_message(
                conversation,
                direction="in",
                sender_kind="customer",
                status="received",
                text=f"m{seq}",
                mark_as_read_token=f"read-{seq}",
            )

    assert actions.mark_read(conversation.pk, Actor.staff(operator), 2) == ["read-2"]
    assert actions.mark_read(conversation.pk, Actor.staff(operator), 2) == []
    assert actions.mark_read(conversation.pk, Actor.staff(operator), 1) == []
    with pytest.raises(ActionRefused) as missing:
        actions.mark_read(999_999, Actor.staff(operator), 1)
    assert missing.value.code == "not_found"


def test_nothing_is_published_for_a_change_that_rolled_back(
    operator, listener, django_capture_on_commit_callbacks
):
    conversation = conversation_in(Status.WAITING)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            actions.claim(conversation.pk, Actor.staff(operator))
            raise RuntimeError("the request failed after the claim")

    assert Conversation.objects.get(pk=conversation.pk).status == Status.WAITING
    assert [f["type"] for f in listener.frames()] == []


def test_bot_and_system_actors_carry_no_user():
    assert (BOT.kind, BOT.user, SYSTEM.kind, CUSTOMER.kind) == ("bot", None, "system", "customer")
