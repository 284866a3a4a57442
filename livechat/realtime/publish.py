"""Publishing frames to operators' sockets through the channel layer — only after the data
committed.

A publication is (group, frame): livechat.realtime.groups names the groups, and
livechat.realtime.frames builds the frames. A channel-layer failure is logged and swallowed:
the rows are already committed, and clients recover what they missed with `sync` from their
last seq.
"""

import asyncio
import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction
from django.utils import timezone

from livechat.realtime import groups, layer
from livechat.realtime.frames import Frame

logger = logging.getLogger(__name__)

# Frames an operator's own sockets don't get back (you don't need to see yourself typing).
NOT_ECHOED = frozenset({"typing"})

Publication = tuple[str, Frame]  # (group, frame)


def stamped(frame: Frame, request_id: str | None = None) -> dict[str, Any]:
    """The frame as it goes on the wire: type, payload, timestamp (and the request it answers)."""
    wire: dict[str, Any] = {
        "type": frame.type,
        "payload": frame.payload,
        "timestamp": timezone.now().isoformat(),
    }
    if request_id is not None:
        wire["request_id"] = request_id
    return wire


def server_event(frame: Frame) -> dict[str, Any]:
    """The channel-layer message that carries a frame to each socket of a group."""
    # Encoded once here, not once per socket: an update to the operators group reaches every
    # operator's every tab, and each consumer just forwards the text.
    event: dict[str, Any] = {
        "type": groups.SERVER_EVENT,
        "text": json.dumps(stamped(frame), ensure_ascii=False),
    }
    if frame.type in NOT_ECHOED:
        event["origin_operator_id"] = (frame.payload.get("operator") or {}).get("id")
    return event


async def now_async(publications: list[Publication]) -> None:
    """Send each publication to its group, in order. A failure is logged: the data is safe, and
    clients resync what they missed."""
    channel_layer = layer.current()
    if channel_layer is None:
        return
    sends = [(group, server_event(frame)) for group, frame in publications]
    failures = await layer.group_send_all(channel_layer, sends)
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


def now(publications: list[Publication]) -> None:
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
            loop.create_task(now_async(publications))
        else:
            asyncio.run_coroutine_threadsafe(now_async(publications), loop)
        return
    async_to_sync(now_async)(publications)


def on_commit(*publications: Publication) -> None:
    """Publish once the surrounding transaction commits; never for a rolled-back write."""
    items = list(publications)
    transaction.on_commit(lambda: now(items))
