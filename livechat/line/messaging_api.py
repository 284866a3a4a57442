"""The one place that talks to LINE: line-bot-sdk v3 for the Messaging API and webhooks.

Everything else in the project calls these functions; nothing else imports `linebot`.
`LINE_API_BASE_URL` points both api.line.me and api-data.line.me at another host (the
simulator in development and tests). Every call has a timeout and the SDK's own retries are
off: livechat.delivery.sender owns retrying, with backoff and a retry key.
"""

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any, Literal

import urllib3
from django.conf import settings
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MarkMessagesAsReadByTokenRequest,
    MessagingApi,
    MessagingApiBlob,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from linebot.v3.messaging import Message as SdkMessage

from livechat.models.line_text import MAX_TEXT_UNITS

logger = logging.getLogger(__name__)

LINE_API_HOST = "https://api.line.me"
LINE_DATA_HOST = "https://api-data.line.me"
MAX_MESSAGES_PER_REQUEST = 5
MAX_TEXT_LENGTH = MAX_TEXT_UNITS  # in UTF-16 code units, as LINE counts (livechat.models.line_text)

__all__ = [
    "MAX_MESSAGES_PER_REQUEST",
    "MAX_TEXT_LENGTH",
    "Content",
    "InvalidSignatureError",
    "LineError",
    "Profile",
    "get_message_content",
    "get_profile",
    "mark_as_read",
    "message_quota",
    "message_quota_consumption",
    "parse_webhook",
    "push",
    "reply",
    "show_loading_animation",
    "transcoding_status",
]


class LineError(Exception):
    """LINE refused a call, or could not be reached (status None).

    `request_id` is LINE's X-Line-Request-Id (what LINE's support asks for); `sent_message_ids`
    are the ids LINE gives with a 409 to a push whose retry key it had already accepted.
    """

    def __init__(
        self,
        status: int | None,
        message: str,
        request_id: str = "",
        sent_message_ids: list[str] | None = None,
    ) -> None:
        said = f"{status or 'network'}: {message}"
        super().__init__(f"{said} (X-Line-Request-Id {request_id})" if request_id else said)
        self.status = status
        self.message = message
        self.request_id = request_id
        self.sent_message_ids = sent_message_ids or []

    @property
    def is_monthly_limit(self) -> bool:
        """LINE's 429 "You have reached your monthly limit.": no retry helps until the plan is
        raised or the month ends (unlike a rate limit)."""
        return self.status == 429 and "monthly limit" in self.message.lower()

    @property
    def is_retryable(self) -> bool:
        """Worth another try later: rate limits, LINE's own failures, the network."""
        if self.is_monthly_limit:
            return False
        return self.status is None or self.status == 429 or self.status >= 500

    @property
    def is_outage(self) -> bool:
        """LINE itself failing (not a refusal, not a rate limit): what the circuit breaker counts."""
        return self.status is None or self.status >= 500

    @property
    def already_accepted(self) -> bool:
        """A 409 to a push with a retry key: an earlier try was delivered."""
        return self.status == 409


@dataclass(frozen=True)
class Profile:
    display_name: str
    picture_url: str
    status_message: str
    language: str


@lru_cache(maxsize=4)
def _clients(base_url: str, token: str) -> tuple[MessagingApi, MessagingApiBlob]:
    def client(host: str) -> ApiClient:
        config = Configuration(access_token=token, host=host)
        config.retries = 0
        config.connection_pool_maxsize = 16
        return ApiClient(config)

    return (
        MessagingApi(client(base_url or LINE_API_HOST)),
        MessagingApiBlob(client(base_url or LINE_DATA_HOST)),
    )


def _api() -> MessagingApi:
    return _clients(settings.LINE_API_BASE_URL, settings.LINE_CHANNEL_ACCESS_TOKEN)[0]


def _blob_api() -> MessagingApiBlob:
    return _clients(settings.LINE_API_BASE_URL, settings.LINE_CHANNEL_ACCESS_TOKEN)[1]


def _timeout() -> tuple[float, float]:
    return (min(3.0, settings.LINE_API_TIMEOUT_SECONDS), settings.LINE_API_TIMEOUT_SECONDS)


def _error_message(exc: ApiException) -> str:
    """LINE's own words: {"message": …, "details": [{"message": …, "property": …}]}.

    Whatever the body is — LINE's JSON, an HTML page from its edge or a proxy (a 502), bytes or
    text, or nothing — this says what came back, briefly, and never fails itself.
    """
    raw = exc.body
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else str(raw or "")
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        said = _plain(text)
        return f"{exc.reason or 'error'}: {said}" if said else str(exc.reason or "error")
    message = str(body.get("message") or exc.reason or "")
    details = "; ".join(
        f"{d.get('property', '')}: {d.get('message', '')}".strip(": ")
        for d in body.get("details") or []
        if isinstance(d, dict)
    )
    return f"{message} ({details})" if details else message


def _request_id(exc: ApiException) -> str:
    headers = exc.headers or {}
    return str(headers.get("x-line-request-id") or headers.get("X-Line-Request-Id") or "")[:64]


def _sent_message_ids(exc: ApiException) -> list[str]:
    """The ids in a 409's `sentMessages` (a retried push that LINE had already accepted)."""
    if exc.status != 409:
        return []
    raw = exc.body
    try:
        body = json.loads(
            raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else str(raw or "")
        )
    except ValueError:
        return []
    sent = body.get("sentMessages") if isinstance(body, dict) else None
    return [str(m["id"]) for m in sent or [] if isinstance(m, dict) and m.get("id")]


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]*>", re.S | re.I)


