"""Closing conversations nobody writes in any more (PRODUCT §5a), one pass at a time for
`manage.py cleanup`.

The rules, from ServiceSettings:
- A waiting or active conversation is closed `auto_close_minutes` after its last activity — the
  last message from either side, or its handoff, claim or transfer when that came later — by the system,
  reason "inactivity" (off when `auto_close_enabled` is off).
- A waiting conversation counts only the quiet minutes inside business hours: out of hours the
  customer was told the team answers when it opens, and they keep their place until then.
- A bot conversation is closed after `bot_close_minutes`, so the next message starts afresh.
- With `close_warning_enabled`, a customer who still follows the account is told
  `close_warning_minutes` before the close (waiting and active only; a bot chat just ends). Once
  per quiet spell: a warning older than the last activity is stale. The close then waits for the
  warning and the minutes it promised, so a pass that runs late never closes without a word.

Every process may run a pass at once: each close and each warning decides again under the
conversation's row lock (livechat.conversations.actions), so each happens once.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from livechat.conversations import actions
from livechat.models import Conversation, ConversationEvent
from livechat.policies import business_hours, service

Status = Conversation.Status
WARN = "warn"
CLOSE = "close"
BATCH = 500  # conversations read per query
HUMAN_STATUSES = (Status.WAITING, Status.ACTIVE)


@dataclass(frozen=True)
class Rules:
    """The ServiceSettings of auto-close, as durations."""

    close_after: timedelta | None  # waiting and active; None: auto-close is off
    bot_close_after: timedelta
    warn_before: timedelta | None  # None: no warning
    warning_text: str
    schedule: business_hours.Schedule

    @classmethod
    def current(cls) -> "Rules":
        config = service.settings()
        # str.replace, not format(): a supervisor's text may hold other braces.
        warning_text = config.close_warning_message.replace("{minutes}", str(config.close_warning_minutes))
        return cls(
            close_after=timedelta(minutes=config.auto_close_minutes) if config.auto_close_enabled else None,
            bot_close_after=timedelta(minutes=config.bot_close_minutes),
            # No text, no warning (rather than a close that waits for a warning LINE refuses).
            warn_before=(
                timedelta(minutes=config.close_warning_minutes)
                if config.close_warning_enabled and warning_text.strip()
                else None
            ),
            warning_text=warning_text,
            schedule=business_hours.schedule(),
        )


@dataclass(frozen=True)
class Step:
    """A warning or a close, done (or, in a dry run, due)."""

    action: str  # WARN or CLOSE
    conversation_id: int
    status: str  # before the step
    contact: str
    quiet_since: datetime


# A claim, a transfer or a return to the queue: someone took charge (or gave it up) just now.
# claimed_at is the first claim only (PRODUCT §10), so the later ones are read from the events.
HANDOVER_KINDS = (
    ConversationEvent.Kind.CLAIMED,
    ConversationEvent.Kind.TRANSFERRED,
    ConversationEvent.Kind.RETURNED,
)


def _latest_handover() -> Subquery:
    return Subquery(
        ConversationEvent.objects.filter(conversation=OuterRef("pk"), kind__in=HANDOVER_KINDS)
        .order_by("-created_at")
        .values("created_at")[:1]
    )


def latest_handover_at(conversation: Conversation) -> datetime | None:
    """The last claim, transfer or return of the conversation (annotated by `_candidates`, else
    one query)."""
    if hasattr(conversation, "latest_handover_at"):
        return conversation.latest_handover_at
    latest = (
        ConversationEvent.objects.filter(conversation=conversation, kind__in=HANDOVER_KINDS)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    conversation.latest_handover_at = latest  # type: ignore[attr-defined]
    return latest


def last_activity(conversation: Conversation) -> datetime:
    """When someone last did something in it: a message from either side, the handoff, the
    latest claim, transfer or return to the queue.

    (The warning itself is not activity: it leaves last_message_at alone, see actions.warn_of_close.)
    """
    moments = (
        conversation.created_at,
        conversation.last_message_at,
        conversation.handoff_requested_at,
        conversation.claimed_at,
        latest_handover_at(conversation),
    )
    return max(t for t in moments if t is not None)


def quiet_for(conversation: Conversation, rules: Rules, now: datetime) -> timedelta:
    since = last_activity(conversation)
    if conversation.status == Status.WAITING:
        return timedelta(seconds=rules.schedule.business_seconds(since, now))
    return now - since


def warned_this_spell(conversation: Conversation) -> bool:
    warned = conversation.close_warned_at
    return warned is not None and warned >= last_activity(conversation)


def next_step(conversation: Conversation, rules: Rules, now: datetime) -> str | None:
    """WARN, CLOSE or None (nothing due yet) for the conversation (its contact loaded) at `now`."""
    if conversation.status == Status.BOT:
        return CLOSE if now - last_activity(conversation) >= rules.bot_close_after else None
    if conversation.status not in HUMAN_STATUSES or rules.close_after is None:
        return None
    quiet = quiet_for(conversation, rules, now)
    warn_before = rules.warn_before
    if warn_before is None or not conversation.contact.is_following:
        return CLOSE if quiet >= rules.close_after else None
    warned_at = conversation.close_warned_at
    if warned_at is None or not warned_this_spell(conversation):
        return WARN if quiet >= rules.close_after - warn_before else None
    if quiet >= rules.close_after and now - warned_at >= warn_before:
        return CLOSE
    return None


def _activity() -> Greatest:
    """last_activity() in SQL."""
    created = F("created_at")
    return Greatest(
        created,
        Coalesce("last_message_at", created),
        Coalesce("handoff_requested_at", created),
        Coalesce("claimed_at", created),
        Coalesce("latest_handover_at", created),
    )


def _candidates(rules: Rules, now: datetime) -> Iterator[Conversation]:
    """Open conversations quiet long enough by the wall clock that a step may be due (business
    hours and warnings are judged in Python: next_step), oldest activity first, BATCH rows per
    query (keyset paging: no cursor held open). Few rows: only open conversations, read through
    the partial index conversation_open_activity_idx."""
    due = Q(status=Status.BOT, activity__lte=now - rules.bot_close_after)
    if rules.close_after is not None:
        earliest = rules.close_after - (rules.warn_before or timedelta(0))
        due |= Q(status__in=HUMAN_STATUSES, activity__lte=now - max(earliest, timedelta(0)))
    quiet = (
        Conversation.objects.select_related("contact")
        .annotate(latest_handover_at=_latest_handover())
        .annotate(activity=_activity())
        .filter(due)
    )
    after: tuple[datetime, int] | None = None
    while True:
        page = quiet
        if after is not None:
            page = page.filter(Q(activity__gt=after[0]) | Q(activity=after[0], pk__gt=after[1]))
        rows = list(page.order_by("activity", "pk")[:BATCH])
        yield from rows
        if len(rows) < BATCH:
            return
        after = (rows[-1].activity, rows[-1].pk)


def run(
    now: datetime | None = None, *, dry_run: bool = False, stopping: Callable[[], bool] = lambda: False
) -> list[Step]:
    """One pass: warn and close what is due at `now`. Returns the steps taken (dry run: the steps
    that are due, nothing changed). `stopping()` true ends the pass early."""
    now = now or timezone.now()
    rules = Rules.current()
    steps: list[Step] = []
    for conversation in _candidates(rules, now):
        if stopping():
            break
        action = next_step(conversation, rules, now)
        if action is None:
            continue
        if not dry_run and not _take(action, conversation.pk, rules, now):
            continue  # a message came in, or another process got there first
        steps.append(
            Step(
                action=action,
                conversation_id=conversation.pk,
                status=conversation.status,
                contact=conversation.contact.display_name or conversation.contact.line_user_id,
                quiet_since=last_activity(conversation),
            )
        )
    return steps


def _take(action: str, conversation_id: int, rules: Rules, now: datetime) -> bool:
    def still(locked: Conversation) -> bool:
        return next_step(locked, rules, now) == action

    if action == CLOSE:
        return actions.close_if_inactive(conversation_id, still, now=now) is not None
    return actions.warn_of_close(conversation_id, rules.warning_text, still, now=now) is not None
