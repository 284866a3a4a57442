"""The bot's keywords and texts: an edit made in one process reaches every other within a second,
without a Redis read on every event."""

from typing import Any

import pytest
from django.core.cache import cache

from livechat.conversations import bot
from livechat.models import HandoffKeyword
from livechat.policies import shared

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(shared, "clock", lambda: now[0])
    return now


def edited_by_another_process(keyword: str) -> None:
    """What an edit in another daphne leaves here: the row changed (no signal in this process)
    and the shared version moved."""
    HandoffKeyword.objects.filter(keyword="agent").update(keyword=keyword)
    cache.set(bot.VERSION_KEY, "edited-elsewhere", timeout=None)


def test_an_edit_in_another_process_is_seen_within_a_second(clock: list[float]) -> None:
    assert bot.asks_for_human("agent")

    edited_by_another_process("operator please")
    clock[0] += shared.RECHECK_SECONDS / 2
    assert bot.asks_for_human("agent")  # this process has not looked yet
    clock[0] += shared.RECHECK_SECONDS / 2

    assert not bot.asks_for_human("agent")
    assert bot.asks_for_human("operator please")


def test_without_an_edit_the_texts_are_not_loaded_again(
    clock: list[float], django_assert_num_queries: Any
) -> None:
    bot.config()
    clock[0] += shared.RECHECK_SECONDS * 5

    with django_assert_num_queries(0):
        for _ in range(100):
            bot.config()
            clock[0] += 0.1


def test_an_edit_in_this_process_is_seen_at_once(clock: list[float]) -> None:
    assert bot.asks_for_human("agent")

    HandoffKeyword.objects.get(keyword="agent").delete()  # as admin does: post_delete → forget_config
    HandoffKeyword.objects.create(keyword="human please")

    assert bot.asks_for_human("human please")
    assert not bot.asks_for_human("agent")
