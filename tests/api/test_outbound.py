"""The REST endpoints the console sends through: retrying a failed send, and sending an uploaded
image (stored at a public, unguessable URL that LINE fetches).
"""

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from livechat.models import Conversation, Message
from tests.factories import open_conversation, outbound, png_bytes

# --- Retry ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_holder_retries_a_failed_message(somchai: Client, team: dict[str, User]) -> None:
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    failed = outbound(conversation, team["somchai"], "ขอโทษค่ะ", Message.Status.FAILED)

    response = somchai.post(f"/api/v1/messages/{failed.pk}/retry")

    assert response.status_code == 200
    assert response.json()["message"]["status"] == "pending"
    failed.refresh_from_db()
    assert (failed.status, failed.error, failed.attempts) == ("pending", "", 0)


@pytest.mark.django_db
def test_retry_is_for_the_holder_or_a_supervisor(team: dict[str, User]) -> None:
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    failed = outbound(conversation, team["somchai"], "ขอโทษค่ะ", Message.Status.FAILED)
    nok = Client()
    nok.force_login(team["nok"])
    refused = nok.post(f"/api/v1/messages/{failed.pk}/retry")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    failed.refresh_from_db()
    assert failed.status == "failed"

    malee = Client()
    malee.force_login(team["malee"])
    assert malee.post(f"/api/v1/messages/{failed.pk}/retry").status_code == 200


@pytest.mark.django_db
def test_only_a_failed_outbound_message_can_be_retried(somchai: Client, team: dict[str, User]) -> None:
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    sent = outbound(conversation, team["somchai"], "ok", Message.Status.SENT)
    inbound = conversation.messages.get(seq=1)
    for message in (sent, inbound):
        response = somchai.post(f"/api/v1/messages/{message.pk}/retry")
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_state"
    assert somchai.post("/api/v1/messages/999999/retry").status_code == 404
    assert Client().post(f"/api/v1/messages/{sent.pk}/retry").status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
def test_a_retried_message_reaches_line_once(line: Any, settle: Any, team: dict[str, User]) -> None:
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    failed = outbound(conversation, team["somchai"], "ส่งอีกครั้งค่ะ", Message.Status.FAILED)
    client = Client()
    client.force_login(team["somchai"])

    assert client.post(f"/api/v1/messages/{failed.pk}/retry").status_code == 200
    settle()

    failed.refresh_from_db()
    assert failed.status == "sent"
    assert line.sent_texts(conversation.contact.line_user_id) == ["ส่งอีกครั้งค่ะ"]


# --- Image upload ---------------------------------------------------------------------------------


def upload(client: Client, conversation: Conversation, content: bytes, client_id: str = "img-1") -> Any:
    return client.post(
        f"/api/v1/conversations/{conversation.pk}/send-image",
        {"image": SimpleUploadedFile("photo.png", content, content_type="image/png"), "client_id": client_id},
    )


@pytest.mark.django_db
def test_an_uploaded_image_is_sent_from_a_public_unguessable_url(
    somchai: Client, team: dict[str, User], settings: Any
) -> None:
    settings.LINE_SIMULATOR = False  # what LINE itself needs: https
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    content = png_bytes()

    response = upload(somchai, conversation, content)

    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["message"]["id"])
    assert (message.type, message.status, message.sender_kind) == ("image", "pending", "operator")
    original = message.payload["originalContentUrl"]
    assert re.fullmatch(r"https://testserver/media/outbound/[A-Za-z0-9_-]{32}/original\.png", original)
    assert message.payload["previewImageUrl"] == original  # small enough to be its own preview
    # Anyone holding the URL (LINE) may fetch it, without a login.
    fetched = Client().get(original.removeprefix("https://testserver"))
    assert fetched.status_code == 200
    assert fetched["Content-Type"] == "image/png"
    assert fetched.streaming and fetched.getvalue() == content
    # The console shows it from the staff-only media view.
    assert response.json()["message"]["media_url"] == f"/media/messages/{message.pk}/"


@pytest.mark.django_db
def test_the_public_base_url_setting_decides_the_image_url(
    somchai: Client, team: dict[str, User], settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "https://chat.example.com/"
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    message = upload(somchai, conversation, png_bytes()).json()["message"]
    assert message["payload"]["originalContentUrl"].startswith("https://chat.example.com/media/outbound/")


@pytest.mark.django_db
def test_an_upload_is_refused_unless_it_is_a_png_or_jpeg(somchai: Client, team: dict[str, User]) -> None:
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    response = upload(somchai, conversation, b"<svg onload=alert(1)>")
    assert response.status_code == 400
    assert not conversation.messages.filter(direction="out").exists()


@pytest.mark.django_db
def test_an_operator_cannot_upload_into_a_conversation_they_do_not_hold(
    somchai: Client, team: dict[str, User], settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    conversation = open_conversation("Somsri", Conversation.Status.ACTIVE, operator=team["nok"])
    response = upload(somchai, conversation, png_bytes())
    assert response.status_code == 403
    assert not conversation.messages.filter(direction="out").exists()
    assert not list((tmp_path / "outbound").glob("*/*")), "nothing is left in storage"


@pytest.mark.django_db
def test_the_same_upload_sent_twice_is_one_message(somchai: Client, team: dict[str, User]) -> None:
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    first = upload(somchai, conversation, png_bytes(), client_id="same")
    again = upload(somchai, conversation, png_bytes(), client_id="same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["message"]["id"] == again.json()["message"]["id"]
    assert conversation.messages.filter(type="image").count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_image_reaches_line(line: Any, settle: Any, team: dict[str, User]) -> None:
    conversation = open_conversation("Krit", Conversation.Status.ACTIVE, operator=team["somchai"])
    client = Client()
    client.force_login(team["somchai"])
    assert upload(client, conversation, png_bytes()).status_code == 201
    settle()
    [push] = [c for c in line.calls(user_id=conversation.contact.line_user_id) if c["endpoint"] == "push"]
    [image] = push["body"]["messages"]
    assert image["type"] == "image"
    assert "/media/outbound/" in image["originalContentUrl"]
    assert Message.objects.get(type="image").status == "sent"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/media/outbound/short/original.png", f"/media/outbound/{'a' * 32}/original.png", "/media/outbound/x/y"],
)
def test_unknown_outbound_media_is_not_found(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_an_anonymous_api_call_is_told_how_to_authenticate(client: Client) -> None:
    response = client.get("/api/v1/queue")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"' or response["WWW-Authenticate"].startswith(
        "Token"
    )
