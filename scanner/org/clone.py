"""A shallow clone of one repository, made or brought up to date under a time budget.

git runs the way ``scanner.repo.Git`` runs it (hooks off, no system config, no prompt), plus:
only the https, http, ssh, git and file transports (``ext::`` would run a command), no
submodules, and each git process in its own process group, killed with everything it
started (ssh, a credential helper) when the budget runs out. Unlike ``Git.env`` the
environment keeps ``GIT_CONFIG_COUNT``/``GIT_ASKPASS``: that is how CI hands git a token
for private repositories, which must never be written into a URL.

The clone goes to a temporary folder renamed into place, so a worker killed mid-clone leaves
nothing a later attempt would mistake for a checkout.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from scanner.model import printable
from scanner.org.sources import clean_text

# Variables that would point git somewhere else than the clone asked for.
_DROPPED_ENV = frozenset({
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES",
    "GIT_EXEC_PATH", "GIT_EXTERNAL_DIFF", "GIT_PAGER", "PAGER",
})
_TRANSPORTS = ("https", "http", "ssh", "git", "file")


class CloneError(Exception):
    """The repository could not be fetched; the message is one line, credential-free."""


def _argv(git: str, *args: str) -> list[str]:
    allow = [f"protocol.{t}.allow=always" for t in _TRANSPORTS]
    options = ["protocol.allow=never", *allow, "core.hooksPath=/dev/null",
               "core.fsmonitor=false", "submodule.recurse=false", "advice.detachedHead=false"]
    return [git, "--no-pager", *[x for o in options for x in ("-c", o)], *args]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", LC_ALL="C",
               GIT_SSH_COMMAND=env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"))
    return env


def _run(git: str, args: list[str], cwd: Path, deadline: float) -> str:
    """Run git; stop it and its children when ``deadline`` (monotonic) passes."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise CloneError("time budget exceeded before git could start")
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        _argv(git, *args), cwd=cwd, env=_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=left)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise CloneError(f"git {args[0]} did not finish within the time budget "
                         "(stopped)") from None
    except BaseException:
        _kill_group(process)
        raise
    if process.returncode != 0:
        raise CloneError(_message(args[0], err))
    return out.decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.communicate()


def _message(command: str, stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines()]
    useful = [ln for ln in lines if ln and not ln.lower().startswith(("hint:", "warning:"))]
    first = next((ln for ln in useful if ln.startswith("fatal:")), useful[0] if useful else "")
    detail = printable(clean_text(first.removeprefix("fatal: ")), path=False)[:300]
    return f"git {command} failed: {detail or 'no message'}"


def fetch(url: str, dest: Path, deadline: float) -> str:
    """Make ``dest`` a shallow checkout of the default branch of ``url``; return its commit.
    An existing clone is updated in place (fetch, then a forced checkout and clean)."""
    git = shutil.which("git")
    if git is None:
        raise CloneError("git is not installed")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if (dest / ".git").is_dir():
        try:
            _run(git, ["fetch", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules",
                       "--", url, "HEAD"], dest, deadline)
            _run(git, ["checkout", "--quiet", "--force", "--detach", "FETCH_HEAD"], dest,
                 deadline)
            _run(git, ["clean", "-q", "-ffdx"], dest, deadline)
            return _head(git, dest, deadline)
        except CloneError as exc:
            if "budget" in str(exc):
                raise
            shutil.rmtree(dest, ignore_errors=True)  # a broken clone: start again
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        _run(git, ["clone", "--quiet", "--depth=1", "--no-tags", "--single-branch",
                   "--no-recurse-submodules", "--", url, str(partial)], dest.parent, deadline)
        shutil.rmtree(dest, ignore_errors=True)
        partial.rename(dest)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return _head(git, dest, deadline)


def _head(git: str, dest: Path, deadline: float) -> str:
    head = _run(git, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], dest,
                deadline).strip()
    if not head:
        raise CloneError("the repository has no commit")
    return head

