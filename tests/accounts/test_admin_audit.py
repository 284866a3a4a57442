"""Changes made in Django admin — people (created, role, deactivated, password, capacity) and the
settings-like rows (bot texts, keywords, auto-replies, canned responses, hours, holidays, service
settings, SLA) — are each one audit row with the old and new values and the admin's address."""

from datetime import date

import pytest
from django.test import Client

from accounts.models import AuditLog, User
from livechat.models import AutoReply, CannedResponse, HandoffKeyword, Holiday, Label, ServiceSettings

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.7"


def _changes(client: Client) -> list[AuditLog]:
    """The rows other than the test client's own sign-in."""
    return list(AuditLog.objects.exclude(kind__in=["login", "logout"]).order_by("pk"))


def _user_form(user: User, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username,
        "role": user.role,
        "display_name": user.display_name,
        "max_chats": user.max_chats,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on" if user.is_active else "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_a_role_change_deactivation_and_capacity_are_one_row_with_old_and_new(
    admin_client: Client, admin_user: User, operator: User
) -> None:
    response = admin_client.post(
        f"/admin/accounts/user/{operator.pk}/change/",
        _user_form(operator, role="supervisor", is_active="", max_chats=2),
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302, response.content[:2000]
    [row] = _changes(admin_client)
    assert (row.kind, row.actor_id, row.address) == ("user_changed", admin_user.pk, ADDRESS)
    assert row.changes == {
        "role": ["operator", "supervisor"],
        "is_active": [True, False],
        "max_chats": [5, 2],
    }
    assert row.target == "user:somchai"


def test_saving_a_user_unchanged_writes_nothing(admin_client: Client, operator: User) -> None:
    admin_client.post(f"/admin/accounts/user/{operator.pk}/change/", _user_form(operator))

    assert _changes(admin_client) == []


def test_creating_a_user_is_recorded_without_the_password_hash(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "nida",
            "role": "operator",
            "display_name": "Nida",
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
            "usable_password": "true",
        },
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302, response.content[:2000]
    [row] = _changes(admin_client)
    assert (row.kind, row.address) == ("user_created", ADDRESS)
    assert row.changes["username"] == [None, "nida"]
    assert row.changes["role"] == [None, "operator"]
    assert row.changes["password"] == [None, "(changed)"]
    assert User.objects.get(username="nida").password not in str(row.changes)


def test_a_password_change_is_recorded_and_the_hash_is_not(admin_client: Client, operator: User) -> None:
    old_hash = operator.password
    response = admin_client.post(
        f"/admin/accounts/user/{operator.pk}/password/",
        {"password1": "another-pass-456", "password2": "another-pass-456", "set_usable_password": "true"},
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302, response.content[:2000]
    [row] = _changes(admin_client)
    assert (row.kind, row.address) == ("password_changed", ADDRESS)
    assert row.changes == {"password": ["(set)", "(changed)"]}
    operator.refresh_from_db()
    assert old_hash not in str(row.changes) and operator.password not in str(row.changes)


def test_deleting_a_user_is_recorded(admin_client: Client, operator: User) -> None:
    admin_client.post(f"/admin/accounts/user/{operator.pk}/delete/", {"post": "yes"}, REMOTE_ADDR=ADDRESS)

    [row] = _changes(admin_client)
    assert (row.kind, row.address) == ("user_deleted", ADDRESS)
    assert row.changes["username"] == ["somchai", None]


def test_a_handoff_keyword_edited_in_the_change_list_is_recorded(admin_client: Client) -> None:
    keyword = HandoffKeyword.objects.order_by("pk").first()
    assert keyword is not None
    others = list(HandoffKeyword.objects.order_by("pk"))
    data: dict[str, object] = {
        "form-TOTAL_FORMS": len(others),
        "form-INITIAL_FORMS": len(others),
        "_save": "Save",
    }
    for i, other in enumerate(others):
        data[f"form-{i}-id"] = other.pk
        if other.pk != keyword.pk:
            data[f"form-{i}-is_active"] = "on"

    admin_client.post("/admin/livechat/handoffkeyword/", data, REMOTE_ADDR=ADDRESS)

    [row] = _changes(admin_client)
    assert (row.kind, row.address) == ("settings_changed", ADDRESS)
    assert row.changes == {"is_active": [True, False]}
    assert row.target.startswith(f"admin:livechat.handoffkeyword:{keyword.pk}")


def test_an_auto_reply_added_and_a_canned_response_changed_are_recorded(admin_client: Client) -> None:
    admin_client.post(
        "/admin/livechat/autoreply/add/", {"keyword": "ราคา", "reply_text": "ดูราคาที่เว็บไซต์", "is_active": "on"}
    )
    canned = CannedResponse.objects.create(title="Hello", shortcut="hello", text="Hello!")
    admin_client.post(
        f"/admin/livechat/cannedresponse/{canned.pk}/change/",
        {"title": "Hello", "shortcut": "hello", "text": "สวัสดีค่ะ", "is_active": "on"},
    )

    added, changed = _changes(admin_client)
    reply = AutoReply.objects.get()
    assert added.target.startswith(f"admin:livechat.autoreply:{reply.pk}")
    assert added.changes["keyword"] == [None, "ราคา"]
    assert changed.changes == {"text": ["Hello!", "สวัสดีค่ะ"]}


def test_service_settings_and_a_deleted_holiday_are_recorded(admin_client: Client) -> None:
    ServiceSettings.objects.get_or_create(pk=1)
    holiday = Holiday.objects.create(date=date(2026, 12, 10), name="Constitution Day")
    admin_client.post(
        "/admin/livechat/holiday/",
        {"action": "delete_selected", "_selected_action": [holiday.pk], "post": "yes"},
        REMOTE_ADDR=ADDRESS,
    )

    [row] = _changes(admin_client)
    assert row.kind == "settings_changed"
    assert row.changes["date"] == ["2026-12-10", None]
    assert row.changes["name"] == ["Constitution Day", None]


def test_a_label_renamed_in_admin_is_recorded(admin_client: Client) -> None:
    label = Label.objects.create(name="VIP", colour="#aa0000")
    admin_client.post(
        f"/admin/livechat/label/{label.pk}/change/",
        {"name": "ลูกค้าสำคัญ", "colour": "#aa0000"},
        REMOTE_ADDR=ADDRESS,
    )

    [row] = _changes(admin_client)
    assert row.kind == "settings_changed"
    assert row.address == ADDRESS
    assert row.changes == {"name": ["VIP", "ลูกค้าสำคัญ"]}
