"""Auto-assignment: a waiting customer goes to the online operator with room and the fewest chats.

Presence is the real store the console socket writes (Redis when REDIS_URL is set); the races
run real concurrent transactions against PostgreSQL.
"""

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from livechat.console.settings.forms import SERVICE_FIELDS
from livechat.conversations import actions, assignment
from livechat.conversations.actions import Actor
from livechat.models import Conversation, ConversationEvent, ServiceSettings
from livechat.realtime import presence
from livechat.simulator import events as ev
from tests.factories import open_conversation
from tests.ws import operator_socket

Status = Conversation.Status
Kind = ConversationEvent.Kind


def auto_assign(on: bool = True) -> None:
    """A supervisor switches auto-assignment on (or off) in the settings."""
    row, _ = ServiceSettings.objects.get_or_create(pk=1)
    row.auto_assign_enabled = on
    row.save()


def present(user: User, status: str = "online") -> None:
    """The operator's console is open (and says `status`), as the socket records it."""

    async def record() -> None:
        store = presence.store()
        await store.touch(user.pk, f"socket-of-{user.pk}")
        await store.set_status(user.pk, status)

    async_to_sync(record)()
    presence._stores.clear()  # its Redis client belonged to the loop async_to_sync made


def member(name: str, role: str = "operator", **extra: Any) -> User:
    return User.objects.create_user(
        username=name.lower(), password="pw", display_name=name, role=role, **extra
    )


