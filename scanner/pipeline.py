"""One scan, start to finish: discover -> detect (+ engines) -> findings -> suppress.

Detection is spread over processes for large trees (regex work is CPU-bound and holds the
GIL); engines, which are mostly outside processes, run on a thread meanwhile. The unit of
work is a file, or every file of one module for a detector that reads modules (Terraform),
so a module is parsed once, on one worker. Every stage returns new data; nothing reaches
back into an earlier stage.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from scanner.catalog import Catalog
from scanner.config import Settings
from scanner.detectors.interface import Detector, ModuleDetector
from scanner.detectors.registry import DetectorOptions, build_detectors
from scanner.discover import read_source, walk
from scanner.engines.interface import Engine, EngineOutput
from scanner.engines.registry import build_engines
from scanner.findings import FindingBuilder
from scanner.formats.errors import ParseError
from scanner.fs import ScanRoot
from scanner.masking import redact_url
from scanner.model import FileKind, Finding, Issue, ScanError, ScanResult
from scanner.source import SourceFile
from scanner.suppress.baseline import apply_baseline
from scanner.suppress.inline import Directive, apply_inline, parse_directives

ProgressCallback = Callable[[int, int], None]

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 48
_CHUNK = 16


@dataclass
class Outcome:
    issues: list[Issue] = field(default_factory=list)  # every issue carries its path
    errors: list[ScanError] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def merge(self, part: Outcome) -> None:
        self.issues.extend(part.issues)
        self.errors.extend(part.errors)
        self.directives.extend(part.directives)
        for name, seconds in part.timings.items():
            self.timings[name] = self.timings.get(name, 0.0) + seconds


class _Guard:
    """The pipeline's rules for a detector call: a parse failure becomes one scan error per
    file, a detector bug costs that detector's checks for those files, never the scan."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.parse_failed: set[str] = set()

    @contextmanager
    def running(self, detector: Detector, files: Sequence[SourceFile]) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except ParseError as exc:
            self._parse_error(files[0], redact_url(str(exc)), exc.line)
        except RecursionError:
            self._parse_error(files[0], "content nested too deeply to analyse", None)
        except Exception as exc:
            self.outcome.errors.extend(
                ScanError(
                    path=source.path,
                    reason="detector-error",
                    message=f"the {detector.name} detector failed on this file "
                    f"({exc.__class__.__name__}); its checks for this file were skipped",
                )
                for source in files
            )
        finally:
            timings = self.outcome.timings
            timings[detector.name] = timings.get(detector.name, 0.0) + time.perf_counter() - started

    def add(self, issues: Iterable[Issue], path: str | None) -> None:
        """Collect issues, each with a path. What a detector yielded before it raised a
        ``ParseError`` is kept: the dependency detector reports the good entries of a file,
        then the bad line as the file's parse error."""
        self.outcome.issues.extend(
            i if i.path is not None else replace(i, path=path) for i in issues
        )

    def _parse_error(self, source: SourceFile, message: str, line: int | None) -> None:
        if source.path not in self.parse_failed:
            self.outcome.errors.append(source.error(message, line))
            self.parse_failed.add(source.path)


def detect_unit(sources: Sequence[SourceFile], detectors: Sequence[Detector]) -> Outcome:
    """Run every interested detector on one unit (a file, or one module's files)."""
    outcome = Outcome()
    guard = _Guard(outcome)
    for detector in detectors:
        if isinstance(detector, ModuleDetector):
            _detect_modules(detector, sources, guard)
            continue
        for source in sources:
            if source.kind in detector.kinds:
                with guard.running(detector, [source]):
                    guard.add(detector.scan(source), source.path)
    for source in sources:
        outcome.directives.extend(_directives(source))
    return outcome


def _detect_modules(detector: ModuleDetector, sources: Sequence[SourceFile], guard: _Guard) -> None:
    modules: dict[str | None, list[SourceFile]] = {}
    for source in sources:
        if source.kind in detector.kinds:
            modules.setdefault(detector.module_of(source), []).append(source)
    for key, members in modules.items():
        if key is None:  # files analysed on their own
            for source in members:
                with guard.running(detector, [source]):
                    guard.add(detector.scan(source), source.path)
            continue
        admitted = []
        for source in members:
            with guard.running(detector, [source]):
                detector.admit(source)
                admitted.append(source)
        if admitted:
            with guard.running(detector, admitted):
                guard.add(detector.scan_module(admitted), None)


