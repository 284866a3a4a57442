"""What the bot says and when a customer is asking for a human.

Keywords and texts are edited in admin; they are read on every inbound text, so they are kept
in Django's cache (Redis when REDIS_URL is set, shared by every process): an edit drops the
entry, and every process reads the new texts on its next event.
"""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from livechat.models import AutoReply, BotSettings, HandoffKeyword

CACHE_KEY = "livechat:bot-config"
# Only a bound on staleness should an edit's invalidation ever be lost (e.g. Redis was down).
CACHE_SECONDS = 300


@dataclass(frozen=True)
class BotConfig:
    handoff_keywords: tuple[str, ...]
    auto_replies: dict[str, str]
    welcome_message: str
    handoff_message: str
    still_waiting_message: str


def config() -> BotConfig:
    cached: BotConfig | None = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    texts, _ = BotSettings.objects.get_or_create(pk=1)
    loaded = BotConfig(
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
    cache.set(CACHE_KEY, loaded, CACHE_SECONDS)
    return loaded


def forget_config(**_: object) -> None:
    cache.delete(CACHE_KEY)


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
