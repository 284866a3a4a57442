"""A console session ends after SESSION_IDLE_HOURS (12) without activity: activity moves the end,
at most one session write per SESSION_ACTIVITY_RESOLUTION_SECONDS; an ended session signs the
console out, and its sockets close with 4401 (the console then asks to sign in again)."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import idle_sessions
from tests.ws import connect, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

IDLE = timedelta(seconds=settings.SESSION_COOKIE_AGE)


def signed_in(client: Client, user) -> Session:
    client.force_login(user)
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def idle_for(session: Session, how_long: timedelta) -> None:
    """As if the last activity was `how_long` ago."""
    data = session.get_decoded()
    data[idle_sessions.SEEN] -= int(how_long.total_seconds())
    Session.objects.filter(pk=session.pk).update(
        session_data=Session.objects.encode(data), expire_date=timezone.now() + IDLE - how_long
    )


def test_the_default_is_twelve_hours_without_activity(client: Client, operator) -> None:
    session = signed_in(client, operator)

    assert IDLE == timedelta(hours=12)
    assert abs(session.expire_date - (timezone.now() + IDLE)) < timedelta(minutes=1)


def test_activity_moves_the_end_but_not_with_a_write_on_every_request(client: Client, operator) -> None:
    session = signed_in(client, operator)
    idle_for(session, timedelta(hours=11))

    assert client.get("/console/").status_code == 200
    moved = Session.objects.get(pk=session.pk).expire_date
    assert abs(moved - (timezone.now() + IDLE)) < timedelta(minutes=1)

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/console/").status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"] and q["sql"].startswith("UPDATE")]


def test_after_twelve_idle_hours_the_console_asks_to_sign_in_again(client: Client, operator) -> None:
    session = signed_in(client, operator)
    idle_for(session, IDLE + timedelta(minutes=1))

    response = client.get("/console/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


async def test_a_socket_closes_with_4401_when_its_session_ends(operator) -> None:
    cookie = await sync_to_async(session_cookie)(operator)
    # The session runs out a second from now, as after 12 idle hours: the socket does not outlive it.
    await sync_to_async(Session.objects.update)(expire_date=timezone.now() + timedelta(seconds=1))
    socket = await connect(cookie=cookie)
    await socket.expect("auth_success")

    error = await socket.expect("error", timeout=6)
    closed = await socket.expect("__closed__", timeout=3)

    assert error["payload"]["code"] == "unauthenticated"
    assert closed["code"] == 4401


async def test_working_through_the_socket_keeps_the_session_alive(operator, settings) -> None:
    settings.SESSION_ACTIVITY_RESOLUTION_SECONDS = 0
    socket = await connect(operator)
    await socket.expect("auth_success")
    session = await sync_to_async(Session.objects.get)()
    await sync_to_async(idle_for)(session, timedelta(hours=11))

    await socket.send("set_status", {"status": "away"})
    await socket.expect("presence_update", timeout=5, where=lambda p: "away" in str(p))

    moved = (await sync_to_async(Session.objects.get)()).expire_date
    assert abs(moved - (timezone.now() + IDLE)) < timedelta(minutes=1)
    await socket.close()
