"""Labels on conversations, private notes, and what the team keeps about a customer — the only
code that writes them.

Like livechat.conversations.actions, each function takes the Actor, checks permissions, writes in
one transaction and publishes its frame after commit (so every console, on any process, hears of
it). None of this is ever sent to LINE: notes and labels are for the team only.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext_lazy

from accounts.models import User
from livechat.conversations import permissions
from livechat.conversations.actions import Actor
from livechat.conversations.permissions import ActionRefused
from livechat.models import Contact, Conversation, Label, Note
from livechat.realtime import frames, groups, publish


def set_labels(conversation_id: int, actor: Actor, label_ids: list[int]) -> list[Label]:
    """Give the conversation exactly these labels (the holder or a supervisor); every operator's
    list hears `labels_updated`."""
    user = _staff(actor)
    with transaction.atomic():
        # The row lock orders two consoles setting labels at once: the last one wins, whole.
        conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
        if conversation is None:
            raise ActionRefused(
                "not_found", gettext_lazy("Conversation %(id)s does not exist."), id=conversation_id
            )
        if not permissions.may_set_labels(user, conversation):
            raise ActionRefused(
                "forbidden",
                gettext_lazy("Only the operator holding the conversation or a supervisor may label it."),
            )
        labels = list(Label.objects.filter(pk__in=label_ids).order_by("name"))
        if len(labels) != len(set(label_ids)):
            raise ActionRefused("invalid", gettext_lazy("One of those labels does not exist."))
        conversation.labels.set(labels)
        publish.on_commit((groups.OPERATORS, frames.labels_updated(conversation.pk, labels, user)))
    return labels


def add_note(conversation_id: int, actor: Actor, text: str) -> Note:
    """A private note in the conversation's timeline: its room hears `note_added`, and each team
    member named in it (@username or @display name) hears `note_mention` on all their sockets."""
    user = _staff(actor)
    text = text.strip()
    if not text:
        raise ActionRefused("invalid", gettext_lazy("The note is empty."))
    with transaction.atomic():
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is None:
            raise ActionRefused(
                "not_found", gettext_lazy("Conversation %(id)s does not exist."), id=conversation_id
            )
        if not permissions.may_add_note(user, conversation):
            raise ActionRefused("forbidden", gettext_lazy("Only team members may write notes."))
        note = Note.objects.create(conversation=conversation, author=user, text=text)
        mentioned = [
            member for member in mentioned_in(text, permissions.team_members()) if member.pk != user.pk
        ]
        note.mentions.set(mentioned)
        prefetch_related_objects([note], "mentions")
        publish.on_commit(
            (groups.conversation(conversation.pk), frames.note_added(note)),
            *((groups.operator(member.pk), frames.note_mention(note)) for member in mentioned),
        )
    return note


def mentioned_in(text: str, members: Iterable[User]) -> list[User]:
    """The members named in the text as @username or @display name (any case), each once."""
    folded = text.casefold()
    return [
        member
        for member in members
        if any(_names(folded, handle) for handle in {member.username, member.display_name} if handle)
    ]


def _names(folded_text: str, handle: str) -> bool:
    """Whether "@handle" occurs as a whole name: what follows is not a letter or digit."""
    needle = "@" + handle.casefold()
    start = folded_text.find(needle)
    while start != -1:
        end = start + len(needle)
        if end == len(folded_text) or not (folded_text[end].isalnum() or folded_text[end] == "_"):
            return True
        start = folded_text.find(needle, start + 1)
    return False


def update_contact(
    contact_id: int, actor: Actor, *, notes: str | None = None, custom_fields: dict[str, str] | None = None
) -> Contact:
    """Change a customer's notes and/or custom fields (a supervisor, or the holder of one of their
    open conversations); every console hears `contact_updated`."""
    user = _staff(actor)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
        if contact is None:
            raise ActionRefused("not_found", gettext_lazy("Contact %(id)s does not exist."), id=contact_id)
        if not permissions.may_edit_contact(user, contact.pk):
            raise ActionRefused(
                "forbidden",
                gettext_lazy(
                    "Only a supervisor or the operator serving this customer may edit their details."
                ),
            )
        changed = []
        if notes is not None and notes != contact.notes:
            contact.notes = notes
            changed.append("notes")
        if custom_fields is not None and custom_fields != contact.custom_fields:
            contact.custom_fields = custom_fields
            changed.append("custom_fields")
        if changed:
            contact.save(update_fields=changed)
            publish.on_commit((groups.OPERATORS, frames.contact_updated(contact, user)))
    return contact


def _staff(actor: Actor) -> User:
    if actor.user is None:
        raise ActionRefused("forbidden", gettext_lazy("Only a team member can do this."))
    return actor.user
