"""Which git commit a scanned folder holds, and whether its work tree had changes.

Read with git's own plumbing in a subprocess (``git rev-parse``, ``git status
--porcelain``), never by parsing ``.git`` by hand. Every call has a timeout and any failure
(git not installed, not a work tree, a repository git refuses as unsafe) gives None: the
scan never fails for want of git. Hooks and the file-system monitor are switched off for
these calls, and the user's global and system configuration is not read, so reading the
commit runs nothing the scanned checkout's tooling configures beyond git itself.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict

GIT_TIMEOUT_SECONDS = 10.0
_COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")  # SHA-1 or SHA-256 object names
_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
                "-c", "core.untrackedCache=false")


class GitState(BaseModel):
    """The commit checked out where a scanned path lies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commit: str
    # Tracked files changed or untracked files present under the scanned path: the scan saw
    # content the commit does not hold.
    dirty: bool


def _git(args: list[str], cwd: Path) -> str | None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    try:
        done = subprocess.run(
            ["git", *_SAFE_CONFIG, *args], cwd=cwd, env=env, capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS, check=False, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")


def git_state(path: Path) -> GitState | None:
    """The commit and dirtiness of the work tree holding ``path`` (file or folder), or
    None when it is in none or git cannot tell."""
    folder = path if path.is_dir() else path.parent
    try:
        folder = folder.resolve()
    except OSError:
        return None
    if not folder.is_dir():
        return None
    inside = _git(["rev-parse", "--is-inside-work-tree"], folder)
    if inside is None or inside.strip() != "true":
        return None
    head = _git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], folder)
    if head is None or not _COMMIT.match(head.strip()):
        return None  # a repository without commits yet
    target = "." if path.is_dir() else path.name
    status = _git(["status", "--porcelain=v1", "-z", "--untracked-files=normal",
                   "--ignore-submodules=all", "--", target], folder)
    if status is None:
        return None
    return GitState(commit=head.strip(), dirty=bool(status.strip("\0")))
