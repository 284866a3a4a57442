"""A customer's personal data under the PDPA: the export holds everything about them and nothing
about anyone else; the erasure removes what they said, their files and their profile, keeps the
anonymous timings analytics need, and is audited; `manage.py pdpa` does both from a shell.
"""

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from accounts.models import AuditLog, User
from livechat.conversations import actions, personal_data
from livechat.conversations.actions import Actor
from livechat.conversations.store import append_message, start_conversation
from livechat.line import hosted_images
from livechat.models import (
    Contact,
    Conversation,
    ConversationEvent,
    CsatResponse,
    Message,
    SlaAlert,
    WebhookEvent,
)
from livechat.realtime import groups
from livechat.simulator import events as ev
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db

Status = Conversation.Status
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 in Bangkok
ADMIN = personal_data.Requester(name="test")


@pytest.fixture(autouse=True)
def in_memory_layer(settings: Any) -> None:
    """Frames are read back from the channel layer of this process."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def frames_to_operators() -> Callable[[], list[dict[str, Any]]]:
    """Listen to every operator's group now; the returned function gives what a console there
    received (call it once: it waits for the layer to be quiet)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(groups.OPERATORS, channel)

    async def drain() -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while True:
            try:
                event = await asyncio.wait_for(layer.receive(channel), 0.2)
            except TimeoutError:
                return received
            received.append(json.loads(event["text"]))

    return async_to_sync(drain)


def say(conversation: Conversation, text: str = "", **fields: Any) -> Message:
    """A customer's message (or, with `direction="out"`, someone else's) in the conversation."""
    fields = {
        "direction": Message.Direction.IN,
        "sender_kind": Message.SenderKind.CUSTOMER,
        "type": Message.Type.TEXT,
        "status": Message.Status.RECEIVED,
        "text": text,
        **fields,
    }
    with transaction.atomic():
        return append_message(conversation, **fields)


def webhook_event(line_user_id: str, text: str) -> WebhookEvent:
    return WebhookEvent.objects.create(
        webhook_event_id=ev.new_message_id(),
        event_type="message",
        source_type="user",
        raw={
            "type": "message",
            "source": {"type": "user", "userId": line_user_id},
            "message": {"type": "text", "id": ev.new_message_id(), "text": text},
        },
    )


class History:
    """A customer with a past (closed) conversation and an open one, with every kind of data."""

    def __init__(self, name: str, operator: User, supervisor: User) -> None:
        self.contact = Contact.objects.create(
            line_user_id=ev.new_user_id(),
            display_name=name,
            picture_url=f"https://profile.line-scdn.net/{name}",
            status_message="ชอบกินส้มตำ",
            language="th",
        )
        with transaction.atomic():
            self.past, _ = start_conversation(self.contact)
        Conversation.objects.filter(pk=self.past.pk).update(status=Status.WAITING, handoff_requested_at=T0)
        actions.claim(self.past.pk, Actor.staff(operator))
        self.texts = [f"{name}: เบอร์ของฉันคือ 081-234-5678", f"{name}: ที่อยู่ 99 ถนนสุขุมวิท"]
        for text in self.texts:
            say(self.past, text)
        say(self.past, type=Message.Type.STICKER, payload={"packageId": "446", "stickerId": "1988"})
        say(
            self.past,
            "บ้าน",
            type=Message.Type.LOCATION,
            payload={"title": "บ้าน", "address": "99 Sukhumvit", "latitude": 13.7, "longitude": 100.5},
        )
        self.photo = say(self.past, type=Message.Type.IMAGE, payload={"contentProvider": {"type": "line"}})
        actions.store_media(self.photo, "photo.jpg", b"\xff\xd8\xff customer photo")
        sent = hosted_images.store(
            SimpleUploadedFile("a.png", png_bytes()), SimpleUploadedFile("p.png", png_bytes(2, 2))
        )
        self.sent_image = say(
            self.past,
            direction=Message.Direction.OUT,
            sender_kind=Message.SenderKind.OPERATOR,
            operator=operator,
            type=Message.Type.IMAGE,
            status=Message.Status.SENT,
            payload={"type": "image", "originalContentUrl": "https://example.test/x"},
            media=sent.original_path,
            media_status=Message.MediaStatus.STORED,
        )
        say(
            self.past,
            f"สวัสดีค่ะคุณ {name}",
            direction=Message.Direction.OUT,
            sender_kind=Message.SenderKind.OPERATOR,
            operator=operator,
            status=Message.Status.SENT,
        )
        actions.transfer(
            self.past.pk, Actor.staff(operator), to_operator_id=supervisor.pk, note=f"{name} VIP"
        )
        actions.close(self.past.pk, Actor.staff(supervisor), "Resolved")
        SlaAlert.objects.create(
            conversation=self.past,
            kind=SlaAlert.Kind.FIRST_RESPONSE,
            level=SlaAlert.Level.WARNING,
            started_at=T0,
            due_at=T0 + timedelta(minutes=5),
            operator=operator,
        )
        CsatResponse.objects.create(conversation=self.past, rating=4, comment=f"{name} ชอบบริการค่ะ")
        with transaction.atomic():
            self.current, _ = start_conversation(self.contact)
        Conversation.objects.filter(pk=self.current.pk).update(
            status=Status.WAITING, handoff_requested_at=T0 + timedelta(days=1)
        )
        actions.claim(self.current.pk, Actor.staff(operator))
        say(self.current, f"{name}: ยังรออยู่นะคะ")
        self.webhook_events = [webhook_event(self.contact.line_user_id, text) for text in self.texts]
        self.files: list[str] = [self.photo.media.name or "", sent.original_path, sent.preview_path]

    @property
    def conversation_ids(self) -> set[int]:
        return {self.past.pk, self.current.pk}


