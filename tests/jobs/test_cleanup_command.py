"""`manage.py cleanup`: one pass for cron by default, `--loop` until SIGTERM, `--dry-run` to see
what it would do — as a command, as its loop called directly, and as a real process."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from livechat.jobs.loop import JobLoop
from livechat.management.commands import cleanup
from livechat.models import Conversation, ConversationEvent, Message, ServiceSettings, WebhookEvent
from tests import factories

pytestmark = pytest.mark.django_db

Status = Conversation.Status
ROOT = Path(__file__).resolve().parents[2]


def quiet_for(minutes: float, status: str = Status.WAITING, name: str = "Nok") -> Conversation:
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes), tick=False):
        return factories.open_conversation(name, status)


def configure(**fields: Any) -> None:
    row, _ = ServiceSettings.objects.get_or_create(pk=1)
    for field, value in fields.items():
        setattr(row, field, value)
    row.save()


def cleanup_says(*args: str) -> str:
    out = StringIO()
    call_command("cleanup", *args, stdout=out)
    return out.getvalue()


def test_one_pass_closes_what_is_due_says_so_and_exits():
    due = quiet_for(31, name="Nok")
    talking = quiet_for(5, name="Ploy")

    said = cleanup_says()

    assert Conversation.objects.get(pk=due.pk).status == Status.CLOSED
    assert Conversation.objects.get(pk=talking.pk).status == Status.WAITING
    assert f"closed #{due.pk} Nok (waiting" in said
    assert "1 closed, 0 warned" in said
    event = ConversationEvent.objects.filter(conversation=due).latest("id")
    assert (event.kind, event.actor_kind, event.note) == ("closed", "system", "inactivity")


def test_a_pass_with_nothing_to_do_prints_nothing_for_crons_mailbox():
    quiet_for(5)

    assert cleanup_says() == ""


def test_a_dry_run_lists_what_it_would_do_and_changes_nothing():
    configure(close_warning_enabled=True, retention_days=30)
    to_close = quiet_for(40, name="Nok")
    to_warn = quiet_for(26, name="Ploy")
    old = factories.open_conversation("Mali", Status.CLOSED)
    Conversation.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=31))
    WebhookEvent.objects.create(
        webhook_event_id="01OLD", event_type="message", raw={"type": "message"}, processed_at=timezone.now()
    )
    WebhookEvent.objects.filter(webhook_event_id="01OLD").update(
        received_at=timezone.now() - timedelta(days=31)
    )
    events = ConversationEvent.objects.count()

    said = cleanup_says("--dry-run")

    assert f"would warn #{to_close.pk} Nok" in said  # warned first, closed five minutes later
    assert f"would warn #{to_warn.pk} Ploy" in said
    assert "dry run, nothing changed" in said
    assert (
        "contents of 1 conversation(s) removed (1 message(s), 0 file(s)); 1 webhook event body(ies)" in said
    )
    assert ConversationEvent.objects.count() == events
    assert set(Conversation.objects.values_list("status", flat=True)) == {Status.WAITING, Status.CLOSED}
    assert not Message.objects.filter(sender_kind=Message.SenderKind.BOT).exists()
    assert Message.objects.get(conversation=old).text == "สวัสดีค่ะ"
    assert WebhookEvent.objects.get(webhook_event_id="01OLD").raw == {"type": "message"}


@pytest.mark.django_db(transaction=True)  # the loop gives its connection back between passes
def test_the_loop_runs_the_pass_and_stops_when_told():
    due = quiet_for(31)
    command = cleanup.Command(stdout=StringIO())
    command.dry_run = False
    passes: list[int] = []

    def one_pass_then_stop(loop: JobLoop) -> int:
        handled = command.one_pass(loop)
        passes.append(handled)
        loop.stop()
        return handled

    handled = JobLoop(one_pass_then_stop, interval=0.01).run()

    assert passes == [1] and handled == 1
    assert Conversation.objects.get(pk=due.pk).status == Status.CLOSED


def test_a_stopping_loop_leaves_the_rest_for_the_next_pass():
    due = quiet_for(31)
    command = cleanup.Command(stdout=StringIO())
    command.dry_run = False
    loop = JobLoop(command.one_pass)
    loop.stop()  # SIGTERM arrived before the pass got to it

    assert loop.run_once() == 0
    assert Conversation.objects.get(pk=due.pk).status == Status.WAITING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cleanup_loop_as_a_process_closes_and_stops_cleanly_on_sigterm(require_postgres):
    due = quiet_for(31)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test",
        DATABASE_URL=database_url(),
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "cleanup", "--loop", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while Conversation.objects.get(pk=due.pk).status != Status.CLOSED:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the loop did not close the conversation"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, err
    assert f"closed #{due.pk}" in out
    assert ConversationEvent.objects.filter(conversation=due, kind="closed").count() == 1


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