def _plain(text: str, limit: int = 300) -> str:
    """A page's words without its markup, on one line."""
    words = " ".join(_TAGS.sub(" ", text).split())
    return words[:limit]


class _calling:
    """Turns the SDK's and urllib3's exceptions into LineError."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        if isinstance(exc, ApiException):
            raise LineError(
                exc.status, _error_message(exc), _request_id(exc), _sent_message_ids(exc)
            ) from exc
        if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
            raise LineError(None, f"{type(exc).__name__}: {exc}") from exc
        return False


def _sdk_messages(messages: list[dict[str, Any]]) -> list[SdkMessage]:
    if not 1 <= len(messages) <= MAX_MESSAGES_PER_REQUEST:
        raise ValueError(f"LINE takes 1 to {MAX_MESSAGES_PER_REQUEST} messages per request")
    return [SdkMessage.from_dict(m) for m in messages]


# --- Webhooks ----------------------------------------------------------------------------------


def parse_webhook(body: str, signature: str) -> list[Any]:
    """Verify the X-Line-Signature with the v3 parser's validator; return the events as sent.

    Raises InvalidSignatureError for a bad or missing signature and ValueError for a body that
    is not LINE's JSON shape. Each event is returned as it came, whatever it is: one that is not
    even an object is the inbound path's to keep and report, not a reason to refuse the others.
    The events are deliberately not turned into SDK models: one event
    the SDK cannot model (a new type or field, an older format) would otherwise make us refuse
    the whole signed batch, and LINE would redeliver it, good events included, forever.
    """
    parser = WebhookParser(settings.LINE_CHANNEL_SECRET)
    if not parser.signature_validator.validate(body, signature or ""):
        raise InvalidSignatureError("Invalid signature.")
    try:
        # NaN and Infinity are not JSON (PostgreSQL's jsonb refuses them): read them as null.
        payload = json.loads(body, parse_constant=lambda _: None)
    except RecursionError:  # nested deeper than Python's parser goes
        raise ValueError("The body is nested too deeply to read.") from None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise ValueError('Not a LINE webhook body: expected {"events": [...]}.')
    return events


# --- Messaging API -----------------------------------------------------------------------------


def reply(reply_token: str, messages: list[dict[str, Any]]) -> list[str]:
    """Send with a reply token (free, single use). Returns LINE's sent message ids."""
    request = ReplyMessageRequest(replyToken=reply_token, messages=_sdk_messages(messages))
    with _calling():
        response = _api().reply_message(request, _request_timeout=_timeout())
    return [m.id for m in response.sent_messages or []]


def push(user_id: str, messages: list[dict[str, Any]], retry_key: str) -> list[str]:
    """Push (counts against the quota). The retry key makes a repeated call a no-op at LINE."""
    request = PushMessageRequest(to=user_id, messages=_sdk_messages(messages))
    with _calling():
        response = _api().push_message(request, x_line_retry_key=retry_key, _request_timeout=_timeout())
    return [m.id for m in response.sent_messages or []]


def get_profile(user_id: str) -> Profile:
    with _calling():
        p = _api().get_profile(user_id, _request_timeout=_timeout())
    return Profile(
        display_name=p.display_name or "",
        picture_url=p.picture_url or "",
        status_message=p.status_message or "",
        language=p.language or "",
    )


@dataclass(frozen=True)
class Content:
    data: bytes
    content_type: str  # as LINE says it ("image/png"); "" if it said nothing


def get_message_content(message_id: str) -> Content:
    """The bytes of an image, video, audio or file a user sent, and their type."""
    with _calling():
        response = _blob_api().get_message_content_with_http_info(message_id, _request_timeout=_timeout())
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    content_type = str(headers.get("content-type", "")).split(";")[0].strip().lower()
    return Content(bytes(response.data), content_type)


def message_quota() -> int | None:
    """This month's limit of chargeable messages (None: the plan has no limit)."""
    with _calling():
        response = _api().get_message_quota(_request_timeout=_timeout())
    return int(response.value) if response.type == "limited" and response.value is not None else None


def message_quota_consumption() -> int:
    """Chargeable messages sent this month (pushes; replies are free)."""
    with _calling():
        response = _api().get_message_quota_consumption(_request_timeout=_timeout())
    return int(response.total_usage)


def transcoding_status(message_id: str) -> str:
    """Whether LINE has finished preparing a video or audio a user sent: "processing",
    "succeeded" or "failed". Its content can be fetched only once it has succeeded."""
    with _calling():
        response = _blob_api().get_message_content_transcoding_by_message_id(
            message_id, _request_timeout=_timeout()
        )
    return str(response.status)


def show_loading_animation(user_id: str, seconds: int = 20) -> None:
    """The "…" bubble the customer sees while an operator types (5–60 s, multiples of 5)."""
    request = ShowLoadingAnimationRequest(chatId=user_id, loadingSeconds=seconds)
    with _calling():
        _api().show_loading_animation(request, _request_timeout=_timeout())


def mark_as_read(mark_as_read_token: str) -> None:
    request = MarkMessagesAsReadByTokenRequest(markAsReadToken=mark_as_read_token)
    with _calling():
        _api().mark_messages_as_read_by_token(request, _request_timeout=_timeout())
