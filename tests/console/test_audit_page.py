"""The audit log page (/console/settings/audit/) and its CSV: supervisors and admins only; audit
rows and conversation state changes in one list, newest first; filters; pages that cost two
queries whatever the data; an export that is streamed, opens in Excel and is itself audited."""

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import StreamingHttpResponse
from django.test import Client

from accounts.models import AuditLog, User
from livechat.models import Conversation, ConversationEvent
from tests.factories import open_conversation

pytestmark = pytest.mark.django_db

BANGKOK = ZoneInfo("Asia/Bangkok")
START = datetime(2026, 11, 2, 9, 0, tzinfo=BANGKOK)
PAGE = "/console/settings/audit/"
EXPORT = "/console/settings/audit/export.csv"


def signed_in(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def boss(supervisor: User) -> Client:
    client = signed_in(supervisor)
    AuditLog.objects.filter(kind="login").delete()  # the test's own sign-in is not part of the story
    return client


def audit_at(when: datetime, kind: str, actor: User | None, target: str = "", **changes: Any) -> AuditLog:
    with time_machine.travel(when, tick=False):
        return AuditLog.objects.create(
            kind=kind, actor=actor, actor_name=actor.username if actor else "", target=target, changes=changes
        )


def event_at(
    when: datetime, conversation: Conversation, kind: str, actor: User | None, **fields: Any
) -> None:
    with time_machine.travel(when, tick=False):
        ConversationEvent.objects.create(
            conversation=conversation,
            kind=kind,
            actor_kind="operator" if actor else "system",
            actor=actor,
            **fields,
        )


def rows_of(response: Any) -> list[str]:
    """Each table row's text, whitespace squeezed."""
    html = response.content.decode()
    rows = re.findall(r'<tr data-testid="audit-entry".*?</tr>', html, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def kinds_of(response: Any) -> list[str]:
    return re.findall(r'data-testid="audit-entry" data-kind="([^"]+)"', response.content.decode())


@pytest.fixture
def story(operator: User, supervisor: User) -> Conversation:
    """A sign-in, a claim and a settings change, five minutes apart, on 2 November."""
    conversation = open_conversation("Khun Dao")
    audit_at(START, "login", operator, "/accounts/login/")
    event_at(
        START + timedelta(minutes=5),
        conversation,
        "claimed",
        operator,
        from_status="waiting",
        to_status="active",
    )
    audit_at(
        START + timedelta(minutes=10), "settings_changed", supervisor, "sla_policy", warning_percent=[80, 70]
    )
    return conversation


# --- Who gets in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PAGE, EXPORT])
def test_operators_are_refused_and_signed_out_visitors_sent_to_sign_in(operator: User, url: str) -> None:
    assert signed_in(operator).get(url).status_code == 403
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_the_log(django_user_model: type[User], role: str) -> None:
    user = django_user_model.objects.create_user(username=f"a-{role}", password="x", role=role)
    assert signed_in(user).get(PAGE).status_code == 200


def test_the_settings_navigation_links_to_the_audit_log_and_the_team_board(boss: Client) -> None:
    html = boss.get(PAGE).content.decode()
    assert 'data-testid="nav-audit"' in html and 'href="/console/settings/audit/"' in html
    assert 'href="/console/team/"' in html


# --- What it shows --------------------------------------------------------------------------------


def test_audit_rows_and_conversation_changes_are_merged_newest_first(
    boss: Client, story: Conversation
) -> None:
    response = boss.get(PAGE)

    assert kinds_of(response) == ["settings_changed", "conversation:claimed", "login"]
    settings_row, claim_row, login_row = rows_of(response)
    assert "malee" in settings_row and "sla_policy" in settings_row and "[80, 70]" in settings_row
    assert "Somchai" in claim_row and f"Conversation {story.pk} with Khun Dao" in claim_row
    assert "Waiting → Active" in claim_row
    assert "somchai" in login_row and "Signed in" in login_row


def test_filters_by_person_kind_and_dates(boss: Client, story: Conversation, operator: User) -> None:
    audit_at(START + timedelta(days=3), "export", operator, "audit_log")

    assert kinds_of(boss.get(PAGE, {"person": operator.pk})) == ["export", "conversation:claimed", "login"]
    assert kinds_of(boss.get(PAGE, {"kind": "login"})) == ["login"]
    assert kinds_of(boss.get(PAGE, {"kind": "conversation:claimed"})) == ["conversation:claimed"]
    only_the_2nd = {"start": "2026-11-02", "end": "2026-11-02"}
    assert kinds_of(boss.get(PAGE, only_the_2nd)) == ["settings_changed", "conversation:claimed", "login"]
    assert kinds_of(boss.get(PAGE, {"start": "2026-11-03"})) == ["export"]


def test_a_wrong_filter_is_explained(boss: Client, story: Conversation) -> None:
    response = boss.get(PAGE, {"start": "2026-11-05", "end": "2026-11-01"})

    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert boss.get(EXPORT, {"kind": "no-such-kind"}).status_code == 400
    assert not AuditLog.objects.filter(kind="export").exists()


def _seed(count: int, operator: User) -> None:
    """`count` audit rows and `count` conversation events, in pairs sharing the same instant."""
    conversation = open_conversation("Khun Pim")
    for i in range(count):
        when = START + timedelta(minutes=i)
        audit_at(when, "login", operator)
        event_at(when, conversation, "claimed", operator, from_status="waiting", to_status="active")


def test_paging_older_shows_every_entry_once(boss: Client, operator: User) -> None:
    _seed(40, operator)  # 80 entries: a page of 50 and one of 30

    first = boss.get(PAGE)
    older = re.search(r'href="\?([^"]+)" data-testid="audit-older"', first.content.decode())
    assert older is not None
    second = boss.get(PAGE + "?" + older.group(1).replace("&amp;", "&"))

    assert len(rows_of(first)) == 50 and len(rows_of(second)) == 30
    assert 'data-testid="audit-older"' not in second.content.decode()
    seen = rows_of(first) + rows_of(second)
    assert len(set(seen)) == 80


@pytest.mark.parametrize("pairs", [3, 60])
def test_a_page_takes_the_same_queries_whatever_the_data(
    boss: Client, operator: User, pairs: int, django_assert_num_queries: Any
) -> None:
    _seed(pairs, operator)

    # session + user + the person filter's choices + audit rows + conversation events
    with django_assert_num_queries(5):
        assert boss.get(PAGE).status_code == 200


# --- The CSV --------------------------------------------------------------------------------------


def test_the_export_is_streamed_utf8_with_bom_and_a_header(boss: Client, story: Conversation) -> None:
    response = boss.get(EXPORT, {"start": "2026-11-02", "end": "2026-11-02"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0] == ["time", "kind", "who", "address", "what", "from", "to", "details"]
    assert [row[1] for row in rows[1:]] == ["settings_changed", "conversation:claimed", "login"]
    claimed = rows[2]
    assert claimed[0] == "2026-11-02T09:05:00+07:00"
    assert claimed[2] == "Somchai" and claimed[5:7] == ["waiting", "active"]
    assert "Khun Dao" in claimed[4]


def test_the_export_is_audited_with_its_filters(boss: Client, supervisor: User, operator: User) -> None:
    response = boss.get(EXPORT, {"person": str(operator.pk), "kind": "login"}, REMOTE_ADDR="192.0.2.44")
    b"".join(response.streaming_content)  # type: ignore[attr-defined]

    export = AuditLog.objects.get(kind="export")
    assert (export.actor_id, export.address, export.target) == (supervisor.pk, "192.0.2.44", "audit_log")
    assert export.changes == {"filters": {"person": "somchai", "kind": "login", "start": None, "end": None}}


def test_the_page_speaks_thai(supervisor: User, story: Conversation) -> None:
    thai = Client(headers={"Accept-Language": "th"})
    thai.force_login(supervisor)
    page = thai.get(PAGE).content.decode()
    assert "บันทึกการตรวจสอบ" in page and "ส่งออก CSV" in page
    assert "การสนทนา: รับเรื่องแล้ว" in page and "แก้ไขการตั้งค่า" in page


def _many_sign_ins(count: int, operator: User) -> None:
    AuditLog.objects.bulk_create(
        AuditLog(kind="login", actor=operator, actor_name="somchai", created_at=START + timedelta(seconds=i))
        for i in range(count)
    )


def test_a_long_export_goes_out_a_chunk_at_a_time_newest_first(boss: Client, operator: User) -> None:
    _many_sign_ins(1100, operator)

    response = boss.get(EXPORT, {"kind": "login"})

    parts = list(response.streaming_content)  # type: ignore[attr-defined]
    assert len(parts) == 1 + 3  # the header, then 500 + 500 + 100 entries
    rows = list(csv.reader(io.StringIO(b"".join(parts).decode("utf-8").removeprefix("\ufeff"))))
    times = [row[0] for row in rows[1:]]
    assert len(times) == 1100 and times == sorted(times, reverse=True)


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_streams_without_reading_everything_first(
    supervisor: User, operator: User
) -> None:
    from asgiref.sync import sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    await sync_to_async(_many_sign_ins)(600, operator)
    client = AsyncClient()
    await client.aforce_login(supervisor)

    response = cast(
        StreamingHttpResponse, await client.get(EXPORT, {"kind": "login", "person": str(operator.pk)})
    )

    assert response.status_code == 200 and response.is_async
    parts = [part async for part in cast(AsyncIterator[bytes], response.streaming_content)]
    assert len(parts) == 1 + 2
    body = b"".join(parts).decode("utf-8")
    assert body.startswith("\ufefftime,kind,who,address,what,from,to,details\r\n")
    assert body.count("\r\n") == 601
    assert await AuditLog.objects.filter(kind="export").acount() == 1
    await sync_to_async(connections.close_all)()  # the worker thread's connection, before the flush


def test_a_page_key_that_makes_no_sense_shows_the_newest_entries(boss: Client, story: Conversation) -> None:
    response = boss.get(PAGE, {"after": "not-a-key"})

    assert response.status_code == 200
    assert kinds_of(response) == ["settings_changed", "conversation:claimed", "login"]
