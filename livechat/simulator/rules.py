"""LINE's rules the simulator enforces, and the simulator's own reply tokens.

A simulator reply token carries its issue time and, like LINE, knows whom it answers
(`sim.<unix ms>.<random>[.<userId>]`), so neither freshness nor the recipient of a reply needs a
lookup; tokens in any other shape (hand-written in tests) count as fresh until used. The token
stays within the 64 characters the app stores.
"""

import hashlib
import hmac
import re
import secrets
import time

REPLY_TOKEN_TTL_SECONDS = 60
USER_ID = re.compile(r"U[0-9a-f]{32}")  # what LINE user ids look like
CHAT_ID = re.compile(r"[UCR][0-9a-f]{32}")  # a user, group chat (C…) or multi-person chat (R…)


def new_reply_token(issued_at: float | None = None, user_id: str = "") -> str:
    ms = int((time.time() if issued_at is None else issued_at) * 1000)
    if USER_ID.fullmatch(user_id):
        return f"sim.{ms}.{secrets.token_hex(4)}.{user_id}"  # 60 characters
    return f"sim.{ms}.{secrets.token_hex(8)}"


def reply_recipient(token: str) -> str:
    """The user a simulator reply token was issued to ("" if it does not say)."""
    parts = token.split(".")
    return parts[3] if len(parts) == 4 and parts[0] == "sim" and USER_ID.fullmatch(parts[3]) else ""


def reply_token_is_fresh(token: str, now: float | None = None) -> bool:
    parts = token.split(".")
    if len(parts) not in (3, 4) or parts[0] != "sim" or not parts[1].isdigit():
        return True
    age = (time.time() if now is None else now) - int(parts[1]) / 1000
    return age <= REPLY_TOKEN_TTL_SECONDS


# --- Mark-as-read tokens ------------------------------------------------------------------------
# LINE refuses a markAsReadToken it did not hand out in a webhook (400). The simulator's tokens
# carry a checksum of their random part, so any process can tell its own tokens from made-up ones
# without a lookup (and without a secret: this tells typos apart, it is no security boundary).

MARK_AS_READ_PREFIX = "simread"


def _read_checksum(random_part: str) -> str:
    return hashlib.sha256(f"{MARK_AS_READ_PREFIX}.{random_part}".encode()).hexdigest()[:12]


def new_mark_as_read_token() -> str:
    random_part = secrets.token_hex(16)
    return f"{MARK_AS_READ_PREFIX}.{random_part}.{_read_checksum(random_part)}"


def mark_as_read_token_is_known(token: str) -> bool:
    """Whether the simulator handed out this token (in a webhook event it built)."""
    parts = token.split(".")
    return (
        len(parts) == 3
        and parts[0] == MARK_AS_READ_PREFIX
        and hmac.compare_digest(parts[2], _read_checksum(parts[1]))
    )
