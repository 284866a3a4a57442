"""What the bot says and when a customer is asking for a human.

Keywords and texts are edited in admin and read on every inbound text. Each process keeps the
texts it loaded, and Django's cache (Redis when REDIS_URL is set, shared by every process) holds
a version that an edit changes: a process looks at that version at most once per
RECHECK_SECONDS and reloads when it moved, so an edit reaches every process within a second.
Reading the texts themselves from Redis on every event cost 0.3 ms a read, ~0.8 ms of CPU per
webhook (bench/webhook.py); the version check costs nothing per event.
"""

import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from livechat.models import AutoReply, BotSettings, HandoffKeyword

VERSION_KEY = "livechat:bot-config-version"
RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class BotConfig:
    handoff_keywords: tuple[str, ...]
    auto_replies: dict[str, str]
    welcome_message: str
    handoff_message: str
    still_waiting_message: str


@dataclass
class _Loaded:
    config: BotConfig
    version: str
    checked_at: float


_loaded: _Loaded | None = None
_clock = time.monotonic  # the tests freeze it


def config() -> BotConfig:
    global _loaded
    now = _clock()
    loaded = _loaded
    if loaded is not None and now - loaded.checked_at < RECHECK_SECONDS:
        return loaded.config
    version = _shared_version()
    if loaded is not None and loaded.version == version:
        loaded.checked_at = now
        return loaded.config
    _loaded = _Loaded(_load(), version, now)
    return _loaded.config


def _shared_version() -> str:
    version: str | None = cache.get(VERSION_KEY)
    if version is None:  # a fresh cache: the first process to ask names the version
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY) or ""
    return version


def _load() -> BotConfig:
    texts, _ = BotSettings.objects.get_or_create(pk=1)
    return BotConfig(
        handoff_keywords=tuple(
            normalize(k)
            for k in HandoffKeyword.objects.filter(is_active=True).values_list("keyword", flat=True)
        ),
        auto_replies={
            normalize(k): reply
            for k, reply in AutoReply.objects.filter(is_active=True).values_list("keyword", "reply_text")
        },
        welcome_message=texts.welcome_message,
        handoff_message=texts.handoff_message,
        still_waiting_message=texts.still_waiting_message,
    )


def forget_config(**_: object) -> None:
    """The texts changed: this process reloads at once, every other within RECHECK_SECONDS."""
    global _loaded
    _loaded = None
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


for _model in (BotSettings, HandoffKeyword, AutoReply):
    post_save.connect(forget_config, sender=_model, dispatch_uid=f"bot-config-{_model.__name__}")
    post_delete.connect(forget_config, sender=_model, dispatch_uid=f"bot-del-{_model.__name__}")


def normalize(text: str) -> str:
    return " ".join(text.casefold().split())


_LATIN_WORD = re.compile(r"^[\w\s]+$", re.ASCII)


def asks_for_human(text: str) -> bool:
    """Thai keywords match anywhere (Thai has no spaces); Latin ones as whole words."""
    said = normalize(text)
    for keyword in config().handoff_keywords:
        if _LATIN_WORD.match(keyword):
            if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", said):
                return True
        elif keyword in said:
            return True
    return False


def auto_reply_for(text: str) -> str | None:
    return config().auto_replies.get(normalize(text))


def would_act_on(text: str) -> bool:
    """Whether a customer's text, in a conversation with the bot, makes the bot do something."""
    return asks_for_human(text) or auto_reply_for(text) is not None


def postback_action(data: str) -> str:
    """`action=handoff&…` → "handoff"."""
    return (parse_qs(data).get("action") or [""])[0]
