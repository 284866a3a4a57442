"""A value loaded from the database once per process and reloaded by every process on an edit.

Each process keeps what it loaded; Django's cache (Redis when REDIS_URL is set, shared by every
process) holds a version that an edit changes. A process looks at that version at most once per
RECHECK_SECONDS and reloads when it moved, so an edit reaches every process within a second,
and reading the value costs nothing on the hot path (bench/webhook.py measured 0.8 ms of CPU per
webhook when the bot's texts were read from Redis on every event instead).
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

RECHECK_SECONDS = 1.0
clock = time.monotonic  # the tests freeze it
_every: list["Shared[object]"] = []  # forget_all()


@dataclass
class _Loaded[T]:
    value: T
    version: str
    checked_at: float


class Shared[T]:
    """`get()` the value `load()` builds; `forget()` after an edit."""

    def __init__(self, key: str, load: Callable[[], T]) -> None:
        self.key = key
        self.load = load
        self._loaded: _Loaded[T] | None = None
        _every.append(self)  # type: ignore[arg-type]

    def get(self) -> T:
        now = clock()
        loaded = self._loaded
        if loaded is not None and now - loaded.checked_at < RECHECK_SECONDS:
            return loaded.value
        version = self._version()
        if loaded is not None and loaded.version == version:
            loaded.checked_at = now
            return loaded.value
        self._loaded = _Loaded(self.load(), version, now)
        return self._loaded.value

    def forget(self, **_: object) -> None:
        """The rows changed: this process reloads at once, every other within RECHECK_SECONDS.
        (Takes and ignores signal arguments, to be connected to post_save/post_delete.)"""
        self._loaded = None
        cache.set(self.key, uuid.uuid4().hex, timeout=None)

    def _version(self) -> str:
        version: str | None = cache.get(self.key)
        if version is None:  # a fresh cache: the first process to ask names the version
            cache.add(self.key, uuid.uuid4().hex, timeout=None)
            version = cache.get(self.key) or ""
        return version


def forget_all() -> None:
    """Drop what this process loaded, of every shared value (tests: a new database)."""
    for value in _every:
        value._loaded = None