@pytest.fixture
def ploy(operator: User, supervisor: User) -> History:
    return History("Ploy", operator, supervisor)


@pytest.fixture
def krit(operator: User, supervisor: User) -> History:
    return History("Krit", operator, supervisor)


def exported(contact: Contact) -> dict[str, Any]:
    return json.loads("".join(personal_data.export(contact, ADMIN)))


# --- Export ---------------------------------------------------------------------------------------


def test_the_export_holds_the_profile_every_conversation_message_and_event_of_the_contact(
    ploy: History, krit: History, operator: User
) -> None:
    document = exported(ploy.contact)

    assert document["format_version"] == 1
    assert datetime.fromisoformat(document["exported_at"].replace("Z", "+00:00"))
    profile = document["contact"]
    assert (profile["id"], profile["line_user_id"], profile["display_name"]) == (
        ploy.contact.pk,
        ploy.contact.line_user_id,
        "Ploy",
    )
    assert (profile["status_message"], profile["language"], profile["erased"]) == ("ชอบกินส้มตำ", "th", False)
    assert {c["id"] for c in document["conversations"]} == ploy.conversation_ids
    past = next(c for c in document["conversations"] if c["id"] == ploy.past.pk)
    assert (past["status"], past["close_reason"], past["assigned_operator"]) == (
        "closed",
        "Resolved",
        "Malee",
    )
    assert past["handoff_requested_at"].startswith("2026-03-02T03:00:00")

    messages = document["messages"]
    assert {m["conversation_id"] for m in messages} == ploy.conversation_ids
    assert len(messages) == Message.objects.filter(conversation__contact=ploy.contact).count()
    texts = [m["text"] for m in messages]
    assert all(text in texts for text in ploy.texts)
    assert "สวัสดีค่ะคุณ Ploy" in texts
    sticker = next(m for m in messages if m["type"] == "sticker")
    assert sticker["details"] == {"packageId": "446", "stickerId": "1988"}
    location = next(m for m in messages if m["type"] == "location")
    assert (location["details"]["latitude"], location["details"]["address"]) == (13.7, "99 Sukhumvit")
    photo = next(m for m in messages if m["id"] == ploy.photo.pk)
    assert photo["media"]["file_name"] == ploy.photo.media.name
    assert photo["media"]["url"] == reverse("livechat:media", args=[ploy.photo.pk])
    reply = next(m for m in messages if m["text"] == "สวัสดีค่ะคุณ Ploy")
    assert (reply["direction"], reply["sender_kind"], reply["operator"], reply["status"]) == (
        "out",
        "operator",
        "Somchai",
        "sent",
    )
    seqs = [m["seq"] for m in messages if m["conversation_id"] == ploy.past.pk]
    assert seqs == sorted(seqs) and seqs[0] == 1

    kinds = [e["kind"] for e in document["events"] if e["conversation_id"] == ploy.past.pk]
    assert kinds == ["created", "claimed", "transferred", "closed"]
    transferred = next(e for e in document["events"] if e["kind"] == "transferred")
    assert (transferred["actor"], transferred["to_operator"], transferred["note"]) == (
        "Somchai",
        "Malee",
        "Ploy VIP",
    )
    [alert] = document["sla_alerts"]
    assert (alert["conversation_id"], alert["kind"], alert["level"], alert["operator"]) == (
        ploy.past.pk,
        "first_response",
        "warning",
        "Somchai",
    )
    [rating] = document["csat"]
    assert (rating["conversation_id"], rating["rating"], rating["comment"]) == (
        ploy.past.pk,
        4,
        "Ploy ชอบบริการค่ะ",
    )

    everything = json.dumps(document, ensure_ascii=False)
    assert "Krit" not in everything and krit.contact.line_user_id not in everything


