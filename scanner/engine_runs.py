"""The engines of one scan: what the result cache holds for each, running the rest side by
side, and keeping what came out complete.

Each engine runs on its own thread (semgrep and the vulnerability service wait on other
processes or the network), beside the detection workers. A shardable engine (bandit, which
runs in-process and holds the GIL) is instead split into shards of its files that run on the
detection workers themselves (``scanner.workers.EngineShard``), so detection and bandit share
the ``jobs`` processes. With one job, or too few files to be worth a split, it runs on its
thread in this process as before.

Cache lookups happen before anything runs and cache writes after everything has, on the
calling thread, in the engines' order; outputs are combined in the engines' order and a
sharded engine's parts in shard order (``Engine.combine``), so a scan's output does not
depend on the number of jobs or on which part finished first.

Each engine runs only on the files it has no cached result for (bandit and semgrep analyse
every file on its own, so per-file results are exact); the vulnerability engine's results
are kept for its whole set of manifests at once, because an issue it finds through a
requirements include lands in the included file. Nothing is kept from an engine that
failed, could not start or left a notice (semgrep missing, a service unreachable).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from scanner.cache import ResultCache, content_digest_full, engine_key, includes_hold
from scanner.cache_entry import Include, Result
from scanner.engines.interface import Engine, EngineOutput, engine_failure
from scanner.engines.osv import VulnerabilityEngine
from scanner.source import SourceFile
from scanner.workers import EngineShard

# Scan errors that say "not this time" rather than something about the file: never kept.
TRANSIENT = frozenset({"budget-exceeded", "engine-error", "engine-unavailable"})
# A shard smaller than this costs more to send to a worker than it saves.
MIN_SHARD_FILES = 8
# Shards per job: more, smaller shards let detection and bandit even out across workers.
SHARDS_PER_JOB = 2


def _hash(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class Digests:
    """Each file's content hash, computed once per scan."""

    def __init__(self) -> None:
        self._known: dict[int, str] = {}

    def __call__(self, source: SourceFile) -> str:
        key = id(source)
        if key not in self._known:
            self._known[key] = content_digest_full(source.text)
        return self._known[key]


@dataclass
class EnginePlan:
    """One engine's share of the scan: what the cache answered, and what is left to run."""

    engine: Engine
    wanted: list[SourceFile]
    cached: EngineOutput = field(default_factory=EngineOutput)
    to_run: list[SourceFile] | None = None  # None: the cache answered for every file
    file_keys: dict[str, str] = field(default_factory=dict)  # per-file keys of to_run
    set_key: str | None = None  # the whole set's key (vulnerabilities)


def plan_engines(
    engines: Iterable[Engine], sources: list[SourceFile], cache: ResultCache | None
) -> list[EnginePlan]:
    digests = Digests()
    plans = []
    for engine in engines:
        plan = EnginePlan(engine, [s for s in sources if s.kind in engine.kinds])
        key = engine_key(engine) if cache is not None else None
        if cache is None or key is None:
            plan.to_run = plan.wanted
        elif isinstance(engine, VulnerabilityEngine):
            _plan_whole_set(plan, cache, key, digests)
        else:
            _plan_per_file(plan, cache, key, digests)
        plans.append(plan)
    return plans


def _plan_per_file(plan: EnginePlan, cache: ResultCache, key: str, digests: Digests) -> None:
    by_path = {s.path: s for s in plan.wanted}
    missed: list[SourceFile] = []
    for source in plan.wanted:
        file_key = _hash([key, source.path, source.kind.value, digests(source)])
        hit = cache.get(file_key, [source.path])
        if hit is not None and includes_hold(hit.includes, by_path):
            plan.cached.issues.extend(hit.issues)
            plan.cached.errors.extend(hit.errors)
        else:
            missed.append(source)
            plan.file_keys[source.path] = file_key
    plan.to_run = missed or None


def _plan_whole_set(plan: EnginePlan, cache: ResultCache, key: str, digests: Digests) -> None:
    wanted = plan.wanted
    plan.set_key = _hash([key, sorted([s.path, s.kind.value, digests(s)] for s in wanted)])
    hit = cache.get(plan.set_key, None)
    if hit is not None and includes_hold(hit.includes, {s.path: s for s in wanted}):
        plan.cached = EngineOutput(issues=hit.issues, errors=hit.errors, vuln_db=hit.vuln_db)
    else:
        plan.to_run = wanted


def split(sources: Sequence[SourceFile], count: int) -> list[list[SourceFile]]:
    """``count`` slices of about equal size in bytes (largest file first to the lightest
    slice), each in the files' own order."""
    slices: list[list[SourceFile]] = [[] for _ in range(count)]
    weights = [0] * count
    position = {id(s): i for i, s in enumerate(sources)}
    for source in sorted(sources, key=lambda s: len(s.text), reverse=True):
        lightest = weights.index(min(weights))
        slices[lightest].append(source)
        weights[lightest] += len(source.text) + 1
    return [sorted(part, key=lambda s: position[id(s)]) for part in slices if part]


