"""Helpers for talking to /ws/live-chat/ in-process with Channels' WebsocketCommunicator."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts.models import User
from config.asgi import application


class Socket:
    """One console socket: send frames, wait for frames of a type (others are kept, not lost)."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.seen: list[dict[str, Any]] = []
        self.buffer: list[dict[str, Any]] = []

    async def send(self, frame_type: str, payload: Any = None, request_id: str | None = None) -> None:
        frame: dict[str, Any] = {"type": frame_type, "payload": payload if payload is not None else {}}
        if request_id:
            frame["request_id"] = request_id
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def send_raw(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 3) -> dict[str, Any]:
        # receive_output() cancels the application when it times out, so wait with
        # receive_nothing() (which doesn't) and only read once something is there.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await self.communicator.receive_nothing(timeout=min(0.05, max(0.0, deadline - loop.time()))):
            if loop.time() >= deadline:
                raise TimeoutError
        output = await self.communicator.receive_output(5)
        if output["type"] == "websocket.close":
            frame = {"type": "__closed__", "code": output.get("code")}
        else:
            frame = json.loads(output["text"])
        self.seen.append(frame)
        return frame

    async def expect(
        self,
        frame_type: str,
        timeout: float = 3,
        where: Callable[[dict[str, Any]], bool] | None = None,
        **match: Any,
    ) -> dict[str, Any]:
        """The first not-yet-taken frame of this type (whose payload has the given items).

        Frames of other types stay buffered for later `expect` calls, so the order in which
        direct replies and group broadcasts arrive does not matter.
        """

        def wanted(frame: dict[str, Any]) -> bool:
            return (
                frame["type"] == frame_type
                and all(frame.get("payload", {}).get(k) == v for k, v in match.items())
                and (where is None or where(frame["payload"]))
            )

        for frame in self.buffer:
            if wanted(frame):
                self.buffer.remove(frame)
                return frame
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(
                    f"no {frame_type} {match} within {timeout}s; saw {[f['type'] for f in self.seen]}"
                )
            try:
                frame = await self.receive(left)
            except TimeoutError:
                continue
            if wanted(frame):
                return frame
            if frame["type"] == "__closed__":
                raise AssertionError(f"socket closed ({frame['code']}) while waiting for {frame_type}")
            self.buffer.append(frame)

    async def nothing_of(self, frame_type: str, within: float = 0.5) -> None:
        try:
            frame = await self.expect(frame_type, timeout=within)
        except AssertionError:
            return
        raise AssertionError(f"unexpected {frame_type}: {frame}")

    async def close(self) -> None:
        await self.communicator.disconnect()


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect(
    user: User | None = None,
    origin: str | None = "http://testserver",
    address: str = "127.0.0.1",
    cookie: str | None = None,
) -> Socket:
    """A socket as a browser opens it: with the user's session cookie (a new sign-in, or the
    `cookie` given; or none), from `address`."""
    headers = []
    if origin:
        headers.append((b"origin", origin.encode()))
    if user is not None and cookie is None:
        cookie = await sync_to_async(session_cookie)(user)
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/live-chat/", headers=headers)
    communicator.scope["client"] = [address, 50000]  # as daphne gives it
    connected, _ = await communicator.connect()
    assert connected, "socket refused"
    return Socket(communicator)


async def operator_socket(user: User) -> Socket:
    socket = await connect(user)
    await socket.expect("auth_success")
    return socket
