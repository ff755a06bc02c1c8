"""Detection in worker processes the scan supervises, each unit of work under a budget.

A unit (a file, or a Terraform module's files) that runs past its time budget is stopped by
killing its worker; one that outgrows the memory budget fails inside its worker (the
address space is capped); a worker that dies takes only its unit with it. Each case turns
the unit's files into scan errors and the rest of the scan carries on, so no hostile file
can stall or sink a CI gate. Regular expressions cannot be interrupted inside a process,
which is why the budget is enforced from outside.

The same workers also run shards of an in-process engine (bandit: a slice of its files, see
``EngineShard``), so detection and engine work share one pool of ``jobs`` processes and
whichever finishes first takes the other's remaining work. A shard whose worker dies, runs
past its budget or raises becomes that engine's failure, never a hang.

The first workers are forked (cheap, and before the engine thread starts); a replacement for
a killed worker is spawned, because forking while other threads run can deadlock the child.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from scanner.detection import Outcome, detect_unit
from scanner.detectors.registry import DetectorOptions, build_detectors
from scanner.engines.interface import Engine, EngineOutput, engine_failure
from scanner.inventory.finders import build_fact_finders
from scanner.model import ScanError
from scanner.source import SourceFile

ProgressCallback = Callable[[int, int], None]
UnitCallback = Callable[[Sequence[SourceFile], Outcome], None]


@dataclass(frozen=True)
class EngineShard:
    """One slice of a shardable engine's files, run as one piece of work on a worker."""

    engine: Engine
    sources: tuple[SourceFile, ...]
    index: int  # the slice's place, so parts are combined in a fixed order


ShardCallback = Callable[[EngineShard, EngineOutput], None]


@dataclass(frozen=True)
class Budget:
    seconds_per_file: float  # a unit of n files may take n times this (capped)
    memory_mb: int  # address space a worker may add to what it started with

    def seconds_for(self, unit: Sequence[SourceFile]) -> float:
        return self.seconds_per_file * min(max(len(unit), 1), _MAX_FILES_PER_BUDGET)


# A large Terraform module gets more time than one file, but not without limit.
_MAX_FILES_PER_BUDGET = 10
_JOIN_SECONDS = 5.0


