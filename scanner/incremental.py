"""Detection and the engines over a scan's files, reusing what the result cache knows.

Every unit of work (a file, or a module's files) is looked up in the cache first; only the
units that miss go to the worker processes, and the workers are not started at all when
nothing missed and no engine has shards for them. The engines run beside the workers (see
``scanner.engine_runs`` for how, and for what of theirs is kept). A result is kept only when
it is complete: a unit stopped by its budget keeps nothing, so the next scan tries again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from scanner.cache import ResultCache, dated_kinds, detection_key, includes_hold, unit_key
from scanner.cache_entry import Result
from scanner.detection import Outcome, work_units
from scanner.detectors.registry import DetectorOptions, build_detectors
from scanner.engine_runs import TRANSIENT, EngineRuns, plan_engines
from scanner.engines.interface import Engine, EngineOutput
from scanner.source import SourceFile
from scanner.workers import Budget, WorkerPool

ProgressCallback = Callable[[int, int], None]


def detect(
    sources: list[SourceFile],
    options: DetectorOptions,
    budget: Budget,
    engines: Sequence[Engine],
    *,
    jobs: int | None,
    progress: ProgressCallback | None,
    cache: ResultCache | None,
    today: date,
    timings: dict[str, float],
) -> tuple[Outcome, EngineOutput]:
    """Every unit's outcome and the engines' output, from the cache where it holds them."""
    by_path = {s.path: s for s in sources}
    detectors = build_detectors(options)
    dated = dated_kinds(detectors)
    units = work_units(sources, detectors)
    # Biggest first, so one huge notebook does not end up alone at the tail.
    units.sort(key=lambda unit: sum(len(s.text) for s in unit), reverse=True)
    outcome = Outcome()
    missed = units
    keys: dict[tuple[str, ...], str] = {}
    if cache is not None:
        looked = time.perf_counter()
        ruleset = detection_key(options)
        missed = []
        for unit in units:
            key = unit_key(ruleset, unit, today, dated)
            paths = [s.path for s in unit]
            hit = cache.get(key, paths)
            if hit is not None and includes_hold(hit.includes, by_path):
                outcome.merge(_as_outcome(hit))
            else:
                missed.append(unit)
                keys[tuple(paths)] = key
        timings["cache-lookup"] = time.perf_counter() - looked

    def keep(unit: Sequence[SourceFile], part: Outcome) -> None:
        key = keys.get(tuple(s.path for s in unit))
        if cache is None or key is None or any(e.reason in TRANSIENT for e in part.errors):
            return
        result = Result(part.issues, part.facts, part.errors, part.directives, part.includes,
                        part.examined)
        if _speaks_of(result, {s.path for s in unit} | {i[1] for i in part.includes}):
            cache.put(key, result)

    budget_jobs = jobs or os.cpu_count() or 1
    looked = time.perf_counter()
    plans = plan_engines(engines, sources, cache)
    if cache is not None:
        timings["cache-lookup"] = timings.get("cache-lookup", 0.0) + time.perf_counter() - looked
    detect_started = time.perf_counter()
    with EngineRuns(plans, budget_jobs) as runs:
        if missed or runs.shards:
            files = sum(len(unit) for unit in missed)
            workers = min(budget_jobs, max(1, files // 8 + len(runs.shards)))
            for engine in {shard.engine.name: shard.engine for shard in runs.shards}.values():
                engine.prepare()  # imported once here, not in every worker
            # The workers are forked before the engine threads start (forking beside a
            # running thread can deadlock the child).
            with WorkerPool(workers, options, budget) as pool:
                runs.start()
                outcome.merge(pool.run(missed, progress, on_unit=keep, shards=runs.shards,
                                       on_shard=runs.on_shard))
            timings["detectors"] = time.perf_counter() - detect_started
        else:
            timings["detectors"] = 0.0
            runs.start()
        engine_output, engine_timings = runs.finish(cache)
    timings.update(engine_timings)
    if cache is not None:
        flushed = time.perf_counter()
        cache.flush()
        timings["cache-write"] = time.perf_counter() - flushed
    return outcome, engine_output


def _as_outcome(result: Result) -> Outcome:
    return Outcome(
        issues=list(result.issues),
        facts=list(result.facts),
        errors=list(result.errors),
        directives=list(result.directives),
        includes=list(result.includes),
        examined={name: dict(kinds) for name, kinds in result.examined.items()},
    )


def _speaks_of(result: Result, paths: set[str]) -> bool:
    """Whether every issue, fact and error of ``result`` is about one of ``paths`` (what
    ``Result.from_json`` will insist on when the entry is read back)."""
    named: Iterable[str | None] = [
        *(i.path for i in result.issues), *(f.path for f in result.facts),
        *(e.path for e in result.errors), *(d.path for d in result.directives),
        *(i[0] for i in result.includes),
    ]
    return all(path in paths for path in named)
