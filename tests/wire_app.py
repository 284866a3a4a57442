"""A bare ASGI WebSocket application for tests/realtime/test_wire.py, served by a real daphne.

Each text frame it receives is a JSON request {"sizes": [...], "fill": "x"}: it sends text
number n, f"{n}:" followed by `fill` repeated sizes[n] times, for each size in order — the
even-numbered ones written straight to the socket (livechat.realtime.wire), the
odd-numbered ones through ASGI's `send` — then one last frame saying what the direct writes
returned.
"""

import json
from typing import Any

from livechat.realtime.wire import text_frame, wire_writer


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    write = wire_writer(send)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        request = json.loads(message["text"])
        written = []
        for n, text in enumerate(texts(request["sizes"], request["fill"])):
            if n % 2 == 0 and write is not None:
                written.append(write(text_frame(text)))
            else:
                await send({"type": "websocket.send", "text": text})
        report = {"writer": write is not None, "written": written}
        await send({"type": "websocket.send", "text": json.dumps(report)})


def texts(sizes: list[int], fill: str) -> list[str]:
    return [f"{n}:" + fill * size for n, size in enumerate(sizes)]
