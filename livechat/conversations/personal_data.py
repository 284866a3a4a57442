"""A customer's personal data under the Thai PDPA: export everything held about one LINE user, or
erase it (PRODUCT §11).

Who may: supervisors and admins (permissions.may_handle_personal_data) — the REST API and the
console ask there; `manage.py pdpa` is for admins at a shell. Both are written to the audit log
(accounts.AuditLog, kinds export and erasure) with who asked, from where and how much.

Erasing keeps the rows and their times — conversations, their events, messages' seq, direction,
type, status and timestamps — so analytics stay right; what goes is what identifies or was said:
the profile, every message's text, payload and media files, operators' handover notes, the team's
private notes on their conversations and its notes and custom fields about them, and the
raw webhook bodies LINE sent for the user. The contact row stays, anonymised, with an
`erased-<id>` placeholder for its LINE user id: the id is unique, and a later message from the same
LINE user starts a new contact that knows nothing of the old one.
"""

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts import audit
from accounts.models import AuditLog, User
from livechat.conversations import actions
from livechat.conversations.actions import SYSTEM
from livechat.conversations.permissions import ActionRefused
from livechat.line import hosted_images
from livechat.models import (
    Contact,
    Conversation,
    ConversationEvent,
    CsatResponse,
    Message,
    Note,
    SlaAlert,
    WebhookEvent,
)

FORMAT_VERSION = 1
ERASED_PREFIX = "erased-"
CLOSE_REASON = "erased"
CHUNK = 2000  # rows per fetch while exporting, and webhook bodies per erasing UPDATE


@dataclass(frozen=True)
class Requester:
    """Who asked, for the audit log: a signed-in supervisor (with the request, for the address)
    or an admin at a shell (no user; `name` says who)."""

    user: User | None = None
    name: str = ""
    request: HttpRequest | None = None


def is_erased(contact: Contact) -> bool:
    return contact.line_user_id.startswith(ERASED_PREFIX)


def target(contact: Contact) -> str:
    """How the audit log names the contact."""
    return f"contact:{contact.pk}"


# --- Export ---------------------------------------------------------------------------------------


def _rows(queryset: QuerySet[Any], *fields: str) -> Iterator[dict[str, Any]]:
    """The rows as dicts, fetched in chunks: one query however many there are."""
    return queryset.values(*fields).iterator(chunk_size=CHUNK)


def _conversations(contact: Contact) -> Iterator[dict[str, Any]]:
    return _rows(
        Conversation.objects.filter(contact=contact).order_by("created_at", "id"),
        "id",
        "status",
        "created_at",
        "handoff_requested_at",
        "claimed_at",
        "first_response_at",
        "closed_at",
        "last_message_at",
        "close_reason",
        "assigned_operator_id",
    )


def _messages(contact: Contact) -> Iterator[dict[str, Any]]:
    for row in _rows(
        Message.objects.filter(conversation__contact=contact).order_by("conversation_id", "seq"),
        "id",
        "conversation_id",
        "seq",
        "direction",
        "sender_kind",
        "operator_id",
        "type",
        "text",
        "payload",
        "media",
        "media_status",
        "status",
        "error",
        "is_unsent",
        "unsent_at",
        "line_timestamp",
        "created_at",
        "sent_at",
    ):
        # The LINE message object as received or sent: sticker ids, location, file name and
        # size, an external image's URLs, the quoted message …
        row["details"] = row.pop("payload")
        name = row.pop("media")
        row["media"] = (
            {"file_name": name, "url": reverse("livechat:media", args=[row["id"]])} if name else None
        )
        yield row


def _events(contact: Contact) -> Iterator[dict[str, Any]]:
    return _rows(
        ConversationEvent.objects.filter(conversation__contact=contact).order_by("created_at", "id"),
        "id",
        "conversation_id",
        "kind",
        "actor_kind",
        "actor_id",
        "from_status",
        "to_status",
        "from_operator_id",
        "to_operator_id",
        "note",
        "created_at",
    )


