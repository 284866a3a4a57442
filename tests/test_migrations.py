"""The schema a configuration gets from `manage.py migrate`, and the way up from the last release.

Each test runs manage.py in a subprocess with its own environment and its own SQLite file, so the
settings are read afresh (INSTALLED_APPS and the URLs depend on LINE_SIMULATOR) and the test
database is never touched.
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIMULATOR_TABLES = {
    "simulatorcall",
    "simulatorcontent",
    "simulatorfault",
    "simulatorprofile",
    "simulatorusedkey",
}
MARK = "RESULT:"


def clean_env(database: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without anything that configures the app, plus `settings`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LINE_", "DJANGO_")) and name not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{database}", **settings)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def rows(database: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(database)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


PRODUCTION_PROBE = f"""
import json
from django.apps import apps
from django.contrib import admin
from django.test import Client

client = Client(raise_request_exception=False)  # a crash is a 500 in the result, not a traceback
print({MARK!r} + json.dumps({{
    "installed": apps.is_installed("livechat.simulator"),
    "models": sorted(m._meta.label for m in apps.get_models() if "simulator" in m._meta.label_lower),
    "admin": sorted(m._meta.label for m in admin.site._registry if "simulator" in m._meta.label_lower),
    "status": {{
        path: client.get(path).status_code
        for path in ("/healthz", "/simulator/", "/simulator/line-api/v2/bot/message/quota")
    }},
}}))
"""


def test_it_gives_a_production_configuration_no_trace_of_the_simulator(tmp_path):
    """With real LINE credentials and DEBUG off, the dev-only simulator has no table, model, admin
    page or URL: nothing a production database or a visitor could reach."""
    database = tmp_path / "production.sqlite3"
    env = clean_env(
        database,
        DEBUG="0",
        HTTPS_ONLY="0",
        SECRET_KEY="x",
        ALLOWED_HOSTS="testserver,localhost",
        LINE_CHANNEL_SECRET="production-channel-secret",
        LINE_CHANNEL_ACCESS_TOKEN="production-access-token",
    )

    manage(env, "migrate", "--noinput")
    probe = manage(env, "shell", "--no-imports", "-c", PRODUCTION_PROBE)

    assert "livechat_message" in tables(database)
    assert [name for name in tables(database) if "simulator" in name] == []
    result = json.loads(probe.stdout.split(MARK, 1)[1])
    assert result["installed"] is False
    assert result["models"] == []
    assert result["admin"] == []
    assert result["status"] == {
        "/healthz": 200,  # the app itself answers: the 404s below are the simulator's absence
        "/simulator/": 404,
        "/simulator/line-api/v2/bot/message/quota": 404,
    }


def test_it_moves_a_database_at_the_previous_schema_forward_losing_only_the_simulators_tables(tmp_path):
    """Upgrading keeps every conversation; only the simulator's dev-only record (its old
    livechat_simulator* tables) goes, and its own app starts with empty simulator_* tables."""
    database = tmp_path / "previous.sqlite3"
    env = clean_env(database, DEBUG="1", LINE_SIMULATOR="1", SECRET_KEY="x")
    manage(env, "migrate", "--noinput", "livechat", "0004")
    assert {f"livechat_{name}" for name in SIMULATOR_TABLES} <= tables(database)
    at = "2026-11-20 08:00:00"
    db = sqlite3.connect(database)
    with db:
        db.execute(
            "INSERT INTO livechat_contact (id, line_user_id, display_name, picture_url, status_message,"
            " language, is_following, created_at) VALUES (7, ?, 'Malee', '', '', 'th', 1, ?)",
            ("U" + "7" * 32, at),
        )
        db.execute(
            "INSERT INTO livechat_conversation (id, status, created_at, last_message_at, close_reason,"
            " last_seq, contact_id) VALUES (11, 'bot', ?, ?, '', 1, 7)",
            (at, at),
        )
        db.execute(
            "INSERT INTO livechat_message (id, seq, uuid, direction, sender_kind, type, text, payload,"
            " media, media_status, status, error, attempts, reply_token, mark_as_read_token, is_unsent,"
            " created_at, conversation_id) VALUES (23, 1, ?, 'in', 'customer', 'text', 'สวัสดีค่ะ', '{}',"
            " '', '', 'received', '', 0, '', '', 0, ?, 11)",
            ("0" * 31 + "1", at),
        )
        db.execute(
            "INSERT INTO livechat_simulatorcall (endpoint, method, path, headers, user_id,"
            " response_status, created_at) VALUES ('push', 'POST', '/v2/bot/message/push', '{}', ?, 200, ?)",
            ("U" + "7" * 32, at),
        )
    db.close()

    manage(env, "migrate", "--noinput")

    after = tables(database)
    assert rows(database, "SELECT id, line_user_id, display_name FROM livechat_contact") == [
        (7, "U" + "7" * 32, "Malee")
    ]
    assert rows(database, "SELECT id, status, last_seq, contact_id FROM livechat_conversation") == [
        (11, "bot", 1, 7)
    ]
    assert rows(database, "SELECT id, seq, uuid, text, conversation_id FROM livechat_message") == [
        (23, 1, "0" * 31 + "1", "สวัสดีค่ะ", 11)
    ]
    assert {name for name in after if name.startswith("livechat_simulator")} == set()
    assert {f"simulator_{name}" for name in SIMULATOR_TABLES} <= after
    for name in SIMULATOR_TABLES:
        assert rows(database, f"SELECT count(*) FROM simulator_{name}") == [(0,)]


def test_it_has_a_migration_for_every_model_change(tmp_path):
    """A model changed without its migration fails here (and in CI), not on someone's deploy."""
    env = clean_env(tmp_path / "check.sqlite3", DEBUG="1", LINE_SIMULATOR="1", SECRET_KEY="x")

    result = manage(env, "makemigrations", "--check", "--dry-run")

    assert "No changes detected" in result.stdout
