"""The console's settings pages (/console/settings/…): who gets in, what each form saves and how
the policies see it at once, what a wrong value is told, the audit rows, Thai and English."""

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from accounts.models import AuditLog, User
from livechat.models import BusinessHours, Holiday, ServiceSettings, SlaAlert, SlaPolicy
from livechat.policies import business_hours, service, thai_holidays

pytestmark = pytest.mark.django_db(transaction=True)

BANGKOK = ZoneInfo("Asia/Bangkok")
SECTIONS = ["hours", "holidays", "service", "capacity", "sla"]
MONDAY = date(2027, 3, 1)  # a Monday that is no Thai public holiday


def at(day: date, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BANGKOK)


def signed_in(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


@pytest.fixture
def boss(supervisor: User) -> Client:
    return signed_in(supervisor)


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def audit_rows(target: str | None = None) -> list[AuditLog]:
    rows = AuditLog.objects.filter(kind=AuditLog.Kind.SETTINGS_CHANGED).order_by("pk")
    return list(rows.filter(target=target) if target else rows)


# --- Who gets in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("section", SECTIONS)
def test_signed_out_visitors_are_sent_to_the_login_page(section):
    response = Client().get(f"/console/settings/{section}/")

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/console/settings/{section}/"


@pytest.mark.parametrize("section", SECTIONS)
def test_an_operator_is_refused_and_told_who_may(operator, section):
    response = signed_in(operator).get(f"/console/settings/{section}/")

    assert response.status_code == 403
    assert "Settings are for supervisors and admins" in text_of(response)


def test_an_operator_cannot_change_a_setting_by_posting(operator):
    response = signed_in(operator).post("/console/settings/holidays/thai/2027/")

    assert response.status_code == 403
    assert not Holiday.objects.exists()


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_open_every_section(django_user_model, role):
    user = django_user_model.objects.create_user(username=f"a-{role}", password="pw-x-1", role=role)
    client = signed_in(user)

    for section in SECTIONS:
        page = client.get(f"/console/settings/{section}/")
        assert page.status_code == 200, section
        assert f'data-section="{section}"' in text_of(page)
    assert client.get("/console/settings/")["Location"] == "/console/settings/hours/"


def test_the_console_links_to_settings_for_supervisors_only(operator, boss):
    assert 'href="/console/settings/"' in text_of(boss.get("/console/"))
    assert 'href="/console/settings/"' not in text_of(signed_in(operator).get("/console/"))


# --- Business hours -------------------------------------------------------------------------------


def hours_data(
    new: dict[int, list[tuple[str, str]]] | None = None,
    change: dict[int, tuple[str, str] | None] | None = None,
) -> dict[str, str]:
    """The business-hours form as a browser posts it: every saved period as it is (or as
    `change` says: new times, or None to remove it), plus the `new` periods in empty rows."""
    new, change = new or {}, change or {}
    data: dict[str, str] = {}
    for weekday in range(7):
        prefix = f"day{weekday}"
        saved = list(BusinessHours.objects.filter(weekday=weekday))
        rows = [(p.pk, f"{p.opens_at:%H:%M}", f"{p.closes_at:%H:%M}") for p in saved]
        extra = new.get(weekday, []) or [("", "")]
        for i, (pk, opens, closes) in enumerate(rows):
            data[f"{prefix}-{i}-id"] = str(pk)
            if pk in change and change[pk] is None:
                data[f"{prefix}-{i}-DELETE"] = "on"
            opens, closes = change.get(pk) or (opens, closes)
            data[f"{prefix}-{i}-opens_at"], data[f"{prefix}-{i}-closes_at"] = opens, closes
        for i, (opens, closes) in enumerate(extra, start=len(rows)):
            data[f"{prefix}-{i}-id"] = ""
            data[f"{prefix}-{i}-opens_at"], data[f"{prefix}-{i}-closes_at"] = opens, closes
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows) + len(extra)),
                f"{prefix}-INITIAL_FORMS": str(len(rows)),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def test_a_split_shift_applies_at_once_and_is_audited(boss):
    assert business_hours.schedule().is_open(at(MONDAY, "12:30"))  # no hours yet: always open

    response = boss.post(
        "/console/settings/hours/", hours_data(new={0: [("09:00", "12:00"), ("13:00", "18:00")]})
    )

    assert response.status_code == 302
    hours = business_hours.schedule()
    assert hours.is_open(at(MONDAY, "09:00")) and hours.is_open(at(MONDAY, "17:59"))
    assert not hours.is_open(at(MONDAY, "12:30"))
    assert not hours.is_open(at(MONDAY, "08:59"))
    assert "Saved. The change applies at once." in text_of(boss.get(response["Location"]))
    [row] = audit_rows("business_hours")
    assert row.changes == {"monday": [[], ["09:00-12:00", "13:00-18:00"]]}
    assert row.actor_name == "malee" and row.address == "127.0.0.1"