def _sla_alerts(contact: Contact) -> Iterator[dict[str, Any]]:
    return _rows(
        SlaAlert.objects.filter(conversation__contact=contact).order_by("created_at", "id"),
        "conversation_id",
        "kind",
        "level",
        "started_at",
        "due_at",
        "operator_id",
        "created_at",
    )


def _csat(contact: Contact) -> Iterator[dict[str, Any]]:
    return _rows(
        CsatResponse.objects.filter(conversation__contact=contact).order_by("id"),
        "conversation_id",
        "rating",
        "comment",
        "created_at",
        "commented_at",
    )


def _private_notes(contact: Contact) -> Iterator[dict[str, Any]]:
    """The team's private notes on the contact's conversations (never sent to them)."""
    return _rows(
        Note.objects.filter(conversation__contact=contact).order_by("created_at", "id"),
        "id",
        "conversation_id",
        "author_id",
        "text",
        "created_at",
    )


# Each list of the document, in order. A new kind of data about the contact is one line here.
SECTIONS: dict[str, Callable[[Contact], Iterable[dict[str, Any]]]] = {
    "conversations": _conversations,
    "messages": _messages,
    "events": _events,
    "sla_alerts": _sla_alerts,
    "csat": _csat,
    "private_notes": _private_notes,
}
# Columns holding a team member's id: the document names them instead ("operator_id" → "operator").
OPERATOR_COLUMNS = (
    "assigned_operator_id",
    "operator_id",
    "actor_id",
    "from_operator_id",
    "to_operator_id",
    "author_id",
)


def _operator_names(contact: Contact) -> dict[int, str]:
    """Names of every team member the contact's data mentions, in one query."""
    of_contact = {"conversation__contact": contact}
    mentioned = (
        Q(pk__in=Conversation.objects.filter(contact=contact).values("assigned_operator"))
        | Q(pk__in=Message.objects.filter(**of_contact).values("operator"))
        | Q(pk__in=ConversationEvent.objects.filter(**of_contact).values("actor"))
        | Q(pk__in=ConversationEvent.objects.filter(**of_contact).values("from_operator"))
        | Q(pk__in=ConversationEvent.objects.filter(**of_contact).values("to_operator"))
        | Q(pk__in=SlaAlert.objects.filter(**of_contact).values("operator"))
        | Q(pk__in=Note.objects.filter(**of_contact).values("author"))
    )
    return {user.pk: user.name for user in User.objects.filter(mentioned)}


def _named(row: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    for column in OPERATOR_COLUMNS:
        if column in row:
            user_id = row.pop(column)
            row[column.removesuffix("_id")] = names.get(user_id) if user_id is not None else None
    return row


def profile(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "line_user_id": contact.line_user_id,
        "display_name": contact.display_name,
        "picture_url": contact.picture_url,
        "status_message": contact.status_message,
        "language": contact.language,
        "is_following": contact.is_following,
        "followed_at": contact.followed_at,
        "unfollowed_at": contact.unfollowed_at,
        "profile_fetched_at": contact.profile_fetched_at,
        "created_at": contact.created_at,
        # What the team keeps about them across conversations (the customer panel).
        "notes": contact.notes,
        "custom_fields": contact.custom_fields,
        "erased": is_erased(contact),
    }


def document(contact: Contact, *, now: datetime | None = None) -> Iterator[str]:
    """The export as JSON text, in pieces: a fixed number of queries, and never the whole history
    in memory at once. Times are ISO 8601 in UTC; operators appear by name."""

    def encode(value: Any) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)

    names = _operator_names(contact)
    yield "{" + encode("format_version") + ": " + encode(FORMAT_VERSION)
    yield ", " + encode("exported_at") + ": " + encode(now or timezone.now())
    yield ", " + encode("contact") + ": " + encode(profile(contact))
    for section, rows in SECTIONS.items():
        yield ", " + encode(section) + ": ["
        for index, row in enumerate(rows(contact)):
            yield ("\n" if index == 0 else ",\n") + encode(_named(row, names))
        yield "]"
    yield "}\n"


