"""The LINE webhook's own instruments: how long LINE waits for our answer, and what it sends.

Under daphne the webhook skips Django (webhook.py), so the request histogram of
config/request_metrics.py never sees it. Both live in this process; Prometheus scrapes each
daphne process (docs/metrics.md).
"""

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import Counter, Histogram

# LINE answers within its 2-second limit or redelivers: the buckets are dense below it.
WEBHOOK_SECONDS = Histogram(
    "livechat_webhook_duration_seconds",
    "Time from a LINE webhook body arriving to our answer, by the answer's HTTP status.",
    ["status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
)
WEBHOOK_EVENTS = Counter(
    "livechat_webhook_events",
    "Events in signed webhook bodies, by LINE's event type (message, follow, postback, …).",
    ["type"],
)

# A type is LINE's word for it ("message", "memberJoined"); anything else is counted as "other",
# so that a malformed event cannot add label values.
_EVENT_TYPE = re.compile(r"[A-Za-z]{1,32}")


class Answer:
    """The status the webhook answers, set once known (a crash leaves it 500)."""

    status = 500


@contextmanager
def timed() -> Iterator[Answer]:
    answer = Answer()
    started = time.perf_counter()
    try:
        yield answer
    finally:
        WEBHOOK_SECONDS.labels(status=str(answer.status)).observe(time.perf_counter() - started)


def count_events(events: list[Any]) -> None:
    for event in events:
        kind = event.get("type") if isinstance(event, dict) else None
        known = isinstance(kind, str) and _EVENT_TYPE.fullmatch(kind)
        WEBHOOK_EVENTS.labels(type=kind if known else "other").inc()
