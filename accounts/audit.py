"""Writing the audit log (accounts.models.AuditLog). Whoever makes a change calls `record`.

Signing in and out is made by Django's own `login()` / `logout()` / `authenticate()` — for the
console, Django admin and the API token check alike — and those announce it with the auth
signals, so for these three the receivers below are "the code that makes the change".
"""

from typing import Any

from axes.helpers import get_client_ip_address
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts import idle_sessions
from accounts.models import AuditLog, User


def address_of(request: HttpRequest | None) -> str | None:
    """The client's address as the sign-in throttle sees it (django-axes' rule)."""
    if request is None:
        return None
    return get_client_ip_address(request) or None


def record(
    kind: str,
    *,
    actor: User | None = None,
    actor_name: str = "",
    request: HttpRequest | None = None,
    target: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
        kind=kind,
        actor=actor,
        actor_name=(actor_name or (actor.get_username() if actor else ""))[:150],
        address=address_of(request),
        target=target[:200],
        changes=changes or {},
    )


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for each field whose value differs between the two snapshots (a field
    missing from one side counts as None): the `changes` of an audit row."""
    return {
        name: [before.get(name), after.get(name)]
        for name in [*before, *(name for name in after if name not in before)]
        if before.get(name) != after.get(name)
    }


@receiver(user_logged_in, dispatch_uid="audit-login")
def on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    record(AuditLog.Kind.LOGIN, actor=user, request=request, target=_surface(request))
    if request is not None and hasattr(request, "session"):
        idle_sessions.touch(request.session)  # the new session counts as active from now


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # `credentials` has the password already masked by Django; only the name typed is kept.
    typed = str(credentials.get("username") or "")
    record(
        AuditLog.Kind.LOGIN_FAILED,
        actor=User.objects.filter(username=typed).first() if typed else None,
        actor_name=typed,
        request=request,
        target=_surface(request),
    )


@receiver(user_logged_out, dispatch_uid="audit-logout")
def on_logout(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        record(AuditLog.Kind.LOGOUT, actor=user, request=request, target=_surface(request))


def _surface(request: HttpRequest | None) -> str:
    """Where the sign-in happened: the path it was made on (console login, admin, API, socket)."""
    return getattr(request, "path", "") or ""
