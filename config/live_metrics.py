"""The operational gauges /metrics shows, computed when Prometheus scrapes.

They are read from PostgreSQL, Redis and the cache at scrape time, so every daphne process
answers the same values (take `max` across instances in queries). A scrape costs three small
queries — conversations by status (with the oldest wait), outbound messages pending or failed,
and today's SLA breaches — plus Redis reads for presence and the LINE circuit, and the cached
LINE quota figures. docs/metrics.md lists every metric.
"""

import logging
from collections.abc import Iterable, Iterator

import redis
from django.core.cache import cache
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import disable_created_metrics
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from livechat.delivery import circuit, usage
from livechat.jobs import database
from livechat.models import Conversation, Message, SlaAlert
from livechat.realtime import presence

logger = logging.getLogger(__name__)

UNAVAILABLE = (*database.UNREACHABLE, redis.RedisError)

PRESENCE_STATUSES = ("online", "away")
CIRCUIT_STATES: tuple[circuit.State, ...] = ("closed", "open", "half_open")

# When the quota figures are not in the cache (nobody asked within usage.CACHE_SECONDS, or LINE
# did not answer), a scrape asks LINE — but at most once per this many seconds across all
# processes, so that a slow or unreachable LINE cannot slow every scrape down.
QUOTA_ASK_SECONDS = 60
QUOTA_ASK_KEY = "livechat:metrics:quota-asked"


def _families() -> dict[str, GaugeMetricFamily]:
    def gauge(name: str, documentation: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, documentation, labels=list(labels))

    return {
        "conversations": gauge("livechat_conversations", "Conversations by status.", ["status"]),
        "queue_length": gauge("livechat_queue_length", "Customers waiting in the queue for an operator."),
        "longest_wait": gauge(
            "livechat_queue_longest_wait_seconds",
            "How long the customer waiting longest has waited since the handoff (0: nobody waits).",
        ),
        "operators_online": gauge(
            "livechat_operators_online", "Operators with a console open, by their status.", ["status"]
        ),
        "outbound": gauge("livechat_outbound_messages", "Outbound messages by delivery status.", ["status"]),
        "breaches": gauge(
            "livechat_sla_breaches_today",
            "SLA breaches recorded since local midnight, by target.",
            ["kind"],
        ),
        "circuit_open": gauge(
            "livechat_line_circuit_open", "1 while LINE is not answering and sends wait (circuit open)."
        ),
        "circuit_state": gauge(
            "livechat_line_circuit_state",
            "1 for the LINE circuit's current state, 0 for the others.",
            ["state"],
        ),
        "quota_used": gauge(
            "livechat_line_push_quota_used",
            "Chargeable (push) messages used this month, as LINE counts them.",
        ),
        "quota_limit": gauge(
            "livechat_line_push_quota_limit", "This month's limit of chargeable messages (absent: no limit)."
        ),
    }


class LiveCollector(Collector):
    """Reads the gauges afresh on every scrape (prometheus_client calls `collect`)."""

    def describe(self) -> Iterable[Metric]:
        # Registration asks for the names; answering from `collect` would query at import time.
        return list(_families().values())

    def collect(self) -> Iterator[Metric]:
        families = _families()
        for read in (self._conversations, self._outbound, self._breaches, self._presence, self._line):
            try:
                read(families)
            except UNAVAILABLE as exc:
                # An outage leaves out the figures read from what is down, not the whole scrape:
                # the per-process histograms show how the outage looks from here.
                logger.warning("/metrics could not read %s", read.__name__.lstrip("_"), exc_info=True)
                if isinstance(exc, database.UNREACHABLE):
                    database.after_unreachable()
        yield from families.values()

    def _conversations(self, families: dict[str, GaugeMetricFamily]) -> None:
        rows = (
            Conversation.objects.values_list("status")
            .annotate(n=Count("*"), oldest=Min("handoff_requested_at"))
            .order_by()
        )
        by_status = {status: (n, oldest) for status, n, oldest in rows}
        for status in Conversation.Status.values:
            families["conversations"].add_metric([status], by_status.get(status, (0, None))[0])
        waiting, oldest = by_status.get(Conversation.Status.WAITING, (0, None))
        families["queue_length"].add_metric([], waiting)
        longest = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        families["longest_wait"].add_metric([], max(longest, 0.0))

    def _presence(self, families: dict[str, GaugeMetricFamily]) -> None:
        statuses = list(presence.online_now().values())
        for status in PRESENCE_STATUSES:
            families["operators_online"].add_metric([status], statuses.count(status))

    def _outbound(self, families: dict[str, GaugeMetricFamily]) -> None:
        counts = dict(
            Message.objects.filter(direction=Message.Direction.OUT, status__in=["pending", "failed"])
            .values_list("status")
            .annotate(n=Count("*"))
            .order_by()
        )
        for status in ("pending", "failed"):
            families["outbound"].add_metric([status], counts.get(status, 0))

    def _breaches(self, families: dict[str, GaugeMetricFamily]) -> None:
        midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        counts = dict(
            SlaAlert.objects.filter(level=SlaAlert.Level.BREACH, created_at__gte=midnight)
            .values_list("kind")
            .annotate(n=Count("*"))
            .order_by()
        )
        for kind in SlaAlert.Kind.values:
            families["breaches"].add_metric([kind], counts.get(kind, 0))

    def _line(self, families: dict[str, GaugeMetricFamily]) -> None:
        state = circuit.state()
        families["circuit_open"].add_metric([], 0 if state == "closed" else 1)
        for each in CIRCUIT_STATES:
            families["circuit_state"].add_metric([each], 1 if each == state else 0)
        figures = cache.get(usage.CACHE_KEY)
        # Not while the circuit is half-open: a scrape must not take the senders' one trial call.
        if figures is None and state == "closed" and cache.add(QUOTA_ASK_KEY, 1, QUOTA_ASK_SECONDS):
            figures = usage.line_usage()
        if figures is None:
            return
        if figures["used"] is not None:
            families["quota_used"].add_metric([], figures["used"])
        if figures["limit"] is not None:
            families["quota_limit"].add_metric([], figures["limit"])


REGISTRY.register(LiveCollector())
# Each histogram's and counter's start time would be one more gauge series per label set in the
# text format; Prometheus does not need it.
disable_created_metrics()
