"""What the bot says and when a customer is asking for a human.

Keywords and texts are edited in admin and read on every inbound text. Each process keeps the
texts it loaded and reloads them within a second of an edit anywhere (livechat.policies.shared);
the keywords are compiled once per load, too.

How a keyword matches a customer's text (handoff keywords and auto-replies alike): both are
normalised — NFKC, case-folded, punctuation, symbols and emoji dropped, whitespace collapsed —
and a Thai keyword is found anywhere in the text, spaces ignored (Thai has no spaces between
words), a Latin one only as whole words ("agent" is not in "agents"). Polite particles at the
end of a keyword do not count ("สวัสดีค่ะ" answers "สวัสดีครับ"). Of several auto-replies the
longest keyword wins; of equally long ones, the one said last (the question usually follows
the greeting).
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from django.core.exceptions import ValidationError
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from livechat.delivery import outbox
from livechat.models import AutoReply, BotSettings, Conversation, HandoffKeyword
from livechat.models.bot import MAX_QUICK_REPLIES, validate_quick_replies
from livechat.policies import shared

VERSION_KEY = "livechat:bot-config-version"
HANDOFF_POSTBACK = "action=handoff&from=quickreply"

Status = Conversation.Status


# --- Reading what the customer said ---------------------------------------------------------------


class _Ignored(dict[int, Any]):
    """str.translate table: punctuation, symbols (emoji), controls and format characters become
    a space; Thai's ฯ and ๆ too; variation selectors (the invisible half of many emoji) vanish.
    Filled per character on first sight, so no table of all of Unicode is built."""

    def __missing__(self, code: int) -> Any:
        char = chr(code)
        category = unicodedata.category(char)
        if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or category == "Me":
            value: Any = None
        elif category[0] in "PSCZ" or char in "ฯๆ":
            value = " "
        else:
            value = code
        self[code] = value
        return value


_IGNORED = _Ignored()


def _cleaned(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().translate(_IGNORED).split())


def normalize(text: str) -> str:
    """The text as keywords are compared with it."""
    return _cleaned(text)


# Thai polite particles (and their romanised forms), which end a phrase without changing what
# it asks. The last letter may be drawn out: "ค่าาา", "ครับบบ".
THAI_PARTICLES = (
    "ครับ", "คับ", "ครัช", "คร้าบ", "ค้าบ", "ฮะ", "ฮับ", "ค่ะ", "คะ", "ค่า", "ค้า", "ขา",
    "นะ", "น้า", "น่ะ", "จ้า", "จ้ะ", "จ๊ะ", "จ่ะ", "เนอะ",
)  # fmt: skip
LATIN_PARTICLES = ("krub", "krab", "khrap", "kub", "ka", "kha", "ja", "jaa", "na", "naka")


def _particles_pattern(particles: Iterable[str]) -> str:
    forms = sorted({_cleaned(p) for p in particles}, key=len, reverse=True)
    return "|".join(re.escape(p[:-1]) + re.escape(p[-1]) + "+" for p in forms)


_PARTICLES_AT_END = re.compile(f"(?:{_particles_pattern(THAI_PARTICLES)})+$")
# A word that says nothing on its own: a particle, or laughter ("555" is "hahaha" in Thai).
_NOTHING_WORD = re.compile(f"(?:{_particles_pattern(THAI_PARTICLES + LATIN_PARTICLES)})+|5{{3,}}")


@dataclass(frozen=True)
class Said:
    """A customer's text, normalised once for every keyword list that looks at it."""

    spaced: str  # cleaned, words separated by single spaces (Latin keywords: whole words)
    compact: str  # the same without spaces (Thai keywords: anywhere)
    says_something: bool  # more than particles, punctuation, emoji or laughter


@lru_cache(maxsize=256)  # the webhook's fast path and the bot look at the same text in turn
def said(text: str) -> Said:
    spaced = _cleaned(text)
    words = spaced.split(" ") if spaced else []
    return Said(
        spaced=spaced,
        compact=spaced.replace(" ", ""),
        says_something=any(not _NOTHING_WORD.fullmatch(word) for word in words),
    )


def keyword_form(keyword: str) -> str:
    """A keyword as it is matched: cleaned, without polite particles at its end (unless that
    would leave less than two letters: "ชนะ" stays "ชนะ")."""
    form = _cleaned(keyword)
    shorter = _PARTICLES_AT_END.sub("", form).rstrip()
    return shorter if len(shorter) >= 2 else form


_LATIN_WORD = re.compile(r"^[\w\s]+$", re.ASCII)


