"""`claimed_at` is the first claim (PRODUCT §10): a transfer or a claim after a return to the
queue is only a ConversationEvent. Auto-close still counts those later handovers as activity,
and migration 0017 puts the first claim back on conversations that had it overwritten."""

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps

from livechat.conversations import actions, inactivity
from livechat.conversations.actions import Actor
from livechat.models import Conversation, ConversationEvent
from tests import factories

pytestmark = pytest.mark.django_db

Status = Conversation.Status
Kind = ConversationEvent.Kind
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Bangkok"))  # a Monday morning


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def claimed_at(conversation: Conversation) -> datetime | None:
    return Conversation.objects.get(pk=conversation.pk).claimed_at


def test_a_transfer_and_a_claim_after_a_return_keep_the_first_claim(operator, supervisor):
    with time_machine.travel(T0, tick=False):
        conversation = factories.open_conversation("Nok")
    with time_machine.travel(at(2), tick=False):
        actions.claim(conversation.pk, Actor.staff(operator))
    with time_machine.travel(at(5), tick=False):
        actions.transfer(conversation.pk, Actor.staff(operator), to_operator_id=supervisor.pk)
    assert claimed_at(conversation) == at(2)
    with time_machine.travel(at(7), tick=False):
        actions.transfer(conversation.pk, Actor.staff(supervisor), to_queue=True)
    with time_machine.travel(at(9), tick=False):
        actions.claim(conversation.pk, Actor.staff(operator))

    assert claimed_at(conversation) == at(2)
    kinds = list(conversation.events.values_list("kind", "created_at"))
    assert kinds == [
        (Kind.CLAIMED, at(2)),
        (Kind.TRANSFERRED, at(5)),
        (Kind.RETURNED, at(7)),
        (Kind.CLAIMED, at(9)),
    ]


def test_auto_close_counts_a_transfer_as_activity(operator, supervisor):
    with time_machine.travel(T0, tick=False):
        conversation = factories.open_conversation("Nok")
        actions.claim(conversation.pk, Actor.staff(operator))
    with time_machine.travel(at(20), tick=False):
        actions.transfer(conversation.pk, Actor.staff(operator), to_operator_id=supervisor.pk)

    # 30 quiet minutes (the default) count from the transfer at minute 20, not the claim at 0.
    assert inactivity.run(at(49)) == []
    assert Conversation.objects.get(pk=conversation.pk).status == Status.ACTIVE
    [step] = inactivity.run(at(50))
    assert (step.action, step.quiet_since) == ("close", at(20))
    assert Conversation.objects.get(pk=conversation.pk).status == Status.CLOSED


def test_migration_0017_sets_claimed_at_from_the_earliest_claim_event(operator, supervisor):
    with time_machine.travel(T0, tick=False):
        overwritten = factories.open_conversation("Nok")
        never_claimed = factories.open_conversation("Ploy")
    with time_machine.travel(at(3), tick=False):
        actions.claim(overwritten.pk, Actor.staff(operator))
    with time_machine.travel(at(8), tick=False):
        actions.transfer(overwritten.pk, Actor.staff(operator), to_queue=True)
    with time_machine.travel(at(11), tick=False):
        actions.claim(overwritten.pk, Actor.staff(supervisor))
    # What the code before 0017 left behind: the last claim in claimed_at.
    Conversation.objects.filter(pk=overwritten.pk).update(claimed_at=at(11))

    migration = importlib.import_module("livechat.migrations.0018_claimed_at_is_the_first_claim")
    migration.first_claims(apps, None)

    assert claimed_at(overwritten) == at(3)
    assert claimed_at(never_claimed) is None
