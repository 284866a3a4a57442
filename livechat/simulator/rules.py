"""LINE's rules the simulator enforces, and the simulator's own reply tokens.

A simulator reply token carries its issue time (`sim.<unix ms>.<random>`), so freshness needs no
lookup; tokens in any other shape (hand-written in tests) count as fresh until used.
"""

import secrets
import time

REPLY_TOKEN_TTL_SECONDS = 60


def new_reply_token(issued_at: float | None = None) -> str:
    ms = int((time.time() if issued_at is None else issued_at) * 1000)
    return f"sim.{ms}.{secrets.token_hex(8)}"


def reply_token_is_fresh(token: str, now: float | None = None) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "sim" or not parts[1].isdigit():
        return True
    age = (time.time() if now is None else now) - int(parts[1]) / 1000
    return age <= REPLY_TOKEN_TTL_SECONDS
