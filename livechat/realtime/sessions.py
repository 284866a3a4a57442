"""Ending an operator's sockets when they sign out, are deactivated, lose their team role or
change their password (their other browser sessions end with it: Django checks the password's
hash on every request; sockets are ended here)."""

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from livechat.realtime import groups


def end_sockets(user_id: int, reason: str) -> None:
    """Every socket of the operator, on every process, closes with 4401."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(groups.operator(user_id), {"type": "session.end", "reason": reason})
    except Exception:  # the layer is down: their sockets are dead anyway
        return


@receiver(user_logged_out, dispatch_uid="livechat-end-sockets-on-logout")
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        end_sockets(user.pk, "Signed out.")


@receiver(post_save, sender=User, dispatch_uid="livechat-end-sockets-on-deactivation")
def on_user_saved(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    if created:
        return
    if not instance.is_active:
        end_sockets(instance.pk, "Account deactivated.")
    elif instance.role not in User.Role.values:
        end_sockets(instance.pk, "Your account no longer has a team role.")
    elif getattr(instance, "_password", None) is not None:  # set_password() before this save
        end_sockets(instance.pk, "Your password was changed; sign in again.")
