"""The pub/sub channel layer, made to say when it may have dropped events.

channels_redis' RedisPubSubChannelLayer carries events with Redis PUBLISH/SUBSCRIBE: one Redis
message per process and group, nothing stored, so it is fast (docs/performance.md, "Channel
layer choice"). But delivery is at most once: an event published while a process's subscriber
connection is down, or is being re-established, is gone. channels_redis 4.3 reconnects and
re-subscribes on its own and tells nobody (it accepts `on_disconnect` / `on_reconnect` but never
calls them), so a console would never learn that it missed something.

Here every receive() waiting in the process raises ConnectionError as soon as the subscriber
connection fails or comes back. LiveChatConsumer turns that into close 4503. The client then
reconnects and syncs every room from its last seq (docs/protocol.md), and nothing is missed.

A subscription is also only as good as Redis's confirmation of it. The stock layer sends
SUBSCRIBE and returns at once, so events published before Redis processed the command were
missed, with no error. Here group_add (and a new channel) returns only once Redis has confirmed
the subscription, so a consumer that sends its snapshot after joining cannot miss what follows.

Fan-out is the layer's hot path: an event to the operators reaches every operator socket of the
process. The stock layer puts the serialized event in each member's queue, and each consumer
task wakes up, decodes it and dispatches it. A consumer may instead hand the layer a sink for
one message type (`deliver_directly`): the event is then decoded once per process, and one
task per process awaits each member's sink in turn. That halves the CPU a delivered frame
costs (docs/performance.md, "Fan-out cost").
"""

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close
from redis.asyncio.client import PubSub, Redis
from redis.utils import str_if_bytes

logger = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT_SECONDS = 5.0


Sink = Callable[[dict[str, Any]], Awaitable[None]]


class _Lost:
    """Put in a channel's queue to wake up the consumer waiting on it."""


LOST = _Lost()


class _LayerLost(Exception):
    pass


class PubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer whose receivers hear about every interruption of the subscription."""

    def _get_layer(self) -> "_LoopLayer":
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer

    def deliver_directly(
        self, channel: str, message_type: str, sink: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> Callable[[], None]:
        """From now on, await `sink(message)` for the channel's group messages of this type,
        instead of queueing them for its receive(). Returns the function that undoes it."""
        return self._get_layer().deliver_directly(channel, message_type, sink)

    async def group_send_many(self, sends: list[tuple[str, dict[str, Any]]]) -> list[BaseException | None]:
        """group_send each (group, message), in this order, without waiting for one to reach
        Redis before sending the next: they go out together, in one round trip when they can.
        Returns what each send raised (None if it was sent)."""
        layer = self._get_layer()
        published = []
        for group, message in sends:
            channel = layer._get_group_channel_name(group)
            published.append(layer._get_shard(channel).enqueue(channel, self.serialize(message)))
        results = await asyncio.gather(*published, return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]

    def deserialize(self, message: Any) -> Any:
        if message is LOST:
            raise _LayerLost
        return super().deserialize(message)


class _LoopLayer(RedisPubSubLoopLayer):
    _shards: list["_Shard"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]
        self.lost_channels: set[str] = set()
        self._unsubscribing: set[asyncio.Future[None]] = set()
        self.sinks: dict[str, tuple[str, Sink]] = {}  # channel → (message type, sink)
        self.outbox: collections.deque[tuple[Sink, dict[str, Any]]] = collections.deque()
        self._outbox_ready = asyncio.Event()
        self._outbox_task: asyncio.Task[None] | None = None

    def deliver_directly(self, channel: str, message_type: str, sink: Sink) -> Callable[[], None]:
        self.sinks[channel] = (message_type, sink)
        if self._outbox_task is None or self._outbox_task.done():
            self._outbox_task = asyncio.ensure_future(self._deliver_outbox())

        def undo() -> None:
            if self.sinks.get(channel, (None, None))[1] is sink:
                del self.sinks[channel]

        return undo

    def fan_out(self, members: set[str], data: bytes) -> None:
        """A group message arrived: queue it for each member, or hand it to the member's sink."""
        message: dict[str, Any] | None = None
        for channel in members:
            direct = self.sinks.get(channel)
            if direct is not None:
                if message is None:
                    message = self.channel_layer.deserialize(data)
                if message.get("type") == direct[0]:
                    self.outbox.append((direct[1], message))
                    continue
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(data)
        if self.outbox:
            self._outbox_ready.set()

    async def _deliver_outbox(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self.outbox:
                sink, message = self.outbox.popleft()
                try:
                    await sink(message)
                except Exception:
                    # That socket's problem, usually that it is closing (the server refuses to
                    # send on a socket whose close handshake began); the others still get theirs.
                    logger.debug("direct delivery to a consumer failed", exc_info=True)

    def connection_lost(self, why: str) -> None:
        """Every channel of this process may have missed events: fail its next receive()."""
        if not self.channels:
            return
        logger.warning("channel layer subscription %s; %d sockets told to resync", why, len(self.channels))
        for name, queue in self.channels.items():
            self.lost_channels.add(name)
            queue.put_nowait(LOST)

    async def receive(self, channel: str) -> Any:
        if channel not in self.lost_channels:
            try:
                return await super().receive(channel)
            except _LayerLost:
                pass
        self._forget(channel)
        raise ConnectionError("The channel layer's Redis subscription was interrupted; events may be lost.")

    def _forget(self, channel: str) -> None:
        """The consumer of `channel` ends now: drop its queue, sink, groups and subscription."""
        self.lost_channels.discard(channel)
        self.channels.pop(channel, None)
        self.sinks.pop(channel, None)
        for members in self.groups.values():
            members.discard(channel)
        task = asyncio.ensure_future(self._unsubscribe(channel))
        self._unsubscribing.add(task)
        task.add_done_callback(self._unsubscribing.discard)

    async def _unsubscribe(self, channel: str) -> None:
        try:
            await self._get_shard(channel).unsubscribe(channel)
        except Exception:  # Redis is away; the subscription dies with the connection
            logger.debug("could not unsubscribe %s", channel, exc_info=True)


class _Shard(RedisSingleShardConnection):
    channel_layer: _LoopLayer
    _redis: Redis | None  # made by _ensure_redis
    _pubsub: "_NotifyingPubSub"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outgoing: collections.deque[tuple[str, bytes, asyncio.Future[None]]] = collections.deque()
        self._publisher: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: bytes) -> None:
        """PUBLISH, in order, batched with whatever else this process is publishing.

        The stock shard holds its lock for each PUBLISH's whole round trip, so a process's
        publishes go out one at a time: at 100 webhooks/s on a busy event loop they queued for
        seconds (bench/fanout.py). Here one task sends everything waiting in one pipeline per
        round trip, still in the order it was published.
        """
        await self.enqueue(channel, message)

    def enqueue(self, channel: str, message: bytes) -> asyncio.Future[None]:
        """Queue a PUBLISH; the future is done once Redis took it."""
        done = asyncio.get_running_loop().create_future()
        self._outgoing.append((channel, message, done))
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.ensure_future(self._publish_waiting())
        return done

    async def _publish_waiting(self) -> None:
        while self._outgoing:
            batch = list(self._outgoing)
            self._outgoing.clear()
            try:
                if self._redis is None:  # the lock guards creating the client, not using it
                    async with self._lock:
                        self._ensure_redis()
                redis_client = self._client()
                if len(batch) == 1:  # the usual case when the process is not busy
                    await redis_client.publish(batch[0][0], batch[0][1])
                else:
                    async with redis_client.pipeline(transaction=False) as pipe:
                        for channel, message, _ in batch:
                            pipe.publish(channel, message)
                        await pipe.execute()
            except Exception as exc:  # each publisher hears of it, as with the stock shard
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)

    def _ensure_redis(self) -> None:
        if self._redis is None:
            super()._ensure_redis()
            self._pubsub = _NotifyingPubSub(self._client().connection_pool, self.channel_layer)

    def _client(self) -> Redis:
        """The client that _ensure_redis made (a check mypy cannot do across that call)."""
        assert self._redis is not None
        return self._redis

    async def subscribe(self, channel: str) -> None:
        """Subscribe, and return only once Redis has confirmed it."""
        self._ensure_redis()
        confirmed = self._pubsub.confirmation(channel)
        await super().subscribe(channel)
        try:
            await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_TIMEOUT_SECONDS)
        except TimeoutError:
            raise ConnectionError(f"Redis did not confirm the subscription to {channel}.") from None

    def _receive_message(self, message: Any) -> None:
        if message is not None:
            name = str_if_bytes(message["channel"])
            members = self.channel_layer.groups.get(name)
            if members and name not in self.channel_layer.channels:
                self.channel_layer.fan_out(members, message["data"])
                return
        super()._receive_message(message)

    async def unsubscribe(self, channel: str) -> None:
        if self._pubsub is not None:
            # Forgotten before UNSUBSCRIBE goes out: a SUBSCRIBE right after it waits for its own
            # confirmation, not this one's.
            self._pubsub.confirmations.pop(channel, None)
        await super().unsubscribe(channel)


class _NotifyingPubSub(PubSub):
    def __init__(self, connection_pool: Any, layer: _LoopLayer) -> None:
        super().__init__(connection_pool)
        self.layer = layer
        self.confirmations: dict[str, asyncio.Event] = {}  # set once Redis confirmed SUBSCRIBE

    def confirmation(self, channel: str) -> asyncio.Event:
        return self.confirmations.setdefault(channel, asyncio.Event())

    async def on_connect(self, connection: Any) -> None:
        # redis-py calls this on re-connections only (PubSub.connect registers it after the first
        # connection is made): whatever was published in between is lost.
        self.layer.connection_lost("re-established")
        self.confirmations.clear()
        await super().on_connect(connection)

    async def handle_message(self, response: Any, ignore_subscribe_messages: bool = False) -> Any:
        if isinstance(response, list) and len(response) > 1:
            if str_if_bytes(response[0]) == "subscribe":
                self.confirmation(str_if_bytes(response[1])).set()
        return await super().handle_message(response, ignore_subscribe_messages)

    async def get_message(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().get_message(*args, **kwargs)
        except (redis.exceptions.RedisError, OSError):
            self.layer.connection_lost("failed")
            raise