def test_a_period_closing_at_midnight_runs_to_the_end_of_the_day(boss):
    boss.post("/console/settings/hours/", hours_data(new={4: [("18:00", "00:00")]}))  # Friday

    friday = date(2027, 3, 5)
    assert business_hours.schedule().is_open(at(friday, "23:59"))
    assert not business_hours.schedule().is_open(at(date(2027, 3, 6), "00:01"))


def test_changing_and_removing_periods(boss):
    morning = BusinessHours.objects.create(weekday=0, opens_at="09:00", closes_at="12:00")
    evening = BusinessHours.objects.create(weekday=0, opens_at="13:00", closes_at="18:00")

    boss.post(
        "/console/settings/hours/", hours_data(change={morning.pk: ("08:00", "12:00"), evening.pk: None})
    )

    hours = business_hours.schedule()
    assert hours.is_open(at(MONDAY, "08:30"))
    assert not hours.is_open(at(MONDAY, "14:00"))
    assert audit_rows("business_hours")[0].changes == {
        "monday": [["09:00-12:00", "13:00-18:00"], ["08:00-12:00"]]
    }


def test_removing_the_last_period_makes_the_team_always_open_again(boss):
    only = BusinessHours.objects.create(weekday=0, opens_at="09:00", closes_at="18:00")
    assert not business_hours.schedule().is_open(at(MONDAY, "20:00"))

    boss.post("/console/settings/hours/", hours_data(change={only.pk: None}))

    assert business_hours.schedule().is_open(at(MONDAY, "20:00"))
    assert "the team counts as always open" in text_of(boss.get("/console/settings/hours/"))


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ([("18:00", "09:00")], "A period must close after it opens (use 00:00 to close at midnight)."),
        ([("09:00", "12:00"), ("11:00", "13:00")], "The periods 09:00–12:00 and 11:00–13:00 overlap."),
        ([("09:00", "")], "This field is required."),
    ],
)
def test_a_wrong_period_is_explained_and_nothing_is_saved(boss, periods, message):
    response = boss.post("/console/settings/hours/", hours_data(new={1: periods}))

    assert response.status_code == 200
    assert message in text_of(response)
    assert not BusinessHours.objects.exists()
    assert not audit_rows()


def test_an_overlap_with_a_saved_period_is_refused(boss):
    BusinessHours.objects.create(weekday=2, opens_at="13:00", closes_at="00:00")

    response = boss.post("/console/settings/hours/", hours_data(new={2: [("20:00", "22:00")]}))

    assert "The periods 13:00–00:00 and 20:00–22:00 overlap." in text_of(response)
    assert BusinessHours.objects.count() == 1


def test_saving_the_same_hours_again_writes_no_audit_row(boss):
    BusinessHours.objects.create(weekday=0, opens_at="09:00", closes_at="18:00")

    response = boss.post("/console/settings/hours/", hours_data())

    assert "Nothing changed." in text_of(boss.get(response["Location"]))
    assert not audit_rows()


# --- Holidays -------------------------------------------------------------------------------------


@pytest.fixture
def weekdays_9_to_6() -> None:
    for weekday in range(5):
        BusinessHours.objects.create(weekday=weekday, opens_at="09:00", closes_at="18:00")


@pytest.mark.usefixtures("weekdays_9_to_6")
def test_a_holiday_closes_the_day_and_deleting_it_reopens_it(boss):
    response = boss.post("/console/settings/holidays/", {"date": "2027-03-01", "name": "Company day"})

    assert response.status_code == 302
    assert not business_hours.schedule().is_open(at(MONDAY, "10:00"))
    [added] = audit_rows("holidays")
    assert added.changes == {"2027-03-01": [[], ["Company day: closed"]]}

    holiday = Holiday.objects.get()
    boss.post(f"/console/settings/holidays/{holiday.pk}/delete/")

    assert business_hours.schedule().is_open(at(MONDAY, "10:00"))
    assert audit_rows("holidays")[1].changes == {"2027-03-01": [["Company day: closed"], []]}


