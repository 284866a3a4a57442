"""The team signs in and out at /accounts/; the demo team exists once, however often it is seeded."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Model

from livechat.management.commands.seed_demo import DEMO_TEAM
from livechat.models import Contact, Conversation, ConversationEvent, Message

pytestmark = pytest.mark.django_db


def test_the_login_page_renders(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_the_login_page_speaks_english_and_thai(client):
    english = client.get("/accounts/login/", headers={"Accept-Language": "en"})
    thai = client.get("/accounts/login/", headers={"Accept-Language": "th"})

    assert english.status_code == thai.status_code == 200
    assert b'lang="en"' in english.content
    assert b'lang="th"' in thai.content


def test_an_operator_signs_in_and_lands_on_the_console(client, operator):
    response = client.post("/accounts/login/", {"username": "somchai", "password": "pw-somchai-1"})

    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert client.session["_auth_user_id"] == str(operator.pk)


def test_a_wrong_password_is_refused(client, operator):
    response = client.post("/accounts/login/", {"username": "somchai", "password": "guess"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logging_out_takes_a_post(client, operator):
    client.force_login(operator)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def counts() -> dict[str, int]:
    models: list[type[Model]] = [get_user_model(), Contact, Conversation, Message, ConversationEvent]
    return {m.__name__: m._default_manager.count() for m in models}


def test_seed_demo_can_run_twice_without_duplicating_anything():
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")

    assert counts() == first
    assert first["User"] == 3
    assert first["Contact"] >= 3
    assert set(Conversation.objects.values_list("status", flat=True)) >= {"bot", "waiting", "active"}
    for conversation in Conversation.objects.all():
        seqs = list(conversation.messages.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.parametrize(("username", "password", "name", "role"), DEMO_TEAM, ids=[t[0] for t in DEMO_TEAM])
def test_the_demo_logins_open_the_admin(client, username, password, name, role):
    call_command("seed_demo")

    signed_in = client.post("/accounts/login/", {"username": username, "password": password})
    assert signed_in.status_code == 302
    user = get_user_model().objects.get(username=username)
    assert (user.display_name, user.role) == (name, role)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/livechat/conversation/").status_code == 200
