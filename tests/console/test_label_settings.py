"""The labels settings page (/console/settings/labels/): supervisors add, rename, recolour and
delete labels, each change in the audit log; operators are turned away; bad colours are refused."""

import pytest
from django.test import Client

from accounts.models import AuditLog, User
from livechat.models import Conversation, Label
from tests.factories import open_conversation

pytestmark = pytest.mark.django_db


def signed_in(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def audit_changes() -> list[dict]:
    rows = AuditLog.objects.filter(kind=AuditLog.Kind.SETTINGS_CHANGED, target="labels").order_by("pk")
    return [row.changes for row in rows]


def test_a_supervisor_adds_renames_recolours_and_deletes_labels(team: dict[str, User]) -> None:
    boss = signed_in(team["malee"])
    assert boss.get("/console/settings/labels/").status_code == 200

    response = boss.post("/console/settings/labels/", {"name": " billing ", "colour": "#2563EB"})
    assert response.status_code == 302
    label = Label.objects.get()
    assert (label.name, label.colour) == ("billing", "#2563eb")
    conversation = open_conversation("Ploy", Conversation.Status.ACTIVE, operator=team["somchai"])
    conversation.labels.add(label)

    boss.post(
        f"/console/settings/labels/{label.pk}/",
        {f"l{label.pk}-name": "invoices", f"l{label.pk}-colour": "#dc2626"},
    )
    assert list(conversation.labels.values_list("name", "colour")) == [
        ("invoices", "#dc2626")
    ]  # kept, renamed

    boss.post(f"/console/settings/labels/{label.pk}/delete/")
    assert not Label.objects.exists() and not conversation.labels.exists()

    assert audit_changes() == [
        {"billing": [None, "#2563eb"]},
        {"billing": ["#2563eb", None], "invoices": [None, "#dc2626"]},
        {"invoices": ["#dc2626", None]},
    ]


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#ggg000", ""])
def test_a_colour_that_is_not_hash_and_six_hex_digits_is_refused(team: dict[str, User], colour: str) -> None:
    response = signed_in(team["malee"]).post(
        "/console/settings/labels/", {"name": "billing", "colour": colour}
    )
    assert response.status_code == 200
    assert not Label.objects.exists() and audit_changes() == []


def test_a_name_taken_in_any_case_is_refused(team: dict[str, User]) -> None:
    Label.objects.create(name="Billing")
    response = signed_in(team["malee"], "th").post(
        "/console/settings/labels/", {"name": "billing", "colour": "#000000"}
    )
    assert response.status_code == 200
    assert "มีป้ายกำกับชื่อนี้อยู่แล้ว" in response.content.decode()
    assert Label.objects.count() == 1


def test_operators_cannot_manage_labels(team: dict[str, User]) -> None:
    label = Label.objects.create(name="billing")
    somchai = signed_in(team["somchai"])
    assert somchai.get("/console/settings/labels/").status_code == 403
    assert somchai.post("/console/settings/labels/", {"name": "x", "colour": "#000000"}).status_code == 403
    assert somchai.post(f"/console/settings/labels/{label.pk}/delete/").status_code == 403
    assert list(Label.objects.values_list("name", flat=True)) == ["billing"]
    assert Client().get("/console/settings/labels/").status_code == 302  # to the login page