def counts(contact: Contact) -> dict[str, int]:
    """How much the export holds (for the audit log)."""
    of_contact = {"conversation__contact": contact}
    return {
        "conversations": Conversation.objects.filter(contact=contact).count(),
        "messages": Message.objects.filter(**of_contact).count(),
        "events": ConversationEvent.objects.filter(**of_contact).count(),
        "sla_alerts": SlaAlert.objects.filter(**of_contact).count(),
        "private_notes": Note.objects.filter(**of_contact).count(),
    }


def export(contact: Contact, by: Requester, *, now: datetime | None = None) -> Iterator[str]:
    """Record the export in the audit log, and return the document (`document`)."""
    audit.record(
        AuditLog.Kind.EXPORT,
        actor=by.user,
        actor_name=by.name,
        request=by.request,
        target=target(contact),
        changes={"format_version": FORMAT_VERSION, **counts(contact)},
    )
    return document(contact, now=now)


def file_name(contact: Contact, now: datetime | None = None) -> str:
    """The download's name: the contact and the (local) date."""
    return f"contact-{contact.pk}-{timezone.localdate(now or timezone.now()):%Y-%m-%d}.json"


# --- Erasure --------------------------------------------------------------------------------------


def erase(contact: Contact, by: Requester) -> dict[str, int]:
    """Erase what identifies the contact or was said with them; keep anonymous timings.

    Their open conversation is closed first, by the system (reason "erased"), and consoles see it.
    Erasing twice is harmless: the second finds nothing left and says so in its counts.
    Returns the counts recorded in the audit log.
    """
    erased_before = is_erased(contact)
    webhook_bodies, looked_up_to = (0, 0) if erased_before else _erase_webhook_bodies(contact.line_user_id)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        closed = _close_open_conversations(contact)
        media_files = _delete_media_files(contact)
        messages = _erase_messages(contact)
        # Handover notes are free text about the customer; close reasons are the team's own
        # categories (analytics reports them) and stay.
        # A rating is an anonymous figure for analytics; the comment is the customer's words.
        comments = (
            CsatResponse.objects.filter(conversation__contact=contact).exclude(comment="").update(comment="")
        )
        notes = (
            ConversationEvent.objects.filter(
                conversation__contact=contact,
                kind__in=[ConversationEvent.Kind.TRANSFERRED, ConversationEvent.Kind.RETURNED],
            )
            .exclude(note="")
            .update(note="")
        )
        # The team's private notes are free text about the customer, with no figure to keep.
        _, deleted = Note.objects.filter(conversation__contact=contact).delete()
        private_notes = deleted.get(Note._meta.label, 0)  # not counting their mentions
        contact_details = (
            Contact.objects.filter(pk=contact.pk)
            .exclude(notes="", custom_fields={})
            .update(notes="", custom_fields={})
        )
        if not erased_before:
            # What LINE delivered while the batches above ran.
            more, _ = _erase_webhook_bodies(contact.line_user_id, after_id=looked_up_to)
            webhook_bodies += more
        profile_erased = _anonymise(contact)
        result = {
            "conversations_closed": len(closed),
            "messages": messages,
            "media_files": media_files,
            "event_notes": notes,
            "csat_comments": comments,
            "private_notes": private_notes,
            "contact_details": contact_details,
            "webhook_events": webhook_bodies,
            "profile": int(profile_erased),
        }
        audit.record(
            AuditLog.Kind.ERASURE,
            actor=by.user,
            actor_name=by.name,
            request=by.request,
            target=target(contact),
            changes=result,
        )
        for conversation in Conversation.objects.select_related("contact", "assigned_operator").filter(
            pk__in=closed
        ):
            # The anonymised profile and the emptied messages, in every console that shows it.
            actions.publish_conversation_on_commit(conversation)
    return result


