"""Admin for the simulator's records (only present where the simulator is installed)."""

from django.contrib import admin

from livechat.admin import ReadOnlyAdmin
from livechat.simulator.models import (
    SimulatorCall,
    SimulatorContent,
    SimulatorFault,
    SimulatorProfile,
    SimulatorUsedKey,
)


@admin.register(SimulatorCall)
class SimulatorCallAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "method", "endpoint", "user_id", "response_status")
    list_filter = ("endpoint", "response_status")


@admin.register(SimulatorProfile)
class SimulatorProfileAdmin(admin.ModelAdmin):
    list_display = ("display_name", "user_id", "language", "created_at")
    search_fields = ("display_name", "user_id")


@admin.register(SimulatorFault)
class SimulatorFaultAdmin(admin.ModelAdmin):
    list_display = ("endpoint", "status", "delay_seconds", "remaining", "created_at")


@admin.register(SimulatorUsedKey)
class SimulatorUsedKeyAdmin(ReadOnlyAdmin):
    list_display = ("kind", "key", "created_at")
    list_filter = ("kind",)


@admin.register(SimulatorContent)
class SimulatorContentAdmin(ReadOnlyAdmin):
    list_display = ("message_id", "content_type", "created_at")
