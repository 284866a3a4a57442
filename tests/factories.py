"""Rows the tests start from: team members, conversations in a given state, files to upload."""

import struct
import uuid
import zlib

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from livechat.conversations.store import append_message
from livechat.models import Contact, Conversation, Message


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x06\xc7\x55" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def open_conversation(
    name: str,
    status: str = Conversation.Status.WAITING,
    *,
    operator: User | None = None,
    texts: tuple[str, ...] = ("สวัสดีค่ะ",),
    following: bool = True,
) -> Conversation:
    contact = Contact.objects.create(
        line_user_id="U" + uuid.uuid4().hex, display_name=name, is_following=following
    )
    now = timezone.now()
    conversation = Conversation.objects.create(
        contact=contact,
        status=status,
        assigned_operator=operator,
        handoff_requested_at=now if status != Conversation.Status.BOT else None,
        claimed_at=now if operator else None,
        closed_at=now if status == Conversation.Status.CLOSED else None,
    )
    with transaction.atomic():
        for text in texts:
            append_message(
                conversation,
                direction=Message.Direction.IN,
                sender_kind=Message.SenderKind.CUSTOMER,
                type=Message.Type.TEXT,
                text=text,
                status=Message.Status.RECEIVED,
            )
    conversation.refresh_from_db()
    return conversation


def outbound(conversation: Conversation, operator: User, text: str, status: str) -> Message:
    with transaction.atomic():
        return append_message(
            conversation,
            direction=Message.Direction.OUT,
            sender_kind=Message.SenderKind.OPERATOR,
            operator=operator,
            type=Message.Type.TEXT,
            text=text,
            payload={"type": "text", "text": text},
            status=status,
            error="429: rate limited" if status == Message.Status.FAILED else "",
        )
