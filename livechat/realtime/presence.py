"""Who is online: shared by every daphne process through Redis, with expiry.

An operator is online while at least one of their sockets has heartbeated within
PRESENCE_TTL_SECONDS. Each socket is a member of a sorted set scored by its expiry time, so a
crashed process's sockets simply age out; `sweep` (run periodically by each process) notices
operators whose last socket expired and reports them once — whichever process removes the
entry first announces it. Without REDIS_URL (the embedded single-process set-up) the same
interface is kept in memory.
"""

import asyncio
import time
from typing import Protocol, cast

import redis
from django.conf import settings

KEY = "livechat:presence"


class PresenceStore(Protocol):
    async def touch(self, operator_id: int, socket_id: str) -> bool: ...
    async def remove(self, operator_id: int, socket_id: str) -> bool: ...
    async def set_status(self, operator_id: int, status: str) -> None: ...
    async def online(self) -> dict[int, str]: ...
    async def sweep(self) -> list[int]: ...
    async def throttle(self, key: str, seconds: float) -> bool: ...


def _ttl() -> float:
    return float(settings.PRESENCE_TTL_SECONDS)


class RedisPresence:
    """touch/remove return True when the operator went online/offline with this call.

    redis-py's types cannot tell `decode_responses=True` (str, not bytes) or `withscores` apart,
    hence the casts to what those calls return here.
    """

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self.redis = aioredis.from_url(url, decode_responses=True, socket_timeout=5)

    def _sockets(self, operator_id: int) -> str:
        return f"{KEY}:sockets:{operator_id}"

    async def touch(self, operator_id: int, socket_id: str) -> bool:
        now = time.time()
        expires = now + _ttl()
        # One round trip (every socket's heartbeat comes here): read the operator's expiry and
        # refresh it in the same MULTI.
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zscore(f"{KEY}:operators", operator_id)
            pipe.zadd(self._sockets(operator_id), {socket_id: expires})
            pipe.zremrangebyscore(self._sockets(operator_id), "-inf", now)
            pipe.expire(self._sockets(operator_id), int(_ttl()) + 5)
            pipe.zadd(f"{KEY}:operators", {str(operator_id): expires})
            pipe.hsetnx(f"{KEY}:status", str(operator_id), "online")
            was = (await pipe.execute())[0]
        return was is None or was < now

    async def remove(self, operator_id: int, socket_id: str) -> bool:
        now = time.time()
        key = self._sockets(operator_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(key, socket_id)
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrange(key, -1, -1, withscores=True)
            _, _, last = await pipe.execute()
        if last:
            await self.redis.zadd(f"{KEY}:operators", {str(operator_id): last[0][1]})
            return False
        return await self._gone(operator_id)

    async def _gone(self, operator_id: int) -> bool:
        removed = await self.redis.zrem(f"{KEY}:operators", str(operator_id))
        if removed:
            await self.redis.hdel(f"{KEY}:status", str(operator_id))
        return bool(removed)

    async def set_status(self, operator_id: int, status: str) -> None:
        await self.redis.hset(f"{KEY}:status", str(operator_id), status)

    async def online(self) -> dict[int, str]:
        ids = cast(list[str], await self.redis.zrangebyscore(f"{KEY}:operators", time.time(), "+inf"))
        if not ids:
            return {}
        statuses = cast(list[str | None], await self.redis.hmget(f"{KEY}:status", ids))
        return _statuses(ids, statuses)

    async def sweep(self) -> list[int]:
        now = time.time()
        gone = []
        expired = cast(list[str], await self.redis.zrangebyscore(f"{KEY}:operators", "-inf", now))
        for operator_id in expired:
            key = self._sockets(int(operator_id))
            await self.redis.zremrangebyscore(key, "-inf", now)
            last = cast(list[tuple[str, float]], await self.redis.zrange(key, -1, -1, withscores=True))
            if last:  # a socket refreshed after we read: keep the operator
                await self.redis.zadd(f"{KEY}:operators", {operator_id: last[0][1]})
            elif await self._gone(int(operator_id)):
                gone.append(int(operator_id))
        return gone

    async def throttle(self, key: str, seconds: float) -> bool:
        """True at most once per `seconds` for this key, across all processes."""
        return bool(await self.redis.set(f"{KEY}:throttle:{key}", "1", nx=True, px=int(seconds * 1000)))


class MemoryPresence:
    """The same, for one process without Redis."""

    def __init__(self) -> None:
        self.sockets: dict[int, dict[str, float]] = {}
        self.status: dict[int, str] = {}
        self.throttled: dict[str, float] = {}

    def _alive(self, operator_id: int, now: float) -> dict[str, float]:
        sockets = {s: t for s, t in self.sockets.get(operator_id, {}).items() if t > now}
        self.sockets[operator_id] = sockets
        return sockets

    async def touch(self, operator_id: int, socket_id: str) -> bool:
        now = time.time()
        was_online = bool(self._alive(operator_id, now))
        self.sockets[operator_id][socket_id] = now + _ttl()
        self.status.setdefault(operator_id, "online")
        return not was_online

    async def remove(self, operator_id: int, socket_id: str) -> bool:
        now = time.time()
        was_online = bool(self._alive(operator_id, now))
        self.sockets[operator_id].pop(socket_id, None)
        if self.sockets[operator_id]:
            return False
        self.sockets.pop(operator_id, None)
        self.status.pop(operator_id, None)
        return was_online

    async def set_status(self, operator_id: int, status: str) -> None:
        self.status[operator_id] = status

    async def online(self) -> dict[int, str]:
        now = time.time()
        return {o: self.status.get(o, "online") for o in list(self.sockets) if self._alive(o, now)}

    def online_now(self) -> dict[int, str]:
        """online() for another thread: it only reads (the loop's thread alone writes)."""
        now = time.time()
        return {
            o: self.status.get(o, "online")
            for o, sockets in list(self.sockets.items())
            if any(t > now for t in list(sockets.values()))
        }

    async def sweep(self) -> list[int]:
        now = time.time()
        gone = [o for o in list(self.sockets) if not self._alive(o, now)]
        for o in gone:
            self.sockets.pop(o, None)
            self.status.pop(o, None)
        return gone

    async def throttle(self, key: str, seconds: float) -> bool:
        now = time.time()
        if self.throttled.get(key, 0) > now:
            return False
        self.throttled[key] = now + seconds
        return True


_stores: dict[tuple[int, str], PresenceStore] = {}
_memory = MemoryPresence()


def store() -> PresenceStore:
    """The presence store for this event loop (Redis clients are bound to their loop)."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return _memory
    key = (id(asyncio.get_running_loop()), url)
    if key not in _stores:
        _stores[key] = RedisPresence(url)
    return _stores[key]


def _statuses(ids: list[str], statuses: list[str | None]) -> dict[int, str]:
    return {int(i): s or "online" for i, s in zip(ids, statuses, strict=True)}


_sync_clients: dict[str, "redis.Redis"] = {}


def online_now() -> dict[int, str]:
    """`store().online()` for synchronous code (a pool thread, a management command).

    The async store is bound to an event loop, and a loop made for one call (async_to_sync in a
    thread without one) would leave a client behind on a closed loop each time; a synchronous
    client, one per process, reads the same keys instead.
    """
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return _memory.online_now()
    client = _sync_clients.get(url)
    if client is None:
        client = _sync_clients[url] = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
    ids = cast(list[str], client.zrangebyscore(f"{KEY}:operators", time.time(), "+inf"))
    if not ids:
        return {}
    return _statuses(ids, cast(list[str | None], client.hmget(f"{KEY}:status", ids)))