@pytest.mark.usefixtures("weekdays_9_to_6")
def test_a_holiday_with_special_hours_opens_only_then(boss):
    boss.post(
        "/console/settings/holidays/",
        {"date": "2027-03-01", "name": "Half day", "opens_at": "09:00", "closes_at": "12:00"},
    )

    hours = business_hours.schedule()
    assert hours.is_open(at(MONDAY, "11:00"))
    assert not hours.is_open(at(MONDAY, "13:00"))


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"opens_at": "09:00"}, "Give both times for special hours, or neither for a closed day."),
        ({"opens_at": "12:00", "closes_at": "09:00"}, "A period must close after it opens"),
        ({"opens_at": "10:00", "closes_at": "14:00"}, "The periods 09:00–12:00 and 10:00–14:00 overlap."),
        ({}, "2027-03-01 already has special hours."),
    ],
)
def test_a_wrong_holiday_is_explained_and_nothing_is_saved(boss, form, message):
    Holiday.objects.create(date=MONDAY, name="Half day", opens_at="09:00", closes_at="12:00")

    response = boss.post("/console/settings/holidays/", {"date": "2027-03-01", "name": "Another", **form})

    assert response.status_code == 200
    assert message in text_of(response)
    assert Holiday.objects.count() == 1
    assert not audit_rows()


def test_the_page_lists_upcoming_holidays_only(supervisor, time_machine):
    time_machine.move_to(at(date(2027, 5, 1), "10:00"))
    Holiday.objects.create(date=date(2027, 4, 13), name="Songkran")
    Holiday.objects.create(date=date(2027, 7, 28), name="King's Birthday")

    page = text_of(signed_in(supervisor).get("/console/settings/holidays/"))

    assert "King&#x27;s Birthday" in page and "Songkran" not in page


@pytest.mark.usefixtures("weekdays_9_to_6")
def test_thai_public_holidays_are_loaded_once(boss):
    listed = thai_holidays.listed(2027)
    assert listed

    first = text_of(boss.post("/console/settings/holidays/thai/2027/", follow=True))
    again = text_of(boss.post("/console/settings/holidays/thai/2027/", follow=True))

    assert Holiday.objects.filter(date__year=2027).count() == len(listed)
    assert f"Added {len(listed)} Thai public holidays for 2027." in first
    assert "Every Thai public holiday of 2027 is already in the calendar." in again
    assert not business_hours.schedule().is_open(at(date(2027, 1, 1), "10:00"))  # New Year's Day, a Friday
    [row] = audit_rows("holidays")
    assert len(row.changes) == len(listed)


def test_loading_thai_holidays_keeps_special_hours_someone_set(boss):
    first = thai_holidays.listed(2027)[0]
    Holiday.objects.create(date=first.day, name="Open in the morning", opens_at="09:00", closes_at="12:00")

    boss.post("/console/settings/holidays/thai/2027/")

    assert list(Holiday.objects.filter(date=first.day).values_list("name", flat=True)) == [
        "Open in the morning"
    ]


def test_the_page_offers_each_shipped_year_and_says_until_when(supervisor, time_machine):
    time_machine.move_to(at(date(2026, 12, 1), "10:00"))

    page = text_of(signed_in(supervisor).get("/console/settings/holidays/"))

    for year in thai_holidays.years():
        assert f"Load Thai public holidays for {year}" in page
    assert f"up to {thai_holidays.valid_through():%-d %B %Y}" in page


# --- Service settings -----------------------------------------------------------------------------


def service_data(**changes: Any) -> dict[str, Any]:
    """The service form as the page shows it now, with `changes` (False unticks a checkbox)."""
    row, _ = ServiceSettings.objects.get_or_create(pk=1)
    data: dict[str, Any] = {
        "after_hours_message": row.after_hours_message,
        "auto_assign_enabled": row.auto_assign_enabled,
        "auto_close_enabled": row.auto_close_enabled,
        "auto_close_minutes": row.auto_close_minutes,
        "close_warning_enabled": row.close_warning_enabled,
        "close_warning_minutes": row.close_warning_minutes,
        "close_warning_message": row.close_warning_message,
        "bot_close_minutes": row.bot_close_minutes,
        "csat_enabled": row.csat_enabled,
        "csat_after_auto_close": row.csat_after_auto_close,
        "csat_expiry_hours": row.csat_expiry_hours,
        "csat_question": row.csat_question,
        "csat_thanks": row.csat_thanks,
        "csat_comment_thanks": row.csat_comment_thanks,
        "retention_days": row.retention_days or "",
        "webhook_retention_days": row.webhook_retention_days,
        **changes,
    }
    return {key: ("on" if value is True else value) for key, value in data.items() if value is not False}


