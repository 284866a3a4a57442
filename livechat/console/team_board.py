"""What the supervisors' team board (`/console/team/`) shows: each team member's availability and
load against their capacity, the queue (longest wait first), the active conversations and the
ones at SLA risk (a standing warning or breach, livechat.conversations.sla).

Two queries whatever the size of the team or the queue — the team with its active counts, and the
open conversations with their SLA state as a subquery — plus the presence read from Redis.
"""

from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

# The console list's own SLA annotation, so that the board and the list show the same state.
from livechat.console.queries import _sla_state, _with_sla
from livechat.conversations import permissions
from livechat.models import Conversation, SlaAlert
from livechat.realtime import presence
from livechat.realtime.payloads import contact_payload, operator_payload

Status = Conversation.Status
OFFLINE = "offline"


def _team(statuses: dict[int, str]) -> list[dict[str, Any]]:
    members = (
        permissions.team_members()
        .annotate(
            active=Count("assigned_conversations", filter=Q(assigned_conversations__status=Status.ACTIVE))
        )
        .order_by("display_name", "username")
    )
    return [
        {
            **operator_payload(member),
            "status": statuses.get(member.pk, OFFLINE),
            "active": member.active,
            "capacity": member.max_chats,
        }
        for member in members
    ]


def _row(conversation: Conversation, now: datetime) -> dict[str, Any]:
    since = conversation.handoff_requested_at
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "contact": contact_payload(conversation.contact),
        "operator": operator_payload(conversation.assigned_operator),
        "waiting_since": since.isoformat() if since else None,
        "waited_seconds": int((now - since).total_seconds()) if since else 0,
        "claimed_at": conversation.claimed_at.isoformat() if conversation.claimed_at else None,
        "sla": _sla_state(conversation.sla),  # type: ignore[attr-defined]  # the annotation
    }


def board() -> dict[str, Any]:
    now = timezone.now()
    open_ones = _with_sla(
        Conversation.objects.filter(status__in=[Status.WAITING, Status.ACTIVE]).select_related(
            "contact", "assigned_operator"
        )
    ).order_by("handoff_requested_at", "id")
    rows = [_row(conversation, now) for conversation in open_ones]
    return {
        "generated_at": now.isoformat(),
        "team": _team(presence.online_now()),
        "queue": [row for row in rows if row["status"] == Status.WAITING],  # longest wait first
        "active": [row for row in rows if row["status"] == Status.ACTIVE],
        "at_risk": sorted(
            (row for row in rows if row["sla"]),
            key=lambda row: (row["sla"]["level"] != SlaAlert.Level.BREACH, row["sla"]["due_at"]),
        ),
    }
