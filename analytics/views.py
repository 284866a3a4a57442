"""The analytics dashboard (`/analytics/`): one server-rendered page; its script reads the numbers
from the analytics API (`/api/v1/analytics/…`, PRODUCT §10) and draws them.

Who may call: supervisors and admins. Signed out → the login page (with ?next=); a team member
without that role, or an account without a team role → a 403 page that says why.

The page gets today's date in TIME_ZONE from here: the date-range presets are computed from it, so
a browser in another time zone (or with a wrong clock) still asks for the desk's local days. It
gets the server's time too, to notice midnight in TIME_ZONE when it stays open (a wall screen).
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from livechat.console import access
from livechat.conversations import permissions

# Stable public names (PRODUCT §4): the API the page reads and the CSV it links to.
API_ROOT = "/api/v1/analytics/"
EXPORT_CSV = "/analytics/export.csv"
# How often the cards refresh while the chosen range includes today.
LIVE_REFRESH_SECONDS = 45


def may_view_analytics(user: Any) -> bool:
    """Supervisors and admins see the desk's figures (the same rule as the analytics API)."""
    return permissions.is_team_member(user) and bool(user.is_supervisor)


dashboard_page = access.staff_page(may_view_analytics, "analytics/forbidden.html")


@require_GET
@dashboard_page
def dashboard(request: HttpRequest) -> HttpResponse:
    config = {
        "today": timezone.localdate().isoformat(),
        "now": timezone.now().isoformat(),
        "api_root": API_ROOT,
        "export_csv": EXPORT_CSV,
        "refresh_seconds": LIVE_REFRESH_SECONDS,
        "time_zone": settings.TIME_ZONE,
    }
    return render(request, "analytics/dashboard.html", {"dashboard_config": config})
