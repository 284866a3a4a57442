"""When Redis (the channel layer) goes away: nothing is lost, and sockets are told to resync."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async

from livechat.models import Message
from livechat.simulator import events as ev
from tests.ws import operator_socket

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DisposableRedis:
    """A redis-server of our own on a free port, which the test may kill."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def layer_on_disposable_redis(settings, backend: str) -> Iterator[DisposableRedis]:
    """The channel layer `backend` (and presence) on a Redis of the test's own, killed after."""
    if not shutil.which("redis-server"):
        pytest.skip("needs the redis-server binary")
    from channels.layers import channel_layers

    server = DisposableRedis()
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": backend, "CONFIG": {"hosts": [server.url]}}}
    settings.REDIS_URL = server.url
    channel_layers.backends = {}
    yield server
    server.kill()
    channel_layers.backends = {}


@pytest.fixture
def disposable_redis(settings) -> Iterator[DisposableRedis]:
    yield from layer_on_disposable_redis(settings, "channels_redis.core.RedisChannelLayer")


def test_a_webhook_is_stored_and_acknowledged_when_the_channel_layer_is_down(disposable_redis, webhook):
    disposable_redis.kill()
    user = ev.new_user_id()
    response = webhook(ev.text_event(user, "ยังได้รับไหมคะ"))
    assert response.status_code == 200
    assert list(
        Message.objects.filter(
            conversation__contact__line_user_id=user, direction=Message.Direction.IN
        ).values_list("text", flat=True)
    ) == ["ยังได้รับไหมคะ"]


async def test_a_socket_that_loses_the_channel_layer_is_told_to_resync(disposable_redis, operator):
    socket_ = await operator_socket(operator)
    await socket_.expect("presence_update")
    await sync_to_async(disposable_redis.kill)()
    closed = await socket_.expect("__closed__", timeout=15)
    assert closed["code"] == 4503