def _limit_memory(megabytes: int) -> None:
    """Cap this process's address space at what it uses now plus ``megabytes``."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[0])
        limit = pages * os.sysconf("SC_PAGE_SIZE") + megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no rlimits here: the time budget still applies


def _worker_main(
    connection: Connection, progress: Any, options: DetectorOptions, memory_mb: int
) -> None:
    _limit_memory(memory_mb)
    detectors = build_detectors(options)
    finders = [] if options.only else build_fact_finders()
    while True:
        try:
            batch = connection.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        if isinstance(batch, EngineShard):
            progress[0], progress[1] = 0, time.monotonic()
            connection.send(_run_shard(batch))
            continue
        outcomes = []
        for done, unit in enumerate(batch):
            # Shared memory, not a message: the parent times each unit from this mark.
            progress[0], progress[1] = done, time.monotonic()
            outcomes.append(detect_unit(unit, detectors, finders))
        # One outcome per unit, so the parent can keep each in the result cache.
        connection.send(outcomes)


def _run_shard(shard: EngineShard) -> EngineOutput:
    try:
        return shard.engine.run(list(shard.sources))
    except Exception as exc:  # the engine failing on its slice is its failure, as in-process
        return engine_failure(shard.engine.name, f"{exc.__class__.__name__}: {exc}")


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    progress: Any  # shared [units of the batch done, monotonic time the current one began]
    batch: list[Sequence[SourceFile]] = field(default_factory=list)  # sent, not yet answered
    shard: EngineShard | None = None  # or an engine shard, sent and not yet answered
    sent_at: float = 0.0

    @property
    def busy(self) -> bool:
        return bool(self.batch) or self.shard is not None

    def current(self) -> tuple[int, float]:
        """Index of the unit being analysed and when it began (send time until the worker
        has marked its first unit)."""
        done, began = int(self.progress[0]), float(self.progress[1])
        return (done, began) if began >= self.sent_at else (0, self.sent_at)


class WorkerPool:
    """``run(units)`` detects every unit on ``size`` supervised worker processes.

    Units travel in batches of about ``BATCH_FILES`` files and come back as one result per
    batch (messages are the cost at scale); each worker marks in shared memory which unit
    it is on and since when, so the budget still applies to every unit on its own. When a
    unit is stopped, the rest of its batch is queued again for another worker.
    """

    BATCH_FILES = 16
    # How a replacement starts: not by fork, since the engine thread is running by then.
    REPLACEMENT_START = "spawn"
    # How often an idle wait looks at the workers' progress marks.
    POLL_SECONDS = 0.5

    def __init__(self, size: int, options: DetectorOptions, budget: Budget) -> None:
        self.options = options
        self.budget = budget
        self._workers = [self._start("fork") for _ in range(max(1, size))]

    def _start(self, method: str) -> _Worker:
        methods = multiprocessing.get_all_start_methods()
        context: Any = multiprocessing.get_context(method if method in methods else "spawn")
        parent, child = context.Pipe()
        progress = context.Array("d", 2, lock=False)
        process = context.Process(
            target=_worker_main,
            args=(child, progress, self.options, self.budget.memory_mb),
            daemon=True,
            name="qgov-detect",
        )
        process.start()
        child.close()
        return _Worker(process, parent, progress)

    def run(
        self,
        units: Sequence[Sequence[SourceFile]],
        progress: ProgressCallback | None = None,
        on_unit: UnitCallback | None = None,
        shards: Sequence[EngineShard] = (),
        on_shard: ShardCallback | None = None,
    ) -> Outcome:
        """Every unit's outcome, merged; ``on_unit(unit, outcome)`` sees each unit that
        finished within its budget (not the ones stopped). Engine ``shards`` go first (they
        are the largest pieces); ``on_shard`` gets each one's output or failure."""
        merged = Outcome()
        pending: deque[Sequence[SourceFile] | EngineShard] = deque([*shards, *units])
        total = sum(len(unit) for unit in units)
        done = 0
        while pending or any(w.busy for w in self._workers):
            for worker in self._workers:
                if not worker.busy and pending:
                    self._assign(worker, pending)
            busy = [w for w in self._workers if w.busy]
            ready = set(wait([w.connection for w in busy], timeout=self.POLL_SECONDS))
            now = time.monotonic()
            for index, worker in enumerate(self._workers):
                if worker.shard is not None:
                    self._watch_shard(index, worker, ready, now, pending, on_shard)
                    continue
                if not worker.batch:
                    continue
                finished: Sequence[Sequence[SourceFile]]
                if worker.connection in ready:
                    try:
                        parts = worker.connection.recv()
                        for unit, part in zip(worker.batch, parts, strict=True):
                            merged.merge(part)
                            if on_unit is not None:
                                on_unit(unit, part)
                        finished, worker.batch = worker.batch, []
                    except (EOFError, OSError):
                        unit = worker.batch[worker.current()[0]]
                        merged.errors.extend(_errors(unit, "the worker analysing it stopped"))
                        finished = [unit]
                        self._workers[index] = self._replace(worker, pending)
                else:
                    current, began = worker.current()
                    unit = worker.batch[min(current, len(worker.batch) - 1)]
                    seconds = self.budget.seconds_for(unit)
                    if now - began < seconds:
                        continue
                    merged.errors.extend(_errors(
                        unit, f"analysis ran past its {seconds:g}-second budget (file_timeout)"
                    ))
                    finished = [unit]
                    self._workers[index] = self._replace(worker, pending)
                done += sum(len(unit) for unit in finished)
                if progress:
                    progress(done, total)
        return merged

    def _watch_shard(
        self,
        index: int,
        worker: _Worker,
        ready: set[Any],
        now: float,
        pending: deque[Sequence[SourceFile] | EngineShard],
        on_shard: ShardCallback | None,
    ) -> None:
        """Hand a finished shard's output to ``on_shard``; a worker that died or ran past
        the shard's budget is replaced and the shard is the engine's failure."""
        shard = worker.shard
        assert shard is not None
        files = len(shard.sources)
        output: EngineOutput
        if worker.connection in ready:
            try:
                output = worker.connection.recv()
                worker.shard = None
            except (EOFError, OSError):
                output = engine_failure(
                    shard.engine.name, f"the worker analysing {files} of its files stopped"
                )
                self._workers[index] = self._replace(worker, pending)
        else:
            seconds = self.budget.seconds_for(shard.sources)
            if now - worker.current()[1] < seconds:
                return
            output = engine_failure(shard.engine.name, (
                f"analysing {files} of its files ran past its {seconds:g}-second budget "
                "(file_timeout)"
            ))
            self._workers[index] = self._replace(worker, pending)
        if on_shard is not None:
            on_shard(shard, output)

    def _assign(
        self, worker: _Worker, pending: deque[Sequence[SourceFile] | EngineShard]
    ) -> None:
        first = pending.popleft()
        worker.sent_at = time.monotonic()
        if isinstance(first, EngineShard):
            worker.shard = first
            worker.connection.send(first)
            return
        batch = [first]
        files = len(first)
        while pending:
            following = pending[0]
            if isinstance(following, EngineShard) or files + len(following) > self.BATCH_FILES:
                break
            files += len(following)
            batch.append(following)
            pending.popleft()
        worker.batch = batch
        worker.connection.send([list(unit) for unit in batch])

    def _replace(
        self, worker: _Worker, pending: deque[Sequence[SourceFile] | EngineShard]
    ) -> _Worker:
        """Kill a worker whose current unit failed; the rest of its batch (done or not: its
        results die with the worker) goes back to the front of the queue."""
        current = min(worker.current()[0], len(worker.batch) - 1)
        pending.extendleft(reversed([u for i, u in enumerate(worker.batch) if i != current]))
        worker.process.kill()
        worker.process.join(_JOIN_SECONDS)
        worker.connection.close()
        return self._start(self.REPLACEMENT_START)

    def close(self) -> None:
        for worker in self._workers:
            try:
                worker.connection.send(None)
            except OSError:
                pass
        for worker in self._workers:
            worker.process.join(_JOIN_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
            worker.connection.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _errors(unit: Sequence[SourceFile], why: str) -> list[ScanError]:
    return [
        ScanError(
            path=source.path,
            reason="budget-exceeded",
            message=f"skipped: {why}; the rest of the scan carried on",
        )
        for source in unit
    ]
