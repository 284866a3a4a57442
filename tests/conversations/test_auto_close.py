"""Auto-close (PRODUCT §5a): a chat nobody writes in is closed by the system for "inactivity" —
on the minute, once, after an optional warning to the customer — and the customer's next
message starts a fresh conversation.

Conversations are made at a fixed moment (time-machine) and each pass is told what time it is.
"""

import asyncio
import json
import threading
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.db import connection, connections, transaction

from livechat.conversations import inactivity
from livechat.conversations.store import append_message
from livechat.models import BusinessHours, Conversation, ConversationEvent, Message, ServiceSettings
from livechat.realtime import groups
from livechat.simulator import events as ev
from tests import factories

pytestmark = pytest.mark.django_db

Status = Conversation.Status
BANGKOK = ZoneInfo("Asia/Bangkok")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=BANGKOK)  # a Monday morning


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def quiet(status: str = Status.WAITING, *, at: datetime = T0, **extra: Any) -> Conversation:
    """A conversation whose last message (and handoff, and claim) was at `at`."""
    with time_machine.travel(at, tick=False):
        return factories.open_conversation("Nok", status, **extra)


def configure(**fields: Any) -> None:
    row, _ = ServiceSettings.objects.get_or_create(pk=1)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()  # every process reloads it (livechat.policies.service)


def customer_writes(conversation: Conversation, at: datetime, text: str = "ยังอยู่ไหมคะ") -> None:
    with time_machine.travel(at, tick=False), transaction.atomic():
        append_message(
            conversation,
            direction=Message.Direction.IN,
            sender_kind=Message.SenderKind.CUSTOMER,
            type=Message.Type.TEXT,
            text=text,
            status=Message.Status.RECEIVED,
        )


def status_of(conversation: Conversation) -> str:
    return Conversation.objects.get(pk=conversation.pk).status


def closes(conversation: Conversation) -> list[ConversationEvent]:
    return list(
        ConversationEvent.objects.filter(conversation=conversation, kind=ConversationEvent.Kind.CLOSED)
    )


def warnings_to(conversation: Conversation) -> list[Message]:
    return list(
        conversation.messages.filter(direction=Message.Direction.OUT, sender_kind=Message.SenderKind.BOT)
    )


# --- The close ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.WAITING, Status.ACTIVE])
def test_a_chat_quiet_for_thirty_minutes_is_closed_by_the_system_on_the_minute(status, operator):
    conversation = quiet(status, operator=operator if status == Status.ACTIVE else None)

    assert inactivity.run(minutes(29)) == []
    assert status_of(conversation) == status

    [step] = inactivity.run(minutes(30))

    assert (step.action, step.conversation_id, step.status) == ("close", conversation.pk, status)
    closed = Conversation.objects.get(pk=conversation.pk)
    assert (closed.status, closed.close_reason, closed.closed_at) == (
        Status.CLOSED,
        "inactivity",
        minutes(30),
    )
    [event] = closes(conversation)
    assert (event.actor_kind, event.actor_id, event.note) == ("system", None, "inactivity")
    assert (event.from_status, event.to_status) == (status, Status.CLOSED)
    if status == Status.ACTIVE:
        assert event.from_operator_id == operator.pk


def test_a_message_from_either_side_starts_the_thirty_minutes_again(operator):
    conversation = quiet(Status.ACTIVE, operator=operator)
    customer_writes(conversation, minutes(20))

    assert inactivity.run(minutes(45)) == []
    with time_machine.travel(minutes(48), tick=False):
        factories.outbound(conversation, operator, "รอสักครู่นะคะ", Message.Status.SENT)
    assert inactivity.run(minutes(77)) == []
    assert status_of(conversation) == Status.ACTIVE

    [step] = inactivity.run(minutes(78))

    assert step.action == "close"
    assert status_of(conversation) == Status.CLOSED


