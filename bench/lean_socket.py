"""A minimal WebSocket client for reading many frames cheaply (bench/fanout.py's readers).

The readers share the machine's two cores with the servers they measure. Reading a frame through
the `websockets` library costs about 25 µs of CPU; at 100 webhooks/s to 200 sockets that is
20,000 frames/s, half a core taken from the servers. This client parses frames straight off an
asyncio Protocol (RFC 6455: the server's frames are unmasked; ours are masked) and hands each
text frame's bytes and arrival time to a callback. It answers the server's pings, and does
nothing else: it is a measuring instrument, not a general client.
"""

import asyncio
import base64
import json
import os
import struct
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

OnFrame = Callable[[bytes, float], None]


class LeanSocket(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.upgraded = False
        self.on_frame: OnFrame | None = None
        self.early: list[bytes] = []  # text frames before `on_frame` is set
        self.arrived = asyncio.Event()
        self.close_code: int | None = None

    @classmethod
    async def connect(cls, url: str, timeout: float = 30.0) -> "LeanSocket":
        parts = urlsplit(url)
        if parts.hostname is None:
            raise ValueError(f"No host in {url!r}")
        loop = asyncio.get_running_loop()
        _, socket = await asyncio.wait_for(
            loop.create_connection(cls, parts.hostname, parts.port or 80), timeout
        )
        assert socket.transport is not None  # connection_made ran before create_connection returned
        key = base64.b64encode(os.urandom(16)).decode()
        socket.transport.write(
            (
                f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        await asyncio.wait_for(socket.handshake, timeout)
        return socket

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a TCP connection's
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None:
            self.close_code = 1006
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionError("closed during the handshake"))
        self.arrived.set()

    def data_received(self, data: bytes) -> None:
        at = time.perf_counter()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            del self.buffer[: end + 4]
            if b" 101 " not in status:
                self.handshake.set_exception(ConnectionError(status.decode(errors="replace")))
                return
            self.upgraded = True
            self.handshake.set_result(None)
        self._frames(at)

    def _frames(self, at: float) -> None:
        buffer = self.buffer
        start = 0
        while len(buffer) - start >= 2:
            opcode, length = buffer[start] & 0x0F, buffer[start + 1] & 0x7F
            head = 2
            if length == 126:
                if len(buffer) - start < 4:
                    break
                (length,) = struct.unpack_from("!H", buffer, start + 2)
                head = 4
            elif length == 127:
                if len(buffer) - start < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, start + 2)
                head = 10
            if len(buffer) - start < head + length:
                break
            payload = bytes(buffer[start + head : start + head + length])
            start += head + length
            if opcode == 0x1:  # autobahn sends each message as one frame
                if self.on_frame is not None:
                    self.on_frame(payload, at)
                else:
                    self.early.append(payload)
                    self.arrived.set()
            elif opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                self.close_code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
                self._send(0x8, payload[:2])
                if self.transport is not None:
                    self.transport.close()
        del buffer[:start]

    # --- Sending ---------------------------------------------------------------------------

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        key = int.from_bytes(mask * (length // 4 + 1), "big") >> (8 * (4 - length % 4))
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(length, "big") if length else b""
        self.transport.write(head + mask + masked)

    def send(self, frame_type: str, payload: dict[str, Any] | None = None) -> None:
        self._send(0x1, json.dumps({"type": frame_type, "payload": payload or {}}).encode())

    async def wait_for(self, frame_type: str, timeout: float = 30.0) -> dict[str, Any]:
        """The first early frame of that type (before `on_frame` takes over)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, text in enumerate(self.early):
                frame = json.loads(text)
                if frame.get("type") == frame_type:
                    del self.early[: i + 1]
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.close_code is not None:
                raise TimeoutError(f"no {frame_type} within {timeout:g} s (close {self.close_code})")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), remaining)
            except TimeoutError:
                pass

    def close(self) -> None:
        self._send(0x8, struct.pack("!H", 1000))
        if self.transport is not None:
            self.transport.close()