def waiting(name: str, minutes_ago: float = 0) -> Conversation:
    conversation = open_conversation(name)
    Conversation.objects.filter(pk=conversation.pk).update(
        handoff_requested_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return conversation


def active_for(operator: User, count: int) -> list[Conversation]:
    return [open_conversation(f"ลูกค้า {i}", Status.ACTIVE, operator=operator) for i in range(count)]


def holder_of(conversation: Conversation) -> int | None:
    conversation.refresh_from_db()
    return conversation.assigned_operator_id if conversation.status == Status.ACTIVE else None


def active_count(operator: User) -> int:
    return Conversation.objects.filter(assigned_operator=operator, status=Status.ACTIVE).count()


# --- Who gets the chat -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_is_off_by_default():
    somchai = member("Somchai")
    present(somchai)
    customer = waiting("นก")

    assert assignment.assign_waiting() == 0
    assert holder_of(customer) is None


@pytest.mark.django_db
def test_the_online_operator_with_the_fewest_chats_gets_it():
    somchai, nok, ploy = member("Somchai"), member("Nok"), member("Ploy")
    for operator in (somchai, nok, ploy):
        present(operator)
    active_for(somchai, 2)
    active_for(nok, 1)
    active_for(ploy, 3)
    auto_assign()
    customer = waiting("นก")

    assert assignment.assign_waiting() == 1

    assert holder_of(customer) == nok.pk
    assert active_count(nok) == 2


@pytest.mark.django_db
def test_a_tie_goes_to_who_was_assigned_longest_ago_never_assigned_first():
    now = timezone.now()
    recent = member("Recent", last_assigned_at=now - timedelta(minutes=1))
    longest = member("Longest", last_assigned_at=now - timedelta(hours=1))
    never = member("Never")
    for operator in (recent, longest, never):
        present(operator)
    auto_assign()
    first, second, third = waiting("หนึ่ง", 3), waiting("สอง", 2), waiting("สาม", 1)

    assert assignment.assign_waiting() == 3

    assert [holder_of(c) for c in (first, second, third)] == [never.pk, longest.pk, recent.pk]
    never.refresh_from_db()
    assert never.last_assigned_at is not None and never.last_assigned_at > now


@pytest.mark.django_db
def test_nobody_goes_over_capacity_and_the_rest_wait():
    somchai = member("Somchai", max_chats=2)
    nok = member("Nok", max_chats=1)
    present(somchai)
    present(nok)
    active_for(nok, 1)
    auto_assign()
    customers = [waiting(f"ลูกค้า {i}", 10 - i) for i in range(4)]

    assert assignment.assign_waiting() == 2

    assert (active_count(somchai), active_count(nok)) == (2, 1)
    assert [holder_of(c) for c in customers] == [somchai.pk, somchai.pk, None, None]
    assert assignment.assign_waiting() == 0


@pytest.mark.django_db
def test_an_operator_who_is_away_or_offline_gets_no_new_chats():
    away = member("Away")
    member("Offline")  # no console open
    present(away, "away")
    auto_assign()
    customer = waiting("นก")

    assert assignment.assign_waiting() == 0
    assert holder_of(customer) is None


@pytest.mark.django_db
def test_an_inactive_account_gets_no_chats_even_with_a_socket_open():
    gone = member("Gone", is_active=False)
    present(gone)
    auto_assign()
    customer = waiting("นก")

    assert assignment.assign_waiting() == 0
    assert holder_of(customer) is None


@pytest.mark.django_db
def test_the_customer_who_waited_longest_goes_first():
    somchai = member("Somchai", max_chats=2)
    present(somchai)
    auto_assign()
    newest = waiting("ใหม่สุด", 1)
    oldest = waiting("นานสุด", 30)
    middle = waiting("กลาง", 10)

    assignment.assign_waiting()

    assert (holder_of(oldest), holder_of(middle), holder_of(newest)) == (somchai.pk, somchai.pk, None)


@pytest.mark.django_db
def test_the_assignment_is_a_claim_by_the_system_keeping_the_first_claim_time():
    nok = member("Nok")
    present(nok)
    auto_assign()
    customer = waiting("นก")
    first_claim = timezone.now() - timedelta(minutes=20)
    # Someone had claimed it earlier and gave it back to the queue.
    Conversation.objects.filter(pk=customer.pk).update(claimed_at=first_claim)

    assert assignment.assign_waiting() == 1

    customer.refresh_from_db()
    assert (customer.status, customer.assigned_operator_id) == (Status.ACTIVE, nok.pk)
    assert customer.claimed_at == first_claim
    event = ConversationEvent.objects.filter(conversation=customer).latest("id")
    assert (event.kind, event.actor_kind, event.actor_id) == (Kind.CLAIMED, "system", None)
    assert (event.from_status, event.to_status, event.to_operator_id) == (
        Status.WAITING,
        Status.ACTIVE,
        nok.pk,
    )


@pytest.mark.django_db
def test_a_supervisor_still_takes_over_an_assigned_chat_and_claims_from_a_full_team():
    somchai = member("Somchai", max_chats=1)
    malee = member("Malee", role="supervisor", max_chats=0)
    present(somchai)
    present(malee)
    auto_assign()
    first, second = waiting("หนึ่ง", 2), waiting("สอง", 1)
    assignment.assign_waiting()
    assert (holder_of(first), holder_of(second)) == (somchai.pk, None)

    actions.transfer(first.pk, Actor.staff(malee), to_operator_id=malee.pk, note="ดูแลเอง")
    actions.claim(second.pk, Actor.staff(malee))

    assert (holder_of(first), holder_of(second)) == (malee.pk, malee.pk)


# --- When it happens: after a handoff, a freed slot, an operator coming online ---------------------


@pytest.mark.django_db(transaction=True)
def test_a_customer_asking_for_a_human_is_assigned_at_once(webhook, line, settle):
    somchai = member("Somchai")
    present(somchai)
    auto_assign()
    user = ev.new_user_id()

    webhook(ev.text_event(user, "คุยกับเจ้าหน้าที่"))
    settle()

    conversation = Conversation.objects.get(contact__line_user_id=user)
    assert (conversation.status, conversation.assigned_operator_id) == (Status.ACTIVE, somchai.pk)


@pytest.mark.django_db(transaction=True)
def test_closing_a_chat_hands_the_freed_slot_to_the_next_customer(line, settle):
    somchai = member("Somchai", max_chats=1)
    present(somchai)
    auto_assign()
    [current] = active_for(somchai, 1)
    next_in_line = waiting("คนถัดไป")
    settle()
    assert holder_of(next_in_line) is None

    actions.close(current.pk, Actor.staff(somchai), "resolved")
    settle()

    assert holder_of(next_in_line) == somchai.pk


@pytest.mark.django_db(transaction=True)
def test_a_chat_transferred_away_frees_a_slot_and_one_returned_to_the_queue_is_assigned(line, settle):
    somchai = member("Somchai", max_chats=1)
    nok = member("Nok", max_chats=1)
    present(somchai)
    auto_assign()
    [current] = active_for(somchai, 1)
    next_in_line = waiting("คนถัดไป")

    actions.transfer(current.pk, Actor.staff(somchai), to_operator_id=nok.pk)
    settle()
    assert holder_of(next_in_line) == somchai.pk

    # Nok (offline) gives the first one back: Somchai is full, it waits; Somchai closes, it is theirs.
    actions.transfer(current.pk, Actor.staff(nok), to_queue=True)
    settle()
    assert holder_of(current) is None
    actions.close(next_in_line.pk, Actor.staff(somchai))
    settle()
    assert holder_of(current) == somchai.pk


@pytest.mark.django_db(transaction=True)
async def test_an_operator_opening_the_console_is_assigned_the_waiting_chat_and_every_console_hears():
    somchai = await sync_to_async(member)("Somchai")
    malee = await sync_to_async(member)("Malee", role="supervisor", max_chats=0)
    await sync_to_async(auto_assign)()
    customer = await sync_to_async(waiting)("นก")
    watcher = await operator_socket(malee)

    socket = await operator_socket(somchai)

    for console in (socket, watcher):
        claimed = await console.expect(
            "session_claimed", timeout=5, where=lambda p: p["conversation"]["id"] == customer.pk
        )
        assert claimed["payload"]["conversation"]["assigned_operator"]["id"] == somchai.pk
        assert claimed["payload"]["conversation"]["status"] == "active"
        assert claimed["payload"]["operator"] is None  # nobody claimed it: the system assigned it
    await watcher.expect("queue_update", timeout=5, where=lambda p: p["waiting"] == [])
    await socket.close()
    await watcher.close()


@pytest.mark.django_db(transaction=True)
async def test_an_operator_back_from_away_is_assigned_the_waiting_chat():
    somchai = await sync_to_async(member)("Somchai")
    socket = await operator_socket(somchai)
    await socket.send("set_status", {"status": "away"})
    await socket.expect("presence_update", where=lambda p: p["operators"][0]["status"] == "away")
    await sync_to_async(auto_assign)()
    customer = await sync_to_async(waiting)("นก")
    assert await sync_to_async(assignment.assign_waiting)() == 0

    await socket.send("set_status", {"status": "online"})

    claimed = await socket.expect(
        "session_claimed", timeout=5, where=lambda p: p["conversation"]["id"] == customer.pk
    )
    assert claimed["payload"]["conversation"]["assigned_operator"]["id"] == somchai.pk
    await socket.close()


# --- Races across processes --------------------------------------------------------------------------


def at_once(jobs: list[Any]) -> None:
    """Run each job in its own thread (its own database connection), all released together."""
    start = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: Any) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures


