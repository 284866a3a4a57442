"""SLA targets: each clock warns at the policy's threshold and breaches at its target, once;
business-hours-only policies count only open hours; the holder and the supervisors hear of it;
the console list shows it, and stops showing it when the clock stops.

Time: the rows are written at real time and each check is told its `now` explicitly.
"""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from accounts.models import User
from livechat.console import queries
from livechat.conversations import actions, sla
from livechat.conversations.actions import Actor
from livechat.models import BusinessHours, Conversation, Message, SlaAlert, SlaPolicy
from livechat.policies import service
from livechat.simulator import events as ev
from tests.conftest import post_webhook
from tests.factories import open_conversation
from tests.ws import operator_socket

BANGKOK = ZoneInfo("Asia/Bangkok")
Status = Conversation.Status


def policy(
    *,
    first: int | None = None,
    next_: int | None = None,
    resolution: int | None = None,
    business_hours_only: bool = False,
    warning_percent: int = 80,
) -> SlaPolicy:
    """The default policy with these targets (None: not tracked)."""
    row = SlaPolicy.objects.get(pk=service.sla_policy().pk)
    row.first_response_seconds = first
    row.next_response_seconds = next_
    row.resolution_seconds = resolution
    row.business_hours_only = business_hours_only
    row.warning_percent = warning_percent
    row.save()
    return row


def at(conversation: Conversation, seconds: float) -> datetime:
    """`seconds` after the conversation's handoff."""
    assert conversation.handoff_requested_at is not None
    return conversation.handoff_requested_at + timedelta(seconds=seconds)


def alerts(conversation: Conversation) -> list[tuple[str, str]]:
    return list(
        SlaAlert.objects.filter(conversation=conversation)
        .order_by("created_at", "id")
        .values_list("kind", "level")
    )


def row_of(operator: User, conversation: Conversation, tab: str = "open") -> dict:
    rows, _ = queries.conversation_rows(operator, tab)
    return next(r for r in rows if r["id"] == conversation.pk)


# --- Each target ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_response_warns_at_80_percent_and_breaches_at_the_target_once_each():
    policy(first=600)
    conversation = open_conversation("คุณนก")

    assert sla.check(at(conversation, 479)) == []
    [warning] = sla.check(at(conversation, 480))
    assert (warning.kind, warning.level) == ("first_response", "warning")
    assert warning.started_at == conversation.handoff_requested_at
    assert warning.due_at == at(conversation, 600)
    assert warning.operator is None  # still in the queue: nobody holds it
    assert sla.check(at(conversation, 599)) == []
    [breach] = sla.check(at(conversation, 600))
    assert (breach.kind, breach.level) == ("first_response", "breach")
    assert sla.check(at(conversation, 3600)) == []

    assert alerts(conversation) == [("first_response", "warning"), ("first_response", "breach")]


@pytest.mark.django_db
def test_the_warning_threshold_is_the_policys():
    policy(first=1000, warning_percent=50)
    conversation = open_conversation("คุณนก")

    assert sla.check(at(conversation, 499)) == []
    assert [(a.kind, a.level) for a in sla.check(at(conversation, 500))] == [("first_response", "warning")]


@pytest.mark.django_db
def test_a_clock_found_past_its_target_records_only_the_breach_then_nothing():
    policy(first=600)
    conversation = open_conversation("คุณนก")

    assert [a.level for a in sla.check(at(conversation, 900))] == ["breach"]
    assert sla.check(at(conversation, 901)) == []
    assert alerts(conversation) == [("first_response", "breach")]


@pytest.mark.django_db
def test_resolution_runs_from_the_handoff_until_the_close(team):
    policy(resolution=3600)
    somchai = team["somchai"]
    conversation = open_conversation("คุณนก", Status.ACTIVE, operator=somchai)
    answered = open_conversation("คุณแดง", Status.ACTIVE, operator=somchai)
    Conversation.objects.filter(pk=answered.pk).update(first_response_at=at(answered, 60))

    [warning, answered_warning] = sla.check(at(conversation, 2900))
    assert (warning.conversation, warning.kind, warning.level) == (conversation, "resolution", "warning")
    assert warning.operator == somchai  # the holder when it was recorded
    assert answered_warning.conversation == answered  # answering does not resolve it

    actions.close(conversation.pk, Actor.staff(somchai), "done")

    assert [(a.conversation, a.level) for a in sla.check(at(conversation, 4000))] == [(answered, "breach")]
    assert alerts(conversation) == [("resolution", "warning")]


@pytest.mark.django_db
def test_a_target_left_empty_is_not_tracked():
    policy(first=None, next_=None, resolution=None)
    conversation = open_conversation("คุณนก")

    assert sla.check(at(conversation, 10 * 24 * 3600)) == []


@pytest.mark.django_db
def test_a_conversation_with_the_bot_has_no_clock_running():
    policy(first=60, resolution=60)
    conversation = open_conversation("คุณนก", Status.BOT)

    assert sla.check(timezone.now() + timedelta(days=1)) == []
    assert not SlaAlert.objects.filter(conversation=conversation).exists()