def _directives(source: SourceFile) -> list[Directive]:
    if "qgov:ignore" not in source.text:
        return []
    if source.kind is FileKind.NOTEBOOK:
        try:
            cells = source.notebook_cells
        except ParseError:
            return []
        return [
            directive
            for cell in cells
            for directive in parse_directives(
                source.path, cell.source, cell=cell.index, line_offset=source.line_of(cell.start)
            )
        ]
    return list(parse_directives(source.path, source.text))


def work_units(
    sources: Sequence[SourceFile], detectors: Sequence[Detector]
) -> list[list[SourceFile]]:
    """Files grouped so that each module a module detector reads stays in one unit."""
    modular = [d for d in detectors if isinstance(d, ModuleDetector)]
    units: dict[str, list[SourceFile]] = {}
    for source in sources:
        key = f"file:{source.path}"
        for detector in modular:
            module = detector.module_of(source) if source.kind in detector.kinds else None
            if module is not None:
                key = f"{detector.name}:{module}"
                break
        units.setdefault(key, []).append(source)
    return list(units.values())


# --- process-pool plumbing: each worker builds its detectors once ------------------------

_WORKER_DETECTORS: list[Detector] = []


def _init_worker(options: DetectorOptions) -> None:
    global _WORKER_DETECTORS
    _WORKER_DETECTORS = build_detectors(options)


def _detect_chunk(units: list[list[SourceFile]]) -> Outcome:
    merged = Outcome()
    for unit in units:
        merged.merge(detect_unit(unit, _WORKER_DETECTORS))
    return merged


# --- the scan ------------------------------------------------------------------------------


@dataclass
class ScanRun:
    result: ScanResult
    timings: dict[str, float]


def run_scan(
    roots: Sequence[Path],
    settings: Settings,
    catalog: Catalog,
    *,
    baseline: frozenset[str] = frozenset(),
    progress: ProgressCallback | None = None,
    today: dt.date | None = None,
) -> ScanRun:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    errors: list[ScanError] = []
    notices: list[str] = []
    sources = _discover(roots, settings, errors)
    timings["discover+read"] = time.perf_counter() - started

    options = DetectorOptions.from_settings(settings, catalog)
    engines = build_engines(settings, Path(roots[0]).absolute())
    with ThreadPoolExecutor(max_workers=1) as engine_pool:
        engine_future = engine_pool.submit(_run_engines, engines, sources)
        detect_started = time.perf_counter()
        outcome = _detect_all(sources, settings, options, progress)
        timings["detectors"] = time.perf_counter() - detect_started
        engine_output, engine_timings = engine_future.result()
    timings.update(outcome.timings)
    timings.update(engine_timings)
    errors.extend(outcome.errors)
    errors.extend(engine_output.errors)
    notices.extend(engine_output.notices)

    builder = FindingBuilder(catalog)
    disabled = set(settings.disable_rules)
    findings = [
        f for f in builder.build_all([*outcome.issues, *engine_output.issues])
        if f.rule_id not in disabled
    ]
    marked, problems = apply_inline(findings, outcome.directives, today or dt.date.today())
    final = marked + builder.build_all(problems)
    errors.extend(builder.errors())
    if baseline:
        final = apply_baseline(final, baseline)
    final.sort(key=lambda f: (-f.severity.rank, f.path, f.line or 0, f.rule_id))

    result = ScanResult(
        roots=tuple(str(r) for r in roots),
        findings=tuple(_dedupe(_drop_overlaps(final, catalog))),
        errors=tuple(sorted(errors, key=lambda e: (e.path, e.reason))),
        files_scanned=len(sources),
        duration_seconds=round(time.perf_counter() - started, 3),
        notices=tuple(dict.fromkeys(notices)),
    )
    return ScanRun(result=result, timings=timings)


