"""The console socket's frames for labels, private notes and customer details (docs/protocol.md):
`set_labels`, `add_note`, `update_contact`. Mixed into LiveChatConsumer, which validated the
payload (livechat.realtime.protocol) and turns ActionRefused into an `error` frame.

Each is one database_sync_to_async call into livechat.conversations.annotations; the answer comes
back to every console concerned — this one included — as the frame the change publishes.
"""

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async

from accounts.models import User
from livechat.conversations import annotations
from livechat.conversations.actions import Actor


class AnnotationFrames:
    if TYPE_CHECKING:

        @property
        def me(self) -> User: ...

    async def on_set_labels(self, payload: dict[str, Any], request_id: str | None) -> None:
        await database_sync_to_async(annotations.set_labels)(
            payload["conversation_id"], Actor.staff(self.me), payload["label_ids"]
        )

    async def on_add_note(self, payload: dict[str, Any], request_id: str | None) -> None:
        await database_sync_to_async(annotations.add_note)(
            payload["conversation_id"], Actor.staff(self.me), payload["text"]
        )

    async def on_update_contact(self, payload: dict[str, Any], request_id: str | None) -> None:
        await database_sync_to_async(annotations.update_contact)(
            payload["contact_id"],
            Actor.staff(self.me),
            notes=payload.get("notes"),
            custom_fields=payload.get("custom_fields"),
        )
