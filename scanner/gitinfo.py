"""Which git commit a scanned folder holds, and whether its work tree had changes.

Read with git's own plumbing through ``scanner.repo.Git`` (hooks, the file-system monitor
and the system configuration switched off, a timeout on every call), never by parsing
``.git`` by hand. Any failure (git not installed, not a work tree, a repository git refuses
as unsafe) gives None: the scan never fails for want of git. Work-tree files are compared
with the index by hashing them here, not with ``git status``: git re-reads a racily clean
file through the repository's clean filter, a command the scanned checkout chooses.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from scanner.repo import Git, GitError, RepoRoot, git_top

GIT_TIMEOUT_SECONDS = 10.0
_COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")  # SHA-1 or SHA-256 object names


class GitState(BaseModel):
    """The commit checked out where a scanned path lies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commit: str
    # Tracked files changed or untracked files present under the scanned path: the scan saw
    # content the commit does not hold.
    dirty: bool


def git_state(path: Path) -> GitState | None:
    """The commit and dirtiness of the work tree holding ``path`` (file or folder), or
    None when it is in none or git cannot tell."""
    try:
        real = Path(os.path.realpath(path))
        folder = real if real.is_dir() else real.parent
        top = git_top(folder)
        if top is None or not folder.is_dir():
            return None
        git = Git(RepoRoot(folder, "given", top), timeout=GIT_TIMEOUT_SECONDS)
        head = git.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}").decode().strip()
    except (GitError, OSError):
        return None  # not a work tree, no commit yet, or git cannot be run
    if not _COMMIT.match(head):
        return None
    only = None if real.is_dir() else real.name
    try:
        return GitState(commit=head, dirty=_dirty(git, only))
    except (GitError, OSError):
        return None


def _dirty(git: Git, only: str | None) -> bool:
    """Staged changes, untracked files, or tracked files whose bytes differ from the index
    (changed, deleted or replaced), under the root (or only the file ``only``)."""

    def mine(path: str | None) -> bool:
        return path is not None and (only is None or path == only)

    staged = git.run("diff-index", "--cached", "--name-only", "-z", "HEAD", "--")
    if any(mine(git.to_root(raw)) for raw in staged.split(b"\x00") if raw):
        return True
    untracked = git.run("ls-files", "--others", "--exclude-standard", "-z", "--")
    if any(mine(git.to_root(raw)) for raw in untracked.split(b"\x00") if raw):
        return True
    index = git.index()
    if any(mine(path) and not (git.top / entry.top_path).is_file()
           for path, entry in index.items()):
        return True
    return any(mine(path) for path in git.modified_in_worktree())
