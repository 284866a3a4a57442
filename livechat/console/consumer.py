"""The console socket, `/ws/live-chat/` (docs/protocol.md).

A thin layer: it authenticates, validates frames with livechat.realtime.protocol, calls
livechat.conversations.actions (one database_sync_to_async call per frame) and forwards
channel-layer events to the browser.
State changes are published by the actions after commit, so every socket — on any process —
hears about them the same way.
"""

import asyncio
import functools
import json
import logging
import time
from typing import Any

import redis.exceptions
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper
from django.conf import settings
from django.db.models import prefetch_related_objects
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from accounts import availability, idle_sessions, sign_in
from accounts.models import User
from livechat.console.annotation_frames import AnnotationFrames
from livechat.console.socket_language import language_of
from livechat.conversations import actions, assignment, history, permissions, queue
from livechat.conversations.actions import ActionRefused, Actor
from livechat.jobs import background
from livechat.line import messaging_api, read_receipts
from livechat.models import Conversation
from livechat.realtime import frames, groups, layer, presence, protocol, publish, wire
from livechat.realtime.frames import Frame
from livechat.realtime.protocol import CloseCode, ErrorCode, FrameError

logger = logging.getLogger(__name__)

# Where server_event memoizes an event's encoded frame (livechat.realtime.wire) in the event itself.
WIRE_FRAME = "_wire_frame"


