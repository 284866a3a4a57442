"""LINE's rules for message objects, as the Messaging API reference states them.

The simulator refuses what LINE refuses, so that a test or the demo never passes with a message
LINE would answer 400. Each problem is one of LINE's `details` entries: `{"message", "property"}`
with the property path LINE uses (`messages[0].packageId`, `messages[1].quickReply.items[0]…`).
The wording of the details follows LINE's where it is known ("must be specified", "Length must
be between 1 and 5000", "Size must be between 1 and 5").
"""

from collections.abc import Callable
from typing import Any

from livechat.models.line_text import MAX_TEXT_UNITS, line_length

Problem = dict[str, str]

MAX_MESSAGES = 5
MAX_URL = 2000  # every URL in a message object
MAX_QUICK_REPLY_ITEMS = 13
MAX_IMAGEMAP_ACTIONS = 50
MAX_SENDER_NAME = 20
MAX_ACTION_LABEL = 20  # a quick reply button's label
MAX_ACTION_DATA = 300  # a postback's data, a message action's text
MAX_ACTION_URI = 1000
TEMPLATE_TYPES = ("buttons", "confirm", "carousel", "image_carousel")
FLEX_CONTAINERS = ("bubble", "carousel")
IMAGEMAP_ACTIONS = ("uri", "message", "clipboard")
ACTION_TYPES = (
    "postback",
    "message",
    "uri",
    "datetimepicker",
    "camera",
    "cameraRoll",
    "location",
    "richmenuswitch",
    "clipboard",
)
MUST_BE_SPECIFIED = "must be specified"


class _Check:
    """Checks the properties of one JSON object, collecting LINE-shaped problems."""

    def __init__(self, obj: dict[str, Any], at: str, problems: list[Problem]) -> None:
        self.obj = obj
        self.at = at
        self.problems = problems

    def problem(self, key: str, message: str) -> None:
        self.problems.append({"message": message, "property": f"{self.at}.{key}" if key else self.at})

    def present(self, key: str, required: bool) -> bool:
        """Whether the property is there to check; a missing required one is a problem."""
        if self.obj.get(key) is not None:
            return True
        if required:
            self.problem(key, MUST_BE_SPECIFIED)
        return False

    def text(
        self, key: str, low: int, high: int, required: bool = True, count: Callable[[str], int] = line_length
    ) -> None:
        """A string of `low`–`high` characters (counted in UTF-16 units, as LINE counts text)."""
        if not self.present(key, required):
            return
        value = self.obj[key]
        if not isinstance(value, str):
            self.problem(key, "must be a string")
        elif not low <= count(value) <= high:
            self.problem(key, f"Length must be between {low} and {high}")

    def url(self, key: str, required: bool = True, high: int = MAX_URL) -> None:
        """An https URL: LINE fetches media only over TLS and never follows plain http."""
        if not self.present(key, required):
            return
        value = self.obj[key]
        if not isinstance(value, str):
            self.problem(key, "must be a string")
        elif not 1 <= len(value) <= high:
            self.problem(key, f"Length must be between 1 and {high}")
        elif not value.startswith("https://") or len(value) <= len("https://"):
            self.problem(key, "must be a valid HTTPS URL")

    def number(self, key: str, integer: bool = False) -> None:
        if not self.present(key, required=True):
            return
        value = self.obj[key]
        kinds: tuple[type, ...] = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            self.problem(key, "must be an integer" if integer else "must be a number")

    def child(self, key: str, required: bool = True) -> "_Check | None":
        """The nested object at `key`, to check in turn (None if missing or not an object)."""
        if not self.present(key, required):
            return None
        value = self.obj[key]
        if not isinstance(value, dict):
            self.problem(key, "must be an object")
            return None
        return _Check(value, f"{self.at}.{key}", self.problems)

    def items(self, key: str, low: int, high: int, required: bool = True) -> list["_Check | None"]:
        """The array at `key` (`low`–`high` entries), each entry ready to check (None: not an object)."""
        if not self.present(key, required):
            return []
        value = self.obj[key]
        if not isinstance(value, list):
            self.problem(key, "must be an array")
            return []
        if not low <= len(value) <= high:
            self.problem(key, f"Size must be between {low} and {high}")
            return []
        checks: list[_Check | None] = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                checks.append(_Check(item, f"{self.at}.{key}[{i}]", self.problems))
            else:
                self.problem(f"{key}[{i}]", "must be an object")
                checks.append(None)
        return checks

    def one_of(self, key: str, allowed: tuple[str, ...]) -> str:
        """The value at `key` if it is one of `allowed` ("" after reporting the problem)."""
        if not self.present(key, required=True):
            return ""
        value = self.obj[key]
        if value not in allowed:
            self.problem(key, "Must be one of the following values: [" + ", ".join(allowed) + "]")
            return ""
        return str(value)


