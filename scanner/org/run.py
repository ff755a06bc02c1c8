"""Driving an organisation scan on Dask: one task per repository, results written as they come.

The default cluster is a ``distributed.LocalCluster`` of N single-threaded worker processes
on this machine; ``--scheduler`` sends the same tasks to an existing cluster. Dask gives the
rest: a task whose worker dies is re-run on another (up to the scheduler's
``allowed-failures``), and an unexpected exception is retried once.

A per-repository time budget holds git to it on the worker (``clone``); the scan itself
cannot be interrupted from inside, so a watchdog here marks a task that overruns its budget
(plus a grace period) as failed, cancels it and restarts its worker process, and the run
goes on. Each scan JSON is written atomically as soon as it arrives, and the run summary
``org-scan.json`` after every repository, so an interrupted run loses nothing finished.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.fs import FileRefused, read_user_file
from scanner.model import printable
from scanner.org.sources import Source, clean_text
from scanner.org.task import START_TOPIC, RepoOutcome, RepoTask, scan_repository

SUMMARY_NAME = "org-scan.json"
SUMMARY_FORMAT = "1.0"
CONNECT_TIMEOUT = 10.0
WATCHDOG_GRACE = 30.0
_MAX_PREVIOUS_BYTES = 256 * 1024 * 1024


class OrgRunError(Exception):
    """The run could not start (no cluster); the message is one line."""


@dataclass
class RepoRecord:
    """One repository's line in ``org-scan.json``."""

    name: str
    source: str
    status: str  # scanned | unchanged | failed
    commit: str | None = None
    reason: str | None = None
    seconds: float | None = None
    findings: int | None = None
    result: str | None = None  # the scan JSON's file name

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class OrgRun:
    sources: Sequence[Source]
    out: Path
    clones: Path
    scan_options: tuple[str, ...]
    budget_seconds: float
    workers: int
    scheduler: str | None = None
    rescan: bool = False
    on_record: Callable[[RepoRecord, int, int, int], None] | None = None
    records: dict[str, RepoRecord] = field(default_factory=dict)


def previous_result(path: Path) -> tuple[str, str] | None:
    """(commit, config digest) of the scan JSON at ``path``, if it is a clean checkout's."""
    try:
        document = json.loads(read_user_file(path, max_bytes=_MAX_PREVIOUS_BYTES,
                                             what="scan JSON"))
        scan = document["scan"]
        target = scan["targets"][0]["git"]
        commit, digest, dirty = target["commit"], scan["config_digest"], target["dirty"]
    except (FileRefused, ValueError, KeyError, IndexError, TypeError):
        return None
    if dirty or not isinstance(commit, str) or not isinstance(digest, str):
        return None
    return commit, digest


