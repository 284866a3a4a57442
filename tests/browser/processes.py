"""Process plumbing shared by the browser tests: ports, manage.py, waiting for daphne."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run `manage.py <args>` with the server's environment; returns its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until daphne answers /healthz; fails the test with its log if it dies or never does."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"daphne did not answer /healthz within {START_TIMEOUT:.0f} s:\n{log.read_text()[-4000:]}")
