from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.audited_admin import AuditedAdmin
from livechat.models import (
    AutoReply,
    BotSettings,
    BusinessHours,
    CannedResponse,
    Contact,
    Conversation,
    ConversationEvent,
    HandoffKeyword,
    Holiday,
    Label,
    Message,
    Note,
    ReadMarker,
    ServiceSettings,
    SlaAlert,
    SlaPolicy,
    WebhookEvent,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened: looked at, never edited."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("display_name", "line_user_id", "is_following", "language", "created_at")
    list_filter = ("is_following", "language")
    search_fields = ("display_name", "line_user_id")
    readonly_fields = ("created_at", "profile_fetched_at", "followed_at", "unfollowed_at")


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("seq", "direction", "sender_kind", "type", "text", "status", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-seq",)
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # only the app writes messages (see MessageAdmin)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("conversation")


class ConversationEventInline(admin.TabularInline):
    model = ConversationEvent
    fields = ("created_at", "kind", "actor_kind", "actor", "from_status", "to_status", "to_operator", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "contact", "status", "assigned_operator", "last_message_at", "created_at")
    list_filter = ("status", "assigned_operator")
    search_fields = ("contact__display_name", "contact__line_user_id")
    list_select_related = ("contact", "assigned_operator")
    raw_id_fields = ("contact",)
    readonly_fields = (
        "last_seq",
        "created_at",
        "handoff_requested_at",
        "claimed_at",
        "first_response_at",
        "closed_at",
        "last_message_at",
    )
    inlines = [ConversationEventInline, MessageInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Messages are written only by the app (each takes the conversation's next seq, under its row
    lock) and erased only by the PDPA erasure, which keeps the audit trail: here they are read."""

    list_display = (
        "id",
        "conversation",
        "seq",
        "direction",
        "sender_kind",
        "type",
        "short_text",
        "status",
        "created_at",
    )
    list_filter = ("direction", "sender_kind", "type", "status", "media_status", "is_unsent")
    search_fields = ("text", "line_message_id", "conversation__contact__display_name")
    list_select_related = ("conversation__contact",)
    raw_id_fields = ("conversation", "operator")
    readonly_fields = (
        "uuid",
        "seq",
        "created_at",
        "sent_at",
        "line_message_id",
        "reply_token",
        "reply_token_used_at",
        "mark_as_read_token",
        "attempts",
    )

    @admin.display(description=_("text"))
    def short_text(self, message: Message) -> str:
        return message.text[:80]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class HasErrorFilter(admin.SimpleListFilter):
    """Events kept with the reason they could not be processed (hostile or broken input)."""

    title = _("could not be processed")
    parameter_name = "failed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", str(_("Yes"))), ("no", str(_("No")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.exclude(processing_error="")
        if self.value() == "no":
            return queryset.filter(processing_error="")
        return queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = (
        "webhook_event_id",
        "event_type",
        "source_type",
        "is_redelivery",
        "received_at",
        "processed_at",
        "has_error",
    )
    list_filter = ("event_type", "source_type", "is_redelivery", HasErrorFilter)
    search_fields = ("webhook_event_id", "processing_error")

    @admin.display(boolean=True, description=_("could not be processed"))
    def has_error(self, event: WebhookEvent) -> bool:
        return bool(event.processing_error)


@admin.register(ConversationEvent)
class ConversationEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "conversation",
        "kind",
        "actor_kind",
        "actor",
        "from_status",
        "to_status",
        "to_operator",
    )
    list_filter = ("kind", "actor_kind")
    list_select_related = ("conversation__contact", "actor", "to_operator")


@admin.register(HandoffKeyword)
class HandoffKeywordAdmin(AuditedAdmin):
    list_display = ("keyword", "is_active")
    list_editable = ("is_active",)


@admin.register(AutoReply)
class AutoReplyAdmin(AuditedAdmin):
    list_display = ("keyword", "reply_text", "is_active")
    list_editable = ("is_active",)


@admin.register(BotSettings)
class BotSettingsAdmin(AuditedAdmin):
    fieldsets = [
        (_("Welcome"), {"fields": ["welcome_message"]}),
        (
            _("Queue"),
            {
                "fields": [
                    "handoff_message",
                    "still_waiting_message",
                    "waiting_ack_enabled",
                    "waiting_ack_minutes",
                ]
            },
        ),
        (
            _("When the bot does not understand"),
            {"fields": ["fallback_enabled", "fallback_message", "fallback_minutes"]},
        ),
        (_("Quick reply buttons"), {"fields": ["handoff_button_label", "quick_replies"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not BotSettings.objects.exists()


@admin.register(CannedResponse)
class CannedResponseAdmin(AuditedAdmin):
    list_display = ("shortcut", "title", "owner", "is_active")
    list_editable = ("is_active",)
    list_filter = (("owner", admin.EmptyFieldListFilter),)
    search_fields = ("shortcut", "title", "text")


@admin.register(ReadMarker)
class ReadMarkerAdmin(ReadOnlyAdmin):
    list_display = ("operator", "conversation", "last_read_seq", "updated_at")
    list_select_related = ("operator", "conversation__contact")


# The service policies. Supervisors edit them in the console (livechat.console.settings, which
# also writes the audit log); these are the admins' way in, audited too (AuditedAdmin). Saving
# here fires the policies' post_save/post_delete receivers, so every process reloads them too.


@admin.register(BusinessHours)
class BusinessHoursAdmin(AuditedAdmin):
    list_display = ("weekday", "opens_at", "closes_at")
    list_filter = ("weekday",)


@admin.register(Holiday)
class HolidayAdmin(AuditedAdmin):
    list_display = ("date", "name", "opens_at", "closes_at")
    date_hierarchy = "date"
    search_fields = ("name",)


@admin.register(ServiceSettings)
class ServiceSettingsAdmin(AuditedAdmin):
    """One row (pk=1), read by livechat.policies.service: it is edited, never added twice or deleted."""

    fieldsets = [
        (_("Outside business hours"), {"fields": ["after_hours_message"]}),
        (_("Assignment"), {"fields": ["auto_assign_enabled"]}),
        (
            _("Auto-close"),
            {
                "fields": [
                    "auto_close_enabled",
                    "auto_close_minutes",
                    "close_warning_enabled",
                    "close_warning_minutes",
                    "close_warning_message",
                    "bot_close_minutes",
                ]
            },
        ),
        (_("Retention"), {"fields": ["retention_days", "webhook_retention_days"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ServiceSettings.objects.exists()

    def save_model(self, request: HttpRequest, obj: ServiceSettings, form: Any, change: bool) -> None:
        obj.pk = 1  # the row the policies read, even when added here
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin):
    list_display = (
        "name",
        "is_default",
        "first_response_seconds",
        "next_response_seconds",
        "resolution_seconds",
        "business_hours_only",
        "warning_percent",
    )


@admin.register(SlaAlert)
class SlaAlertAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "conversation", "kind", "level", "started_at", "due_at", "operator")
    list_filter = ("kind", "level")
    list_select_related = ("conversation__contact", "operator")
    raw_id_fields = ("conversation",)


@admin.register(Label)
class LabelAdmin(AuditedAdmin):
    list_display = ("name", "colour", "created_at")
    search_fields = ("name",)


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    """Private notes are written in the console (livechat.conversations.annotations)."""

    list_display = ("conversation", "author", "created_at")
    raw_id_fields = ("conversation",)
