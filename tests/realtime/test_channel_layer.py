"""The pub/sub channel layer (livechat.realtime.channel_layer): fast, and never silent about a lost event.

Events published while a process's Redis subscription is down or reconnecting are gone, so every
socket of that process must be told to resync (close 4503), whether Redis died or only the
connection dropped and came back.
"""

import asyncio
from collections.abc import Iterator

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from livechat.realtime import groups, publish
from livechat.realtime.frames import Frame
from tests.realtime.test_layer_failure import DisposableRedis, layer_on_disposable_redis
from tests.ws import operator_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pubsub_redis(settings) -> Iterator[DisposableRedis]:
    yield from layer_on_disposable_redis(settings, "livechat.realtime.channel_layer.PubSubChannelLayer")


async def test_events_reach_the_socket(pubsub_redis, operator):
    socket_ = await operator_socket(operator)
    await socket_.expect("presence_update")
    await publish.now_async([(groups.OPERATORS, Frame("sla_alert", {"probe": "pubsub"}))])
    assert (await socket_.expect("sla_alert", probe="pubsub"))["payload"] == {"probe": "pubsub"}


async def test_a_dropped_subscription_tells_the_socket_to_resync(pubsub_redis, operator):
    socket_ = await operator_socket(operator)
    await socket_.expect("presence_update")
    # Redis stays up; only the subscriber connection is cut. redis-py reconnects and
    # re-subscribes by itself, so without the layer's notice this gap would go unnoticed.
    admin = redis.Redis.from_url(pubsub_redis.url)
    assert await sync_to_async(admin.client_kill_filter)(_type="pubsub") >= 1
    admin.close()
    closed = await socket_.expect("__closed__", timeout=10)
    assert closed["code"] == 4503


async def test_a_socket_is_told_to_resync_when_redis_dies(pubsub_redis, operator):
    socket_ = await operator_socket(operator)
    await socket_.expect("presence_update")
    await sync_to_async(pubsub_redis.kill)()
    closed = await socket_.expect("__closed__", timeout=10)
    assert closed["code"] == 4503


async def test_sockets_connecting_after_a_reconnect_are_not_closed(pubsub_redis, operator, supervisor):
    first = await operator_socket(operator)
    await first.expect("presence_update")
    admin = redis.Redis.from_url(pubsub_redis.url)
    await sync_to_async(admin.client_kill_filter)(_type="pubsub")
    admin.close()
    assert (await first.expect("__closed__", timeout=10))["code"] == 4503

    later = await operator_socket(supervisor)
    await later.expect("presence_update")
    layer = get_channel_layer()
    await layer.group_send(groups.OPERATORS, {"type": groups.SERVER_EVENT, "frame": {"type": "pong"}})
    assert (await later.expect("pong"))["type"] == "pong"


async def test_group_add_returns_once_redis_confirmed_the_subscription(pubsub_redis):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("conversation.7", channel)
    admin = redis.Redis.from_url(pubsub_redis.url)
    # Asked right away: a consumer that sends its snapshot now cannot miss the next event.
    counts = dict(await sync_to_async(admin.pubsub_numsub)("asgi__group__conversation.7", channel))
    admin.close()
    assert counts == {b"asgi__group__conversation.7": 1, channel.encode(): 1}
    await layer.group_discard("conversation.7", channel)
    await layer.group_add("conversation.7", channel)  # again at once, after an UNSUBSCRIBE
    await layer.group_send("conversation.7", {"type": groups.SERVER_EVENT, "text": "{}"})
    assert (await layer.receive(channel))["text"] == "{}"


