"""Supervisors see what LINE costs this month: the plan's limit and how much is used (LINE's quota
API), and how many of our messages went out free by reply token and how many as paid pushes."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from livechat.conversations import actions
from livechat.delivery import usage
from livechat.models import Conversation, Message
from tests.factories import open_conversation

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sent(conversation: Conversation, via: str, when=None) -> None:
    Message.objects.create(
        conversation=conversation,
        seq=Message.objects.filter(conversation=conversation).count() + 1,
        direction=Message.Direction.OUT,
        sender_kind=Message.SenderKind.OPERATOR,
        type=Message.Type.TEXT,
        text="ok",
        status=Message.Status.SENT,
        sent_via=via,
        sent_at=when or timezone.now(),
    )


@pytest.mark.parametrize(
    ("used", "limit", "level"),
    [
        (0, 500, "ok"),
        (399, 500, "ok"),
        (400, 500, "warning"),
        (475, 500, "critical"),
        (9, None, "ok"),
        (None, 500, "unknown"),
    ],
)
def test_it_warns_at_80_and_95_percent(used, limit, level) -> None:
    assert usage.level(used, limit) == level


def test_supervisors_see_this_months_sends_by_path_and_operators_may_not(line, operator, supervisor) -> None:
    conversation = open_conversation("Ploy", Conversation.Status.ACTIVE, operator=operator)
    for via in ("reply", "reply", "push"):
        sent(conversation, via)
    sent(conversation, "push", when=usage.month_start() - timedelta(days=1))  # last month

    answer = signed_in(supervisor).get("/console/api/line-usage")

    assert answer.status_code == 200
    figures = answer.json()
    assert (figures["free_replies"], figures["paid_pushes"]) == (2, 1)
    assert figures["month"] == timezone.localtime().strftime("%Y-%m")
    assert signed_in(operator).get("/console/api/line-usage").status_code == 403
    assert Client().get("/console/api/line-usage").status_code == 401


def test_a_sent_message_says_which_path_it_took(operator) -> None:
    conversation = open_conversation("Ploy", Conversation.Status.ACTIVE, operator=operator)
    sent(conversation, "reply")

    answer = signed_in(operator).get(f"/console/api/conversations/{conversation.pk}")

    vias = [m["sent_via"] for m in answer.json()["messages"] if m["direction"] == "out"]
    assert vias == ["reply"]


def test_supervisors_see_lines_own_quota_figures(line, supervisor, operator, settle) -> None:
    line.http.post("/simulator/control/quota", json={"limit": 10}).raise_for_status()
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=operator)
    for n in range(9):  # 9 pushes of 10: past 80 %, below 95 %
        with transaction.atomic():
            actions.queue_outbound(
                conversation,
                {"type": "text", "text": f"push {n}"},
                sender_kind=Message.SenderKind.OPERATOR,
                operator=operator,
            )
        settle()

    figures = signed_in(supervisor).get("/console/api/line-usage").json()

    assert (figures["limit"], figures["used"], figures["level"]) == (10, 9, "warning")
    assert figures["paid_pushes"] == 9
