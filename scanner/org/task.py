"""What a Dask worker runs for one repository: fetch, decide, scan, hand the JSON back.

The task argument (``RepoTask``) holds no credential: the URL was stripped of userinfo when
SOURCES was read, and git on the worker authenticates through its credential helper or
environment. The JSON report comes back as the task's result, so the workers need no shared
file system with the machine that writes DIR; only the clone folder is the worker's.

Expected failures (clone error, time budget, unusable config) are returned as a failed
outcome with a one-line reason rather than raised, so Dask's retries are spent only on
the unexpected (and a worker that dies is replaced by the scheduler re-running the task).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scanner.model import printable
from scanner.org.clone import CloneError, fetch
from scanner.org.sources import clean_text

Status = Literal["scanned", "unchanged", "failed"]

# Test-only hook (tests/org): a folder; when it holds NAME.hold, the first attempt at NAME
# writes NAME.pid (this worker's process id) and waits, so a test can kill the worker
# mid-task. Later attempts see NAME.pid and do not wait. Not for production use.
TEST_HOLD_ENV = "QGOV_ORG_TEST_HOLD"
DAEMON_HINT = (
    "this Dask worker is a daemonic process, which cannot start qgov's scan processes: "
    "start the workers with DASK_DISTRIBUTED__WORKER__DAEMON=False"
)


@dataclass(frozen=True)
class RepoTask:
    name: str
    url: str  # credential-free
    clone_dir: str  # on the worker
    scan_options: tuple[str, ...]  # `qgov scan` options (the team's config, --no-engines…)
    budget_seconds: float
    previous: tuple[str, str] | None = None  # (commit, config digest) of the last result


@dataclass(frozen=True)
class RepoOutcome:
    name: str
    status: Status
    commit: str | None = None
    config_digest: str | None = None
    reason: str | None = None
    seconds: float = 0.0
    document: str | None = None  # the scan JSON (status "scanned")
    findings: int | None = None
    worker: str | None = None


def scan_repository(task: RepoTask) -> RepoOutcome:
    """Fetch ``task``'s repository and scan it unless commit and config are unchanged."""
    started = time.monotonic()
    deadline = started + task.budget_seconds

    def outcome(status: Status, **fields: object) -> RepoOutcome:
        return RepoOutcome(task.name, status, seconds=round(time.monotonic() - started, 3),
                           worker=_worker_address(), **fields)  # type: ignore[arg-type]

    _announce(task.name)
    if multiprocessing.current_process().daemon:
        return outcome("failed", reason=DAEMON_HINT)
    try:
        commit = fetch(task.url, Path(task.clone_dir), deadline)
    except CloneError as exc:
        return outcome("failed", reason=str(exc))
    except OSError as exc:
        return outcome("failed", reason=f"cannot use the clone folder ({exc.strerror})")
    _test_hold(task.name)
    return _scan(task, commit, outcome)


def _scan(task: RepoTask, commit: str, outcome: Callable[..., RepoOutcome]) -> RepoOutcome:
    # Imported here: a worker pays for the scanner once, on its first task.
    from scanner.catalog_digest import catalog_info
    from scanner.cli import build_parser
    from scanner.cli.scan_cmds import prepare, scan_report
    from scanner.reports import OutputFormat, render
    from scanner.scan_info import config_digest

    try:
        args = build_parser().parse_args(["scan", task.clone_dir, *task.scan_options])
    except SystemExit:
        return outcome("failed", commit=commit, reason="the scan options are not valid")
    prepared = prepare(args)
    if isinstance(prepared, str):
        return outcome("failed", commit=commit, reason=_one_line(prepared))
    digest = config_digest(prepared.settings, catalog_info(
        prepared.catalog, custom=bool(prepared.settings.custom_catalog)))
    if task.previous == (commit, digest):
        return outcome("unchanged", commit=commit, config_digest=digest)
    built = scan_report(args, prepared)
    if isinstance(built, str):
        return outcome("failed", commit=commit, config_digest=digest, reason=_one_line(built))
    report, run = built
    return outcome("scanned", commit=commit, config_digest=digest,
                   document=render(report, OutputFormat.JSON),
                   findings=len(run.result.findings))


def _one_line(message: str) -> str:
    return printable(clean_text(message.splitlines()[0] if message else ""), path=False)[:300]


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None


START_TOPIC = "qgov-org-start"


def _announce(name: str) -> None:
    """Tell the client this task started running (its time-budget watchdog clock)."""
    try:
        from distributed import get_worker

        get_worker().log_event(START_TOPIC, {"name": name})
    except (ImportError, ValueError):
        pass  # not on a Dask worker


def _test_hold(name: str) -> None:
    folder = os.environ.get(TEST_HOLD_ENV)
    if not folder or not (Path(folder) / f"{name}.hold").exists():
        return
    mark = Path(folder) / f"{name}.pid"
    if mark.exists():
        return
    mark.write_text(str(os.getpid()), encoding="ascii")
    time.sleep(120)