async def test_group_events_go_to_a_direct_sink_decoded_once_and_other_types_to_the_queue(pubsub_redis):
    layer = get_channel_layer()
    first, second = await layer.new_channel(), await layer.new_channel()
    delivered: list[tuple[str, dict]] = []

    async def sink_for(name: str):
        async def sink(message: dict) -> None:
            delivered.append((name, message))

        return sink

    undo_first = layer.deliver_directly(first, "server.event", await sink_for("first"))
    layer.deliver_directly(second, "server.event", await sink_for("second"))
    await layer.group_add("room", first)
    await layer.group_add("room", second)

    await layer.group_send("room", {"type": "server.event", "text": "hello"})
    await layer.group_send("room", {"type": "session.end", "reason": "bye"})
    queued = await asyncio.wait_for(layer.receive(first), 5)

    assert queued == {"type": "session.end", "reason": "bye"}  # other types keep the queue
    assert sorted(name for name, _ in delivered) == ["first", "second"]
    assert delivered[0][1] is delivered[1][1]  # one decoded message for every member
    assert delivered[0][1]["text"] == "hello"

    undo_first()  # the consumer ended: its channel reads its queue again
    await layer.group_send("room", {"type": "server.event", "text": "again"})
    assert (await asyncio.wait_for(layer.receive(first), 5))["text"] == "again"
    assert [m["text"] for name, m in delivered if name == "first"] == ["hello"]


async def test_fanned_out_frames_reach_every_socket_through_the_direct_path(pubsub_redis, operator):
    sockets = [await operator_socket(operator) for _ in range(3)]
    for socket_ in sockets:
        await socket_.expect("presence_update")
    await publish.now_async([(groups.OPERATORS, Frame("sla_alert", {"probe": "direct"}))])
    for socket_ in sockets:
        assert (await socket_.expect("sla_alert", probe="direct"))["payload"] == {"probe": "direct"}
    layer = get_channel_layer()._get_layer()
    assert len(layer.sinks) == 3  # each socket is served by the direct path
    for socket_ in sockets:
        await socket_.close()


async def test_many_publishes_at_once_all_arrive_in_the_order_they_were_made(pubsub_redis):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("busy", channel)

    # 300 publishers at the same instant (a burst of webhooks): batched, none lost, none reordered.
    await asyncio.gather(*(layer.group_send("busy", {"type": "server.event", "n": n}) for n in range(300)))
    received = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(300)]

    assert received == list(range(300))


async def test_a_publish_while_redis_is_down_fails_for_its_publisher(pubsub_redis):
    layer = get_channel_layer()
    await layer.group_send("anyone", {"type": "server.event", "n": 1})  # connected
    await sync_to_async(pubsub_redis.kill)()
    with pytest.raises((ConnectionError, OSError, redis.exceptions.RedisError)):
        await asyncio.wait_for(layer.group_send("anyone", {"type": "server.event", "n": 2}), 10)


async def test_one_publication_to_several_groups_arrives_in_its_order(pubsub_redis):
    # A customer's message: new_message to the room, then conversation_update to every operator.
    # A socket in both groups must get them in that order, though they are sent together.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    for group in ("room", "everyone", "tabs"):
        await layer.group_add(group, channel)

    sends = [
        (group, {"type": "session.end", "n": n}) for n in range(30) for group in ("room", "everyone", "tabs")
    ]
    failures = await layer.group_send_many(sends)
    received = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in sends]

    assert failures == [None] * len(sends)
    assert received == [message["n"] for _, message in sends]


async def test_publications_while_redis_is_down_report_each_failure(pubsub_redis, caplog):
    layer = get_channel_layer()
    await layer.group_send("anyone", {"type": "server.event", "n": 1})  # connected
    await sync_to_async(pubsub_redis.kill)()

    failures = await asyncio.wait_for(layer.group_send_many([("a", {"type": "x"}), ("b", {"type": "y"})]), 10)
    assert all(isinstance(f, (ConnectionError, OSError, redis.exceptions.RedisError)) for f in failures)

    await asyncio.wait_for(
        publish.now_async([("a", Frame("sla_alert", {})), ("b", Frame("sla_alert", {}))]), 10
    )
    assert [r.getMessage() for r in caplog.records if "publish" in r.getMessage()] == [
        "channel layer publish to a failed",
        "channel layer publish to b failed",
    ]
