"""Detection and the engines over a scan's files, reusing what the result cache knows.

Every unit of work (a file, or a module's files) is looked up in the cache first; only the
units that miss go to the worker processes, and the workers are not started at all when
nothing missed. Each engine runs only on the files it has no cached result for (bandit and
semgrep analyse every file on its own, so per-file results are exact); the vulnerability
engine's results are kept for its whole set of manifests at once, because an issue it finds
through a requirements include lands in the included file. A result is kept only when it is
complete: a unit stopped by its budget, an engine that failed or could not start, or an
engine notice (semgrep missing, a service unreachable) keeps nothing, so the next scan tries
again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from scanner.cache import (
    Include,
    Result,
    ResultCache,
    content_digest_full,
    dated_kinds,
    detection_key,
    engine_key,
    includes_hold,
    unit_key,
)
from scanner.detection import Outcome, work_units
from scanner.detectors.registry import DetectorOptions, build_detectors
from scanner.engines.interface import Engine, EngineOutput
from scanner.engines.osv import VulnerabilityEngine
from scanner.model import ScanError
from scanner.source import SourceFile
from scanner.workers import Budget, WorkerPool

ProgressCallback = Callable[[int, int], None]

# Scan errors that say "not this time" rather than something about the file: never kept.
TRANSIENT = frozenset({"budget-exceeded", "engine-error", "engine-unavailable"})


def _hash(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class _Digests:
    """Each file's content hash, computed once per scan."""

    def __init__(self) -> None:
        self._known: dict[int, str] = {}

    def __call__(self, source: SourceFile) -> str:
        key = id(source)
        if key not in self._known:
            self._known[key] = content_digest_full(source.text)
        return self._known[key]


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

    detect_started = time.perf_counter()
    if missed:
        files = sum(len(unit) for unit in missed)
        workers = min(jobs or os.cpu_count() or 1, max(1, files // 8))
        # The workers are forked before the engine thread starts (forking beside a running
        # thread can deadlock the child).
        with WorkerPool(workers, options, budget) as pool, ThreadPoolExecutor(1) as thread:
            engine_future = thread.submit(run_engines, engines, sources, cache)
            outcome.merge(pool.run(missed, progress, on_unit=keep))
            timings["detectors"] = time.perf_counter() - detect_started
            engine_output, engine_timings = engine_future.result()
    else:
        timings["detectors"] = 0.0
        engine_output, engine_timings = run_engines(engines, sources, cache)
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


# --- engines ---------------------------------------------------------------------------------


def run_engines(
    engines: Iterable[Engine], sources: list[SourceFile], cache: ResultCache | None = None
) -> tuple[EngineOutput, dict[str, float]]:
    output = EngineOutput()
    timings: dict[str, float] = {}
    digests = _Digests()
    for engine in engines:
        wanted = [s for s in sources if s.kind in engine.kinds]
        started = time.perf_counter()
        key = engine_key(engine) if cache is not None else None
        if cache is None or key is None:
            part = _run(engine, wanted)
        elif isinstance(engine, VulnerabilityEngine):
            part = _whole_set(engine, wanted, cache, key, digests)
        else:
            part = _per_file(engine, wanted, cache, key, digests)
        timings[f"engine:{engine.name}"] = time.perf_counter() - started
        output.issues.extend(part.issues)
        output.errors.extend(part.errors)
        output.notices.extend(part.notices)
        output.not_run.update(part.not_run)
        output.vuln_db = part.vuln_db or output.vuln_db
        # Results from the cache count as analysed: they are this engine's answer for
        # exactly these files and rules.
        if engine.name not in part.not_run:
            output.ran[engine.name] = len(wanted)
    return output, timings


def _run(engine: Engine, sources: list[SourceFile]) -> EngineOutput:
    try:
        return engine.run(sources)
    except Exception as exc:  # an outside analyser failing must not sink the scan
        return EngineOutput(
            errors=[
                ScanError(
                    path=".",
                    reason="engine-error",
                    message=f"{engine.name} failed: {exc.__class__.__name__}: {exc}",
                )
            ],
            not_run={engine.name: f"{engine.name} failed"},
        )


def _includes(sources: Iterable[SourceFile]) -> list[Include]:
    return [(s.path, rel, digest) for s in sources for rel, digest in s.included]


def _per_file(
    engine: Engine,
    wanted: list[SourceFile],
    cache: ResultCache,
    key: str,
    digests: _Digests,
) -> EngineOutput:
    output = EngineOutput()
    by_path = {s.path: s for s in wanted}
    missed: list[SourceFile] = []
    keys: dict[str, str] = {}
    for source in wanted:
        file_key = _hash([key, source.path, source.kind.value, digests(source)])
        hit = cache.get(file_key, [source.path])
        if hit is not None and includes_hold(hit.includes, by_path):
            output.issues.extend(hit.issues)
            output.errors.extend(hit.errors)
        else:
            missed.append(source)
            keys[source.path] = file_key
    if not missed:
        return output
    part = _run(engine, missed)
    output.issues.extend(part.issues)
    output.errors.extend(part.errors)
    output.notices.extend(part.notices)
    output.not_run.update(part.not_run)
    if part.notices or part.not_run or any(e.path not in keys for e in part.errors) or any(
        i.path not in keys for i in part.issues
    ):
        return output  # something about the run, or another file: keep nothing
    results = {path: Result() for path in keys}
    for issue in part.issues:
        results[issue.path or ""].issues.append(issue)
    for error in part.errors:
        results[error.path].errors.append(error)
    for source in missed:
        result = results[source.path]
        if not any(e.reason in TRANSIENT for e in result.errors):
            result.includes = _includes([source])
            cache.put(keys[source.path], result)
    return output


def _whole_set(
    engine: Engine,
    wanted: list[SourceFile],
    cache: ResultCache,
    key: str,
    digests: _Digests,
) -> EngineOutput:
    set_key = _hash([key, sorted([s.path, s.kind.value, digests(s)] for s in wanted)])
    hit = cache.get(set_key, None)
    if hit is not None and includes_hold(hit.includes, {s.path: s for s in wanted}):
        return EngineOutput(issues=hit.issues, errors=hit.errors, vuln_db=hit.vuln_db)
    part = _run(engine, wanted)
    transient = any(e.reason in TRANSIENT for e in part.errors)
    if not part.notices and not part.not_run and not transient:
        cache.put(set_key, Result(issues=part.issues, errors=part.errors,
                                  includes=_includes(wanted), vuln_db=part.vuln_db))
    return part
