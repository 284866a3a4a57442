"""Servers of a test's own, which it may stop, kill and start again: a PostgreSQL cluster."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DisposablePostgres:
    """A PostgreSQL cluster in a temporary directory, on a free port (trust auth, no fsync)."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries:
            pytest.skip("needs PostgreSQL's server binaries (Debian's postgresql package)")
        self.bin = Path(binaries[-1]).parent
        # Its own directory under /tmp: the user PostgreSQL runs as must be able to reach it
        # (pytest's tmp_path sits in a directory only its owner may enter).
        home = Path(tempfile.mkdtemp(prefix="livechat-pg-"))
        self.home = home
        self.data = home / "pgdata"
        self.log = home / "postgres.log"
        self.port = free_port()
        self.data.mkdir()
        # PostgreSQL will not run as root: as root (CI, the dev VM), run it as `postgres`.
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (home, self.data):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            self.as_user = [shutil.which("runuser") or "runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=60
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        """A fast shutdown, as a restart or a failover looks to clients: connections are cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.home, ignore_errors=True)
