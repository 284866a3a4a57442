from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import AuditLog, AvailabilityPeriod, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