def write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _summary(run: OrgRun, started: str, finished: str | None) -> str:
    records = [run.records[s.name] for s in run.sources if s.name in run.records]
    counts = {status: sum(1 for r in records if r.status == status)
              for status in ("scanned", "unchanged", "failed")}
    document = {
        "format_version": SUMMARY_FORMAT,
        "started_at": started,
        "finished_at": finished,
        "scheduler": "local" if run.scheduler is None else "remote",
        "workers": run.workers if run.scheduler is None else None,
        "repositories": len(run.sources),
        "counts": {**counts, "remaining": len(run.sources) - len(records)},
        "results": [r.to_json() for r in records],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _client(run: OrgRun) -> tuple[Any, Any]:
    """A connected Dask client and the cluster it started (None for --scheduler)."""
    import dask
    from distributed import Client, LocalCluster

    # qgov's scan supervises its own detector processes, which daemonic workers may not start.
    dask.config.set({"distributed.worker.daemon": False,
                     "distributed.comm.timeouts.connect": f"{CONNECT_TIMEOUT:g}s"})
    if run.scheduler is not None:
        try:
            return Client(run.scheduler, timeout=CONNECT_TIMEOUT), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise OrgRunError(f"cannot reach the Dask scheduler at {run.scheduler} "
                              f"({_short(exc)})") from None
    import logging

    cluster = LocalCluster(n_workers=run.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.CRITICAL)
    return Client(cluster), cluster


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return printable(clean_text(text), path=False)[:200]


def execute(run: OrgRun, now: Callable[[], str]) -> dict[str, RepoRecord]:
    """Run every source; returns the records by name (also written to DIR)."""
    started = now()
    summary_path = run.out / SUMMARY_NAME
    total = len(run.sources)

    def record(rec: RepoRecord) -> None:
        run.records[rec.name] = rec
        write_atomically(summary_path, _summary(run, started, None))
        if run.on_record is not None:
            done = sum(1 for r in run.records.values() if r.status != "failed")
            failed = len(run.records) - done
            run.on_record(rec, done, failed, total - len(run.records))

    tasks = []
    for source in run.sources:
        if source.problem:
            record(RepoRecord(source.name, source.shown, "failed", reason=source.problem))
            continue
        result_path = run.out / f"{source.name}.json"
        previous = None if run.rescan else previous_result(result_path)
        tasks.append((source, RepoTask(
            name=source.name, url=source.url, clone_dir=str(run.clones / source.name),
            scan_options=run.scan_options, budget_seconds=run.budget_seconds,
            previous=previous,
        )))
    if tasks:
        _on_dask(run, tasks, record)
    write_atomically(summary_path, _summary(run, started, now()))
    return run.records


def _on_dask(run: OrgRun, tasks: list[tuple[Source, RepoTask]],
             record: Callable[[RepoRecord], None]) -> None:
    from distributed import wait

    client, cluster = _client(run)
    try:
        futures: dict[Any, Source] = {}
        for source, task in tasks:
            future = client.submit(scan_repository, task, key=f"qgov-org-{source.name}",
                                   retries=1, pure=False)
            futures[future] = source
        started: dict[str, float] = {}  # name -> when its (latest) attempt started

        def on_start(event: Any) -> None:
            _when, message = event
            if isinstance(message, dict) and isinstance(message.get("name"), str):
                started[message["name"]] = time.monotonic()

        client.subscribe_topic(START_TOPIC, on_start)
        pending = set(futures)
        limit = run.budget_seconds + WATCHDOG_GRACE
        while pending:
            try:
                done, not_done = wait(list(pending), timeout=2.0,
                                      return_when="FIRST_COMPLETED")
            except TimeoutError:  # none finished in this round: time for the watchdog
                done, not_done = set(), set(pending)
            for future in done:
                record(_record(run, futures[future], future))
            pending = set(not_done)
            overdue = _overdue(client, pending, futures, started, limit)
            for future, worker in overdue:
                source = futures[future]
                future.cancel()
                pending.discard(future)
                record(RepoRecord(source.name, source.shown, "failed",
                                  reason=f"time budget exceeded ({run.budget_seconds:g} s): "
                                  "the scan was stopped"))
                if worker:
                    try:
                        client.restart_workers([worker], timeout=30, raise_for_error=False)
                    except Exception:  # noqa: BLE001 - best effort: the worker may be gone
                        pass
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _overdue(client: Any, pending: set[Any], futures: dict[Any, Source],
             started: dict[str, float], limit: float) -> list[tuple[Any, str | None]]:
    """Pending futures whose current attempt has run for longer than ``limit`` seconds."""
    on_worker: dict[str, str] = {}
    for worker, keys in client.processing().items():
        on_worker.update(dict.fromkeys(keys, worker))
    now = time.monotonic()
    late: list[tuple[Any, str | None]] = []
    for future in pending:
        name = futures[future].name
        worker = on_worker.get(future.key)
        if worker is None:
            started.pop(name, None)  # waiting, or re-queued after its worker died
        elif name in started and now - started[name] > limit:
            late.append((future, worker))
    return late


def _record(run: OrgRun, source: Source, future: Any) -> RepoRecord:
    try:
        outcome: RepoOutcome = future.result()
    except Exception as exc:  # noqa: BLE001 - a task that died on every attempt
        reason = ("its worker died on every attempt" if exc.__class__.__name__ == "KilledWorker"
                  else f"the task failed on the worker ({exc.__class__.__name__}: "
                  f"{_short(exc)})")
        return RepoRecord(source.name, source.shown, "failed", reason=reason)
    rec = RepoRecord(source.name, source.shown, outcome.status, commit=outcome.commit,
                     reason=outcome.reason, seconds=outcome.seconds, findings=outcome.findings)
    result_path = run.out / f"{source.name}.json"
    if outcome.status == "scanned" and outcome.document is not None:
        try:
            write_atomically(result_path, outcome.document)
        except OSError as exc:
            return RepoRecord(source.name, source.shown, "failed", commit=outcome.commit,
                              reason=f"cannot write {result_path.name} ({exc.strerror})")
    if outcome.status != "failed":
        rec.result = result_path.name
    return rec
