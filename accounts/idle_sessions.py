"""Console sessions end after SESSION_IDLE_HOURS without activity (default 12).

Django expires a stored session SESSION_COOKIE_AGE after it was last saved, so an idle timeout is
that age plus saving the session whenever its user is active. Saving it on every request
(SESSION_SAVE_EVERY_REQUEST) would add a write to every console request and socket frame; instead
activity is noted at most once per SESSION_ACTIVITY_RESOLUTION_SECONDS, so the session ends
between 12 h minus that resolution and 12 h after the last activity.
"""

import importlib
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.utils import timezone

SEEN = "_livechat_active_at"  # when activity was last noted (Unix seconds)


def touch(session: SessionBase) -> None:
    """Note activity now: the session is saved (and its expiry moved) at the end of the request."""
    session[SEEN] = int(time.time())


def note_activity(session: SessionBase) -> None:
    """Note activity, unless it was noted within the resolution (no write then)."""
    seen = session.get(SEEN)
    if not isinstance(seen, int) or time.time() - seen >= settings.SESSION_ACTIVITY_RESOLUTION_SECONDS:
        touch(session)


def note_activity_of(session_key: str) -> None:
    """The same for a socket's session (no request to save it): loaded, noted, saved now."""
    session = importlib.import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if not session.exists(session_key):
        return  # ended meanwhile: the socket's own check closes it
    before = session.get(SEEN)
    note_activity(session)
    if session.get(SEEN) != before:
        session.save()


def expires_at(session_key: str) -> datetime | None:
    """When the stored session ends (None: it has already ended or never existed)."""
    return (
        Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now())
        .values_list("expire_date", flat=True)
        .first()
    )


class IdleSessionMiddleware:
    """Notes a signed-in user's activity on their session (see the module's docstring)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only where the request itself looked at the session (a signed-in page or API call):
        # asking for the user here would otherwise load it — one more query on every request,
        # and a wait on a database that may be down (/readyz).
        if session is not None and session.accessed and request.user.is_authenticated:
            note_activity(session)
        return response
