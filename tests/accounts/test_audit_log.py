"""Sign-ins, failed sign-ins (password or API token) and sign-outs are in the audit log with who,
when and from which address; nobody can change or delete an entry from the app."""

import pytest
from django.test import Client

from accounts.models import AuditLog

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.10"


def test_a_sign_in_and_a_sign_out_are_recorded_with_the_address(client: Client, operator) -> None:
    client.post("/accounts/login/", {"username": "somchai", "password": "pw-somchai-1"}, REMOTE_ADDR=ADDRESS)
    client.post("/accounts/logout/", REMOTE_ADDR=ADDRESS)

    entries = list(AuditLog.objects.order_by("pk").values_list("kind", "actor", "actor_name", "address"))
    assert entries == [
        ("login", operator.pk, "somchai", ADDRESS),
        ("logout", operator.pk, "somchai", ADDRESS),
    ]


def test_a_wrong_password_is_recorded_with_the_name_typed_not_the_password(client: Client, operator) -> None:
    client.post("/accounts/login/", {"username": "somchai", "password": "secret-guess"}, REMOTE_ADDR=ADDRESS)
    client.post("/accounts/login/", {"username": "nobody", "password": "x"}, REMOTE_ADDR=ADDRESS)

    failed = list(AuditLog.objects.order_by("pk"))
    assert [(e.kind, e.actor_id, e.actor_name, e.address) for e in failed] == [
        ("login_failed", operator.pk, "somchai", ADDRESS),
        ("login_failed", None, "nobody", ADDRESS),
    ]
    assert "secret-guess" not in str([e.changes for e in failed])


def test_a_wrong_api_token_is_a_failed_sign_in_from_its_address(client: Client) -> None:
    response = client.get("/api/v1/queue", HTTP_AUTHORIZATION="Token not-a-token", REMOTE_ADDR=ADDRESS)

    assert response.status_code == 401
    entry = AuditLog.objects.get()
    assert (entry.kind, entry.address, entry.target) == ("login_failed", ADDRESS, "/api/v1/queue")


def test_the_audit_log_is_read_only_in_admin(admin_client: Client, operator) -> None:
    Client().post("/accounts/login/", {"username": "somchai", "password": "pw-somchai-1"})
    entry = AuditLog.objects.get(kind="login", actor=operator)

    assert admin_client.get("/admin/accounts/auditlog/").status_code == 200
    deleting = admin_client.post(f"/admin/accounts/auditlog/{entry.pk}/delete/", {"post": "yes"})
    assert deleting.status_code == 403
    admin_client.post(f"/admin/accounts/auditlog/{entry.pk}/change/", {"actor_name": "someone else"})
    entry.refresh_from_db()
    assert entry.actor_name == "somchai"
    assert admin_client.get("/admin/accounts/auditlog/add/").status_code == 403
