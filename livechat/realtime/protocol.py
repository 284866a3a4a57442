"""The console WebSocket protocol (`/ws/live-chat/`, docs/protocol.md): frame types and payloads.

Every frame is JSON `{"type": str, "payload": object, "request_id"?: str}`; server frames also
carry an ISO-8601 `timestamp`. Client payloads are validated here with DRF serializers, so
the consumer only ever sees clean data. docs/protocol.md describes the same for client authors.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from livechat.models.line_text import MAX_TEXT_UNITS, validate_line_text

MAX_FRAME_BYTES = 64 * 1024
FRAMES_PER_SECOND = 20
# A socket that keeps flooding past the limit is cut off, not just told off.
ABUSE_FRAMES_PER_SECOND = 100
AUTH_TIMEOUT_SECONDS = 10
HEARTBEAT_SECONDS = 25
TYPING_EXPIRES_SECONDS = 5
LOADING_ANIMATION_EVERY_SECONDS = 20
HISTORY_PAGE = 50
SYNC_PAGE = 200


class CloseCode:
    UNAUTHENTICATED = 4401  # no/invalid credentials, auth timeout, logout, deactivation
    ABUSE = 4429  # sustained flooding past ABUSE_FRAMES_PER_SECOND
    RESYNC = 4503  # the server lost its channel layer: reconnect, then sync every room


class ErrorCode:
    BAD_JSON = "bad_json"
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    ALREADY_CLAIMED = "already_claimed"
    INVALID_STATE = "invalid_state"
    UNAUTHENTICATED = "unauthenticated"
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "too_large"
    INTERNAL = "internal"


# --- Client → server payloads -------------------------------------------------------------------


class Empty(serializers.Serializer):
    pass


class Auth(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class ConversationRef(serializers.Serializer):
    conversation_id = serializers.IntegerField(min_value=1)


class Sticker(serializers.Serializer):
    package_id = serializers.CharField(max_length=20)
    sticker_id = serializers.CharField(max_length=20)


class SendMessage(ConversationRef):
    # LINE's limit, counted as LINE counts (UTF-16 units: an emoji is 2), checked in validate_text.
    text = serializers.CharField(required=False, max_length=MAX_TEXT_UNITS, trim_whitespace=False)
    sticker = Sticker(required=False)
    canned_id = serializers.IntegerField(required=False, min_value=1)
    client_id = serializers.CharField(max_length=64)
    # A customer message of the conversation this answers (LINE shows it quoted).
    quote_message_id = serializers.IntegerField(required=False, min_value=1)

    def validate_text(self, text: str) -> str:
        try:
            validate_line_text(text)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return text

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        given = [k for k in ("text", "sticker", "canned_id") if k in data]
        if len(given) != 1:
            raise serializers.ValidationError("Give exactly one of text, sticker or canned_id.")
        if "text" in data and not data["text"].strip():
            raise serializers.ValidationError({"text": "The message is empty."})
        return data


class CloseSession(ConversationRef):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class TransferSession(ConversationRef):
    to_operator_id = serializers.IntegerField(required=False, min_value=1)
    to_queue = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if bool(data.get("to_operator_id")) == bool(data.get("to_queue")):
            raise serializers.ValidationError("Give either to_operator_id or to_queue: true.")
        return data


class MarkRead(ConversationRef):
    seq = serializers.IntegerField(min_value=0)


class Sync(ConversationRef):
    after_seq = serializers.IntegerField(min_value=0)


class SetStatus(serializers.Serializer):
    status = serializers.ChoiceField(choices=["online", "away"])


MAX_LABELS = 20
MAX_NOTE_CHARS = 5000
MAX_CUSTOM_FIELDS = 30


class SetLabels(ConversationRef):
    """The conversation's labels, all of them ([] takes every label off)."""

    label_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=True, max_length=MAX_LABELS
    )

    def validate_label_ids(self, ids: list[int]) -> list[int]:
        return list(dict.fromkeys(ids))


class AddNote(ConversationRef):
    text = serializers.CharField(max_length=MAX_NOTE_CHARS)


class UpdateContact(serializers.Serializer):
    """A customer's notes and/or custom fields; custom_fields replaces them all ({} clears them)."""

    contact_id = serializers.IntegerField(min_value=1)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTE_CHARS)
    custom_fields = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=500), required=False
    )

    def validate_custom_fields(self, fields: dict[str, str]) -> dict[str, str]:
        if len(fields) > MAX_CUSTOM_FIELDS:
            raise serializers.ValidationError(f"At most {MAX_CUSTOM_FIELDS} custom fields.")
        cleaned = {}
        for key, value in fields.items():
            name = key.strip()
            if not name or len(name) > 50:
                raise serializers.ValidationError("A custom field's name is 1 to 50 characters.")
            cleaned[name] = value.strip()
        return cleaned

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "notes" not in data and "custom_fields" not in data:
            raise serializers.ValidationError("Give notes, custom_fields or both.")
        return data


CLIENT_FRAMES: dict[str, type[serializers.Serializer]] = {
    "auth": Auth,
    "ping": Empty,
    "join_room": ConversationRef,
    "leave_room": ConversationRef,
    "send_message": SendMessage,
    "typing_start": ConversationRef,
    "typing_stop": ConversationRef,
    "claim_session": ConversationRef,
    "close_session": CloseSession,
    "transfer_session": TransferSession,
    "mark_read": MarkRead,
    "sync": Sync,
    "set_status": SetStatus,
    "set_labels": SetLabels,
    "add_note": AddNote,
    "update_contact": UpdateContact,
}

# Server → client frames are built in livechat.realtime.frames, one function per type.


class FrameError(Exception):
    """A client frame that gets an `error` frame back (the socket stays open)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def validate_payload(frame_type: str, payload: Any) -> dict[str, Any]:
    serializer_class = CLIENT_FRAMES.get(frame_type)
    if serializer_class is None:
        raise FrameError(ErrorCode.UNKNOWN_TYPE, f"Unknown frame type {frame_type!r}.")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise FrameError(ErrorCode.INVALID, "payload must be a JSON object.")
    serializer = serializer_class(data=payload)
    if not serializer.is_valid():
        raise FrameError(ErrorCode.INVALID, _describe(serializer.errors))
    return dict(serializer.validated_data)


def _describe(errors: Any) -> str:
    if isinstance(errors, dict):
        return "; ".join(
            f"{field}: {_describe(value)}" if field != "non_field_errors" else _describe(value)
            for field, value in errors.items()
        )
    if isinstance(errors, list):
        return " ".join(_describe(e) for e in errors)
    return str(errors)
