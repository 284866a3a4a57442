"""Process plumbing shared by the browser tests: ports, manage.py, waiting for daphne."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from cluster import flush_redis, free_port, wait_until_healthy  # noqa: E402

__all__ = ["ROOT", "flush_redis", "free_port", "run_manage", "wait_until_up"]

START_TIMEOUT = 60.0


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
    try:
        wait_until_healthy(url, process, START_TIMEOUT, "daphne", lambda: log.read_text()[-4000:])
    except RuntimeError as exc:
        pytest.fail(str(exc))