def test_the_clock_of_a_waiting_chat_starts_at_the_handoff_when_that_came_after_the_last_message():
    conversation = quiet(Status.BOT)
    with time_machine.travel(minutes(20), tick=False):
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Status.WAITING, handoff_requested_at=minutes(20)
        )

    assert inactivity.run(minutes(49)) == []
    assert [s.action for s in inactivity.run(minutes(50))] == ["close"]


def test_a_quiet_bot_chat_is_closed_after_its_own_longer_timeout():
    conversation = quiet(Status.BOT)

    assert inactivity.run(minutes(30)) == []
    assert inactivity.run(minutes(119)) == []
    [step] = inactivity.run(minutes(120))

    assert (step.action, step.status) == ("close", Status.BOT)
    [event] = closes(conversation)
    assert (event.from_status, event.actor_kind, event.note) == (Status.BOT, "system", "inactivity")


def test_the_bot_timeout_is_a_setting_too():
    configure(bot_close_minutes=45)
    conversation = quiet(Status.BOT)

    assert inactivity.run(minutes(44)) == []
    inactivity.run(minutes(45))

    assert status_of(conversation) == Status.CLOSED


def test_with_auto_close_off_human_chats_stay_open_but_bot_chats_still_end():
    configure(auto_close_enabled=False)
    waiting = quiet(Status.WAITING)
    with_bot = quiet(Status.BOT)

    inactivity.run(minutes(24 * 60))

    assert status_of(waiting) == Status.WAITING
    assert status_of(with_bot) == Status.CLOSED


def test_auto_close_minutes_is_a_setting():
    configure(auto_close_minutes=10)
    conversation = quiet(Status.WAITING)

    assert inactivity.run(minutes(9)) == []
    inactivity.run(minutes(10))

    assert status_of(conversation) == Status.CLOSED


def test_closed_chats_and_chats_still_talking_are_left_alone():
    done = quiet(Status.CLOSED)
    talking = quiet(Status.WAITING, at=minutes(25))

    assert inactivity.run(minutes(40)) == []
    assert closes(done) == [] and status_of(talking) == Status.WAITING


# --- Business hours -------------------------------------------------------------------------------


@pytest.fixture
def office_hours() -> None:
    """Monday to Friday, 09:00–18:00."""
    for weekday in range(5):
        BusinessHours.objects.create(weekday=weekday, opens_at=time(9), closes_at=time(18))


def test_a_customer_waiting_in_the_queue_out_of_hours_keeps_their_place_until_the_team_is_back(office_hours):
    evening = datetime(2026, 3, 2, 17, 50, tzinfo=BANGKOK)  # Monday, ten minutes before closing
    waiting = quiet(Status.WAITING, at=evening)

    assert inactivity.run(evening + timedelta(hours=4)) == []
    tuesday = datetime(2026, 3, 3, 9, 0, tzinfo=BANGKOK)
    assert inactivity.run(tuesday + timedelta(minutes=19)) == []  # 10 + 19 minutes of opening hours
    assert status_of(waiting) == Status.WAITING

    inactivity.run(tuesday + timedelta(minutes=20))

    assert status_of(waiting) == Status.CLOSED


def test_an_active_chat_closes_on_the_wall_clock_even_after_hours(office_hours, operator):
    evening = datetime(2026, 3, 2, 17, 50, tzinfo=BANGKOK)
    active = quiet(Status.ACTIVE, at=evening, operator=operator)

    inactivity.run(evening + timedelta(minutes=30))

    assert status_of(active) == Status.CLOSED


# --- What consoles and the customer see -----------------------------------------------------------


@pytest.fixture
def in_memory_layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class OperatorsConsole:
    """What every operator's console receives (the operators group of the channel layer)."""

    def __init__(self) -> None:
        from channels.layers import get_channel_layer

        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(groups.OPERATORS, self.channel)

    def frames(self) -> list[dict[str, Any]]:
        async def drain() -> list[dict[str, Any]]:
            received: list[dict[str, Any]] = []
            while True:
                try:
                    event = await asyncio.wait_for(self.layer.receive(self.channel), 0.2)
                except TimeoutError:
                    return received
                received.append(json.loads(event["text"]))

        return async_to_sync(drain)()