class LiveChatConsumer(AnnotationFrames, AsyncWebsocketConsumer):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.serve(scope, receive, send)
        except (ConnectionError, OSError, redis.exceptions.RedisError):
            # The channel layer is gone: events may have been lost. Tell the client to reconnect
            # and sync every room from its last seq (protocol: close code 4503).
            logger.warning("channel layer lost; asking the client to resync", exc_info=True)
            try:
                await self.send_error(ErrorCode.INTERNAL, "Real-time connection lost; reconnect and sync.")
                await self.close(CloseCode.RESYNC)
            except Exception:  # the socket is gone too
                logger.debug("socket already closed")
            await self.forget_presence()

    async def serve(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' AsyncConsumer.__call__, with the per-event costs of fanning out taken out.

        Every event published to the operators reaches every socket, so what each delivery
        costs decides how many sockets a process can serve (bench/fanout.py):
        - `await_many_dispatch` creates a task and runs `asyncio.wait` for every message; here
          each source (the socket, the channel layer) has one long-lived reader instead, and a
          lock keeps handlers one at a time, as before;
        - Channels' SessionMiddleware wraps `send` to save a changed session on HTTP responses;
          on a socket it can never save, yet it inspected the lazy session on every frame;
        - on the pub/sub layer, events to the socket's groups skip its queue and reader: the
          layer decodes each once per process and awaits `server_event` itself (which only
          forwards the encoded frame, so it may run while a handler awaits the database).
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = _without_session_saving(send)
        self.write_wire = wire.wire_writer(self.base_send)
        sources = [receive]
        stop_direct_delivery = None
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
            stop_direct_delivery = layer.deliver_directly(
                self.channel_layer, self.channel_name, groups.SERVER_EVENT, self.server_event
            )
        one_at_a_time = asyncio.Lock()

        async def read(source: Any) -> None:
            while True:
                message = await source()
                async with one_at_a_time:
                    await self.dispatch(message)

        readers = [asyncio.ensure_future(read(source)) for source in sources]
        try:
            done, _ = await asyncio.wait(readers, return_when=asyncio.FIRST_EXCEPTION)
            for reader in done:
                reader.result()  # StopConsumer when the socket closed; a layer failure
        except StopConsumer:
            pass
        finally:
            if stop_direct_delivery is not None:
                stop_direct_delivery()
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Route a message to its handler — without Channels' per-message database cleanup.

        AsyncConsumer.dispatch runs aclose_old_connections() (a hop to a worker thread) before
        every message, so each event fanned out to each socket paid for one. Every database
        call here goes through database_sync_to_async, which already cleans up around itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- Connection ---------------------------------------------------------------------------

    async def connect(self) -> None:
        self.user: User | None = None
        self.groups_joined: set[str] = set()
        self.rooms: set[int] = set()
        self.typing_expiry: dict[int, asyncio.TimerHandle] = {}
        self.tokens = float(protocol.FRAMES_PER_SECOND)
        self.refilled_at = time.monotonic()
        self.recent_frames: list[float] = []
        self.auth_timer: asyncio.TimerHandle | None = None
        self.session_timer: asyncio.TimerHandle | None = None
        self.session_key: str | None = None
        self.activity_noted = time.monotonic()
        self.cut_off = False
        self.language = language_of(self.scope)
        await self.accept()
        user = self.scope.get("user")
        if permissions.is_team_member(user):
            await self.authenticated(user)
            # Signed in with the console's session: the socket ends when the session does.
            self.session_key = getattr(self.scope.get("session"), "session_key", None)
            if self.session_key:
                await self.watch_session()
        else:
            loop = asyncio.get_running_loop()
            self.auth_timer = loop.call_later(
                protocol.AUTH_TIMEOUT_SECONDS, lambda: asyncio.ensure_future(self.auth_timed_out())
            )

    async def watch_session(self) -> None:
        """Close with 4401 once the console session has ended (idle too long, or signed out
        elsewhere); until then look again when it is due to end (activity may have moved it)."""
        assert self.session_key is not None
        ends = await database_sync_to_async(idle_sessions.expires_at)(self.session_key)
        if ends is None:
            await self.session_end({"reason": "Your session has ended; sign in again."})
            return
        delay = max(0.0, (ends - timezone.now()).total_seconds()) + 1.0
        self.session_timer = asyncio.get_running_loop().call_later(
            delay, lambda: asyncio.ensure_future(self.watch_session())
        )

    async def note_activity(self, frame_type: str) -> None:
        """Working through the socket keeps the console session alive, like requests do (one
        write per SESSION_ACTIVITY_RESOLUTION_SECONDS at most)."""
        if self.session_key is None or frame_type == "ping":
            return
        now = time.monotonic()
        if now - self.activity_noted < settings.SESSION_ACTIVITY_RESOLUTION_SECONDS:
            return
        self.activity_noted = now
        await database_sync_to_async(idle_sessions.note_activity_of)(self.session_key)

    async def auth_timed_out(self) -> None:
        if self.user is None:
            await self.reject_unauthenticated("No auth frame within 10 seconds.")

    async def reject_unauthenticated(self, message: str, request_id: str | None = None) -> None:
        await self.send_error(ErrorCode.UNAUTHENTICATED, message, request_id)
        await self.close(CloseCode.UNAUTHENTICATED)

    async def authenticated(self, user: User, request_id: str | None = None) -> None:
        self.user = user
        if self.auth_timer:
            self.auth_timer.cancel()
        for group in (groups.OPERATORS, groups.operator(user.pk)):
            await self.join_group(group)
        if user.is_supervisor:  # SLA alerts of every conversation
            await self.join_group(groups.SUPERVISORS)
        await self.send_frame(frames.auth_success(user), request_id)
        went_online = await presence.store().touch(user.pk, self.channel_name)
        if went_online:
            await database_sync_to_async(availability.start)(user.pk, "online")
            await self.broadcast_presence()
            assignment.assign_waiting_soon()
        else:
            await self.send_frame(await presence_frame())
        await self.send_frame(frames.queue_update(await database_sync_to_async(queue.snapshot)()))
        start_sweeper()

    async def disconnect(self, code: int) -> None:
        if self.auth_timer:
            self.auth_timer.cancel()
        if self.session_timer:
            self.session_timer.cancel()
        for handle in self.typing_expiry.values():
            handle.cancel()
        for conversation_id in list(self.rooms):
            await self.leave(conversation_id)
        for group in list(self.groups_joined):
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.forget_presence()

    @property
    def me(self) -> User:
        """The signed-in operator: every handler but on_auth runs only once there is one."""
        assert self.user is not None, "frame handled before authentication"
        return self.user

    async def forget_presence(self) -> None:
        if self.user is None:
            return
        user, self.user = self.user, None
        try:
            if await presence.store().remove(user.pk, self.channel_name):
                await database_sync_to_async(availability.end)([user.pk])
                await self.broadcast_presence()
        except Exception:
            logger.warning("presence cleanup failed for %s", user.pk, exc_info=True)

    async def join_group(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def leave_group(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined.discard(group)

    # --- Frames in ----------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.cut_off:
            return  # closed for flooding: what is still on the way is dropped without a word
        request_id = None
        try:
            if await self.over_limit():
                return
            raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
            if len(raw.encode()) > protocol.MAX_FRAME_BYTES:
                raise FrameError(
                    ErrorCode.TOO_LARGE, f"Frames are limited to {protocol.MAX_FRAME_BYTES} bytes."
                )
            try:
                frame = json.loads(raw)
            except ValueError:
                raise FrameError(ErrorCode.BAD_JSON, "The frame is not valid JSON.") from None
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                raise FrameError(ErrorCode.INVALID, 'A frame is an object with a string "type".')
            if "\\u" in raw and not _is_unicode(frame):
                # JSON can escape half of a surrogate pair ("\ud800"): text nobody could store or
                # be sent back, which would otherwise end the socket with 1011.
                raise FrameError(ErrorCode.INVALID, "The frame holds text that is not valid Unicode.")
            rid = frame.get("request_id")
            request_id = rid[:64] if isinstance(rid, str) else None
            frame_type = frame["type"]
            payload = protocol.validate_payload(frame_type, frame.get("payload"))
            if self.user is None:
                if frame_type != "auth":
                    await self.reject_unauthenticated("Authenticate first.", request_id)
                    return
                await self.on_auth(payload, request_id)
                return
            await getattr(self, f"on_{frame_type}")(payload, request_id)
            await self.note_activity(frame_type)
        except FrameError as exc:
            await self.send_error(exc.code, exc.message, request_id)
        except ActionRefused as exc:
            await self.send_error(exc.code, exc.lazy_message, request_id)
        except Exception:
            logger.exception("frame failed")
            await self.send_error(
                ErrorCode.INTERNAL, gettext_lazy("Something went wrong on our side."), request_id
            )

    async def over_limit(self) -> bool:
        """20 frames/s per socket (token bucket); sustained flooding closes the socket."""
        now = time.monotonic()
        self.tokens = min(
            protocol.FRAMES_PER_SECOND, self.tokens + (now - self.refilled_at) * protocol.FRAMES_PER_SECOND
        )
        self.refilled_at = now
        self.recent_frames = [t for t in self.recent_frames if now - t < 1.0]
        self.recent_frames.append(now)
        if len(self.recent_frames) > protocol.ABUSE_FRAMES_PER_SECOND:
            self.cut_off = True
            logger.info("socket of %s closed for flooding", self.user.pk if self.user else "anonymous")
            await self.send_error(ErrorCode.RATE_LIMITED, "Too many frames; closing.")
            await self.close(CloseCode.ABUSE)
            return True
        if self.tokens < 1:
            await self.send_error(
                ErrorCode.RATE_LIMITED, f"At most {protocol.FRAMES_PER_SECOND} frames per second."
            )
            return True
        self.tokens -= 1
        return False

    async def on_auth(self, payload: dict[str, Any], request_id: str | None) -> None:
        if self.user is not None:
            raise FrameError(ErrorCode.INVALID, "Already authenticated.")
        address = (self.scope.get("client") or ["", 0])[0] or ""
        try:
            user = await database_sync_to_async(_user_for_token)(payload["token"], address)
        except sign_in.TokenGuessingLocked as locked:
            await self.reject_unauthenticated(str(locked), request_id)
            return
        if user is None:
            await self.reject_unauthenticated("Invalid token.", request_id)
            return
        await self.authenticated(user, request_id)

    async def on_ping(self, payload: dict[str, Any], request_id: str | None) -> None:
        if await presence.store().touch(self.me.pk, self.channel_name):
            await database_sync_to_async(availability.start)(self.me.pk, "online")
            await self.broadcast_presence()
            assignment.assign_waiting_soon()
        await self.send_frame(frames.pong(), request_id)

    async def on_join_room(self, payload: dict[str, Any], request_id: str | None) -> None:
        conversation_id = payload["conversation_id"]
        # Join before reading the snapshot: a message stored in between then arrives live (and
        # maybe in the snapshot too — clients merge by seq), instead of in neither.
        group = groups.conversation(conversation_id)
        await self.join_group(group)
        try:
            snapshot = await database_sync_to_async(_room_snapshot)(conversation_id)
        except ActionRefused:
            await self.leave_group(group)
            raise
        self.rooms.add(conversation_id)
        await self.send_frame(snapshot, request_id)
        await publish.now_async([(group, frames.operator_joined(conversation_id, self.me))])

    async def on_leave_room(self, payload: dict[str, Any], request_id: str | None) -> None:
        await self.leave(payload["conversation_id"])

    async def leave(self, conversation_id: int) -> None:
        if conversation_id not in self.rooms:
            return
        self.rooms.discard(conversation_id)
        await self.stop_typing(conversation_id)
        await self.leave_group(groups.conversation(conversation_id))
        await publish.now_async(
            [(groups.conversation(conversation_id), frames.operator_left(conversation_id, self.me))]
        )

    async def on_send_message(self, payload: dict[str, Any], request_id: str | None) -> None:
        await self.send_frame(await database_sync_to_async(_send)(self.me, payload), request_id)

    async def on_typing_start(self, payload: dict[str, Any], request_id: str | None) -> None:
        conversation_id = payload["conversation_id"]
        handle = self.typing_expiry.pop(conversation_id, None)
        if handle is None:
            await self.publish_typing(conversation_id, True)
        else:
            handle.cancel()
        loop = asyncio.get_running_loop()
        self.typing_expiry[conversation_id] = loop.call_later(
            protocol.TYPING_EXPIRES_SECONDS, lambda: asyncio.ensure_future(self.stop_typing(conversation_id))
        )
        key = f"loading:{conversation_id}"
        if await presence.store().throttle(key, protocol.LOADING_ANIMATION_EVERY_SECONDS):
            await database_sync_to_async(_show_loading_animation)(conversation_id, self.me)

    async def on_typing_stop(self, payload: dict[str, Any], request_id: str | None) -> None:
        await self.stop_typing(payload["conversation_id"])

    async def stop_typing(self, conversation_id: int) -> None:
        handle = self.typing_expiry.pop(conversation_id, None)
        if handle is not None:
            handle.cancel()
            await self.publish_typing(conversation_id, False)

    async def publish_typing(self, conversation_id: int, is_typing: bool) -> None:
        await publish.now_async(
            [(groups.conversation(conversation_id), frames.typing(conversation_id, self.me, is_typing))]
        )

    async def on_claim_session(self, payload: dict[str, Any], request_id: str | None) -> None:
        await database_sync_to_async(actions.claim)(payload["conversation_id"], Actor.staff(self.me))

    async def on_close_session(self, payload: dict[str, Any], request_id: str | None) -> None:
        await database_sync_to_async(actions.close)(
            payload["conversation_id"], Actor.staff(self.me), payload["reason"]
        )

    async def on_transfer_session(self, payload: dict[str, Any], request_id: str | None) -> None:
        await database_sync_to_async(actions.transfer)(
            payload["conversation_id"],
            Actor.staff(self.me),
            to_operator_id=payload.get("to_operator_id"),
            to_queue=payload.get("to_queue", False),
            note=payload["note"],
        )

    async def on_mark_read(self, payload: dict[str, Any], request_id: str | None) -> None:
        await database_sync_to_async(_mark_read)(payload["conversation_id"], self.me, payload["seq"])

    async def on_sync(self, payload: dict[str, Any], request_id: str | None) -> None:
        conversation_id, after = payload["conversation_id"], payload["after_seq"]
        while True:
            page = await database_sync_to_async(_sync_page)(conversation_id, after)
            await self.send_frame(page, request_id)
            if not page.payload["has_more"]:
                return
            after = page.payload["messages"][-1]["seq"]

    async def on_set_status(self, payload: dict[str, Any], request_id: str | None) -> None:
        await presence.store().set_status(self.me.pk, payload["status"])
        await database_sync_to_async(availability.start)(self.me.pk, payload["status"])
        await self.broadcast_presence()
        if payload["status"] == "online":
            assignment.assign_waiting_soon()

    async def broadcast_presence(self) -> None:
        await publish.now_async([(groups.OPERATORS, await presence_frame())])

    # --- Frames out ---------------------------------------------------------------------------

    async def send_frame(self, frame: Frame, request_id: str | None = None) -> None:
        """A frame to this socket only (the answer to one of its requests)."""
        await self.send(text_data=json.dumps(publish.stamped(frame, request_id), ensure_ascii=False))

    async def send_error(self, code: str, message: str | Promise, request_id: str | None = None) -> None:
        with translation.override(self.language):  # the console page's language
            text = str(message)
        await self.send_frame(frames.error(code, text, request_id), request_id)

    async def server_event(self, event: dict[str, Any]) -> None:
        """An event published to one of this socket's groups (groups.SERVER_EVENT).

        It carries the frame already encoded ("text"); a bare "frame" is accepted too.
        """
        if self.user is not None and event.get("origin_operator_id") == self.user.pk:
            return  # e.g. their own typing
        text = event.get("text") or json.dumps(event["frame"], ensure_ascii=False)
        if self.write_wire is not None:
            # The layer hands one event to every socket of the process: the frame is built once.
            encoded = event.get(WIRE_FRAME)
            if encoded is None:
                encoded = event[WIRE_FRAME] = wire.text_frame(text)
            if self.write_wire(encoded):
                return
        await self.base_send({"type": "websocket.send", "text": text})

    async def session_end(self, event: dict[str, Any]) -> None:
        """The operator logged out or was deactivated: end every socket of theirs."""
        await self.send_error(ErrorCode.UNAUTHENTICATED, event.get("reason", "Signed out."))
        await self.close(CloseCode.UNAUTHENTICATED)


def _is_unicode(frame: Any) -> bool:
    try:
        json.dumps(frame, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _without_session_saving(send: Any) -> Any:
    """The socket's own `send`, from under Channels' SessionMiddleware wrapper (see serve)."""
    wrapper = getattr(send, "__self__", None)
    return wrapper.real_send if isinstance(wrapper, InstanceSessionWrapper) else send


# --- Database work, one call per frame ------------------------------------------------------------


def _user_for_token(key: str, address: str) -> User | None:
    token = sign_in.token_sign_in(key, sign_in.request_from(address))
    if token is None or not permissions.is_team_member(token.user):
        return None
    return token.user


def _conversation(conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.select_related("contact", "assigned_operator").filter(pk=conversation_id).first()
    )
    if conversation is None:
        raise ActionRefused(
            ErrorCode.NOT_FOUND, gettext_lazy("Conversation %(id)s does not exist."), id=conversation_id
        )
    return conversation


def _room_snapshot(conversation_id: int) -> Frame:
    conversation = _conversation(conversation_id)
    prefetch_related_objects([conversation], "labels")
    return frames.conversation_update(
        conversation, history.latest(conversation_id, limit=protocol.HISTORY_PAGE)
    )


def _sync_page(conversation_id: int, after_seq: int) -> Frame:
    conversation = _conversation(conversation_id)
    messages = history.after(conversation_id, after_seq, limit=protocol.SYNC_PAGE + 1)
    return frames.conversation_update(
        conversation, messages[: protocol.SYNC_PAGE], has_more=len(messages) > protocol.SYNC_PAGE
    )


def _send(user: User, payload: dict[str, Any]) -> Frame:
    message, _ = actions.send_operator_message(
        payload["conversation_id"],
        Actor.staff(user),
        client_id=payload["client_id"],
        text=payload.get("text"),
        sticker=payload.get("sticker"),
        canned_id=payload.get("canned_id"),
        quote_message_id=payload.get("quote_message_id"),
    )
    return frames.message_sent(payload["client_id"], message)


def _mark_read(conversation_id: int, user: User, seq: int) -> None:
    for token in actions.mark_read(conversation_id, Actor.staff(user), seq):
        background.submit(read_receipts.send, conversation_id, token)


def _show_loading_animation(conversation_id: int, operator: User) -> None:
    """While the holder (or a supervisor) types, the customer sees LINE's "…" — not while a
    colleague types a private draft — and only where LINE can show it."""
    conversation = (
        Conversation.objects.select_related("contact")
        .filter(pk=conversation_id, status=Conversation.Status.ACTIVE, contact__is_following=True)
        .first()
    )
    if conversation is not None and permissions.in_charge(operator, conversation):
        background.submit(
            messaging_api.show_loading_animation,
            conversation.contact.line_user_id,
            protocol.LOADING_ANIMATION_EVERY_SECONDS,
        )


async def presence_frame() -> Frame:
    online = await presence.store().online()
    operators = await database_sync_to_async(_operators)(list(online))
    return frames.presence_update((op, online[op.pk]) for op in operators)


def _operators(ids: list[int]) -> list[User]:
    return list(User.objects.filter(pk__in=ids).order_by("display_name", "username"))


# --- Presence expiry, one sweeper per process -------------------------------------------------------

_sweepers: dict[int, asyncio.Task[None]] = {}


def start_sweeper() -> None:
    loop = asyncio.get_running_loop()
    task = _sweepers.get(id(loop))
    if task is None or task.done():
        _sweepers[id(loop)] = loop.create_task(_sweep_forever())


async def _sweep_forever() -> None:
    from django.conf import settings

    interval = max(0.5, settings.PRESENCE_TTL_SECONDS / 4)
    while True:
        await asyncio.sleep(interval)
        try:
            gone = await presence.store().sweep()
            if gone:
                await database_sync_to_async(availability.end)(gone)
                await publish.now_async([(groups.OPERATORS, await presence_frame())])
        except Exception:
            logger.warning("presence sweep failed", exc_info=True)