class Keywords:
    """Keywords compiled for matching within a text (see the module's docstring)."""

    def __init__(self, keywords: Iterable[str]) -> None:
        forms = {keyword_form(k) for k in keywords} - {""}
        latin = sorted((k for k in forms if _LATIN_WORD.match(k)), key=len, reverse=True)
        # Every start position is tried (a zero-width lookahead), and at each the longest Latin
        # keyword that stands there as whole words; `lastindex` names it.
        self._latin = latin
        self._latin_re = (
            re.compile(
                "(?=(?<![0-9a-z_])(?:" + "|".join(f"({re.escape(k)})" for k in latin) + ")(?![0-9a-z_]))"
            )
            if latin
            else None
        )
        self._thai = sorted(
            (k.replace(" ", "") for k in forms if not _LATIN_WORD.match(k)), key=len, reverse=True
        )

    def best(self, text: Said) -> str | None:
        """The longest keyword in the text; of equally long ones, the one said last."""
        best: tuple[int, int, str] | None = None  # (length, position in `compact`, keyword)
        for keyword in self._thai:
            if best is not None and len(keyword) < best[0]:
                break  # sorted longest first: nothing shorter can win
            at = text.compact.rfind(keyword)
            if at >= 0 and (best is None or (len(keyword), at) > best[:2]):
                best = (len(keyword), at, keyword)
        if self._latin_re is not None:
            for match in self._latin_re.finditer(text.spaced):
                keyword = self._latin[(match.lastindex or 1) - 1]
                start = match.start()
                at = start - text.spaced.count(" ", 0, start)  # as a position in `compact`
                if best is None or (len(keyword.replace(" ", "")), at) > best[:2]:
                    best = (len(keyword.replace(" ", "")), at, keyword)
        return None if best is None else best[2]


# --- The configuration, loaded once per version -----------------------------------------------------


@dataclass(frozen=True)
class BotConfig:
    handoff_keywords: Keywords
    auto_replies: dict[str, str]  # keyword_form(keyword) → reply, compact for Thai keywords
    auto_reply_keywords: Keywords
    welcome_message: str
    handoff_message: str
    still_waiting_message: str
    fallback_message: str
    fallback_every: timedelta | None  # None: no fallback
    waiting_ack_every: timedelta | None  # None: no acknowledgement while waiting
    quick_replies: tuple[dict[str, Any], ...]  # LINE quick reply items, "talk to a human" first


def config() -> BotConfig:
    return _shared.get()


def _load() -> BotConfig:
    texts, _ = BotSettings.objects.get_or_create(pk=1)
    replies = list(AutoReply.objects.filter(is_active=True).values_list("keyword", "reply_text"))
    return BotConfig(
        handoff_keywords=Keywords(
            HandoffKeyword.objects.filter(is_active=True).values_list("keyword", flat=True)
        ),
        auto_replies={_matched_as(keyword): reply for keyword, reply in replies},
        auto_reply_keywords=Keywords(keyword for keyword, _ in replies),
        welcome_message=texts.welcome_message,
        handoff_message=texts.handoff_message,
        still_waiting_message=texts.still_waiting_message,
        fallback_message=texts.fallback_message,
        fallback_every=timedelta(minutes=texts.fallback_minutes) if texts.fallback_enabled else None,
        waiting_ack_every=(
            timedelta(minutes=texts.waiting_ack_minutes) if texts.waiting_ack_enabled else None
        ),
        quick_replies=_quick_reply_items(texts),
    )


def _matched_as(keyword: str) -> str:
    """The keyword as Keywords.best returns it."""
    form = keyword_form(keyword)
    return form if _LATIN_WORD.match(form) else form.replace(" ", "")


def _quick_reply_items(texts: BotSettings) -> tuple[dict[str, Any], ...]:
    label = texts.handoff_button_label
    items = [outbox.quick_reply_postback(label, HANDOFF_POSTBACK, display_text=label)]
    try:  # admin validates the buttons; a row written some other way must not stop the bot
        validate_quick_replies(texts.quick_replies)
        extra = texts.quick_replies
    except ValidationError:
        extra = []
    items += [outbox.quick_reply_message(item["label"], item["text"]) for item in extra]
    return tuple(items[:MAX_QUICK_REPLIES])


_shared = shared.Shared(VERSION_KEY, _load)
forget_config = _shared.forget


for _model in (BotSettings, HandoffKeyword, AutoReply):
    post_save.connect(forget_config, sender=_model, dispatch_uid=f"bot-config-{_model.__name__}")
    post_delete.connect(forget_config, sender=_model, dispatch_uid=f"bot-del-{_model.__name__}")


