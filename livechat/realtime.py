"""Publishing to operators' sockets through the channel layer — only after the data committed.

Group names (PRODUCT §8): every operator socket is in OPERATORS_GROUP, a socket that joined a
conversation's room is in `conversation_group(id)`, and all tabs of one operator share
`operator_group(id)`. A channel-layer failure is logged and swallowed: the rows are already
committed, and clients recover what they missed with `sync` from their last seq.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

OPERATORS_GROUP = "operators"
# The channel-layer message type every consumer handles (→ LiveChatConsumer.server_event).
SERVER_EVENT = "server.event"

Publication = tuple[str, str, dict[str, Any]]  # (group, frame type, payload)


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def operator_group(operator_id: int) -> str:
    return f"operator.{operator_id}"


def frame(frame_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A server → client frame as the protocol defines it."""
    return {"type": frame_type, "payload": payload, "timestamp": timezone.now().isoformat()}


async def publish_async(publications: list[Publication]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group, frame_type, payload in publications:
        try:
            await layer.group_send(group, {"type": SERVER_EVENT, "frame": frame(frame_type, payload)})
        except Exception:  # the layer is down or full: data is safe, clients will resync
            logger.warning("channel layer publish to %s failed", group, exc_info=True)


def publish_now(publications: list[Publication]) -> None:
    if publications:
        async_to_sync(publish_async)(publications)


def publish_on_commit(*publications: Publication) -> None:
    """Publish once the surrounding transaction commits; never for a rolled-back write."""
    items = list(publications)
    transaction.on_commit(lambda: publish_now(items))