# --- Message types -----------------------------------------------------------------------------


def _text(check: _Check) -> None:
    check.text("text", 1, MAX_TEXT_UNITS)


def _sticker(check: _Check) -> None:
    check.text("packageId", 1, 100)
    check.text("stickerId", 1, 100)


def _image(check: _Check) -> None:
    check.url("originalContentUrl")
    check.url("previewImageUrl")


def _video(check: _Check) -> None:
    _image(check)
    check.text("trackingId", 1, 100, required=False)


def _audio(check: _Check) -> None:
    check.url("originalContentUrl")
    check.number("duration", integer=True)


def _location(check: _Check) -> None:
    check.text("title", 1, 100)
    check.text("address", 1, 100)
    check.number("latitude")
    check.number("longitude")


def _flex(check: _Check) -> None:
    check.text("altText", 1, 1500)
    contents = check.child("contents")
    if contents is not None:
        contents.one_of("type", FLEX_CONTAINERS)


def _template(check: _Check) -> None:
    check.text("altText", 1, 400)
    template = check.child("template")
    if template is not None:
        template.one_of("type", TEMPLATE_TYPES)


def _imagemap(check: _Check) -> None:
    check.url("baseUrl")
    check.text("altText", 1, 1500)
    size = check.child("baseSize")
    if size is not None:
        size.number("width", integer=True)
        size.number("height", integer=True)
    for action in check.items("actions", 1, MAX_IMAGEMAP_ACTIONS):
        if action is not None:
            action.one_of("type", IMAGEMAP_ACTIONS)
            action.child("area")


TYPES: dict[str, Callable[[_Check], None]] = {
    "text": _text,
    "sticker": _sticker,
    "image": _image,
    "video": _video,
    "audio": _audio,
    "location": _location,
    "imagemap": _imagemap,
    "template": _template,
    "flex": _flex,
}


# --- Properties every message may carry ----------------------------------------------------------


def _action(check: _Check) -> None:
    """An action on a quick reply button: its type, its label, and what it carries."""
    kind = check.one_of("type", ACTION_TYPES)
    if kind not in ("", "clipboard", "richmenuswitch"):
        check.text("label", 1, MAX_ACTION_LABEL)
    if kind == "postback":
        check.text("data", 1, MAX_ACTION_DATA)
    elif kind == "message":
        check.text("text", 1, MAX_ACTION_DATA)
    elif kind == "uri":
        check.text("uri", 1, MAX_ACTION_URI)


def _quick_reply(check: _Check) -> None:
    for item in check.items("items", 1, MAX_QUICK_REPLY_ITEMS):
        if item is None:
            continue
        item.one_of("type", ("action",))
        item.url("imageUrl", required=False)
        action = item.child("action")
        if action is not None:
            _action(action)


def _sender(check: _Check) -> None:
    check.text("name", 1, MAX_SENDER_NAME, required=False, count=len)
    check.url("iconUrl", required=False)


def _message(message: Any, at: str, problems: list[Problem]) -> None:
    if not isinstance(message, dict) or message.get("type") not in TYPES:
        problems.append(
            {
                "message": "Must be one of the following values: [" + ", ".join(TYPES) + "]",
                "property": f"{at}.type",
            }
        )
        return
    check = _Check(message, at, problems)
    TYPES[message["type"]](check)
    quick_reply = check.child("quickReply", required=False)
    if quick_reply is not None:
        _quick_reply(quick_reply)
    sender = check.child("sender", required=False)
    if sender is not None:
        _sender(sender)


def message_problems(messages: Any) -> list[Problem]:
    """What LINE would say is wrong with a request's `messages` ([] when it would accept them)."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return [{"message": f"Size must be between 1 and {MAX_MESSAGES}", "property": "messages"}]
    problems: list[Problem] = []
    for i, message in enumerate(messages):
        _message(message, f"messages[{i}]", problems)
    return problems
