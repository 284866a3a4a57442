"""The PDPA endpoints: `GET /api/v1/contacts/<id>/export` (a JSON download) and
`POST /api/v1/contacts/<id>/erase` — for supervisors and admins only, each audited with the
caller's address.
"""

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import AuditLog, User
from livechat.models import Contact, Conversation, Message
from tests.factories import open_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(
        username="boss", password="pw-boss-1", display_name="Boss", role="admin"
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_operator_may_neither_export_nor_erase(somchai: Client) -> None:
    conversation = open_conversation("Ploy", texts=("เบอร์ 081-234-5678",))
    contact_id = conversation.contact_id

    for response in (
        somchai.get(f"/api/v1/contacts/{contact_id}/export"),
        somchai.post(f"/api/v1/contacts/{contact_id}/erase"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"

    assert Contact.objects.get(pk=contact_id).display_name == "Ploy"
    assert Message.objects.get(conversation=conversation).text == "เบอร์ 081-234-5678"
    assert not AuditLog.objects.filter(kind__in=[AuditLog.Kind.EXPORT, AuditLog.Kind.ERASURE]).exists()


def test_a_stranger_is_asked_to_sign_in(db: Any) -> None:
    contact_id = open_conversation("Ploy").contact_id

    assert Client().get(f"/api/v1/contacts/{contact_id}/export").status_code == 401
    assert Client().post(f"/api/v1/contacts/{contact_id}/erase").status_code == 401


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_a_supervisor_or_admin_downloads_the_export(who: str, supervisor: User, admin: User) -> None:
    user = {"supervisor": supervisor, "admin": admin}[who]
    conversation = open_conversation("Ploy", texts=("สวัสดีค่ะ", "ขอเปลี่ยนที่อยู่"))
    other = open_conversation("Krit", texts=("ของ Krit",))

    response = signed_in(user).get(f"/api/v1/contacts/{conversation.contact_id}/export")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="contact-{conversation.contact_id}-{day}.json"'
    )
    document = json.loads(response.content)
    assert document["contact"]["display_name"] == "Ploy"
    assert [m["text"] for m in document["messages"]] == ["สวัสดีค่ะ", "ขอเปลี่ยนที่อยู่"]
    assert (
        "ของ Krit" not in response.content.decode()
        and other.contact.line_user_id not in response.content.decode()
    )
    [entry] = AuditLog.objects.filter(kind=AuditLog.Kind.EXPORT)
    assert (entry.actor, entry.target, entry.address) == (
        user,
        f"contact:{conversation.contact_id}",
        "127.0.0.1",
    )
    assert entry.changes["messages"] == 2


def test_a_supervisor_erases_a_contact(supervisor: User) -> None:
    conversation = open_conversation("Ploy", Conversation.Status.WAITING, texts=("เบอร์ 081-234-5678",))

    response = signed_in(supervisor).post(f"/api/v1/contacts/{conversation.contact_id}/erase")

    assert response.status_code == 200
    assert response.json() == {
        "contact_id": conversation.contact_id,
        "erased": {
            "conversations_closed": 1,
            "messages": 1,
            "media_files": 0,
            "event_notes": 0,
            "csat_comments": 0,
            "webhook_events": 0,
            "profile": 1,
            "private_notes": 0,
            "contact_details": 0,
        },
    }
    conversation.refresh_from_db()
    assert (conversation.status, conversation.close_reason) == ("closed", "erased")
    assert conversation.contact.display_name == ""
    assert Message.objects.get(conversation=conversation).text == ""
    [entry] = AuditLog.objects.filter(kind=AuditLog.Kind.ERASURE)
    assert (entry.actor, entry.address, entry.changes["messages"]) == (supervisor, "127.0.0.1", 1)


def test_an_admin_erases_with_an_api_token_and_again_harmlessly(admin: User) -> None:
    contact_id = open_conversation("Ploy").contact_id
    client = Client(headers={"Authorization": f"Token {Token.objects.create(user=admin).key}"})

    first = client.post(f"/api/v1/contacts/{contact_id}/erase")
    second = client.post(f"/api/v1/contacts/{contact_id}/erase")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["erased"]["profile"] == 1
    assert set(second.json()["erased"].values()) == {0}
    assert Contact.objects.get(pk=contact_id).line_user_id == f"erased-{contact_id}"


def test_an_unknown_contact_is_404(supervisor: User) -> None:
    client = signed_in(supervisor)
    for response in (
        client.get("/api/v1/contacts/999999/export"),
        client.post("/api/v1/contacts/999999/erase"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert not AuditLog.objects.filter(kind__in=[AuditLog.Kind.EXPORT, AuditLog.Kind.ERASURE]).exists()


def test_the_schema_documents_both_endpoints(somchai: Client) -> None:
    paths = somchai.get("/api/schema/?format=json").json()["paths"]

    export = paths["/api/v1/contacts/{contact_id}/export"]["get"]
    erase = paths["/api/v1/contacts/{contact_id}/erase"]["post"]
    assert {"200", "401", "403", "404"} <= set(export["responses"]) and set(erase["responses"]) >= {
        "200",
        "403",
    }
    erased = erase["responses"]["200"]["content"]["application/json"]["schema"]
    assert erased == {"$ref": "#/components/schemas/Erasure"}


def test_the_console_offers_export_and_erase_to_supervisors_only(
    somchai: Client, team: dict[str, User]
) -> None:
    thai = signed_in(team["malee"]).get("/console/").content.decode()
    assert 'data-testid="export-data"' in thai and 'data-testid="erase-dialog"' in thai
    assert "ส่งออกข้อมูล (PDPA)" in thai and "ลบข้อมูลของลูกค้ารายนี้?" in thai
    assert '"contact_erase": "/api/v1/contacts/0/erase"' in thai

    operators_page = somchai.get("/console/").content.decode()
    assert 'data-testid="personal-data"' not in operators_page
    assert 'data-testid="erase-dialog"' not in operators_page
