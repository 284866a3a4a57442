"""Django admin's changes in the audit log: a ModelAdmin mixin whose save and delete write one
AuditLog row each, with `{field: [old, new]}` and the admin's address — here, in the admin code
that makes the change (no model signals).

A changed row is compared with the row as the database held it before the save (one query), so a
change made from the change list's editable columns is recorded the same way.
"""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from accounts import audit
from accounts.models import AuditLog, User

# What the log shows of a secret (a password hash): whether it was set, and that it changed.
SECRET_SET, SECRET_CHANGED = "(set)", "(changed)"


def _plain(value: Any) -> Any:
    """A field's value as JSON can hold it."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class AuditedAdmin(admin.ModelAdmin):
    """Records every add, change and delete made through this admin page.

    audit_kinds: the AuditLog kinds of an add, a change and a delete;
    audit_ignored: fields that are bookkeeping, not a change someone made (e.g. last_login);
    audit_secret: fields recorded as changed without their values (password hashes).
    """

    audit_kinds: tuple[str, str, str] = (
        AuditLog.Kind.SETTINGS_CHANGED,
        AuditLog.Kind.SETTINGS_CHANGED,
        AuditLog.Kind.SETTINGS_CHANGED,
    )
    audit_ignored: tuple[str, ...] = ("created_at", "updated_at")
    audit_secret: tuple[str, ...] = ()

    def audit_snapshot(self, obj: Model) -> dict[str, Any]:
        """The row's own fields (foreign keys as ids); secrets are masked when recorded."""
        snapshot: dict[str, Any] = {}
        for field in obj._meta.concrete_fields:
            if field.name in self.audit_ignored or field.primary_key:
                continue
            snapshot[field.name] = _plain(getattr(obj, field.attname))
        return snapshot

    def audit_target(self, obj: Model) -> str:
        return f"admin:{obj._meta.label_lower}:{obj.pk} {obj}"

    def audit_changes(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
        """`{field: [old, new]}`, a secret's values replaced by whether it was set / that it changed."""
        changes = audit.changed_fields(before, after)
        for name in self.audit_secret:
            if name in changes:
                old, new = changes[name]
                changes[name] = [SECRET_SET if old else None, SECRET_CHANGED if new else None]
        return changes

    def audit(
        self, request: HttpRequest, kind: str, obj: Model, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        changes = self.audit_changes(before, after)
        if not changes:
            return
        user = request.user
        audit.record(
            kind,
            actor=user if isinstance(user, User) else None,
            request=request,
            target=self.audit_target(obj),
            changes=changes,
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            stored = type(obj)._default_manager.filter(pk=obj.pk).first() if change else None
            before = self.audit_snapshot(stored) if stored is not None else {}
            super().save_model(request, obj, form, change)
            after = self.audit_snapshot(obj)
            kind = self.audit_kinds[1] if stored is not None else self.audit_kinds[0]
            self.audit(request, kind, obj, before, after)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            before = self.audit_snapshot(obj)
            target = self.audit_target(obj)  # the pk is gone after the delete
            super().delete_model(request, obj)
            self._audit_deleted(request, target, before)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """ "Delete selected" on the change list: one row per deleted object."""
        with transaction.atomic():
            gone = [(self.audit_target(obj), self.audit_snapshot(obj)) for obj in queryset]
            super().delete_queryset(request, queryset)
            for target, before in gone:
                self._audit_deleted(request, target, before)

    def _audit_deleted(self, request: HttpRequest, target: str, before: dict[str, Any]) -> None:
        user = request.user
        audit.record(
            self.audit_kinds[2],
            actor=user if isinstance(user, User) else None,
            request=request,
            target=target,
            changes=self.audit_changes(before, {}),
        )
