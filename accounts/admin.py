from typing import cast

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from accounts.audited_admin import AuditedAdmin
from accounts.models import AuditLog, AvailabilityPeriod, User


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    # Creating, changing (role, active, capacity …) and deleting people are audited; signing in
    # moves last_login, which is the sign-in's own row, not a change someone made.
    audit_kinds = (AuditLog.Kind.USER_CREATED, AuditLog.Kind.USER_CHANGED, AuditLog.Kind.USER_DELETED)
    audit_ignored = ("last_login", "last_assigned_at", "date_joined")
    audit_secret = ("password",)
    list_display = ("username", "display_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "display_name", "email")
    # The role is what an admin sets: it alone decides who uses the console, the API and the
    # socket. "Staff status" below only opens Django admin.
    fieldsets = (
        ("Live chat", {"fields": ("role", "display_name", "max_chats")}),
        *(DjangoUserAdmin.fieldsets or ()),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("username", "role", "display_name", "password1", "password2")},
        ),
    )

    def audit_target(self, obj: Model) -> str:
        return f"user:{cast(User, obj).get_username()}"

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Django's own password page saves the form itself (not through save_model): the hash
        before and after tells whether it changed."""
        with transaction.atomic():
            stored = User.objects.filter(pk=id).first() if str(id).isdigit() else None
            response = super().user_change_password(request, id, form_url)
            if stored is not None:
                before = self.audit_snapshot(stored)
                stored.refresh_from_db(fields=["password"])
                after = self.audit_snapshot(stored)
                self.audit(request, AuditLog.Kind.PASSWORD_CHANGED, stored, before, after)
        return response


@admin.register(AvailabilityPeriod)
class AvailabilityPeriodAdmin(admin.ModelAdmin):
    list_display = ("operator", "status", "started_at", "ended_at")
    list_filter = ("status", "operator")
    list_select_related = ("operator",)

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit log is only ever added to, by the code that makes each change."""

    list_display = ("created_at", "kind", "actor_name", "address", "target")
    list_filter = ("kind", "created_at")
    search_fields = ("actor_name", "target", "address")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