class EngineRuns:
    """Runs every plan's remaining files: shardable engines as ``shards`` for the caller's
    worker pool (results through ``on_shard``), the others on threads from ``start()``."""

    def __init__(self, plans: list[EnginePlan], jobs: int) -> None:
        self.plans = plans
        self.shards: list[EngineShard] = []
        self._expected: dict[str, int] = {}
        for plan in plans:
            if plan.to_run is None or not plan.engine.shardable or jobs < 2:
                continue
            count = min(jobs * SHARDS_PER_JOB, math.ceil(len(plan.to_run) / MIN_SHARD_FILES))
            if count < 2:
                continue
            parts = split(plan.to_run, count)
            self._expected[plan.engine.name] = len(parts)
            self.shards += [EngineShard(plan.engine, tuple(p), i) for i, p in enumerate(parts)]
        self._parts: dict[str, list[tuple[int, EngineOutput]]] = {}
        self._futures: dict[str, Future[EngineOutput]] = {}
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._started = time.perf_counter()

    def start(self) -> None:
        """Start the engines that run in this process, each on its own thread (after any
        worker processes were forked: forking beside running threads can deadlock)."""
        self._started = time.perf_counter()
        threaded = [p for p in self.plans
                    if p.to_run is not None and p.engine.name not in self._expected]
        if not threaded:
            return
        self._executor = ThreadPoolExecutor(len(threaded), thread_name_prefix="qgov-engine")
        for plan in threaded:
            assert plan.to_run is not None
            self._futures[plan.engine.name] = self._executor.submit(
                self._timed, plan.engine, plan.to_run
            )

    def _timed(self, engine: Engine, sources: list[SourceFile]) -> EngineOutput:
        started = time.perf_counter()
        try:
            return run_engine(engine, sources)
        finally:
            with self._lock:
                self._seconds[engine.name] = time.perf_counter() - started

    def on_shard(self, shard: EngineShard, output: EngineOutput) -> None:
        name = shard.engine.name
        with self._lock:
            self._parts.setdefault(name, []).append((shard.index, output))
            if len(self._parts[name]) == self._expected[name]:
                self._seconds[name] = time.perf_counter() - self._started

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def __enter__(self) -> EngineRuns:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def finish(self, cache: ResultCache | None) -> tuple[EngineOutput, dict[str, float]]:
        """Every engine's output, from the cache and the runs, merged in the engines' order;
        complete results of the runs go into the cache."""
        output = EngineOutput()
        timings: dict[str, float] = {}
        for plan in self.plans:
            name = plan.engine.name
            part = self._result(plan)
            timings[f"engine:{name}"] = self._seconds.get(name, 0.0)
            if plan.to_run is not None and part is not None and cache is not None:
                part = _keep(plan, part, cache)
            elif part is None:
                part = plan.cached
            output.issues.extend(part.issues)
            output.errors.extend(part.errors)
            output.notices.extend(part.notices)
            output.not_run.update(part.not_run)
            output.vuln_db = part.vuln_db or output.vuln_db
            # Results from the cache count as analysed: they are this engine's answer for
            # exactly these files and rules.
            if name not in part.not_run:
                output.ran[name] = len(plan.wanted)
        return output, timings

    def _result(self, plan: EnginePlan) -> EngineOutput | None:
        name = plan.engine.name
        if name in self._futures:
            return self._futures[name].result()
        if name in self._expected:
            parts = sorted(self._parts.get(name, []), key=lambda p: p[0])
            if len(parts) != self._expected[name]:  # cannot happen: the pool answers each
                return engine_failure(name, "a part of its files was never analysed")
            return plan.engine.combine([p for _index, p in parts])
        return None


def run_engine(engine: Engine, sources: list[SourceFile]) -> EngineOutput:
    try:
        return engine.run(sources)
    except Exception as exc:  # an outside analyser failing must not sink the scan
        return engine_failure(engine.name, f"{exc.__class__.__name__}: {exc}")


def run_engines(
    engines: Iterable[Engine], sources: list[SourceFile], cache: ResultCache | None = None
) -> tuple[EngineOutput, dict[str, float]]:
    """Every engine over ``sources``, each on its own thread, without worker processes."""
    with EngineRuns(plan_engines(engines, sources, cache), jobs=1) as runs:
        runs.start()
        return runs.finish(cache)


def _includes(sources: Iterable[SourceFile]) -> list[Include]:
    return [(s.path, rel, digest) for s in sources for rel, digest in s.included]


def _keep(plan: EnginePlan, part: EngineOutput, cache: ResultCache) -> EngineOutput:
    """The plan's output (cached part and run part) after keeping what is complete."""
    if plan.set_key is not None:
        transient = any(e.reason in TRANSIENT for e in part.errors)
        if not part.notices and not part.not_run and not transient:
            cache.put(plan.set_key, Result(issues=part.issues, errors=part.errors,
                                           includes=_includes(plan.wanted),
                                           vuln_db=part.vuln_db))
        return part
    if not plan.file_keys:
        return part  # no key for this engine: nothing is kept
    keys = plan.file_keys
    output = EngineOutput(
        issues=[*plan.cached.issues, *part.issues],
        errors=[*plan.cached.errors, *part.errors],
        notices=list(part.notices),
        not_run=dict(part.not_run),
    )
    if part.notices or part.not_run or any(e.path not in keys for e in part.errors) or any(
        i.path not in keys for i in part.issues
    ):
        return output  # something about the run, or another file: keep nothing
    results = {path: Result() for path in keys}
    for issue in part.issues:
        results[issue.path or ""].issues.append(issue)
    for error in part.errors:
        results[error.path].errors.append(error)
    for source in plan.to_run or []:
        result = results[source.path]
        if not any(e.reason in TRANSIENT for e in result.errors):
            result.includes = _includes([source])
            cache.put(keys[source.path], result)
    return output
