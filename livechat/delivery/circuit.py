"""A circuit breaker in front of LINE, shared by every process through the cache (Redis).

When LINE keeps failing — FAILURES_TO_OPEN 5xx answers, timeouts or network errors within
WINDOW_SECONDS, counted across all processes — the circuit opens: for COOL_OFF_SECONDS nobody
calls LINE, and outbound messages wait `pending`, in order, instead of each spending its
attempts on its own schedule and ending `failed`. Then one caller may try (half-open): if LINE
answers, the circuit closes and the waiting messages go out in `seq` order; if not, it opens
again. Operators hear of both changes (`line_status` frames) and /metrics shows the state.
"""

import logging
import time
from typing import Literal

from django.conf import settings
from django.core.cache import cache

from livechat.realtime import frames, groups, publish

logger = logging.getLogger(__name__)

FAILURES_TO_OPEN = 5
WINDOW_SECONDS = 60

FAILURES_KEY = "livechat:line-circuit:failures"
OPEN_UNTIL_KEY = "livechat:line-circuit:open-until"
PROBE_KEY = "livechat:line-circuit:probe"

State = Literal["closed", "open", "half_open"]

_clock = time.time  # the tests freeze it


def cool_off_seconds() -> float:
    return float(settings.LINE_CIRCUIT_COOL_OFF_SECONDS)


def state() -> State:
    open_until: float | None = cache.get(OPEN_UNTIL_KEY)
    if open_until is None:
        return "closed"
    return "open" if _clock() < open_until else "half_open"


def reopens_at() -> float | None:
    """When the next call may be tried (epoch seconds), while the circuit is not closed."""
    open_until: float | None = cache.get(OPEN_UNTIL_KEY)
    return open_until


def may_call() -> bool:
    """Whether this caller may call LINE now. Half-open: exactly one caller gets to try."""
    current = state()
    if current == "closed":
        return True
    if current == "open":
        return False
    return bool(cache.add(PROBE_KEY, 1, timeout=max(1, int(cool_off_seconds()))))


def failed() -> None:
    """LINE failed as an outage looks (5xx, timeout, network): count it, everywhere."""
    if state() == "half_open":
        _open("the trial call failed too")
        return
    cache.add(FAILURES_KEY, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(FAILURES_KEY)
    except ValueError:  # expired between add and incr
        cache.set(FAILURES_KEY, 1, timeout=WINDOW_SECONDS)
        count = 1
    if count >= FAILURES_TO_OPEN and state() == "closed":
        _open(f"{count} failures within {WINDOW_SECONDS} s")


def succeeded() -> None:
    """LINE answered: the count starts again, and an open circuit closes."""
    cache.delete(FAILURES_KEY)
    if cache.get(OPEN_UNTIL_KEY) is not None:
        cache.delete_many([OPEN_UNTIL_KEY, PROBE_KEY])
        logger.warning("LINE answers again: sending resumes")
        publish.now([(groups.OPERATORS, frames.line_status("closed", None))])


def _open(why: str) -> None:
    until = _clock() + cool_off_seconds()
    cache.set(OPEN_UNTIL_KEY, until, timeout=None)
    cache.delete_many([FAILURES_KEY, PROBE_KEY])
    logger.warning("LINE is not answering (%s): no calls for %.0f s", why, cool_off_seconds())
    publish.now([(groups.OPERATORS, frames.line_status("open", until))])
