"""Browser tests: a real daphne server and Debian's chromium driven by Playwright.

Fixtures, for any browser test:

- `live_daphne` (session): the app served production-like — DEBUG=0, static files collected,
  daphne alone — on a free port, with its own SQLite file database (migrated), the LINE
  simulator on and the app's Messaging API calls pointed at that same server. Has `.url`,
  `.env` (the server's environment), `.log` (its output) and `.manage(*args)` to run a
  management command against the same database. Extra or different environment variables:
  override the session fixture `live_daphne_env` (a dict; `None` removes a variable).
- `browser` (package): chromium. `page` (per test): a page in a fresh context (its own cookies
  and storage); `new_page()` opens one more such page (a second operator, another customer).
  `page_errors` collects what those pages logged as errors and their uncaught exceptions.
  `artifacts` is the test-artifacts/ folder for screenshots.

Never a downloaded browser: /usr/bin/chromium (`apt-get install chromium`) or the test skips.
"""

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.processes import ROOT, free_port, run_manage, wait_until_up

# Live updates cross processes (webhook → database → channel layer → socket); on a cold or busy
# CI machine that can take longer than Playwright's 5 s default for assertions. Same patience
# as the pages' own default timeout; the assertions themselves are unchanged.
EXPECT_TIMEOUT_MS = 15_000

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
BIN = Path(sys.executable).parent


@dataclass
class LiveDaphne:
    url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def manage(self, *args: str) -> str:
        """Run `manage.py <args>` against the server's database; returns its output."""
        return run_manage(self.env, *args, timeout=120)


@pytest.fixture(scope="session")
def live_daphne_env() -> dict[str, str | None]:
    """Override to change the server's environment (e.g. a PostgreSQL DATABASE_URL, REDIS_URL)."""
    return {}


@pytest.fixture(scope="session")
def live_daphne(
    tmp_path_factory: pytest.TempPathFactory, live_daphne_env: dict[str, str | None]
) -> Iterator[LiveDaphne]:
    home = tmp_path_factory.mktemp("daphne")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LINE_", "DJANGO_"))}
    env.pop("REDIS_URL", None)  # one process: the in-memory channel layer is enough
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.browser.server_settings",
            "DATABASE_URL": f"sqlite:///{home / f'live-{uuid.uuid4().hex[:8]}.sqlite3'}",
            "DEBUG": "0",
            "HTTPS_ONLY": "0",
            "SECRET_KEY": "x",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LINE_SIMULATOR": "1",
            "LINE_API_BASE_URL": f"{url}/simulator/line-api",
            "STATIC_ROOT": str(home / "static"),
            "MEDIA_ROOT": str(home / "media"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name, value in live_daphne_env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    server = LiveDaphne(url=url, env=env, log=home / "daphne.log")
    server.manage("migrate", "--noinput", "-v0")
    server.manage("collectstatic", "--noinput", "-v0")
    with server.log.open("wb") as log:
        server.process = subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(server.url, server.process, server.log)
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


# Package scope, not session: Playwright's sync API keeps an event loop running in the main thread
# while it is open, which would break every async test that runs after the browser tests.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def new_page(browser: Any, page_errors: list[str]) -> Iterator[Callable[[], Any]]:
    """Opens one more page in its own context (another person: own cookies, own storage)."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = context.new_page()

        def record_error(message: Any) -> None:
            if message.type == "error":
                page_errors.append(message.text)

        tab.on("console", record_error)
        tab.on("pageerror", lambda error: page_errors.append(f"uncaught: {error}"))
        return tab

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    return new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
