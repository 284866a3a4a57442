"""Writing one encoded frame to many of daphne's sockets without re-framing it for each.

Every inbound message is a `conversation_update` to every operator socket, so what one delivered
frame costs decides how many operators a process can serve (docs/performance.md, "Fan-out
cost"). Through ASGI, each socket's frame goes `send` → daphne's `Server.handle_reply` →
`WebSocketProtocol.handle_reply` → autobahn's `sendMessage` / `sendFrame` / `sendData` → the
Twisted transport: the same text is encoded to UTF-8 and framed again for every socket, through
about a dozen Python calls. A server's frames are not masked (RFC 6455 §5.1), so the bytes on
the wire are the same for every socket: they are built once per event and written to each
socket's transport.

Only what autobahn itself would write is written, and only when nothing else could be in
flight: the socket is open, no message is half sent, autobahn has nothing queued, no extension
(compression) is negotiated and autobahn would not fragment or refuse the message. Anything
else (another ASGI server, the test communicator, a closing socket) takes the ASGI `send`.

This reads private attributes of daphne, autobahn and Twisted. They are checked when this module
is loaded (the class-level ones) and on each new socket (the ones set per connection); if an
upgrade renamed one, one WARNING says so and every frame takes the ASGI `send` — slower, never
lost.
"""

import functools
import logging
import struct
from collections.abc import Callable
from typing import Any

try:
    from daphne.server import Server as _DaphneServer
    from daphne.ws_protocol import WebSocketProtocol as _DaphneWebSocket
    from twisted.internet.tcp import Connection as _TwistedTCP
except ImportError:  # daphne is optional for code that never serves sockets
    _DaphneServer = _DaphneWebSocket = _TwistedTCP = None  # type: ignore[assignment, misc]

logger = logging.getLogger(__name__)

WireWriter = Callable[[bytes], bool]

# What this module reads of the objects it writes through.
SOCKET_ATTRIBUTES = (
    "state",
    "STATE_OPEN",
    "send_state",
    "SEND_STATE_GROUND",
    "send_queue",
    "_perMessageCompress",
    "autoFragmentSize",
    "maxMessagePayloadSize",
    "transport",
)
CLASS_ATTRIBUTES = (
    (_DaphneServer, ("handle_reply",)),
    (_DaphneWebSocket, ("STATE_OPEN", "SEND_STATE_GROUND")),
    (
        _TwistedTCP,
        (
            "TLS",
            "connected",
            "disconnecting",
            "_writeDisconnected",
            "offset",
            "dataBuffer",
            "writeSomeData",
            "write",
        ),
    ),
)


def _missing_class_attributes() -> list[str]:
    if _DaphneServer is None:
        return []
    return [
        f"{cls.__qualname__}.{name}"
        for cls, names in CLASS_ATTRIBUTES
        for name in names
        if not hasattr(cls, name)
    ]


def disable(reason: str) -> None:
    """Send every frame through ASGI from now on, and say why (once)."""
    global _enabled
    if _enabled:
        logger.warning("frames go through ASGI send (slower): %s", reason)
    _enabled = False


_enabled = _DaphneServer is not None
if missing := _missing_class_attributes():
    disable(f"daphne/autobahn/Twisted no longer have {', '.join(missing)}")

_TEXT_FIN = 0x81  # FIN + opcode 1 (text)


def text_frame(text: str) -> bytes:
    """The unmasked, unfragmented text frame a server sends for `text` (RFC 6455 §5.2)."""
    payload = text.encode("utf-8")
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", _TEXT_FIN, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", _TEXT_FIN, 126, length)
    else:
        header = struct.pack("!BBQ", _TEXT_FIN, 127, length)
    return header + payload


def wire_writer(send: Any) -> WireWriter | None:
    """For an ASGI `send` that daphne made for a WebSocket, a function that writes an encoded
    frame (`text_frame`) straight to that socket and says whether it did. None for any other
    `send`: the caller then sends through ASGI as usual."""
    if not _enabled or not isinstance(send, functools.partial) or send.keywords:
        return None
    server = getattr(send.func, "__self__", None)
    if (
        getattr(send.func, "__func__", None) is not _DaphneServer.handle_reply
        or not isinstance(server, _DaphneServer)
        or len(send.args) != 1
    ):
        return None
    socket = send.args[0]
    if not isinstance(socket, _DaphneWebSocket):
        return None
    missing = [name for name in SOCKET_ATTRIBUTES if not hasattr(socket, name)]
    transport = getattr(socket, "transport", None)
    if isinstance(transport, _TwistedTCP) and not hasattr(transport, "_tempDataLen"):
        missing.append("transport._tempDataLen")
    connections = getattr(server, "connections", None)
    if missing or not isinstance(connections, dict):
        disable(f"daphne's sockets no longer have {', '.join(missing or ['Server.connections'])}")
        return None

    def write(frame: bytes) -> bool:
        if not _enabled:
            return False
        try:
            if (
                socket.state != socket.STATE_OPEN
                or socket.send_state != socket.SEND_STATE_GROUND
                or socket.send_queue
                or socket._perMessageCompress is not None
                or socket not in connections
                or connections[socket].get("disconnected")
            ):
                return False
            payload_length = len(frame) - _header_length(frame)
            if (
                0 < socket.autoFragmentSize < payload_length
                or 0 < socket.maxMessagePayloadSize < payload_length
            ):
                return False  # autobahn would fragment or refuse it
            _write_through(socket.transport, frame)
        except AttributeError as exc:  # renamed under us after all: never lose the frame
            disable(f"{type(exc).__name__}: {exc}")
            return False
        return True

    return write


def _write_through(transport: Any, frame: bytes) -> None:
    """`transport.write(frame)`, trying the socket at once when nothing is waiting to go out.

    Twisted's write only buffers: it registers the socket for writing with the event loop, and
    the next loop iteration writes and unregisters it — two `epoll_ctl` calls and a reactor
    callback per frame, about as much CPU again as building and sending it. When the transport's
    buffer is empty, nothing can overtake this frame, so it is written at once, as asyncio's own
    transports do; whatever the socket does not take (or an error, which Twisted then reports as
    the connection lost) goes through the buffer as before.
    """
    if (
        isinstance(transport, _TwistedTCP)
        and not transport.TLS
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport._tempDataLen
        and transport.offset == len(transport.dataBuffer)
    ):
        sent = transport.writeSomeData(frame)
        if isinstance(sent, int) and sent > 0:
            if sent == len(frame):
                return
            frame = frame[sent:]
    transport.write(frame)


def _header_length(frame: bytes) -> int:
    marker = frame[1] & 0x7F
    return 2 if marker < 126 else 4 if marker == 126 else 10