def _discover(
    roots: Sequence[Path], settings: Settings, errors: list[ScanError]
) -> list[SourceFile]:
    sources: list[SourceFile] = []
    for root in roots:
        walked = walk(
            root,
            max_file_bytes=settings.max_file_size,
            exclude=settings.exclude,
            use_gitignore=settings.use_gitignore,
        )
        errors.extend(walked.errors)
        # A single-file root reads its includes from the folder it sits in.
        folder = root if root.is_dir() else root.parent
        scan_root = ScanRoot.open(folder, settings.max_file_size)
        for candidate in walked.candidates:
            read = read_source(candidate, scan_root)
            if isinstance(read, ScanError):
                errors.append(read)
            else:
                sources.append(read)
    return sources


def _detect_all(
    sources: list[SourceFile],
    settings: Settings,
    options: DetectorOptions,
    progress: ProgressCallback | None,
) -> Outcome:
    total = len(sources)
    merged = Outcome()
    jobs = settings.jobs or os.cpu_count() or 1
    if total < PARALLEL_THRESHOLD or jobs == 1:
        detectors = build_detectors(options)
        done = 0
        for unit in work_units(sources, detectors):
            merged.merge(detect_unit(unit, detectors))
            done += len(unit)
            if progress:
                progress(done, total)
        return merged
    chunks = _chunks(work_units(sources, build_detectors(options)))
    done = 0
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_init_worker, initargs=(options,)
    ) as pool:
        for chunk, part in zip(chunks, pool.map(_detect_chunk, chunks), strict=True):
            merged.merge(part)
            done += sum(len(unit) for unit in chunk)
            if progress:
                progress(done, total)
    return merged


def _chunks(units: list[list[SourceFile]]) -> list[list[list[SourceFile]]]:
    """Work for the pool, biggest units first so one huge notebook does not end up alone
    at the tail; about ``_CHUNK`` files a chunk."""
    ordered = sorted(units, key=lambda u: sum(len(s.text) for s in u), reverse=True)
    chunks: list[list[list[SourceFile]]] = [[]]
    count = 0
    for unit in ordered:
        if chunks[-1] and count + len(unit) > _CHUNK:
            chunks.append([])
            count = 0
        chunks[-1].append(unit)
        count += len(unit)
    return [chunk for chunk in chunks if chunk]


def _run_engines(
    engines: Iterable[Engine], sources: list[SourceFile]
) -> tuple[EngineOutput, dict[str, float]]:
    output = EngineOutput()
    timings: dict[str, float] = {}
    for engine in engines:
        wanted = [s for s in sources if s.kind in engine.kinds]
        started = time.perf_counter()
        try:
            part = engine.run(wanted)
        except Exception as exc:  # an outside analyser failing must not sink the scan
            part = EngineOutput(
                errors=[
                    ScanError(
                        path=".",
                        reason="engine-error",
                        message=f"{engine.name} failed: {exc.__class__.__name__}: {exc}",
                    )
                ]
            )
        timings[f"engine:{engine.name}"] = time.perf_counter() - started
        output.issues.extend(part.issues)
        output.errors.extend(part.errors)
        output.notices.extend(part.notices)
    return output, timings


def _drop_overlaps(findings: list[Finding], catalog: Catalog) -> list[Finding]:
    at: dict[tuple[str, int | None, int | None], set[str]] = {}
    for finding in findings:
        at.setdefault((finding.path, finding.line, finding.cell), set()).add(finding.rule_id)

    def overlapped(finding: Finding) -> bool:
        rule = catalog.rules.get(finding.rule_id)
        if rule is None or not rule.yields_to:
            return False
        others = at[(finding.path, finding.line, finding.cell)] - {finding.rule_id}
        return any(
            other.startswith(pattern[:-1]) if pattern.endswith("*") else other == pattern
            for other in others
            for pattern in rule.yields_to
        )

    return [f for f in findings if not overlapped(f)]


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, int | None, int | None]] = set()
    unique = []
    for finding in findings:
        key = (finding.fingerprint, finding.line, finding.cell)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
