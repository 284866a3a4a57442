"""The one seam between the app and the channel layer that carries frames between processes.

Settings name the layer (CHANNEL_LAYERS); this module is where the code meets it. Our pub/sub
layer (livechat.realtime.channel_layer.PubSubChannelLayer) can do two things faster than the
channel-layer API allows, and both are asked for here, by type, so a reader can follow them:
- `group_send_all`: several group sends in one Redis round trip, still in order;
- `deliver_directly`: a socket's group events handed to its handler without a queue per socket.
Any other layer (the in-memory one of the embedded set-up, channels_redis' list layer) gets
the plain API.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer

from livechat.realtime.channel_layer import PubSubChannelLayer

Event = dict[str, Any]


def current() -> BaseChannelLayer | None:
    return get_channel_layer()


async def group_send_all(
    layer: BaseChannelLayer, sends: list[tuple[str, Event]]
) -> list[BaseException | None]:
    """Send each (group, event) in order; returns what each send raised (None if it was sent)."""
    if isinstance(layer, PubSubChannelLayer):
        return await layer.group_send_many(sends)
    failures: list[BaseException | None] = []
    for group, event in sends:
        try:
            await layer.group_send(group, event)
            failures.append(None)
        except Exception as exc:
            failures.append(exc)
    return failures


def deliver_directly(
    layer: BaseChannelLayer, channel: str, event_type: str, handler: Callable[[Event], Awaitable[None]]
) -> Callable[[], None] | None:
    """Have the layer await `handler(event)` for the channel's group events of `event_type`.

    Returns the function that stops it, or None when the layer cannot (the consumer then reads
    those events from its channel like any other message).
    """
    if isinstance(layer, PubSubChannelLayer):
        return layer.deliver_directly(channel, event_type, handler)
    return None