def test_service_settings_apply_at_once_and_the_audit_says_what_changed(boss):
    response = boss.post(
        "/console/settings/service/",
        service_data(auto_assign_enabled=True, auto_close_minutes=45, retention_days=90),
    )

    assert response.status_code == 302
    now = service.settings()
    assert now.auto_assign_enabled and now.auto_close_minutes == 45 and now.retention_days == 90
    [row] = audit_rows("service_settings")
    assert row.changes == {
        "auto_assign_enabled": [False, True],
        "auto_close_minutes": [30, 45],
        "retention_days": [None, 90],
    }


def test_csat_is_switched_on_in_the_service_settings(boss):
    response = boss.post("/console/settings/service/", service_data(csat_enabled=True, csat_expiry_hours=48))

    assert response.status_code == 302
    assert service.settings().csat_enabled and service.settings().csat_expiry_hours == 48
    [row] = audit_rows("service_settings")
    assert row.changes == {"csat_enabled": [False, True], "csat_expiry_hours": [24, 48]}


def test_emptying_retention_keeps_messages_again(boss):
    ServiceSettings.objects.update_or_create(pk=1, defaults={"retention_days": 30})

    boss.post("/console/settings/service/", service_data(retention_days=""))

    assert service.settings().retention_days is None


def test_saving_unchanged_service_settings_writes_no_audit_row(boss):
    response = boss.post("/console/settings/service/", service_data())

    assert "Nothing changed." in text_of(boss.get(response["Location"]))
    assert not audit_rows()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"after_hours_message": "ปิดแล้วค่ะ เปิด {next_open}"},
            "Unknown placeholder {next_open}; this text may use {next_open_th}, {next_open_en}.",
        ),
        (
            {"close_warning_message": "Closing in {minutes} min {"},
            "Write { and } in pairs around a placeholder.",
        ),
        ({"auto_close_minutes": 0}, "Ensure this value is greater than or equal to 1."),
        ({"bot_close_minutes": -5}, "Ensure this value is greater than or equal to"),
        ({"retention_days": 0}, "Ensure this value is greater than or equal to 1."),
        (
            {"close_warning_enabled": True, "close_warning_minutes": 30},
            "The warning must come before the close: fewer than 30 minutes.",
        ),
    ],
)
def test_a_wrong_service_setting_is_explained_and_nothing_is_saved(boss, changes, message):
    before = service.settings().after_hours_message

    response = boss.post("/console/settings/service/", service_data(**changes))

    assert response.status_code == 200
    assert message in text_of(response).replace("&#x27;", "'")
    row = ServiceSettings.objects.get(pk=1)
    assert row.after_hours_message == before and row.auto_close_minutes == 30 and row.retention_days is None
    assert not audit_rows()


# --- Capacity -------------------------------------------------------------------------------------


def capacity_data(changes: dict[str, Any]) -> dict[str, Any]:
    members = list(User.objects.exclude(role="").order_by("display_name", "username"))
    data: dict[str, Any] = {
        "capacity-TOTAL_FORMS": len(members),
        "capacity-INITIAL_FORMS": len(members),
        "capacity-MIN_NUM_FORMS": 0,
        "capacity-MAX_NUM_FORMS": 1000,
    }
    for i, member in enumerate(members):
        data[f"capacity-{i}-id"] = member.pk
        data[f"capacity-{i}-max_chats"] = changes.get(member.username, member.max_chats)
    return data


def test_capacities_are_saved_with_one_audit_row_per_person_changed(team):
    client = signed_in(team["malee"])

    response = client.post("/console/settings/capacity/", capacity_data({"nok": 3}))

    assert response.status_code == 302
    assert User.objects.get(username="nok").max_chats == 3
    assert User.objects.get(username="somchai").max_chats == 5
    [row] = audit_rows()
    assert row.target == "capacity:nok" and row.changes == {"max_chats": [5, 3]}


def test_the_capacity_table_lists_the_team_only(team, django_user_model):
    django_user_model.objects.create_user(username="kept-for-admin", password="pw-k-1", role="")

    page = text_of(signed_in(team["malee"]).get("/console/settings/capacity/"))

    assert page.count('data-testid="capacity-row"') == 3 and "kept-for-admin" not in page


@pytest.mark.parametrize("value", [-1, 101, "many"])
def test_a_wrong_capacity_is_explained_and_nothing_is_saved(team, value):
    response = signed_in(team["malee"]).post("/console/settings/capacity/", capacity_data({"nok": value}))

    assert response.status_code == 200
    assert "errorlist" in text_of(response)
    assert User.objects.get(username="nok").max_chats == 5
    assert not audit_rows()


# --- SLA ------------------------------------------------------------------------------------------