def test_consoles_hear_of_the_close_like_an_operators_close(
    in_memory_layer, django_capture_on_commit_callbacks
):
    conversation = quiet(Status.WAITING)
    console = OperatorsConsole()

    with django_capture_on_commit_callbacks(execute=True):
        inactivity.run(minutes(30))

    received = console.frames()
    [closed] = [f for f in received if f["type"] == "session_closed"]
    assert closed["payload"]["reason"] == "inactivity"
    assert closed["payload"]["operator"] is None
    assert closed["payload"]["conversation"]["id"] == conversation.pk
    assert closed["payload"]["conversation"]["status"] == "closed"
    # It left the queue: the consoles get the new (empty) queue.
    [queue] = [f for f in received if f["type"] == "queue_update"]
    assert queue["payload"]["waiting"] == []


@pytest.mark.parametrize(("status", "after"), [(Status.WAITING, 30), (Status.BOT, 120)])
@pytest.mark.django_db(transaction=True)
def test_the_customers_next_message_after_the_close_starts_a_new_conversation_with_the_bot(
    status, after, line, webhook, settle
):
    conversation = quiet(status)
    assert [s.action for s in inactivity.run(minutes(after))] == ["close"]
    user = conversation.contact.line_user_id

    assert webhook(ev.text_event(user, "สวัสดีค่ะ อีกเรื่องนึงค่ะ")).status_code == 200
    settle()

    old, new = Conversation.objects.filter(contact__line_user_id=user).order_by("pk")
    assert (old.pk, old.status) == (conversation.pk, Status.CLOSED)
    assert new.status == Status.BOT
    assert [m.text for m in new.messages.filter(direction=Message.Direction.IN)] == ["สวัสดีค่ะ อีกเรื่องนึงค่ะ"]


# --- The warning ----------------------------------------------------------------------------------


@pytest.fixture
def warning_on() -> None:
    configure(close_warning_enabled=True, close_warning_minutes=5)


@pytest.mark.django_db(transaction=True)
def test_the_customer_is_warned_by_push_five_minutes_before_once_and_the_close_comes_on_time(
    warning_on, line, settle
):
    conversation = quiet(Status.WAITING)
    user = conversation.contact.line_user_id

    assert inactivity.run(minutes(24)) == []
    [step] = inactivity.run(minutes(25))
    assert step.action == "warn"
    assert inactivity.run(minutes(26)) == []  # not twice
    assert inactivity.run(minutes(29)) == []
    settle()

    [warning] = warnings_to(conversation)
    assert "5 นาที" in warning.text and "5 minutes" in warning.text
    assert (warning.status, warning.sent_via) == (Message.Status.SENT, Message.SentVia.PUSH)
    assert any("5 minutes" in text for text in line.sent_texts(user))
    # The warning is not activity: it does not put the close off.
    stored = Conversation.objects.get(pk=conversation.pk)
    assert (stored.last_message_at, stored.close_warned_at) == (T0, minutes(25))

    [close] = inactivity.run(minutes(30))
    assert close.action == "close"
    assert status_of(conversation) == Status.CLOSED


def test_a_customer_who_answers_the_warning_keeps_the_chat_and_is_warned_again_next_time(warning_on):
    conversation = quiet(Status.WAITING)
    inactivity.run(minutes(25))
    customer_writes(conversation, minutes(27), "ยังอยู่ค่ะ")

    assert inactivity.run(minutes(30)) == []
    assert inactivity.run(minutes(51)) == []
    assert [s.action for s in inactivity.run(minutes(52))] == ["warn"]
    assert inactivity.run(minutes(56)) == []
    assert [s.action for s in inactivity.run(minutes(57))] == ["close"]
    assert len(warnings_to(conversation)) == 2


def test_a_pass_that_runs_late_warns_first_and_closes_after_the_promised_minutes(warning_on):
    conversation = quiet(Status.WAITING)

    assert [s.action for s in inactivity.run(minutes(40))] == ["warn"]
    assert inactivity.run(minutes(44)) == []
    assert [s.action for s in inactivity.run(minutes(45))] == ["close"]
    assert len(warnings_to(conversation)) == 1


