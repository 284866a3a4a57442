"""The loop of worker-style commands: it stops on a signal between items, and it outlives an
unreachable database, waiting longer each time it is still away."""

import os
import signal
import time

import pytest
from django.db import OperationalError

from livechat.jobs import loop as job_loop
from livechat.jobs.loop import JobLoop


def test_it_waits_longer_each_time_the_database_is_still_away_and_carries_on(monkeypatch, caplog):
    monkeypatch.setattr(job_loop, "UNREACHABLE_BACKOFF_SECONDS", (0.01, 0.04))
    outcomes: list[Exception | int] = [
        OperationalError("no"),
        OperationalError("no"),
        OperationalError("no"),
        3,
        2,
    ]
    waits: list[float] = []

    def one_pass(loop: JobLoop) -> int:
        waits.append(loop._backoff)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        if not outcomes:
            loop.stop()
        return outcome

    with caplog.at_level("WARNING", logger="livechat.jobs.loop"):
        handled = JobLoop(one_pass, interval=0.01).run()

    assert handled == 5
    assert waits == [0.01, 0.02, 0.04, 0.04, 0.01]  # doubled up to the cap, reset once it is back
    messages = [r.getMessage() for r in caplog.records]
    assert sum("database unreachable" in m for m in messages) == 3
    assert sum("database reachable again" in m for m in messages) == 1


def test_sigterm_lets_the_current_item_finish_and_stops_the_loop():
    done: list[int] = []

    def one_pass(loop: JobLoop) -> int:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while an item is being worked on
        time.sleep(0.01)
        done.append(1)
        return 0

    previous = signal.getsignal(signal.SIGTERM)
    started = time.monotonic()
    JobLoop(one_pass, interval=30).run()

    assert done == [1]
    assert time.monotonic() - started < 5  # it did not sleep out its 30 s interval
    assert signal.getsignal(signal.SIGTERM) is previous


@pytest.mark.parametrize("error", [ValueError("a bug"), KeyError("x")])
def test_a_bug_in_a_pass_is_not_mistaken_for_an_outage(error):
    def one_pass(loop: JobLoop) -> int:
        raise error

    with pytest.raises(type(error)):
        JobLoop(one_pass).run()