@pytest.mark.django_db(transaction=True)
def test_next_response_runs_from_the_customers_message_and_restarts_when_the_operator_answers(
    client, team, line
):
    policy(next_=600)
    somchai = team["somchai"]
    user = ev.new_user_id()
    post_webhook(client, ev.text_event(user, "agent"))
    conversation = Conversation.objects.get(contact__line_user_id=user)
    actions.claim(conversation.pk, Actor.staff(somchai))
    actions.send_operator_message(conversation.pk, Actor.staff(somchai), client_id="hello", text="สวัสดีค่ะ")
    # Nothing awaits an answer: no clock.
    assert sla.check(timezone.now() + timedelta(hours=1)) == []

    post_webhook(client, ev.text_event(user, "ขอสอบถามเรื่องพัสดุค่ะ"))
    post_webhook(client, ev.text_event(user, "ยังไม่ได้รับเลย"))
    first_question = Message.objects.filter(conversation=conversation, direction="in").order_by("seq")[1]
    asked_at = first_question.created_at

    [breach] = sla.check(asked_at + timedelta(seconds=600))
    assert (breach.kind, breach.level) == ("next_response", "breach")
    assert breach.started_at == asked_at  # the earliest unanswered message, not the latest
    assert row_of(somchai, conversation)["sla"]["level"] == "breach"

    actions.send_operator_message(
        conversation.pk, Actor.staff(somchai), client_id="answer", text="ตรวจสอบให้ค่ะ"
    )
    assert sla.check(timezone.now() + timedelta(hours=1)) == []
    assert row_of(somchai, conversation)["sla"] is None  # answered: the badge goes

    post_webhook(client, ev.text_event(user, "ขอบคุณค่ะ แล้วจะได้เมื่อไหร่คะ"))
    asked_again = Message.objects.filter(conversation=conversation, direction="in").latest("seq").created_at

    [warning] = sla.check(asked_again + timedelta(seconds=480))
    assert (warning.kind, warning.level, warning.started_at) == ("next_response", "warning", asked_again)
    assert alerts(conversation) == [("next_response", "breach"), ("next_response", "warning")]


@pytest.mark.django_db
def test_next_response_does_not_run_while_back_in_the_queue(team):
    policy(next_=600)
    somchai = team["somchai"]
    conversation = open_conversation("คุณนก", Status.ACTIVE, operator=somchai)
    Conversation.objects.filter(pk=conversation.pk).update(first_response_at=timezone.now())
    actions.transfer(conversation.pk, Actor.staff(somchai), to_queue=True)

    assert sla.check(timezone.now() + timedelta(hours=1)) == []


# --- Business hours -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_in_business_hours_a_handoff_at_1755_with_a_10_minute_target_breaches_at_0905_next_open_day():
    for weekday in range(5):  # Monday to Friday, 09:00–18:00
        BusinessHours.objects.create(weekday=weekday, opens_at="09:00", closes_at="18:00")
    policy(first=600, business_hours_only=True)
    conversation = open_conversation("คุณนก")
    friday_1755 = datetime(2026, 12, 4, 17, 55, tzinfo=BANGKOK)
    Conversation.objects.filter(pk=conversation.pk).update(handoff_requested_at=friday_1755)
    monday = datetime(2026, 12, 7, tzinfo=BANGKOK)

    assert sla.check(datetime(2026, 12, 4, 23, 0, tzinfo=BANGKOK)) == []  # 5 of 10 minutes counted
    assert sla.check(datetime(2026, 12, 6, 12, 0, tzinfo=BANGKOK)) == []  # the weekend does not count
    assert sla.check(monday.replace(hour=9, minute=2, second=59)) == []
    [warning] = sla.check(monday.replace(hour=9, minute=3))  # 8 minutes = 80 %
    assert warning.level == "warning"
    assert warning.due_at == monday.replace(hour=9, minute=5)
    assert sla.check(monday.replace(hour=9, minute=4, second=59)) == []
    [breach] = sla.check(monday.replace(hour=9, minute=5))
    assert (breach.level, breach.due_at) == ("breach", monday.replace(hour=9, minute=5))


@pytest.mark.django_db
def test_without_business_hours_only_the_night_counts():
    for weekday in range(5):
        BusinessHours.objects.create(weekday=weekday, opens_at="09:00", closes_at="18:00")
    policy(first=600, business_hours_only=False)
    conversation = open_conversation("คุณนก")
    friday_1755 = datetime(2026, 12, 4, 17, 55, tzinfo=BANGKOK)
    Conversation.objects.filter(pk=conversation.pk).update(handoff_requested_at=friday_1755)

    [breach] = sla.check(datetime(2026, 12, 4, 18, 5, tzinfo=BANGKOK))
    assert (breach.level, breach.due_at) == ("breach", datetime(2026, 12, 4, 18, 5, tzinfo=BANGKOK))