# --- What the bot does --------------------------------------------------------------------------


def asks_for_human(text: str) -> bool:
    return config().handoff_keywords.best(said(text)) is not None


def auto_reply_for(text: str) -> str | None:
    current = config()
    keyword = current.auto_reply_keywords.best(said(text))
    return None if keyword is None else current.auto_replies.get(keyword)


def would_act_on(text: str) -> bool:
    """Whether a customer's text, in a conversation with the bot, makes the bot act whatever it
    said before (a handoff or an auto-reply). The fallback depends on when the bot last spoke
    unasked as well: see `quiet_for`."""
    return asks_for_human(text) or auto_reply_for(text) is not None


def postback_action(data: str) -> str:
    """`action=handoff&…` → "handoff"."""
    return (parse_qs(data).get("action") or [""])[0]


class Act(StrEnum):
    NOTHING = "nothing"
    HANDOFF = "handoff"  # also, while waiting, "you are still number n"
    AUTO_REPLY = "auto_reply"
    FALLBACK = "fallback"
    STILL_WAITING = "still_waiting"


@dataclass(frozen=True)
class Answer:
    act: Act
    text: str = ""  # an auto-reply's text
    # A nudge (fallback, still waiting) is due only if the bot's last nudge was at or before this.
    nudged_at_most: datetime | None = None


NOTHING = Answer(Act.NOTHING)


def answer_to(status: str, text: str, nudged_at: datetime | None, now: datetime) -> Answer:
    """What the bot does about a customer's text in a conversation in `status`, when it last
    spoke unasked at `nudged_at`."""
    prompted = _prompted(status, text)
    if prompted is not None:
        return prompted
    nudge = _nudge(status, text)
    if nudge is None:
        return NOTHING
    act, every = nudge
    due_if_at_most = now - every
    if nudged_at is not None and nudged_at > due_if_at_most:
        return NOTHING
    return Answer(act, nudged_at_most=due_if_at_most)


def _prompted(status: str, text: str) -> Answer | None:
    """What the text asks for, whenever the bot last spoke."""
    if status == Status.BOT:
        if asks_for_human(text):
            return Answer(Act.HANDOFF)
        reply = auto_reply_for(text)
        return None if reply is None else Answer(Act.AUTO_REPLY, reply)
    if status == Status.WAITING and asks_for_human(text):
        return Answer(Act.HANDOFF)  # asked again: told their place at once
    return None


def _nudge(status: str, text: str) -> tuple[Act, timedelta] | None:
    """What the bot says unasked to this text, and how often at most."""
    current = config()
    if status == Status.BOT and current.fallback_every is not None and said(text).says_something:
        return Act.FALLBACK, current.fallback_every
    if status == Status.WAITING and current.waiting_ack_every is not None:
        return Act.STILL_WAITING, current.waiting_ack_every
    return None


@dataclass(frozen=True)
class Quiet:
    """Where the bot would do nothing about a message: in a conversation in one of `statuses`,
    or in `nudged_after`'s status when the bot's last nudge there was after the time given.
    The webhook's one-statement path (livechat.conversations.fast_path) stores the message only
    in such a conversation; anywhere else the transactional path stores it and lets the bot act,
    so that a reply commits together with the message."""

    statuses: tuple[str, ...]
    nudged_after: tuple[tuple[str, datetime], ...] = ()


OPEN_STATUSES = (Status.BOT, Status.WAITING, Status.ACTIVE)
ALWAYS_QUIET = Quiet(OPEN_STATUSES)


def quiet_for(text: str | None, now: datetime | None = None) -> Quiet:
    """Where the bot does nothing about a customer's message (`text` None: not a text — the bot
    answers texts only). The same rules as `answer_to`, per status."""
    if text is None:
        return ALWAYS_QUIET
    now = now or timezone.now()
    statuses: list[str] = []
    nudged_after: list[tuple[str, datetime]] = []
    for status in OPEN_STATUSES:
        if _prompted(status, text) is not None:
            continue
        nudge = _nudge(status, text)
        if nudge is None:
            statuses.append(status)
        else:
            nudged_after.append((status, now - nudge[1]))
    return Quiet(tuple(statuses), tuple(nudged_after))


def welcome_message() -> dict[str, Any]:
    """The welcome, with the quick reply buttons."""
    current = config()
    return outbox.with_quick_replies(outbox.text_message(current.welcome_message), current.quick_replies)


def fallback_message() -> dict[str, Any]:
    """The answer to what the bot does not understand, with the quick reply buttons."""
    current = config()
    return outbox.with_quick_replies(outbox.text_message(current.fallback_message), current.quick_replies)