def hand_off(conversation: Conversation) -> Any:
    """What a web process does with a customer's handoff: it commits, then its own pass runs."""

    def job() -> None:
        with transaction.atomic():
            actions.request_handoff(conversation)
        assignment.assign_waiting()

    return job


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_handoffs_and_one_free_slot_make_exactly_one_assignment(require_postgres, line, settle):
    somchai = member("Somchai", max_chats=1)
    present(somchai)
    auto_assign()
    customers = [open_conversation(name, Status.BOT) for name in ("หนึ่ง", "สอง")]

    at_once([hand_off(c) for c in customers])
    settle()

    assert sorted([holder_of(c) for c in customers], key=str) == [somchai.pk, None]
    assert active_count(somchai) == 1
    assert ConversationEvent.objects.filter(kind=Kind.CLAIMED).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_passes_running_at_once_never_overfill_an_operator_nor_assign_a_chat_twice(require_postgres):
    operators = [member("Somchai", max_chats=2), member("Nok", max_chats=3), member("Ploy", max_chats=1)]
    for operator in operators:
        present(operator)
    auto_assign()
    customers = [waiting(f"ลูกค้า {i}", 20 - i) for i in range(10)]
    counts: list[int] = []

    at_once([lambda: counts.append(assignment.assign_waiting()) for _ in range(6)])

    assert sum(counts) == 6
    assert [active_count(o) for o in operators] == [2, 3, 1]
    claims = ConversationEvent.objects.filter(kind=Kind.CLAIMED)
    assert claims.count() == 6
    assert claims.values("conversation").distinct().count() == 6
    # The six who waited longest were served.
    assert [holder_of(c) is not None for c in customers] == [True] * 6 + [False] * 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rush_of_handoffs_fills_each_operator_exactly_to_capacity(require_postgres, line, settle):
    operators = [member("Somchai", max_chats=1), member("Nok", max_chats=2)]
    for operator in operators:
        present(operator)
    auto_assign()
    customers = [open_conversation(f"ลูกค้า {i}", Status.BOT) for i in range(12)]

    at_once([hand_off(c) for c in customers])
    settle()

    assert [active_count(o) for o in operators] == [1, 2]
    assert Conversation.objects.filter(status=Status.WAITING).count() == 9