# --- Once, whoever checks -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_checkers_at_once_record_and_send_each_alert_once(require_postgres):
    policy(first=600)
    conversations = [open_conversation(f"ลูกค้า {i}") for i in range(8)]
    now = max(at(c, 700) for c in conversations)
    both_found = threading.Barrier(2)
    recorded: list[list[SlaAlert]] = [[], []]
    errors: list[Exception] = []

    def checker(index: int) -> None:
        try:
            due = sla.due_alerts(now)
            assert len(due) == 8  # each sees every breach as not yet recorded…
            both_found.wait(10)
            recorded[index] = [row for alert in due if (row := sla.record(alert)) is not None]
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=checker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert errors == []
    # …and of the two inserts of each, exactly one recorded it (and so sent it).
    ids = [row.pk for rows in recorded for row in rows]
    assert len(ids) == len(set(ids)) == 8
    assert SlaAlert.objects.count() == 8
    assert {row.conversation_id for rows in recorded for row in rows} == {c.pk for c in conversations}


@pytest.mark.django_db
def test_a_breach_is_recorded_even_if_nobody_is_online(team):
    policy(first=60)
    conversation = open_conversation("คุณนก", Status.ACTIVE, operator=team["nok"])

    [breach] = sla.check(at(conversation, 60))

    assert breach.level == "breach"
    assert SlaAlert.objects.get().operator == team["nok"]


# --- Who hears it, and what the list shows --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_alert_reaches_the_holder_and_the_supervisors_but_not_other_operators(team):
    await sync_to_async(policy)(first=300)
    somchai, nok, malee = team["somchai"], team["nok"], team["malee"]
    conversation = await sync_to_async(open_conversation)("คุณนก", Status.ACTIVE, operator=somchai)
    holder, colleague, supervisor = (
        await operator_socket(somchai),
        await operator_socket(nok),
        await operator_socket(malee),
    )

    await sync_to_async(sla.check)(at(conversation, 300))

    for socket in (holder, supervisor):
        frame = await socket.expect("sla_alert", conversation_id=conversation.pk)
        payload = frame["payload"]
        assert (payload["kind"], payload["level"]) == ("first_response", "breach")
        assert payload["operator"]["id"] == somchai.pk
        assert (payload["target_seconds"], payload["elapsed_seconds"]) == (300, 300)
        assert payload["due_at"] == at(conversation, 300).isoformat()
        assert payload["conversation"]["contact"]["display_name"] == "คุณนก"
        await socket.nothing_of("sla_alert", within=0.3)  # once, not once per group
    await colleague.nothing_of("sla_alert")
    for socket in (holder, colleague, supervisor):
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_an_alert_on_a_waiting_conversation_goes_to_the_supervisors(team):
    await sync_to_async(policy)(first=300)
    conversation = await sync_to_async(open_conversation)("คุณนก")
    operator, supervisor = await operator_socket(team["somchai"]), await operator_socket(team["malee"])

    await sync_to_async(sla.check)(at(conversation, 240))

    frame = await supervisor.expect("sla_alert", conversation_id=conversation.pk)
    assert (frame["payload"]["level"], frame["payload"]["operator"]) == ("warning", None)
    await operator.nothing_of("sla_alert")
    await operator.close()
    await supervisor.close()


@pytest.mark.django_db
def test_the_list_shows_the_worst_standing_alert_after_a_reload(team):
    policy(first=600, resolution=3600)
    somchai = team["somchai"]
    conversation = open_conversation("คุณนก", Status.ACTIVE, operator=somchai)
    quiet = open_conversation("คุณแดง", Status.ACTIVE, operator=somchai)
    assert row_of(somchai, conversation)["sla"] is None

    sla.check(at(conversation, 500))  # first response: warning
    assert row_of(somchai, conversation, "mine")["sla"] == {
        "kind": "first_response",
        "level": "warning",
        "started_at": at(conversation, 0).isoformat(),
        "due_at": at(conversation, 600).isoformat(),
    }
    sla.check(at(conversation, 3000))  # first response: breach; resolution: warning
    assert row_of(somchai, conversation)["sla"]["level"] == "breach"  # the worst shows
    assert row_of(somchai, conversation)["sla"]["kind"] == "first_response"

    Conversation.objects.filter(pk=conversation.pk).update(first_response_at=at(conversation, 3000))
    # Answered: the first-response breach no longer stands, the resolution warning does.
    assert row_of(somchai, conversation)["sla"]["kind"] == "resolution"
    assert row_of(somchai, conversation)["sla"]["level"] == "warning"
    assert row_of(somchai, quiet)["sla"]["level"] == "breach"  # its first response is overdue

    actions.close(conversation.pk, Actor.staff(somchai))
    rows, _ = queries.conversation_rows(somchai, "closed")
    assert [r["sla"] for r in rows] == [None]
