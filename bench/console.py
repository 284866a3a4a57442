"""Benchmark of the operator console's server time with a lot of data.

Seeds a dedicated PostgreSQL database with `--conversations` conversations (default 10,000) and
`--messages` messages (default 500,000, spread over the conversations), with contacts, events,
read markers and a team of operators — inserted with COPY, so seeding takes seconds, not
minutes — then measures, in process through Django's full request stack (middleware, session
auth, templates; no network), the server time of:

- the console page `GET /console/` (what an operator's browser loads first),
- the console page with a conversation open `GET /console/?c=<id>`,
- a 50-message history page `GET /api/v1/conversations/<id>/messages?before_seq=…&limit=50`
  (scrolling up in the chat),
- the latest 50 messages `GET /api/v1/conversations/<id>/messages?limit=50`,
- a list page of the "All open" and "Closed" tabs `GET /console/api/conversations?tab=…`,
- the customer panel `GET /console/api/conversations/<id>/panel`,

and prints p50/p95/max per request and the number of SQL queries each made. Target: p95 ≤ 150 ms
for the console page and the history page.

    .venv/bin/python bench/console.py
    .venv/bin/python bench/console.py --reuse          # keep the seeded database, measure again
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/livechat_bench_console \
        .venv/bin/python bench/console.py --conversations 10000 --messages 500000 --requests 300

The database named in DATABASE_URL (default livechat_bench_console) is dropped and created again
unless --reuse is given. Exit status 1 if a target is missed.
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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/livechat_bench_console"
TARGET_P95_MS = 150.0
OPERATORS = 20
TEXTS = [
    "สวัสดีค่ะ",
    "สั่งของไปเมื่อวาน ยังไม่ได้รับเลยค่ะ",
    "ขอบคุณมากครับ 🙏",
    "ร้านเปิดกี่โมงคะ",
    "Hi, where is my order?",
    "Do you ship to Chiang Mai?",
    "เปลี่ยนที่อยู่จัดส่งได้ไหมครับ",
    "โปรโมชั่นเดือนนี้มีอะไรบ้างคะ 😊",
    "Can I pay by PromptPay?",
    "ได้รับของแล้วค่ะ สวยมาก",
]
REPLIES = ["รับทราบค่ะ ตรวจสอบให้นะคะ", "Your parcel left our warehouse today.", "ขอเลขคำสั่งซื้อด้วยค่ะ"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per endpoint")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def configure_environment() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/console.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    os.environ["DATABASE_URL"] = url
    # The normal settings with plain static file storage (no collectstatic manifest needed here).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    os.environ.setdefault("SECRET_KEY", "bench-console-secret")
    os.environ["DEBUG"] = "0"
    os.environ["HTTPS_ONLY"] = "0"  # the test client speaks plain HTTP
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
    os.environ.setdefault("LINE_SIMULATOR", "1")
    os.environ.pop("REDIS_URL", None)  # the page and the REST calls never touch the channel layer
    return url


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- Seeding ------------------------------------------------------------------------------------


def copy_rows(table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY rows into a table; returns how many.

    A NOT NULL column the caller leaves out gets its model field's default, so a column added
    to a model later (with a default) does not break the seeding."""
    from django.apps import apps
    from django.db import connection

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    missing = [
        f
        for f in model._meta.concrete_fields
        if f.column not in columns
        and not f.null
        and not f.primary_key
        and (f.has_default() or f.empty_strings_allowed)
    ]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in missing)
    columns = [*columns, *(str(f.column) for f in missing)]
    count = 0
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(table)} ({column_list}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row((*row, *defaults))
                count += 1
    return count


def seed(conversations: int, messages: int, rng: random.Random) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from livechat.models import Contact, Conversation, ConversationEvent, Message, ReadMarker

    User = get_user_model()
    started = time.perf_counter()
    now = datetime.now(UTC)
    with transaction.atomic():
        team = [
            User(
                username=f"bench-op{i}",
                display_name=f"Operator {i}",
                role="supervisor" if i == 0 else "operator",
                is_staff=True,
                password="!",
            )
            for i in range(OPERATORS)
        ]
        User.objects.bulk_create(team)
        team = list(User.objects.filter(username__startswith="bench-op").order_by("pk"))
        me = team[1]

        contact_ids = range(1, conversations + 1)
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
                "followed_at",
                "profile_fetched_at",
                "created_at",
            ],
            (
                (
                    i,
                    f"U{i:032x}",
                    f"ลูกค้า {i}" if i % 2 else f"Customer {i}",
                    "",
                    "",
                    "th",
                    i % 50 != 0,
                    now,
                    now,
                    now - timedelta(days=60),
                )
                for i in contact_ids
            ),
        )

        # Status mix of a busy OA: most conversations closed, a working set open.
        per_conversation = max(1, messages // conversations)
        plan: list[tuple[int, str, int | None, datetime, int]] = []
        for i in contact_ids:
            roll = i % 100
            if roll < 2:
                status, operator = "waiting", None
            elif roll < 5:
                status, operator = "active", team[1 + i % (OPERATORS - 1)].pk
            elif roll < 10:
                status, operator = "bot", None
            else:
                status, operator = "closed", team[1 + i % (OPERATORS - 1)].pk
            last = (
                now - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
                if status == "closed"
                else (now - timedelta(seconds=rng.randint(5, 3600)))
            )
            plan.append((i, status, operator, last, per_conversation))
        # Whatever does not divide evenly goes to the newest conversations.
        extra = messages - per_conversation * conversations
        for index in range(max(0, extra)):
            i, status, operator, last, n = plan[index % conversations]
            plan[index % conversations] = (i, status, operator, last, n + 1)

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
            ],
            (
                (
                    i,
                    i,
                    status,
                    operator,
                    last - timedelta(minutes=n),
                    last - timedelta(minutes=n // 2) if status in ("waiting", "active", "closed") else None,
                    last - timedelta(minutes=n // 3) if status in ("active", "closed") else None,
                    last - timedelta(minutes=n // 3) if status in ("active", "closed") else None,
                    last if status == "closed" else None,
                    last,
                    "Resolved" if status == "closed" else "",
                    n,
                )
                for i, status, operator, last, n in plan
            ),
        )

        empty_json = json.dumps({})

        def message_rows() -> Iterator[tuple[Any, ...]]:
            for i, _status, operator, last, n in plan:
                start = last - timedelta(minutes=n)
                for seq in range(1, n + 1):
                    inbound = seq % 3 != 0
                    text = rng.choice(TEXTS) if inbound else rng.choice(REPLIES)
                    at = start + timedelta(minutes=seq)
                    yield (
                        i,
                        seq,
                        uuid.uuid4(),
                        "in" if inbound else "out",
                        "customer" if inbound else ("operator" if operator else "bot"),
                        None if inbound else operator,
                        "text",
                        text,
                        empty_json if inbound else json.dumps({"type": "text", "text": text}),
                        "",
                        "",
                        "received" if inbound else "sent",
                        "",
                        0 if inbound else 1,
                        None if inbound else at,
                        "",
                        "",
                        False,
                        at,
                    )

        copied = copy_rows(
            Message._meta.db_table,
            [
                "conversation_id",
                "seq",
                "uuid",
                "direction",
                "sender_kind",
                "operator_id",
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
                "mark_as_read_token",
                "is_unsent",
                "created_at",
            ],
            message_rows(),
        )

        def event_rows() -> Iterator[tuple[Any, ...]]:
            for i, status, operator, last, _n in plan:
                yield (i, "created", "customer", None, "", "bot", None, None, "", last - timedelta(hours=1))
                if status in ("waiting", "active", "closed"):
                    yield (
                        i,
                        "handoff",
                        "customer",
                        None,
                        "bot",
                        "waiting",
                        None,
                        None,
                        "",
                        last - timedelta(minutes=50),
                    )
                if status in ("active", "closed"):
                    yield (
                        i,
                        "claimed",
                        "operator",
                        operator,
                        "waiting",
                        "active",
                        None,
                        operator,
                        "",
                        last - timedelta(minutes=45),
                    )
                if status == "closed":
                    yield (
                        i,
                        "closed",
                        "operator",
                        operator,
                        "active",
                        "closed",
                        operator,
                        None,
                        "Resolved",
                        last,
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
            event_rows(),
        )
        # The bench operator has read some of the open conversations part of the way.
        ReadMarker.objects.bulk_create(
            ReadMarker(operator=me, conversation_id=i, last_read_seq=max(0, n - rng.randint(0, 5)))
            for i, status, _op, _last, n in plan
            if status != "closed" and rng.random() < 0.5
        )
        with connection.cursor() as cursor:
            for model in (Contact, Conversation, Message, ConversationEvent):
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"seconds": time.perf_counter() - started, "messages": copied, "operator": me.username}


# --- Measuring ----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lower = int(k)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (k - lower)


def measure(
    name: str, make_url: Callable[[], str], client: Any, requests: int, warmup: int
) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(make_url())
        assert response.status_code == 200, (name, response.status_code)
    timings = []
    queries = set()
    for _ in range(requests):
        url = make_url()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (name, url, response.status_code)
        timings.append(elapsed)
        queries.add(len(captured.captured_queries))
    return {
        "name": name,
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "max": max(timings),
        "mean": statistics.fmean(timings),
        "queries": "/".join(str(q) for q in sorted(queries)),
    }


def main() -> int:
    args = parse_args()
    url = configure_environment()
    rng = random.Random(args.seed)
    if not args.reuse:
        recreate_database(url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from livechat.models import Conversation, Message

    call_command("migrate", "--noinput", verbosity=0)
    User = get_user_model()
    if not User.objects.filter(username="bench-op1").exists():
        print(f"Seeding {args.conversations:,} conversations and {args.messages:,} messages …", flush=True)
        result = seed(args.conversations, args.messages, rng)
        print(f"  seeded {result['messages']:,} messages in {result['seconds']:.1f} s", flush=True)
    conversations = Conversation.objects.count()
    messages = Message.objects.count()
    operator = User.objects.get(username="bench-op1")
    client = Client()
    client.force_login(operator)

    ids = list(Conversation.objects.values_list("pk", "last_seq"))
    open_ids = list(Conversation.objects.exclude(status="closed").values_list("pk", flat=True))

    def history_url() -> str:
        pk, last_seq = rng.choice(ids)
        before = rng.randint(min(51, last_seq), last_seq) if last_seq > 1 else 1
        return f"/api/v1/conversations/{pk}/messages?before_seq={before}&limit=50"

    endpoints: list[tuple[str, Callable[[], str]]] = [
        ("console page  GET /console/", lambda: "/console/"),
        ("console page, chat open  GET /console/?c=<id>", lambda: f"/console/?c={rng.choice(open_ids)}"),
        ("history page (50, scrolling up)", history_url),
        ("latest 50 messages", lambda: f"/api/v1/conversations/{rng.choice(ids)[0]}/messages?limit=50"),
        ("list: All open tab", lambda: "/console/api/conversations?tab=open"),
        ("list: Closed tab", lambda: "/console/api/conversations?tab=closed"),
        ("customer panel", lambda: f"/console/api/conversations/{rng.choice(ids)[0]}/panel"),
    ]
    print(
        f"\nData: {conversations:,} conversations, {messages:,} messages; "
        f"{args.requests} requests per endpoint after {args.warmup} warm-up; server time in process.\n"
    )
    print(f"{'endpoint':<48} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    results = []
    for name, make_url in endpoints:
        result = measure(name, make_url, client, args.requests, args.warmup)
        results.append(result)
        figures = f"{result['p50']:>8.1f} {result['p95']:>8.1f} {result['max']:>8.1f}"
        print(f"{name:<48} {figures} {result['queries']:>8}")
    targets = [results[0], results[2]]
    missed = [r["name"] for r in targets if r["p95"] > TARGET_P95_MS]
    print(
        f"\nTarget p95 ≤ {TARGET_P95_MS:.0f} ms for the console page and the history page: "
        + ("met" if not missed else f"MISSED by {', '.join(missed)}")
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
