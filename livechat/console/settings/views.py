"""The settings pages (`/console/settings/…`): business hours, holidays, the service settings,
operators' capacities and the default SLA policy.

Who may call: supervisors and admins (permissions.may_manage_settings). Signed out → the login
page (with ?next=); a team member without that role, or an account without a team role → a 403
page that says why. Changes are POSTs with the CSRF token; a saved change redirects back with a
message.

Each save writes one `settings_changed` audit row per thing changed (changes.record), here, where
the change is made. The policies read these rows through a per-process copy (livechat.policies);
every save ends in that copy's forget() once the transaction commits, so every process reloads
the committed rows — a forget() before the commit could let another process reload the old ones.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from livechat.console import access
from livechat.console.settings import changes
from livechat.console.settings.forms import (
    SERVICE_FIELDS,
    SLA_FIELDS,
    HolidayForm,
    ServiceSettingsForm,
    SlaPolicyForm,
    capacity_formset,
    day_formset,
)
from livechat.conversations import assignment, permissions
from livechat.models import BusinessHours, Holiday, ServiceSettings, SlaPolicy
from livechat.models.policies import WEEKDAYS
from livechat.policies import business_hours, service, thai_holidays

SECTIONS = [
    ("hours", "console:settings:hours"),
    ("holidays", "console:settings:holidays"),
    ("service", "console:settings:service"),
    ("capacity", "console:settings:capacity"),
    ("sla", "console:settings:sla"),
]


settings_page = access.staff_page(permissions.may_manage_settings, "console/settings/forbidden.html")


def _page(request: HttpRequest, section: str, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, f"console/settings/{template}", {"section": section, **context})


def _saved(request: HttpRequest, changed: bool, to: str) -> HttpResponse:
    if changed:
        messages.success(request, _("Saved. The change applies at once."))
    else:
        messages.info(request, _("Nothing changed."))
    return redirect(to)


@settings_page
def index(request: HttpRequest) -> HttpResponse:
    return redirect("console:settings:hours")


@settings_page
def hours(request: HttpRequest) -> HttpResponse:
    """The weekly schedule: each weekday's periods, several per day."""
    data = request.POST if request.method == "POST" else None
    days = [(label, day_formset(weekday, data)) for weekday, label in WEEKDAYS]
    if data is not None and all(formset.is_valid() for _label, formset in days):
        with transaction.atomic():
            before = changes.of_business_hours()
            for weekday, (_label, formset) in enumerate(days):
                for period in formset.save(commit=False):
                    period.weekday = weekday
                    period.save()
                for removed in formset.deleted_objects:
                    removed.delete()
            changed = changes.record(request, "business_hours", before, changes.of_business_hours())
            transaction.on_commit(business_hours.forget)
        return _saved(request, changed, "console:settings:hours")
    return _page(
        request,
        "hours",
        "hours.html",
        {"days": days, "always_open": not BusinessHours.objects.exists(), "time_zone": settings.TIME_ZONE},
    )


def _holidays_context(form: HolidayForm) -> dict[str, Any]:
    today = timezone.localdate()
    years = thai_holidays.years()
    return {
        "form": form,
        "upcoming": Holiday.objects.filter(date__gte=today).order_by("date", "opens_at"),
        "thai_years": [year for year in years if year >= today.year] or years,
        "valid_through": thai_holidays.valid_through(),
    }


@settings_page
def holidays(request: HttpRequest) -> HttpResponse:
    """Upcoming holidays; add one (closed all day, or special hours)."""
    form = HolidayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["date"]
        with transaction.atomic():
            before = changes.of_holidays([day])
            form.save()
            changes.record(request, "holidays", before, changes.of_holidays([day]))
            transaction.on_commit(business_hours.forget)
        messages.success(request, _("Holiday added. The change applies at once."))
        return redirect("console:settings:holidays")
    return _page(request, "holidays", "holidays.html", _holidays_context(form))


@require_POST
@settings_page
def delete_holiday(request: HttpRequest, holiday_id: int) -> HttpResponse:
    holiday = get_object_or_404(Holiday, pk=holiday_id)
    with transaction.atomic():
        before = changes.of_holidays([holiday.date])
        holiday.delete()
        changes.record(request, "holidays", before, changes.of_holidays([holiday.date]))
        transaction.on_commit(business_hours.forget)
    messages.success(request, _("Holiday deleted."))
    return redirect("console:settings:holidays")


@require_POST
@settings_page
def load_thai_holidays(request: HttpRequest, year: int) -> HttpResponse:
    """Add the year's Thai public holidays; dates already in the calendar stay as they are."""
    if year not in thai_holidays.years():
        messages.error(request, _("There is no list of Thai public holidays for %(year)s.") % {"year": year})
        return redirect("console:settings:holidays")
    dates = [listed.day for listed in thai_holidays.listed(year)]
    with transaction.atomic():
        before = changes.of_holidays(dates)
        added = thai_holidays.load(year)
        changes.record(request, "holidays", before, changes.of_holidays(dates))
        transaction.on_commit(business_hours.forget)
    if added:
        messages.success(
            request,
            ngettext(
                "Added %(count)d Thai public holiday for %(year)s.",
                "Added %(count)d Thai public holidays for %(year)s.",
                len(added),
            )
            % {"count": len(added), "year": year},
        )
    else:
        messages.info(
            request, _("Every Thai public holiday of %(year)s is already in the calendar.") % {"year": year}
        )
    return redirect("console:settings:holidays")


@settings_page
def service_settings(request: HttpRequest) -> HttpResponse:
    """Auto-assignment, auto-close and its warning, the bot's timeout, retention, after-hours text."""
    row, _created = ServiceSettings.objects.get_or_create(pk=1)
    before = changes.of_row(row, SERVICE_FIELDS)  # the form writes into `row` as it validates
    form = ServiceSettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            changed = changes.record(request, "service_settings", before, changes.of_row(row, SERVICE_FIELDS))
            transaction.on_commit(service.forget_settings)
            # Auto-assignment just switched on: whoever waits is assigned now, not at the next event.
            assignment.assign_waiting_on_commit()
        return _saved(request, changed, "console:settings:service")
    return _page(request, "service", "service.html", {"form": form})


@settings_page
def capacity(request: HttpRequest) -> HttpResponse:
    """How many active chats each team member may be given automatically."""
    members = permissions.team_members().order_by("display_name", "username")
    formset = capacity_formset(members, request.POST if request.method == "POST" else None)
    if request.method == "POST" and formset.is_valid():
        before = dict(members.values_list("pk", "max_chats"))
        changed = False
        with transaction.atomic():
            for member in formset.save():
                changed |= changes.record(
                    request,
                    f"capacity:{member.get_username()}",
                    {"max_chats": before.get(member.pk)},
                    {"max_chats": member.max_chats},
                )
            assignment.assign_waiting_on_commit()  # a raised capacity takes someone from the queue now
        return _saved(request, changed, "console:settings:capacity")
    rows = [(form, form.instance) for form in formset.forms]
    return _page(request, "capacity", "capacity.html", {"formset": formset, "rows": rows})


@settings_page
def sla(request: HttpRequest) -> HttpResponse:
    """The default SLA policy: its three targets, business hours only or not, the warning."""
    policy = SlaPolicy.objects.get(pk=service.sla_policy().pk)
    before = changes.of_row(policy, SLA_FIELDS)
    form = SlaPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            changed = changes.record(request, "sla_policy", before, changes.of_row(policy, SLA_FIELDS))
            transaction.on_commit(service.forget_sla)
        return _saved(request, changed, "console:settings:sla")
    return _page(request, "sla", "sla.html", {"form": form})
