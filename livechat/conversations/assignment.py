"""Auto-assignment: waiting customers go to online operators who have room (PRODUCT §5a).

Off by default (ServiceSettings.auto_assign_enabled). When on, the customer who has waited
longest (handoff time, then id: the queue's order) goes to the operator who is online — not
away — and holds fewer active chats than their capacity (User.max_chats): the one with the
fewest, then the one whose last assignment is longest ago (never first), then the lowest id.
Nobody with room: the customer waits, and the next pass hands them over.

A pass runs after every change that could let one more customer through (a handoff, a close or
a transfer of an active chat, a return to the queue: livechat.conversations.actions), when an
operator comes online or sets themselves online (the console socket), and periodically from
`cleanup`. `assign_waiting()` may be called from anywhere, by any number of processes at once.
"""

import logging
import threading

from django.db import connection, transaction
from django.db.models import Count, F, Q

from accounts.models import User
from livechat.conversations import actions, permissions
from livechat.conversations.permissions import ActionRefused
from livechat.jobs import background
from livechat.models import Conversation
from livechat.policies import service
from livechat.realtime import presence

logger = logging.getLogger(__name__)

Status = Conversation.Status

# Every process deciding an assignment takes this PostgreSQL advisory lock (transaction-level:
# released by the commit), so decisions happen one at a time and each sees the ones before it.
# Row locks on the operators would not do: the choice compares every online operator's load,
# so a decider would lock them all (in one order, or deadlock) — the same serialisation, with
# more to get wrong — and the queue's head must be taken exclusively too. One lock that only
# deciders take keeps claims, messages and everything else free of it. ("lcassign" in ASCII.)
ADVISORY_LOCK = 0x6C63_6173_7369_676E


def assign_waiting() -> int:
    """Assign as many waiting conversations as operators have free slots; returns how many."""
    if not service.settings().auto_assign_enabled:
        return 0
    available = [pk for pk, status in presence.online_now().items() if status == "online"]
    assigned = 0
    while available and _assign_next(available):
        assigned += 1
    return assigned


def _assign_next(available: list[int]) -> bool:
    """Give the queue's head to the best operator among `available`; False when the queue is
    empty or nobody has room."""
    with transaction.atomic():
        _decide_alone()
        # Not SKIP LOCKED: a waiting customer's new message holds their row for a moment, and
        # they keep their turn. A row claimed by hand meanwhile fails the re-check after the
        # wait, and PostgreSQL hands over the next one instead.
        head = (
            Conversation.objects.filter(status=Status.WAITING)
            .select_for_update(of=("self",))
            .order_by(F("handoff_requested_at").asc(nulls_last=True), "id")
            .first()
        )
        if head is None:
            return False
        operator = _operator_with_room(available)
        if operator is None:
            return False
        try:
            actions.assign(head.pk, operator)
        except ActionRefused:  # cannot happen under the row lock; logged if it ever does
            logger.warning("auto-assignment of conversation %s refused", head.pk, exc_info=True)
            return False
    return True


def _decide_alone() -> None:
    # SQLite (the embedded, single-process set-up) has one writer at a time anyway.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])


def _operator_with_room(available: list[int]) -> User | None:
    return (
        permissions.team_members()
        .filter(pk__in=available)
        .annotate(
            active=Count("assigned_conversations", filter=Q(assigned_conversations__status=Status.ACTIVE))
        )
        .filter(active__lt=F("max_chats"))
        .order_by("active", F("last_assigned_at").asc(nulls_first=True), "id")
        .first()
    )


# --- In the background, after a commit --------------------------------------------------------

_due = threading.Lock()
_pass_due = False


def assign_waiting_soon() -> None:
    """Run a pass in this process's background pool; safe to call from async code (it does not
    touch the database). Calls while a pass waits to start add nothing: that pass will see
    whatever committed before it starts."""
    global _pass_due
    with _due:
        if _pass_due:
            return
        _pass_due = True
    background.submit(_background_pass)


def assign_waiting_on_commit() -> None:
    transaction.on_commit(assign_waiting_soon)


def _background_pass() -> None:
    global _pass_due
    with _due:
        _pass_due = False
    assign_waiting()
