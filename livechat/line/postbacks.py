"""What a customer's postback says, in words an operator understands.

LINE's webhook carries only the postback's `data` (never the button's label or displayText),
so the console would show `action=handoff&from=richmenu`. Actions we send ourselves are shown
by their label; anything else as a readable rendering of its data.
"""

from typing import Any
from urllib.parse import parse_qsl

# The buttons we put in front of customers (quick replies, rich menu), by `action=`. (A tap on
# the CSAT survey is a rating, stored as such, not a message: livechat.conversations.csat.)
LABELS = {
    "handoff": "คุยกับเจ้าหน้าที่ · Talk to a person",
}
MAX_LENGTH = 500


def readable(data: str, params: dict[str, Any] | None = None) -> str:
    """The label of the action we sent, or `key: value` pairs of the data; with the date or time
    a picker gave, if any."""
    fields = parse_qsl(data, keep_blank_values=True)
    action = dict(fields).get("action", "")
    if action in LABELS:
        text = LABELS[action]
    elif fields:
        text = " · ".join(f"{key}: {value}" if value else key for key, value in fields)
    else:
        text = data
    picked = " ".join(str(v) for v in (params or {}).values() if isinstance(v, str | int | float))
    return (f"{text} — {picked}" if picked else text)[:MAX_LENGTH]
