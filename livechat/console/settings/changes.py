"""What a settings page changed, for the audit log: snapshots of the settings before and after a
save, as JSON-friendly values, and one `settings_changed` row per change with `{field: [old,
new]}` (nothing changed: no row)."""

from collections.abc import Iterable
from datetime import date, time
from typing import Any

from django.db.models import Model
from django.http import HttpRequest

from accounts import audit
from accounts.models import AuditLog, User
from livechat.models import BusinessHours, Holiday

DAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _plain(value: Any) -> Any:
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def of_row(row: Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in fields}


def of_business_hours() -> dict[str, list[str]]:
    """Each weekday's periods, e.g. {"monday": ["09:00-12:00", "13:00-18:00"], …}."""
    days: dict[str, list[str]] = {key: [] for key in DAY_KEYS}
    for period in BusinessHours.objects.order_by("weekday", "opens_at"):
        days[DAY_KEYS[period.weekday]].append(f"{period.opens_at:%H:%M}-{period.closes_at:%H:%M}")
    return days


def of_holidays(dates: Iterable[date]) -> dict[str, list[str]]:
    """The given dates' holidays, e.g. {"2026-12-07": ["Father's Day (substitution): closed"]}."""
    found: dict[str, list[str]] = {day.isoformat(): [] for day in sorted(set(dates))}
    for holiday in Holiday.objects.filter(date__in=list(dates)).order_by("date", "opens_at", "pk"):
        if holiday.opens_at is None or holiday.closes_at is None:
            hours = "closed"
        else:
            hours = f"{holiday.opens_at:%H:%M}-{holiday.closes_at:%H:%M}"
        found[holiday.date.isoformat()].append(f"{holiday.name}: {hours}")
    return found


def record(request: HttpRequest, target: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Audit what changed between the snapshots; False (and no row) when nothing did."""
    changes = audit.changed_fields(before, after)
    if not changes:
        return False
    user = request.user
    audit.record(
        AuditLog.Kind.SETTINGS_CHANGED,
        actor=user if isinstance(user, User) else None,
        request=request,
        target=target,
        changes=changes,
    )
    return True
