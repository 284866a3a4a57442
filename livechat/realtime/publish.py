"""Publishing to operators' sockets through the channel layer — only after the data committed.

Group names (PRODUCT §8): every operator socket is in OPERATORS_GROUP, a socket that joined a
conversation's room is in `conversation_group(id)`, and all tabs of one operator share
`operator_group(id)`. A channel-layer failure is logged and swallowed: the rows are already
committed, and clients recover what they missed with `sync` from their last seq.
"""

import asyncio
import json
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
# Frames an operator's own sockets don't get back (you don't need to see yourself typing).
NOT_ECHOED = frozenset({"typing"})

Publication = tuple[str, str, dict[str, Any]]  # (group, frame type, payload)


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def operator_group(operator_id: int) -> str:
    return f"operator.{operator_id}"


def frame(frame_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A server → client frame as the protocol defines it."""
    return {"type": frame_type, "payload": payload, "timestamp": timezone.now().isoformat()}


def server_event(frame_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message that carries a frame to each socket of a group."""
    # Encoded once here, not once per socket: an update to the operators group reaches every
    # operator's every tab, and each consumer just forwards the text.
    text = json.dumps(frame(frame_type, payload), ensure_ascii=False)
    event: dict[str, Any] = {"type": SERVER_EVENT, "text": text}
    if frame_type in NOT_ECHOED:
        event["origin_operator_id"] = (payload.get("operator") or {}).get("id")
    return event


async def publish_async(publications: list[Publication]) -> None:
    """Send each publication to its group, in order. A failure is logged: the data is safe, and
    clients resync what they missed."""
    layer = get_channel_layer()
    if layer is None:
        return
    sends = [(group, server_event(frame_type, payload)) for group, frame_type, payload in publications]
    if hasattr(layer, "group_send_many"):  # livechat.realtime.channel_layer: all in one round trip
        failures = await layer.group_send_many(sends)
    else:
        failures = []
        for group, event in sends:
            try:
                await layer.group_send(group, event)
                failures.append(None)
            except Exception as exc:
                failures.append(exc)
    for (group, _), failure in zip(sends, failures, strict=True):
        if failure is not None:
            logger.warning("channel layer publish to %s failed", group, exc_info=failure)


# The event loop of this server process (daphne's). Publishing from worker threads goes through
# it: the channel layer's connections belong to that loop, and the in-memory layer only wakes
# consumers waiting on it. Without a bound loop (management commands) a private loop is used.
_server_loop: asyncio.AbstractEventLoop | None = None


def bind_event_loop() -> None:
    global _server_loop
    _server_loop = asyncio.get_running_loop()


class BindEventLoop:
    """ASGI wrapper that remembers the server's loop on its first request or socket."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if _server_loop is not asyncio.get_running_loop():
            bind_event_loop()
        return await self.application(scope, receive, send)


def publish_now(publications: list[Publication]) -> None:
    """Publish from synchronous code; returns without waiting when a server loop is bound."""
    if not publications:
        return
    loop = _server_loop
    if loop is not None and loop.is_running() and not loop.is_closed():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(publish_async(publications))
        else:
            asyncio.run_coroutine_threadsafe(publish_async(publications), loop)
        return
    async_to_sync(publish_async)(publications)


def publish_on_commit(*publications: Publication) -> None:
    """Publish once the surrounding transaction commits; never for a rolled-back write."""
    items = list(publications)
    transaction.on_commit(lambda: publish_now(items))
