"""Signing in with an API token — the REST API's `Authorization: Token …` and the socket's `auth`
frame — counted by django-axes like password sign-ins: an address that keeps guessing tokens
waits LOGIN_LOCKOUT_MINUTES. A token guess counts against its address only (not against an
account: a wrong token names none), so one guesser cannot lock anybody else out.
"""

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed, Throttled

from accounts.models import User

# What a token sign-in is recorded as (axes' logs have a username column).
TOKEN_USERNAME = "(API token)"
TOKEN_CREDENTIALS = {"username": TOKEN_USERNAME}
LOCKED_MESSAGE = "Too many wrong tokens from this address; try again later."


class TokenGuessingLocked(Exception):
    """This address made too many wrong guesses."""


def lockout_parameters(request_or_attempt: Any, credentials: dict[str, Any] | None = None) -> list[Any]:
    """AXES_LOCKOUT_PARAMETERS: per account and per address, but a token guess per address."""
    username = (credentials or {}).get("username") or getattr(request_or_attempt, "username", None)
    if username == TOKEN_USERNAME:
        return ["ip_address"]
    return ["username", "ip_address"]


def token_sign_in(key: str, request: HttpRequest) -> Token | None:
    """The token with this key (and its user), or None for a wrong key, which is recorded as a
    failed sign-in from the request's address. Raises TokenGuessingLocked once that address has
    failed too often."""
    if not AxesProxyHandler.is_allowed(request, TOKEN_CREDENTIALS):
        raise TokenGuessingLocked(LOCKED_MESSAGE)
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None:
        user_login_failed.send(sender=__name__, credentials=TOKEN_CREDENTIALS, request=request)
        return None
    return token


def request_from(address: str) -> HttpRequest:
    """An HttpRequest standing for a non-HTTP sign-in (the socket's), from this address."""
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = address
    request.path = request.path_info = "/ws/live-chat/"
    return request


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with wrong tokens counted per address (429 when locked)."""

    def authenticate(self, request: Any) -> tuple[User, Token] | None:
        self._http_request = request._request  # DRF makes one authenticator per request
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        try:
            token = token_sign_in(key, self._http_request)
        except TokenGuessingLocked as exc:
            raise Throttled(detail=str(exc)) from None
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        return token.user, token
