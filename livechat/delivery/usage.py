"""What LINE costs this month, for supervisors: the plan's limit of chargeable messages and how
much of it is used (LINE's quota API), and how many of our messages went out free by reply token
and how many were paid pushes (our own rows: each send records the path it took).

Warns at 80 % and 95 % of the limit. LINE is asked at most every CACHE_SECONDS (the figures are
shared by every process through the cache), and never while LINE is down.
"""

from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from livechat.delivery import circuit
from livechat.line import messaging_api
from livechat.models import Message

CACHE_KEY = "livechat:line-usage"
CACHE_SECONDS = 300
WARNING_SHARE = 0.80
CRITICAL_SHARE = 0.95


def month_start(now: datetime | None = None) -> datetime:
    """The first moment of this month in TIME_ZONE (LINE's quota runs by calendar month)."""
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def sends_by_path(since: datetime) -> dict[str, int]:
    sent = Message.objects.filter(
        direction=Message.Direction.OUT, status=Message.Status.SENT, sent_at__gte=since
    ).exclude(sent_via="")
    counts = dict(sent.values("sent_via").annotate(n=Count("pk")).values_list("sent_via", "n"))
    return {"reply": counts.get(Message.SentVia.REPLY, 0), "push": counts.get(Message.SentVia.PUSH, 0)}


def level(used: int | None, limit: int | None) -> str:
    if used is None:
        return "unknown"
    if not limit:
        return "ok"
    share = used / limit
    return "critical" if share >= CRITICAL_SHARE else "warning" if share >= WARNING_SHARE else "ok"


def line_usage() -> dict[str, Any]:
    """{limit, used, level, free_replies, paid_pushes, month} — limit None: no limit; used None:
    LINE could not be asked just now."""
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return dict(cached)
    limit: int | None = None
    used: int | None = None
    if circuit.may_call():
        try:
            limit = messaging_api.message_quota()
            used = messaging_api.message_quota_consumption()
        except messaging_api.LineError:
            limit = used = None
    start = month_start()
    ours = sends_by_path(start)
    usage = {
        "limit": limit,
        "used": used,
        "level": level(used, limit),
        "free_replies": ours["reply"],
        "paid_pushes": ours["push"],
        "month": start.strftime("%Y-%m"),
    }
    if used is not None:  # an answer from LINE is worth keeping; a failure is asked again
        cache.set(CACHE_KEY, usage, CACHE_SECONDS)
    return usage
