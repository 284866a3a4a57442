"""Production settings behind an HTTPS proxy: one switch, HTTPS_ONLY, on whenever DEBUG is off.

Run as production runs (config.settings, DEBUG=0, a real secret key and hosts), in a subprocess
with its own SQLite file, so the suite's own settings cannot leak in.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LINE_", "DJANGO_", "HTTPS_", "HSTS_"))
        and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="chat.example.com",
        LINE_CHANNEL_SECRET="a-real-channel-secret",
        LINE_CHANNEL_ACCESS_TOKEN="a-real-access-token",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **extra,
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_documented_production_configuration_passes_check_deploy(tmp_path):
    done = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


PROBE = """
import json
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="chat.example.com")
plain = client.get("/console/")
proxied = client.get("/console/", HTTP_X_FORWARDED_PROTO="https")
secure_health = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
health = client.get("/healthz")
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "proxied": [proxied.status_code, proxied.get("Location", "")],
    "hsts": secure_health.get("Strict-Transport-Security", ""),
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "health": health.status_code,
}))
"""


@pytest.mark.parametrize("https_only", ["", "0"])
def test_https_only_redirects_sets_hsts_and_secure_cookies_and_can_be_switched_off(tmp_path, https_only):
    extra = {"HTTPS_ONLY": https_only} if https_only else {}
    env = production_env(tmp_path, **extra)
    assert manage(env, "migrate", "--noinput", "-v0").returncode == 0
    done = manage(env, "shell", "--no-imports", "-c", PROBE)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["health"] == 200  # the load balancer's probe is never redirected
    if https_only == "0":  # a plain-HTTP test rig
        assert seen["plain"][0] == 302 and seen["plain"][1].startswith("/accounts/login/")
        assert seen["hsts"] == ""
        return
    assert seen["plain"] == [301, "https://chat.example.com/console/"]
    assert seen["proxied"][0] == 302 and seen["proxied"][1].startswith("/accounts/login/")
    assert seen["hsts"].startswith("max-age=31536000") and "includeSubDomains" in seen["hsts"]
    assert seen["secure_cookies"] == [True, True]
