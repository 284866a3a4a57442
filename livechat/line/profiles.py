"""Customers' LINE profiles (name, picture, status message), fetched off the request path."""

import logging

from django.db.models import Q
from django.utils import timezone

from livechat.line import messaging_api
from livechat.models import Contact, Conversation
from livechat.realtime import publish
from livechat.realtime.payloads import conversation_payload

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
    Contact.objects.filter(pk=contact_id).update(
        display_name=profile.display_name[:200],
        picture_url=profile.picture_url[:1000],
        status_message=profile.status_message,
        language=profile.language[:16],
        profile_fetched_at=timezone.now(),
    )
    conversation = (
        Conversation.objects.select_related("contact", "assigned_operator")
        .filter(contact_id=contact_id)
        .exclude(status=Conversation.Status.CLOSED)
        .first()
    )
    if conversation is not None:
        payload = {"conversation": conversation_payload(conversation), "messages": []}
        publish.publish_now([(publish.OPERATORS_GROUP, "conversation_update", payload)])
    return True


def due_contact_ids(limit: int = 50) -> list[int]:
    """Contacts whose profile was never fetched (a failed or interrupted first fetch)."""
    stale = timezone.now() - timezone.timedelta(seconds=30)
    return list(
        Contact.objects.filter(Q(profile_fetched_at__isnull=True) & Q(created_at__lt=stale))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