def test_the_export_takes_as_many_queries_for_a_long_history_as_for_a_short_one(
    ploy: History, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(13):
        short = exported(ploy.contact)
    for n in range(300):
        say(ploy.current, f"ข้อความที่ {n}")

    with django_assert_max_num_queries(13):
        long = exported(ploy.contact)

    assert len(long["messages"]) == len(short["messages"]) + 300


def test_an_export_is_in_the_audit_log_with_who_and_how_much(ploy: History, supervisor: User) -> None:
    document = "".join(personal_data.export(ploy.contact, personal_data.Requester(user=supervisor)))

    [entry] = AuditLog.objects.filter(kind=AuditLog.Kind.EXPORT)
    assert (entry.actor, entry.actor_name, entry.target) == (
        supervisor,
        "malee",
        f"contact:{ploy.contact.pk}",
    )
    assert entry.changes["messages"] == len(json.loads(document)["messages"])
    assert (entry.changes["conversations"], entry.changes["events"], entry.changes["sla_alerts"]) == (2, 6, 1)


# --- Erasure --------------------------------------------------------------------------------------


def test_erasing_removes_what_they_said_their_files_and_their_profile(ploy: History, krit: History) -> None:
    assert all(default_storage.exists(name) for name in ploy.files)
    line_user_id = ploy.contact.line_user_id

    personal_data.erase(ploy.contact, ADMIN)

    contact = Contact.objects.get(pk=ploy.contact.pk)
    assert contact.line_user_id == f"erased-{contact.pk}"
    assert (contact.display_name, contact.picture_url, contact.status_message, contact.language) == ("",) * 4
    assert not contact.is_following
    assert not Contact.objects.filter(line_user_id=line_user_id).exists()
    messages = Message.objects.filter(conversation__contact=contact)
    assert messages.count() == 8
    assert not messages.exclude(text="").exists()
    assert not messages.exclude(payload={}).exists()
    assert not messages.exclude(media="").exists()
    assert not any(default_storage.exists(name) for name in ploy.files)
    for event in ploy.webhook_events:
        event.refresh_from_db()
        assert event.raw == {}
    transferred = ConversationEvent.objects.get(conversation=ploy.past, kind="transferred")
    assert transferred.note == ""

    # The other customer keeps everything.
    assert Contact.objects.get(pk=krit.contact.pk).display_name == "Krit"
    assert set(
        Message.objects.filter(conversation__contact=krit.contact).values_list("text", flat=True)
    ) >= set(krit.texts)
    assert all(default_storage.exists(name) for name in krit.files)
    assert all(WebhookEvent.objects.get(pk=e.pk).raw != {} for e in krit.webhook_events)


def test_erasing_keeps_the_conversations_their_timings_and_events(ploy: History) -> None:
    def timings() -> list[tuple[Any, ...]]:
        return list(
            Conversation.objects.filter(pk=ploy.past.pk).values_list(
                "created_at", "handoff_requested_at", "claimed_at", "first_response_at", "closed_at", "status"
            )
        )

    def messages() -> list[tuple[Any, ...]]:
        return list(
            Message.objects.filter(conversation__contact=ploy.contact)
            .order_by("pk")
            .values_list("seq", "direction", "sender_kind", "type", "created_at", "operator")
        )

    before = (
        timings(),
        messages(),
        list(
            ConversationEvent.objects.filter(conversation=ploy.past).values_list(
                "kind", "created_at", "actor"
            )
        ),
    )

    personal_data.erase(ploy.contact, ADMIN)

    after = (
        timings(),
        messages(),
        list(
            ConversationEvent.objects.filter(conversation=ploy.past).values_list(
                "kind", "created_at", "actor"
            )
        ),
    )
    assert after == before
    assert Conversation.objects.get(pk=ploy.past.pk).close_reason == "Resolved"


def test_the_open_conversation_is_closed_by_the_system_and_consoles_see_it(
    ploy: History, django_capture_on_commit_callbacks: Any
) -> None:
    frames = frames_to_operators()
    with django_capture_on_commit_callbacks(execute=True):
        personal_data.erase(ploy.contact, ADMIN)

    current = Conversation.objects.get(pk=ploy.current.pk)
    assert (current.status, current.close_reason) == (Status.CLOSED, "erased")
    closing = ConversationEvent.objects.filter(conversation=current).latest("id")
    assert (closing.kind, closing.actor_kind, closing.actor_id, closing.note) == (
        "closed",
        "system",
        None,
        "erased",
    )
    received = frames()
    [closed] = [f for f in received if f["type"] == "session_closed"]
    assert closed["payload"]["conversation"]["id"] == current.pk
    [update] = [f for f in received if f["type"] == "conversation_update"]
    assert update["payload"]["conversation"]["status"] == "closed"
    assert update["payload"]["conversation"]["contact"]["display_name"] == f"erased-{ploy.contact.pk}"


def test_a_send_still_pending_is_given_up(ploy: History, operator: User) -> None:
    pending = say(
        ploy.current,
        "กำลังส่ง",
        direction=Message.Direction.OUT,
        sender_kind=Message.SenderKind.OPERATOR,
        operator=operator,
        status=Message.Status.PENDING,
        payload={"type": "text", "text": "กำลังส่ง"},
    )

    personal_data.erase(ploy.contact, ADMIN)

    pending.refresh_from_db()
    assert (pending.status, pending.text, pending.payload, pending.next_attempt_at) == (
        "failed",
        "",
        {},
        None,
    )


def test_an_erasure_is_in_the_audit_log_with_the_counts(ploy: History, supervisor: User) -> None:
    personal_data.erase(ploy.contact, personal_data.Requester(user=supervisor))

    [entry] = AuditLog.objects.filter(kind=AuditLog.Kind.ERASURE)
    assert (entry.actor, entry.target) == (supervisor, f"contact:{ploy.contact.pk}")
    assert entry.changes == {
        "conversations_closed": 1,
        "messages": 8,
        "media_files": 3,  # the customer's photo; the operator's image and its preview
        "event_notes": 1,
        "csat_comments": 1,
        "webhook_events": 2,
        "profile": 1,
        "private_notes": 0,
        "contact_details": 0,
    }
    rating = CsatResponse.objects.get(conversation=ploy.past)
    assert (rating.rating, rating.comment) == (4, "")  # the figure stays for analytics, the words go


def test_a_second_erasure_is_harmless(ploy: History) -> None:
    personal_data.erase(ploy.contact, ADMIN)
    contact = Contact.objects.get(pk=ploy.contact.pk)

    again = personal_data.erase(contact, ADMIN)

    assert again == {
        "conversations_closed": 0,
        "messages": 0,
        "media_files": 0,
        "event_notes": 0,
        "csat_comments": 0,
        "webhook_events": 0,
        "profile": 0,
        "private_notes": 0,
        "contact_details": 0,
    }
    assert Contact.objects.get(pk=contact.pk).line_user_id == f"erased-{contact.pk}"
    assert AuditLog.objects.filter(kind=AuditLog.Kind.ERASURE).count() == 2
    assert exported(contact)["contact"]["erased"] is True


def test_the_same_line_user_writing_again_is_a_new_customer(ploy: History) -> None:
    line_user_id = ploy.contact.line_user_id
    personal_data.erase(ploy.contact, ADMIN)

    with transaction.atomic():
        contact, created = Contact.objects.get_or_create(line_user_id=line_user_id)

    assert created and contact.pk != ploy.contact.pk
    assert not Conversation.objects.filter(contact=contact).exists()


# --- manage.py pdpa -------------------------------------------------------------------------------


def test_the_command_exports_by_line_user_id(ploy: History, tmp_path: Path) -> None:
    target = tmp_path / "ploy.json"

    call_command("pdpa", "export", "--line-user-id", ploy.contact.line_user_id, "--output", str(target))

    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["contact"]["display_name"] == "Ploy"
    assert {c["id"] for c in document["conversations"]} == ploy.conversation_ids
    [entry] = AuditLog.objects.filter(kind=AuditLog.Kind.EXPORT)
    assert entry.actor is None and entry.actor_name.startswith("command-line")
    assert entry.target == f"contact:{ploy.contact.pk}"


def test_the_command_exports_to_stdout(ploy: History, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("pdpa", "export", "--contact-id", str(ploy.contact.pk))

    assert json.loads(capsys.readouterr().out)["contact"]["id"] == ploy.contact.pk


def test_the_command_erases_by_line_user_id(ploy: History, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("pdpa", "erase", "--line-user-id", ploy.contact.line_user_id, "--no-input")

    answer = json.loads(capsys.readouterr().out)
    assert answer["erased"]["messages"] == 8
    assert Contact.objects.get(pk=ploy.contact.pk).display_name == ""
    [entry] = AuditLog.objects.filter(kind=AuditLog.Kind.ERASURE)
    assert entry.actor_name.startswith("command-line") and entry.changes["profile"] == 1


def test_the_command_asks_before_erasing(ploy: History, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="Nothing erased"):
        call_command("pdpa", "erase", "--line-user-id", ploy.contact.line_user_id)

    assert Contact.objects.get(pk=ploy.contact.pk).display_name == "Ploy"
    assert not AuditLog.objects.filter(kind=AuditLog.Kind.ERASURE).exists()


def test_the_command_says_when_nobody_has_that_line_user_id(db: Any) -> None:
    with pytest.raises(CommandError, match="No such contact"):
        call_command("pdpa", "erase", "--line-user-id", ev.new_user_id(), "--no-input")
    assert not AuditLog.objects.exists()
