"""Benchmark of the analytics figures (analytics.metrics) on a year of a busy OA.

Seeds a dedicated PostgreSQL database with `--conversations` conversations (default 200,000,
spread over the last 365 days) and `--messages` messages (default 5,000,000), with contacts
(most come back once), claim, transfer and return events, CSAT answers and outbound sends by
reply and push — inserted with COPY — then times, in process, `summary`, `timeseries` (by day)
and `heatmap` for the last 30 days and the last 365, each `--runs` times after a warm-up, and
prints p50/p95/max and the number of SQL queries. Also `summary` with business hours (durations
in Python) once per period, for scale.

    .venv/bin/python bench/analytics.py
    .venv/bin/python bench/analytics.py --reuse          # keep the seeded database, measure again
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/livechat_bench_analytics \
        .venv/bin/python bench/analytics.py --conversations 200000 --messages 5000000 --runs 20

The database named in DATABASE_URL (default livechat_bench_analytics) is dropped and created
again unless --reuse is given.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The seeding and the figures' percentile are bench/console.py's (bench/ is on sys.path).
sys.path.insert(0, str(ROOT / "bench"))
from console import copy_rows, percentile, recreate_database  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/livechat_bench_analytics"
OPERATORS = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per figure")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def configure_environment() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/analytics.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    os.environ.setdefault("SECRET_KEY", "bench-analytics-secret")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LINE_SIMULATOR", "1")
    os.environ.pop("REDIS_URL", None)
    return url


def seed(conversations: int, messages: int, rng: random.Random) -> float:
    """COPY a year of conversations; returns the seconds it took."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from livechat.models import BusinessHours, Contact, Conversation, ConversationEvent, CsatResponse, Message

    User = get_user_model()
    started = time.perf_counter()
    now = datetime.now(UTC)
    with transaction.atomic():
        User.objects.bulk_create(
            User(username=f"bench-op{i}", display_name=f"Operator {i}", role="operator", password="!")
            for i in range(OPERATORS)
        )
        team = list(User.objects.filter(username__startswith="bench-op").values_list("pk", flat=True))
        # Open weekdays 09:00–18:00: the SLA (and business_hours=1) count business seconds.
        BusinessHours.objects.bulk_create(
            BusinessHours(weekday=day, opens_at=dtime(9), closes_at=dtime(18)) for day in range(5)
        )
        # Conversations 2k-1 and 2k share a contact: the second comes back, often within 72 h.
        contacts = (conversations + 1) // 2
        copy_rows(
            Contact._meta.db_table,
            [
                "id",
                "line_user_id",
                "display_name",
                "picture_url",
                "status_message",
                "language",
                "is_following",
                "created_at",
            ],
            ((i, f"U{i:032x}", f"ลูกค้า {i}", "", "", "th", True, now) for i in range(1, contacts + 1)),
        )
        plan: list[dict[str, Any]] = []
        for i in range(1, conversations + 1):
            created = now - timedelta(seconds=rng.randint(0, 365 * 24 * 3600))
            roll = rng.random()
            row: dict[str, Any] = {"id": i, "contact": (i + 1) // 2, "created": created}
            if roll < 0.3:
                row.update(status="closed", closed=created + timedelta(minutes=30))
            else:
                handoff = created + timedelta(seconds=rng.randint(5, 300))
                row["handoff"] = handoff
                if roll < 0.35:
                    row.update(status="closed", closed=handoff + timedelta(minutes=rng.randint(1, 60)))
                elif roll < 0.36 and i % 2 == 0 and created > now - timedelta(days=1):
                    row.update(status="waiting")
                else:
                    claimed = handoff + timedelta(seconds=rng.expovariate(1 / 240))
                    first = claimed + timedelta(seconds=rng.expovariate(1 / 60))
                    closed = first + timedelta(seconds=rng.expovariate(1 / 900))
                    row.update(
                        status="closed",
                        claimed=claimed,
                        first=first,
                        closed=closed,
                        operator=rng.choice(team),
                        transfer=rng.random() < 0.1,
                        csat=rng.random() < 0.6,
                    )
            plan.append(row)
        copy_rows(
            Conversation._meta.db_table,
            [
                "id",
                "contact_id",
                "status",
                "assigned_operator_id",
                "created_at",
                "handoff_requested_at",
                "claimed_at",
                "first_response_at",
                "closed_at",
                "last_message_at",
                "close_reason",
                "last_seq",
                "csat_sent_at",
            ],
            (
                (
                    r["id"],
                    r["contact"],
                    r["status"],
                    r.get("operator"),
                    r["created"],
                    r.get("handoff"),
                    r.get("claimed"),
                    r.get("first"),
                    r.get("closed"),
                    r.get("closed") or r["created"],
                    "resolved" if r["status"] == "closed" else "",
                    0,
                    r["closed"] if "csat" in r else None,
                )
                for r in plan
            ),
        )

        def events() -> Iterator[tuple[Any, ...]]:
            for r in plan:
                if "claimed" not in r:
                    continue
                yield (
                    r["id"],
                    "claimed",
                    "operator",
                    r["operator"],
                    "waiting",
                    "active",
                    None,
                    r["operator"],
                    "",
                    r["claimed"],
                )
                if r["transfer"]:
                    yield (
                        r["id"],
                        "transferred",
                        "operator",
                        r["operator"],
                        "active",
                        "active",
                        r["operator"],
                        rng.choice(team),
                        "",
                        r["first"],
                    )

        copy_rows(
            ConversationEvent._meta.db_table,
            [
                "conversation_id",
                "kind",
                "actor_kind",
                "actor_id",
                "from_status",
                "to_status",
                "from_operator_id",
                "to_operator_id",
                "note",
                "created_at",
            ],
            events(),
        )
        copy_rows(
            CsatResponse._meta.db_table,
            ["conversation_id", "rating", "comment", "created_at"],
            ((r["id"], rng.randint(1, 5), "", r["closed"]) for r in plan if r.get("csat")),
        )
        per_conversation = max(1, messages // conversations)
        payload = json.dumps({"type": "text", "text": "ok"})

        def message_rows() -> Iterator[tuple[Any, ...]]:
            for r in plan:
                for seq in range(1, per_conversation + 1):
                    at = r["created"] + timedelta(seconds=20 * seq)
                    inbound = seq % 2 == 1
                    yield (
                        r["id"],
                        seq,
                        uuid.uuid4(),
                        "in" if inbound else "out",
                        "customer" if inbound else "operator",
                        "text",
                        "สวัสดีค่ะ",
                        payload,
                        "",
                        "",
                        "received" if inbound else "sent",
                        "",
                        0,
                        None if inbound else at,
                        "",
                        "" if inbound else ("reply" if seq == 2 else "push"),
                        "",
                        False,
                        at,
                    )

        copy_rows(
            Message._meta.db_table,
            [
                "conversation_id",
                "seq",
                "uuid",
                "direction",
                "sender_kind",
                "type",
                "text",
                "payload",
                "media",
                "media_status",
                "status",
                "error",
                "attempts",
                "sent_at",
                "reply_token",
                "sent_via",
                "mark_as_read_token",
                "is_unsent",
                "created_at",
            ],
            message_rows(),
        )
        with connection.cursor() as cursor:
            for model in (Contact, Conversation, Message, ConversationEvent, CsatResponse):
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )
    with connection.cursor() as cursor:
        # What autovacuum would have done by now: statistics, and the visibility map that lets
        # the LINE-sends count read its index alone.
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def measure(name: str, run: Callable[[], Any], runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run()  # warm-up: caches (schedule, SLA policy), plans
    timings = []
    with CaptureQueriesContext(connection) as captured:
        run()
    for _ in range(runs):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "name": name,
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "max": max(timings),
        "mean": statistics.fmean(timings),
        "queries": len(captured.captured_queries),
    }


def main() -> int:
    args = parse_args()
    url = configure_environment()
    rng = random.Random(args.seed)
    if not args.reuse:
        recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from analytics import metrics
    from analytics.period import Period
    from livechat.models import Conversation, Message

    call_command("migrate", "--noinput", verbosity=0)
    if not Conversation.objects.exists():
        print(f"Seeding {args.conversations:,} conversations and {args.messages:,} messages …", flush=True)
        print(f"  seeded in {seed(args.conversations, args.messages, rng):.1f} s", flush=True)
    # What `cleanup` keeps current in production: the daily LINE-sends rollup of the days over.
    started = time.perf_counter()
    call_command("analytics_rollup", "--rebuild", "--start", str(timezone.localdate() - timedelta(days=400)))
    print(f"  analytics_rollup --rebuild: {time.perf_counter() - started:.1f} s", flush=True)
    print(
        f"\nData: {Conversation.objects.count():,} conversations, {Message.objects.count():,} messages; "
        f"{args.runs} timed runs per figure after one warm-up; in process, no HTTP.\n"
    )
    today = timezone.localdate()
    periods = {
        "30 days": Period(today - timedelta(days=29), today),
        "1 year": Period(today - timedelta(days=365), today),
    }
    print(f"{'figure':<40} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'queries':>8}")
    for label, period in periods.items():
        in_hours = Period(period.start, period.end, business_hours=True)
        figures: list[tuple[str, Callable[[], Any], int]] = [
            (f"summary, {label}", partial(metrics.summary, period), args.runs),
            (f"timeseries by day, {label}", partial(metrics.timeseries, period, "day"), args.runs),
            (f"heatmap, {label}", partial(metrics.heatmap, period), args.runs),
            (f"summary, business hours, {label}", partial(metrics.summary, in_hours), 3),
        ]
        for name, run, runs in figures:
            result = measure(name, run, runs)
            print(
                f"{result['name']:<40} {result['p50']:>9.1f} {result['p95']:>9.1f} {result['max']:>9.1f}"
                f" {result['queries']:>8}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
