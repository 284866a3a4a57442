"""`/analytics/export.csv`: PRODUCT §10's header and formats exactly, one row per conversation of
the period, streamed page by page, for supervisors and admins only, each export audited."""

import csv
import io
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from rest_framework.authtoken.models import Token

from accounts.models import AuditLog, User
from analytics import export
from livechat.models import Contact
from tests.analytics import day

pytestmark = pytest.mark.django_db

URL = "/analytics/export.csv"
MONDAY = {"start": "2026-11-02", "end": "2026-11-02"}
HEADER = (
    "conversation_id,created_at,status,contact_name,operator,handoff_requested_at,claimed_at,"
    "first_response_at,closed_at,close_reason,wait_seconds,first_response_seconds,resolution_seconds,"
    "handle_seconds,transfers,csat_rating,labels"
)


@pytest.fixture
def boss(supervisor: User) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


def body(response) -> str:
    """The streamed file, read as daphne reads it: an async iterator, page by page."""
    assert response.is_async

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(read)().decode("utf-8")


def test_the_file_is_utf8_with_a_bom_and_the_exact_header(boss):
    day.build()

    response = boss.get(URL, MONDAY)

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="conversations-2026-11-02-2026-11-02.csv"'
    text = body(response)
    assert text.startswith("\ufeff" + HEADER + "\r\n")


def test_one_row_per_conversation_with_offsets_and_empty_cells(boss):
    built = day.build()
    c = built.conversations

    rows = {
        int(r["conversation_id"]): r for r in csv.DictReader(io.StringIO(body(boss.get(URL, MONDAY))[1:]))
    }

    # Monday's 8, not Tuesday's.
    assert set(rows) == {conversation.pk for name, conversation in c.items() if name != "tuesday"}
    # First claimed by Somchai (then transferred to Nok); 10:05 − 10:02 = 180 s, etc.
    assert rows[c["transferred"].pk] == {
        "conversation_id": str(c["transferred"].pk),
        "created_at": "2026-11-02T10:00:00+07:00",
        "status": "closed",
        "contact_name": 'ลูกค้า, "โอน"',
        "operator": "Somchai",
        "handoff_requested_at": "2026-11-02T10:02:00+07:00",
        "claimed_at": "2026-11-02T10:05:00+07:00",
        "first_response_at": "2026-11-02T10:06:00+07:00",
        "closed_at": "2026-11-02T10:50:00+07:00",
        "close_reason": "resolved",
        "wait_seconds": "180.0",
        "first_response_seconds": "240.0",
        "resolution_seconds": "2880.0",
        "handle_seconds": "2700.0",
        "transfers": "1",
        "csat_rating": "5",
        "labels": "",
    }
    # Still waiting: nothing after the handoff applies.
    assert rows[c["waiting"].pk] == {
        "conversation_id": str(c["waiting"].pk),
        "created_at": "2026-11-02T17:00:00+07:00",
        "status": "waiting",
        "contact_name": "waiting",
        "operator": "",
        "handoff_requested_at": "2026-11-02T17:01:00+07:00",
        "claimed_at": "",
        "first_response_at": "",
        "closed_at": "",
        "close_reason": "",
        "wait_seconds": "",
        "first_response_seconds": "",
        "resolution_seconds": "",
        "handle_seconds": "",
        "transfers": "0",
        "csat_rating": "",
        "labels": "",
    }
    # Across midnight: closed on Tuesday, first claimed by Somchai at 23:55, one return.
    midnight = rows[c["midnight"].pk]
    assert (
        midnight["operator"],
        midnight["closed_at"],
        midnight["handle_seconds"],
        midnight["transfers"],
    ) == (
        "Somchai",
        "2026-11-03T00:20:00+07:00",
        "1500.0",
        "1",
    )


def test_a_name_that_is_a_formula_is_not_run_by_a_spreadsheet(boss):
    contact = Contact.objects.create(line_user_id="U" + "f" * 32, display_name="=HYPERLINK(1)")
    contact.conversations.create()

    rows = list(csv.DictReader(io.StringIO(body(boss.get(URL))[1:])))

    assert [r["contact_name"] for r in rows] == ["'=HYPERLINK(1)"]


def test_it_is_read_page_by_page(boss, monkeypatch, django_assert_num_queries):
    day.build()
    monkeypatch.setattr(export, "PAGE", 3)

    # Session, user, audit row; then the operators' names and 8 rows in pages of 3: 3 + 1 + 3.
    with django_assert_num_queries(7):
        text = body(boss.get(URL, MONDAY))

    ids = [line.split(",")[0] for line in text.splitlines()[1:]]
    assert len(ids) == len(set(ids)) == 8
    assert ids == sorted(ids, key=int)


def test_each_export_is_audited(boss, supervisor):
    boss.get(URL, {**MONDAY, "business_hours": "1"})

    entry = AuditLog.objects.get(kind=AuditLog.Kind.EXPORT)
    assert (entry.actor, entry.target) == (supervisor, "analytics: conversations CSV")
    assert entry.changes["start"] == "2026-11-02"
    assert entry.changes["business_hours"] is True


def test_only_supervisors_and_admins_may_export(operator, django_user_model):
    as_operator = Client()
    as_operator.force_login(operator)
    admin = django_user_model.objects.create_user(username="boss", password="pw", role="admin")
    token = Token.objects.create(user=admin).key

    assert as_operator.get(URL, MONDAY).status_code == 403
    assert Client().get(URL, MONDAY).status_code == 401
    assert Client().get(URL, MONDAY, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert AuditLog.objects.filter(kind=AuditLog.Kind.EXPORT).count() == 1


def test_a_bad_period_exports_nothing(boss):
    response = boss.get(URL, {"start": "2026-11-05", "end": "2026-11-01"})

    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert not AuditLog.objects.filter(kind=AuditLog.Kind.EXPORT).exists()


def test_through_the_asgi_handler_the_file_streams(supervisor):
    day.build()

    async def download() -> tuple[int, bool, bytes]:
        client = AsyncClient()
        await client.aforce_login(supervisor)
        response: Any = await client.get(URL, MONDAY)
        chunks = [chunk async for chunk in response.streaming_content]
        return response.status_code, response.is_async, b"".join(chunks)

    status, streamed, content = async_to_sync(download)()

    assert (status, streamed) == (200, True)
    assert content.decode("utf-8").count("\r\n") == 1 + 8  # the header and Monday's 8
