"""One rule for who is on the team, on every surface: the role decides (operator, supervisor,
admin), not Django's is_staff — the console, its JSON, customers' media, the REST API, the
socket, and who may be handed a conversation."""

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from rest_framework.authtoken.models import Token

from accounts.models import User
from livechat.conversations import actions
from livechat.conversations.actions import ActionRefused, Actor
from livechat.models import Conversation
from tests.factories import open_conversation
from tests.ws import connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def added_in_admin(django_user_model: type[User]) -> User:
    """What "Add user" in admin makes: a role (operator by default), no staff status."""
    return django_user_model.objects.create_user(username="fon", password="pw-fon-1", display_name="Fon")


@pytest.fixture
def no_role(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(
        username="guest", password="pw-guest-1", role="", is_staff=True
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_operator_added_in_admin_uses_the_console_and_api_without_staff_status(added_in_admin):
    assert added_in_admin.role == "operator" and not added_in_admin.is_staff
    client = signed_in(added_in_admin)

    assert client.get("/console/").status_code == 200
    assert client.get("/console/api/counts").status_code == 200
    assert client.get("/api/v1/queue").status_code == 200


def test_an_account_without_a_team_role_is_refused_everywhere_and_told_why(no_role):
    client = signed_in(no_role)
    token = Token.objects.create(user=no_role)

    page = client.get("/console/", headers={"Accept-Language": "en"})
    assert page.status_code == 403
    assert b"has no team role" in page.content and b"Ask an admin" in page.content
    assert client.get("/console/api/counts").status_code == 403
    assert client.get("/api/v1/queue").status_code == 403
    assert Client().get("/api/v1/queue", headers={"Authorization": f"Token {token.key}"}).status_code == 403
    conversation = open_conversation("Krit")
    assert client.get(f"/api/v1/conversations/{conversation.pk}").status_code == 403


def test_customers_media_is_for_the_team_only(no_role, added_in_admin):
    conversation = open_conversation("Krit")
    message = conversation.messages.get()

    assert signed_in(no_role).get(f"/media/messages/{message.pk}/").status_code == 403
    assert Client().get(f"/media/messages/{message.pk}/").status_code == 302  # to the login page
    assert signed_in(added_in_admin).get(f"/media/messages/{message.pk}/").status_code == 404  # no media


async def test_the_socket_refuses_an_account_without_a_team_role(no_role):
    token = await sync_to_async(Token.objects.create)(user=no_role)
    socket = await connect(None, origin=None)

    await socket.send("auth", {"token": token.key})

    assert (await socket.expect("error"))["payload"]["code"] == "unauthenticated"
    assert (await socket.expect("__closed__"))["code"] == 4401


async def test_the_socket_accepts_an_operator_added_in_admin(added_in_admin):
    token = await sync_to_async(Token.objects.create)(user=added_in_admin)
    socket = await connect(None, origin=None)

    await socket.send("auth", {"token": token.key})

    assert (await socket.expect("auth_success"))["payload"]["operator"]["id"] == added_in_admin.pk
    await socket.close()


def test_a_conversation_cannot_be_handed_to_an_account_without_a_team_role(operator, no_role):
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=operator)

    with pytest.raises(ActionRefused) as refused:
        actions.transfer(conversation.pk, Actor.staff(operator), to_operator_id=no_role.pk)

    assert refused.value.code == "not_found"


def test_the_admin_form_asks_for_the_role(admin_client: Any):
    page = admin_client.get("/admin/accounts/user/add/")

    assert page.status_code == 200
    assert b'name="role"' in page.content