def sla_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_response_seconds_0": "5",
        "first_response_seconds_1": "minutes",
        "next_response_seconds_0": "10",
        "next_response_seconds_1": "minutes",
        "resolution_seconds_0": "24",
        "resolution_seconds_1": "hours",
        "business_hours_only": "on",
        "warning_percent": "80",
        **changes,
    }
    return {key: value for key, value in data.items() if value is not False}


def test_the_sla_page_shows_targets_in_minutes_and_hours(boss):
    page = text_of(boss.get("/console/settings/sla/"))

    assert 'name="first_response_seconds_0" value="5"' in page
    assert 'name="next_response_seconds_0" value="10"' in page
    assert re.search(r'name="resolution_seconds_1".*?<option value="hours" selected>', page)


def test_sla_targets_typed_in_minutes_and_hours_are_stored_in_seconds(boss):
    response = boss.post(
        "/console/settings/sla/",
        sla_data(
            first_response_seconds_0="1.5",
            next_response_seconds_0="",
            resolution_seconds_0="8",
            business_hours_only=False,
            warning_percent="75",
        ),
    )

    assert response.status_code == 302
    policy = service.sla_policy()
    assert policy.first_response_seconds == 90
    assert policy.next_response_seconds is None
    assert policy.resolution_seconds == 8 * 3600
    assert not policy.business_hours_only and policy.warning_percent == 75
    [row] = audit_rows("sla_policy")
    assert row.changes == {
        "first_response_seconds": [300, 90],
        "next_response_seconds": [600, None],
        "resolution_seconds": [86400, 28800],
        "business_hours_only": [True, False],
        "warning_percent": [80, 75],
    }


def test_saving_the_same_sla_writes_no_audit_row(boss):
    boss.post("/console/settings/sla/", sla_data())

    assert not audit_rows()
    assert SlaPolicy.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"first_response_seconds_0": "0"}, "Give a number of minutes or hours above zero"),
        ({"next_response_seconds_0": "-5"}, "Give a number of minutes or hours above zero"),
        ({"resolution_seconds_0": "721"}, "A target can be at most 30 days (720 hours)."),
        ({"warning_percent": "100"}, "Ensure this value is less than or equal to 99."),
    ],
)
def test_a_wrong_sla_target_is_explained_and_nothing_is_saved(boss, changes, message):
    response = boss.post("/console/settings/sla/", sla_data(**changes))

    assert response.status_code == 200
    assert message in text_of(response)
    policy = SlaPolicy.objects.get(is_default=True)
    assert (policy.first_response_seconds, policy.resolution_seconds, policy.warning_percent) == (
        300,
        86400,
        80,
    )
    assert not audit_rows()


# --- Thai -----------------------------------------------------------------------------------------


def test_the_pages_speak_thai(supervisor):
    client = signed_in(supervisor, language="th")

    hours = text_of(client.get("/console/settings/hours/"))
    service_page = text_of(client.get("/console/settings/service/"))
    error = text_of(client.post("/console/settings/hours/", hours_data(new={0: [("18:00", "09:00")]})))

    assert "เวลาทำการ" in hours and "จันทร์" in hours and "เวลาเปิด" in hours
    assert "Business hours" not in hours and "Monday" not in hours
    assert "ปิดแชทที่ไม่มีความเคลื่อนไหว" in service_page and "ข้อความนอกเวลาทำการ" in service_page
    assert "ช่วงเวลาต้องปิดหลังเวลาเปิด (ใช้ 00:00 หากปิดตอนเที่ยงคืน)" in error


# --- Django admin ---------------------------------------------------------------------------------


def test_admin_edits_the_policies_and_keeps_one_service_settings_row(admin_client):
    ServiceSettings.objects.get_or_create(pk=1)

    assert admin_client.get("/admin/livechat/businesshours/add/").status_code == 200
    assert admin_client.get("/admin/livechat/holiday/add/").status_code == 200
    assert admin_client.get("/admin/livechat/slapolicy/").status_code == 200
    assert admin_client.get("/admin/livechat/servicesettings/1/change/").status_code == 200
    assert admin_client.get("/admin/livechat/servicesettings/add/").status_code == 403
    assert admin_client.get("/admin/livechat/servicesettings/1/delete/").status_code == 403
    assert admin_client.get("/admin/livechat/slaalert/").status_code == 200
    assert admin_client.get("/admin/livechat/slaalert/add/").status_code == 403
    assert SlaAlert.objects.count() == 0


def test_admin_sets_an_operators_capacity(admin_client, operator):
    page = admin_client.get(f"/admin/accounts/user/{operator.pk}/change/")

    assert 'name="max_chats"' in page.content.decode()
