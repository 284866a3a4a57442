from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import AvailabilityPeriod, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "display_name", "email")
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), ("Live chat", {"fields": ("display_name", "role")}))
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Live chat", {"fields": ("display_name", "role")}),
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
