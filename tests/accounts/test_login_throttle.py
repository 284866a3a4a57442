"""Passwords cannot be guessed at leisure: after a few failed sign-ins in a row the account, and the
address they came from, must wait — on the console's sign-in page and Django admin's alike —
and every sign-in, failed or not, is on record."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

A, B = "203.0.113.10", "198.51.100.20"


def sign_in(client: Client, username: str, password: str, address: str, path: str = "/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_after_the_limit_even_the_right_password_waits_and_is_told_why(client, operator):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "somchai", "guess", A).status_code == 200  # the form again, with an error
    assert sign_in(client, "somchai", "guess", A).status_code == 429  # the last one allowed

    locked = sign_in(client, "somchai", "pw-somchai-1", A)

    assert locked.status_code == 429
    assert "เข้าสู่ระบบไม่สำเร็จหลายครั้งเกินไป".encode() in locked.content
    assert "_auth_user_id" not in client.session


def test_the_account_is_paused_from_any_address_and_the_address_for_any_account(client, operator, supervisor):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "somchai", "guess", A)

    assert sign_in(Client(), "somchai", "pw-somchai-1", B).status_code == 429  # the account
    assert sign_in(Client(), "malee", "pw-malee-1", A).status_code == 429  # the address
    fresh = sign_in(Client(), "malee", "pw-malee-1", B)
    assert fresh.status_code == 302 and fresh["Location"] == "/console/"


def test_django_admin_sign_in_counts_the_same_failures(client, operator):
    operator.is_staff = True
    operator.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "somchai", "guess", A, path="/admin/login/")

    assert sign_in(client, "somchai", "pw-somchai-1", A, path="/accounts/login/").status_code == 429


def test_a_success_before_the_limit_starts_the_count_again(client, operator):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "somchai", "guess", A)
    assert sign_in(client, "somchai", "pw-somchai-1", A).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "somchai", "guess", A)
    assert sign_in(Client(), "somchai", "pw-somchai-1", A).status_code == 302


def test_every_sign_in_is_on_record(client, operator):
    sign_in(client, "somchai", "guess", A)
    sign_in(client, "somchai", "pw-somchai-1", A)

    assert AccessFailureLog.objects.filter(username="somchai", ip_address=A).count() == 1
    assert AccessLog.objects.filter(username="somchai", ip_address=A).count() == 1
    assert not AccessAttempt.objects.filter(username="somchai").exists()  # reset on success


def test_an_address_guessing_api_tokens_waits_and_others_do_not(client, operator):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=operator)

    def call(key: str, address: str) -> int:
        return (
            Client().get("/api/v1/queue", HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR=address).status_code
        )

    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert call(f"guess-{i}", A) == 401
    assert call("the-last-guess", A) == 429

    assert call(token.key, A) == 429  # even the right token, from the guessing address
    assert call(token.key, B) == 200  # the account itself is not locked by someone's guesses
    assert AccessFailureLog.objects.filter(ip_address=A).count() == settings.AXES_FAILURE_LIMIT


@pytest.mark.django_db(transaction=True)
async def test_the_socket_counts_wrong_tokens_like_the_api(operator):
    from asgiref.sync import sync_to_async
    from rest_framework.authtoken.models import Token

    from tests.ws import connect

    token = await sync_to_async(Token.objects.create)(user=operator)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        socket = await connect(None, origin=None)
        await socket.send("auth", {"token": "a-wrong-guess"})
        assert (await socket.expect("__closed__"))["code"] == 4401

    socket = await connect(None, origin=None)
    await socket.send("auth", {"token": token.key})

    error = await socket.expect("error")
    assert "Too many wrong tokens" in error["payload"]["message"]
    assert (await socket.expect("__closed__"))["code"] == 4401