def test_a_customer_who_unfollowed_is_not_warned_and_is_closed_on_time(warning_on):
    conversation = quiet(Status.WAITING, following=False)

    assert inactivity.run(minutes(25)) == []
    assert [s.action for s in inactivity.run(minutes(30))] == ["close"]
    assert warnings_to(conversation) == []


def test_a_bot_chat_ends_without_a_warning(warning_on):
    conversation = quiet(Status.BOT)

    assert [s.action for s in inactivity.run(minutes(120))] == ["close"]
    assert warnings_to(conversation) == []


def test_the_warning_text_is_the_supervisors_with_the_minutes_filled_in():
    configure(
        close_warning_enabled=True,
        close_warning_minutes=10,
        close_warning_message="อีก {minutes} นาทีจะปิดแชทนะคะ {ไม่ใช่ตัวแปร}",
    )
    conversation = quiet(Status.WAITING)

    inactivity.run(minutes(20))

    [warning] = warnings_to(conversation)
    assert warning.text == "อีก 10 นาทีจะปิดแชทนะคะ {ไม่ใช่ตัวแปร}"


# --- Several passes at once -----------------------------------------------------------------------


def run_together(passes: int, now: datetime) -> list[inactivity.Step]:
    """`passes` passes at the same moment, each in a thread with its own database connection."""
    start = threading.Barrier(passes)
    steps: list[inactivity.Step] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            start.wait()
            steps.extend(inactivity.run(now))
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(passes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return steps


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_passes_at_once_close_each_conversation_once(require_postgres):
    conversations = [quiet(Status.WAITING) for _ in range(6)] + [quiet(Status.BOT, at=minutes(-90))]

    steps = run_together(2, minutes(30))

    assert sorted(s.conversation_id for s in steps) == sorted(c.pk for c in conversations)
    for conversation in conversations:
        assert len(closes(conversation)) == 1
        assert status_of(conversation) == Status.CLOSED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_passes_at_once_warn_the_customer_once(require_postgres, warning_on):
    conversation = quiet(Status.WAITING)

    steps = run_together(2, minutes(25))

    assert [s.action for s in steps] == ["warn"]
    assert len(warnings_to(conversation)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_message_arriving_while_the_close_is_decided_keeps_the_chat_open(require_postgres):
    """The pass read the conversation as quiet; the customer's message holds the row lock; the
    close waits for it, decides again, and lets the chat be."""
    conversation = quiet(Status.WAITING)
    writing = threading.Event()
    release = threading.Event()

    def customer() -> None:
        try:
            with transaction.atomic():
                append_message(
                    conversation,
                    direction=Message.Direction.IN,
                    sender_kind=Message.SenderKind.CUSTOMER,
                    type=Message.Type.TEXT,
                    text="ขอโทษค่ะ เพิ่งว่าง",
                    status=Message.Status.RECEIVED,
                )
                writing.set()
                release.wait(30)
        finally:
            connections.close_all()

    steps: list[inactivity.Step] = []

    def cleanup() -> None:
        try:
            steps.extend(inactivity.run(minutes(31)))
        finally:
            connections.close_all()

    writer = threading.Thread(target=customer)
    writer.start()
    assert writing.wait(30)
    closer = threading.Thread(target=cleanup)
    closer.start()
    wait_until_blocked_on_a_lock()
    release.set()
    writer.join(30)
    closer.join(30)

    assert steps == []
    assert status_of(conversation) == Status.WAITING
    assert closes(conversation) == []


def wait_until_blocked_on_a_lock(timeout: float = 30.0) -> None:
    """Until another session of this database waits for a row lock (the pass, on the row the
    customer's message holds)."""
    import time as wall

    deadline = wall.monotonic() + timeout
    with connection.cursor() as cursor:
        while wall.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            wall.sleep(0.01)
    raise AssertionError("the pass never waited for the row lock")
