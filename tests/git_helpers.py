"""Temporary git repositories for tests: built with the real git, isolated from the user's
and the system's git configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.org",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.org",
    "GIT_AUTHOR_DATE": "2025-03-04T05:06:07+00:00",
    "GIT_COMMITTER_DATE": "2025-03-04T05:06:07+00:00",
}


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, input=input,
        capture_output=True, check=True,
    )
    return completed.stdout.decode("utf-8", "replace").strip()


def init(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    return repo


def write(repo: Path, rel: str, text: str) -> Path:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def commit(repo: Path, message: str, *paths: str) -> str:
    git(repo, "add", "-A", *paths)
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")
