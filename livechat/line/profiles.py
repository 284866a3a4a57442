"""Customers' LINE profiles (name, picture, status message), fetched off the request path."""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from livechat.conversations import actions
from livechat.line import messaging_api
from livechat.models import Contact

logger = logging.getLogger(__name__)


def refresh(contact_id: int) -> bool:
    """Fetch and store the contact's profile; on failure it stays due for the worker."""
    contact = Contact.objects.get(pk=contact_id)
    try:
        profile = messaging_api.get_profile(contact.line_user_id)
    except messaging_api.LineError as exc:
        if exc.status == 404:  # blocked us or not a friend: nothing to fetch, stop asking
            Contact.objects.filter(pk=contact_id).update(profile_fetched_at=timezone.now())
        logger.info("profile of %s not fetched: %s", contact.line_user_id, exc)
        return False
    actions.update_profile(
        contact_id,
        display_name=profile.display_name,
        picture_url=profile.picture_url,
        status_message=profile.status_message,
        language=profile.language,
    )
    return True


def due_contact_ids(limit: int = 50) -> list[int]:
    """Contacts whose profile was never fetched (a failed or interrupted first fetch)."""
    stale = timezone.now() - timedelta(seconds=30)
    return list(
        Contact.objects.filter(Q(profile_fetched_at__isnull=True) & Q(created_at__lt=stale))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
