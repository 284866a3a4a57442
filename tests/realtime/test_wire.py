"""Frames written straight to daphne's sockets (livechat.realtime.wire) are the frames a client
expects, in the order they were sent — mixed with frames sent through ASGI, whatever their
size, and when the client reads slower than the server writes.

The server is a real daphne process serving tests/wire_app.py; the client is the `websockets`
library, which checks every frame it parses against RFC 6455.
"""

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from livechat.realtime.wire import text_frame, wire_writer
from tests.wire_app import texts

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from cluster import free_port  # noqa: E402


@pytest.mark.parametrize("length", [0, 1, 125, 126, 65_535, 65_536, 300_000])
def test_a_text_frame_parses_as_the_same_text(length: int) -> None:
    text = ("สวัสดีค่ะ" * (length // 9 + 1))[:length]
    reader = StreamReader()
    reader.feed_data(text_frame(text))
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as parsed:
        next(parser)
    frame: Frame = parsed.value.value
    assert (frame.opcode, frame.fin, frame.rsv1) == (Opcode.TEXT, True, False)
    assert bytes(frame.data).decode("utf-8") == text
    assert reader.buffer == b""  # the frame is exactly as long as its header says


def test_other_servers_sends_are_left_to_asgi() -> None:
    async def send(message: dict) -> None:  # Channels' test communicator, or uvicorn, say
        pass

    assert wire_writer(send) is None


@pytest.fixture(scope="module")
def wire_server() -> Iterator[str]:
    port = free_port()
    daphne = Path(sys.executable).parent / "daphne"
    server = subprocess.Popen(
        [str(daphne), "-b", "127.0.0.1", "-p", str(port), "tests.wire_app:application"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert server.stderr is not None  # a pipe
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not start: {server.stderr.read().decode()}") from None
                time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(10)


async def ask(url: str, sizes: list[int], fill: str, read_after: float = 0.0) -> tuple[list[str], dict]:
    # max_queue=4: a client that does not read makes websockets stop reading its socket, so
    # the server's writes fill the kernel's buffers and go through Twisted's buffer.
    async with connect(url, max_size=None, max_queue=4) as client:
        await client.send(json.dumps({"sizes": sizes, "fill": fill}))
        await asyncio.sleep(read_after)
        received = []
        for _ in sizes:
            message = await asyncio.wait_for(client.recv(), 30)
            assert isinstance(message, str)  # a text frame
            received.append(message)
        report = json.loads(await asyncio.wait_for(client.recv(), 30))
    return received, report


async def test_direct_and_asgi_frames_arrive_whole_and_in_order(wire_server: str) -> None:
    # Thai: 3 bytes a character; 300,000 of them are more than Twisted sends in one go (128 KiB)
    sizes = [300_000, 0, 10, 125, 126, 200, 65_535, 65_536, 5, 7]

    received, report = await ask(wire_server, sizes, "ข")

    assert received == texts(sizes, "ข")
    assert report == {"writer": True, "written": [True] * 5}  # daphne's sockets are recognised


async def test_a_client_reading_late_still_gets_everything_in_order(wire_server: str) -> None:
    sizes = [4000] * 3000  # 12 MB: more than the sockets' buffers hold

    received, report = await ask(wire_server, sizes, "x", read_after=1.0)

    assert [t.split(":")[0] for t in received] == [str(n) for n in range(3000)]
    assert received == texts(sizes, "x")
    assert report["written"] == [True] * 1500


def test_a_renamed_private_attribute_sends_through_asgi_with_one_warning(monkeypatch, caplog) -> None:
    """An upgrade of daphne/autobahn that renamed what the writer reads must cost speed, never
    frames: the writer steps aside (None → the consumer sends through ASGI) and says so once."""
    import functools

    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol

    from livechat.realtime import wire

    monkeypatch.setattr(wire, "_enabled", True)
    server = object.__new__(Server)
    server.connections = {}
    socket_ = object.__new__(WebSocketProtocol)  # as if its per-connection attributes were renamed
    send = functools.partial(server.handle_reply, socket_)

    with caplog.at_level("WARNING", logger="livechat.realtime.wire"):
        assert wire.wire_writer(send) is None
        assert wire.wire_writer(send) is None

    warnings = [r for r in caplog.records if r.name == "livechat.realtime.wire"]
    assert len(warnings) == 1
    assert "frames go through ASGI send" in warnings[0].getMessage()
    assert "send_queue" in warnings[0].getMessage()


def test_the_class_attributes_it_reads_exist_in_the_pinned_daphne_autobahn_and_twisted(monkeypatch) -> None:
    from livechat.realtime import wire

    assert wire._missing_class_attributes() == []
    monkeypatch.setattr(wire, "CLASS_ATTRIBUTES", ((wire._DaphneServer, ("handle_reply", "renamed_method")),))
    assert wire._missing_class_attributes() == ["Server.renamed_method"]