def blocked_on_locks() -> int:
    """How many of this database's sessions wait for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def until(condition: Any) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, "the other sessions never got there"
        time.sleep(0.01)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pass_waits_for_the_decision_in_progress_even_with_another_customer_first_in_line(
    require_postgres,
):
    """Two passes at the same moment see different heads of the queue: one customer came back
    to the queue (with their old handoff time) while the first pass was assigning another. The
    second pass must count the first one's assignment, or the operator gets two chats for one
    free slot."""
    somchai, nok = member("Somchai", max_chats=1), member("Nok")
    present(somchai)
    auto_assign()
    newer = waiting("ใหม่", 1)
    [returning] = active_for(nok, 1)
    Conversation.objects.filter(pk=returning.pk).update(
        handoff_requested_at=timezone.now() - timedelta(hours=1)
    )
    release, held = threading.Event(), threading.Event()

    def hold_somchais_row() -> None:  # his row busy for a moment (a sign-in being recorded, say)
        with transaction.atomic():
            User.objects.select_for_update().get(pk=somchai.pk)
            held.set()
            release.wait(30)

    def run(job: Any) -> threading.Thread:
        def target() -> None:
            try:
                job()
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    holder = run(hold_somchais_row)
    held.wait(10)
    first = run(assignment.assign_waiting)  # takes `newer`, then waits for Somchai's row
    until(lambda: blocked_on_locks() == 1)
    Conversation.objects.filter(pk=returning.pk).update(status=Status.WAITING, assigned_operator=None)
    second = run(assignment.assign_waiting)  # sees `returning` first in line
    until(lambda: blocked_on_locks() == 2)
    release.set()
    for thread in (holder, first, second):
        thread.join(30)

    assert active_count(somchai) == 1
    assert (holder_of(newer), holder_of(returning)) == (somchai.pk, None)


# --- The safety nets: cleanup's pass and the settings page ------------------------------------------


@pytest.mark.django_db
def test_cleanup_assigns_whoever_still_waits_when_a_process_died_before_it_could():
    operator = member("Somchai")
    present(operator)
    customer = waiting("ลูกค้า")  # handed off while auto-assignment was off, or its process died
    ServiceSettings.objects.update_or_create(pk=1, defaults={"auto_assign_enabled": True})

    call_command("cleanup")

    assert holder_of(customer) == operator.pk


@pytest.mark.django_db(transaction=True)
def test_switching_auto_assignment_on_in_the_settings_assigns_the_queue_at_once(client, settle):
    boss = member("Malee", role="supervisor")
    operator = member("Somchai")
    present(operator)
    customer = waiting("ลูกค้า")
    client.force_login(boss)
    row, _ = ServiceSettings.objects.get_or_create(pk=1)
    form = {
        name: ("on" if value is True else value)
        for name in SERVICE_FIELDS
        if (value := getattr(row, name)) is not False and value is not None
    }

    response = client.post("/console/settings/service/", {**form, "auto_assign_enabled": "on"})
    settle()

    assert response.status_code == 302
    assert holder_of(customer) == operator.pk  # the only one online
