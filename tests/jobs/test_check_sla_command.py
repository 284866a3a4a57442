"""`manage.py check_sla`: one pass for cron, `--dry-run` that records nothing, and the loop — run
by call_command and called directly, with the clock frozen where the SLA is measured."""

import io
import os
import signal
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from livechat.jobs.loop import JobLoop
from livechat.management.commands import check_sla
from livechat.models import Conversation, SlaAlert, SlaPolicy
from livechat.policies import service
from tests.factories import open_conversation

BANGKOK = ZoneInfo("Asia/Bangkok")
HANDOFF = datetime(2026, 12, 2, 10, 0, tzinfo=BANGKOK)  # a Wednesday morning


def first_response_within(seconds: int) -> None:
    row = SlaPolicy.objects.get(pk=service.sla_policy().pk)
    row.first_response_seconds = seconds
    row.next_response_seconds = None
    row.resolution_seconds = None
    row.business_hours_only = False
    row.save()


def handed_off_at(when: datetime, name: str = "คุณนก") -> Conversation:
    conversation = open_conversation(name)
    Conversation.objects.filter(pk=conversation.pk).update(handoff_requested_at=when)
    return conversation


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("check_sla", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_one_pass_records_what_is_due_and_the_next_run_records_nothing_more():
    first_response_within(600)
    conversation = handed_off_at(HANDOFF)

    with time_machine.travel(HANDOFF + timedelta(minutes=8), tick=False):
        assert "1 alert(s) recorded" in run()
        assert "0 alert(s) recorded" in run()
    with time_machine.travel(HANDOFF + timedelta(minutes=10), tick=False):
        assert "1 alert(s) recorded" in run()

    assert list(
        SlaAlert.objects.filter(conversation=conversation).order_by("id").values_list("level", flat=True)
    ) == [
        "warning",
        "breach",
    ]


@pytest.mark.django_db
def test_a_dry_run_lists_what_it_would_record_and_records_nothing():
    first_response_within(600)
    conversation = handed_off_at(HANDOFF)

    with time_machine.travel(HANDOFF + timedelta(minutes=11), tick=False):
        output = run("--dry-run")
        assert f"#{conversation.pk} first_response breach: 660 s of 600 s" in output
        assert "1 alert(s) would be recorded (dry run)" in output
        assert not SlaAlert.objects.exists()
        assert "1 alert(s) recorded" in run()  # what the dry run listed is what a real run records


@pytest.mark.django_db(transaction=True)  # the loop gives its connection back between passes
def test_the_loop_records_then_waits_for_more_until_stopped():
    first_response_within(600)
    handed_off_at(HANDOFF, "คุณนก")
    handed_off_at(HANDOFF + timedelta(minutes=2), "คุณแดง")
    passes: list[int] = []

    def one_pass_then_stop_after_two(loop: JobLoop) -> int:
        passes.append(check_sla.one_pass(loop))
        if len(passes) == 2:
            loop.stop()
        return passes[-1]

    with time_machine.travel(HANDOFF + timedelta(minutes=11), tick=False):
        total = JobLoop(one_pass_then_stop_after_two, interval=0.01).run()

    assert passes == [2, 0]  # a breach and a warning; then nothing new
    assert total == 2
    assert sorted(SlaAlert.objects.values_list("level", flat=True)) == ["breach", "warning"]


@pytest.mark.django_db
def test_a_stopping_loop_leaves_the_rest_for_the_next_pass():
    first_response_within(600)
    for name in ("คุณนก", "คุณแดง", "คุณขาว"):
        handed_off_at(HANDOFF, name)
    loop = JobLoop(check_sla.one_pass)
    loop.stopping = True  # SIGTERM arrived before the pass began

    with time_machine.travel(HANDOFF + timedelta(minutes=11), tick=False):
        assert loop.run_once() == 0
        assert not SlaAlert.objects.exists()
        loop.stopping = False
        assert loop.run_once() == 3


@pytest.mark.django_db(transaction=True)
def test_check_sla_loop_runs_until_sigterm():
    first_response_within(60)
    handed_off_at(HANDOFF)
    stopped = threading.Event()

    def stop_once_recorded() -> None:
        # Waits for the loop's work to show in the database, then stops it like systemd would.
        deadline = time.monotonic() + 20
        try:
            while not SlaAlert.objects.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            connection.close()
            os.kill(os.getpid(), signal.SIGTERM)
            stopped.set()

    previous = signal.getsignal(signal.SIGTERM)
    threading.Thread(target=stop_once_recorded, daemon=True).start()
    with time_machine.travel(HANDOFF + timedelta(minutes=2), tick=False):
        run("--loop", "--interval", "0.05")

    assert stopped.is_set()
    assert SlaAlert.objects.get().level == "breach"
    assert signal.getsignal(signal.SIGTERM) is previous
