"""The analytics dashboard page (/analytics/): who gets in, and what the page is given to work
with (today's local date, the API it reads, the CSV it links to). Its charts and controls are
lived in tests/browser/test_dashboard_stories.py."""

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

URL = "/analytics/"


def signed_in(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def config_of(response: Any) -> dict[str, Any]:
    found = re.search(
        r'<script id="dashboard-config" type="application/json">(.*?)</script>', response.content.decode()
    )
    assert found, "the page carries its configuration"
    return json.loads(found.group(1))


def test_the_dashboard_has_its_public_address():
    assert reverse("analytics:dashboard") == URL


def test_signed_out_visitors_are_sent_to_the_login_page():
    response = Client().get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/analytics/"


def test_an_operator_is_refused_and_told_why(operator: User):
    response = signed_in(operator).get(URL)

    assert response.status_code == 403
    assert b"The analytics dashboard is for supervisors and admins" in response.content
    assert b"dashboard-config" not in response.content


def test_an_account_without_a_team_role_is_refused(django_user_model: type[User]):
    guest = django_user_model.objects.create_user(
        username="guest", password="pw-guest-1", role="", is_staff=True
    )

    response = signed_in(guest).get(URL)

    assert response.status_code == 403
    assert b"has no team role" in response.content


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_the_dashboard(django_user_model: type[User], role: str):
    boss = django_user_model.objects.create_user(
        username="boss", password="pw-boss-1", display_name="Boss", role=role
    )

    response = signed_in(boss).get(URL)

    assert response.status_code == 200
    assert b'data-testid="analytics-dashboard"' in response.content
    assert b"vendor/chartjs/chart.umd.min.js" in response.content
    assert b"Download CSV" in response.content


def test_the_page_is_given_todays_date_in_the_desks_time_zone(supervisor: User):
    # 20:30 UTC on 30 November is already 1 December in Bangkok (UTC+7).
    with time_machine.travel(datetime(2026, 11, 30, 20, 30, tzinfo=UTC), tick=False):
        config = config_of(signed_in(supervisor).get(URL))

    assert config["today"] == "2026-12-01"
    assert config["now"] == "2026-11-30T20:30:00+00:00"  # to notice midnight in TIME_ZONE, open
    assert config["time_zone"] == "Asia/Bangkok"
    assert config["api_root"] == "/api/v1/analytics/"
    assert config["export_csv"] == "/analytics/export.csv"
    assert 30 <= config["refresh_seconds"] <= 60


def test_the_page_speaks_thai(supervisor: User):
    response = signed_in(supervisor, language="th").get(URL)

    assert response.status_code == 200
    assert '<html lang="th">' in response.content.decode()
    assert "ดาวน์โหลด CSV" in response.content.decode()


def test_only_get_is_answered(supervisor: User):
    assert signed_in(supervisor).post(URL).status_code == 405


def test_the_console_links_to_the_dashboard_for_supervisors_only(supervisor: User, operator: User):
    assert b'data-testid="analytics-link"' in signed_in(supervisor).get("/console/").content
    assert b'data-testid="analytics-link"' not in signed_in(operator).get("/console/").content


def test_the_page_itself_costs_two_queries(supervisor: User, django_assert_num_queries):
    client = signed_in(supervisor)
    # The session and the user; the figures themselves are read by the page's script, from the API.
    with django_assert_num_queries(2):
        assert client.get(URL).status_code == 200
