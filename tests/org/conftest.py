"""Organisation scans over generated repositories: bare repositories made with the real git,
cloned through file:// (no network), and `qgov org scan` run as a user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import AWS_KEY_ID, AWS_SECRET
from tests.git_helpers import GIT_ENV, commit, git, init, write
from tests.helpers import REPO

VENV_BIN = Path(sys.executable).parent


def make_repo(base: Path, name: str, *, leaky: bool = False) -> Path:
    """A bare repository ``base/name.git`` with one commit (a leaked AWS key if ``leaky``)."""
    work = init(base / "work" / name)
    write(work, "app.py", "def add(a: int, b: int) -> int:\n    return a + b\n")
    if leaky:
        write(work, "config.py", f'AWS_ACCESS_KEY_ID = "{AWS_KEY_ID}"\n'
                                 f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n')
    commit(work, "first")
    bare = base / f"{name}.git"
    git(base, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def push_change(base: Path, name: str) -> str:
    work = base / "work" / name
    write(work, "more.py", "VALUE = 1\n")
    sha = commit(work, "second")
    git(work, "push", "-q", str(base / f"{name}.git"), "HEAD:main")
    return sha


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO),
            **extra}


def qgov(*args: str, cwd: Path, timeout: float = 300, **extra: str
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args], cwd=cwd, env=env(**extra),
        capture_output=True, text=True, timeout=timeout, check=False,
    )