def _close_open_conversations(contact: Contact) -> list[int]:
    """Close the contact's open conversation, by the system; returns the ids closed."""
    closed = []
    still_open = Conversation.objects.filter(contact=contact).exclude(status=Conversation.Status.CLOSED)
    for conversation_id in still_open.values_list("pk", flat=True):
        try:
            actions.close(conversation_id, SYSTEM, CLOSE_REASON)
        except ActionRefused:
            continue  # closed meanwhile by someone else: closed is what we wanted
        closed.append(conversation_id)
    return closed


def _delete_media_files(contact: Contact) -> int:
    """Remove the files of the contact's messages from storage (received media and the images
    operators sent them, with their previews). Returns how many files there were."""
    deleted = 0
    with_media = Message.objects.filter(conversation__contact=contact).exclude(media="")
    for name in with_media.values_list("media", flat=True).iterator(chunk_size=CHUNK):
        for path in hosted_images.files_stored_with(name) or [name]:
            if default_storage.exists(path):
                default_storage.delete(path)
                deleted += 1
    return deleted


def _erase_messages(contact: Contact) -> int:
    """Empty what the contact's messages say, in one UPDATE; seq, direction, sender, type, status
    and times stay. A send still pending is given up: there is nobody to send it to any more.
    Returns how many messages had something left to erase."""
    messages = Message.objects.filter(conversation__contact=contact)
    messages.filter(status=Message.Status.PENDING).update(
        status=Message.Status.FAILED, next_attempt_at=None, claimed_until=None
    )
    something_left = (
        ~Q(text="")
        | ~Q(payload={})
        | ~Q(media="")
        | Q(line_message_id__isnull=False)
        | ~Q(reply_token="")
        | ~Q(mark_as_read_token="")
    )
    return messages.filter(something_left).update(
        text="",
        payload={},
        media="",
        media_status=Message.MediaStatus.NONE,
        line_message_id=None,
        reply_token="",
        mark_as_read_token="",
    )


def _anonymise(contact: Contact) -> bool:
    """The profile goes; the row stays (conversations point at it). False if it was already gone."""
    if is_erased(contact):
        return False
    Contact.objects.filter(pk=contact.pk).update(
        line_user_id=f"{ERASED_PREFIX}{contact.pk}",
        display_name="",
        picture_url="",
        status_message="",
        language="",
        is_following=False,  # nothing can be sent to an erased contact
        # Set, so that the worker never asks LINE for the placeholder's profile.
        profile_fetched_at=Coalesce(F("profile_fetched_at"), timezone.now()),
    )
    return True


def _erase_webhook_bodies(line_user_id: str, after_id: int = 0) -> tuple[int, int]:
    """Empty the raw bodies of the webhook events LINE sent for the user (its `source.userId`),
    CHUNK at a time, each batch its own short UPDATE, walking the primary key up to the newest row
    at the start. The rows stay: they are what deduplicates LINE's redeliveries.

    Returns (how many, the newest id looked at): a second call from there sees only newer rows.
    """
    newest = WebhookEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    erased = 0
    last_seen = after_id
    while last_seen < newest:
        batch = list(
            WebhookEvent.objects.filter(pk__gt=last_seen, pk__lte=newest, raw__source__userId=line_user_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not batch:
            break
        erased += WebhookEvent.objects.filter(pk__in=batch).update(raw={})
        last_seen = batch[-1]
    return erased, max(newest, after_id)


def find(*, contact_id: int | None = None, line_user_id: str | None = None) -> Contact | None:
    """The contact by our id or by their LINE user id."""
    if contact_id is not None:
        return Contact.objects.filter(pk=contact_id).first()
    if line_user_id:
        return Contact.objects.filter(line_user_id=line_user_id).first()
    return None
