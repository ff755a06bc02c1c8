"""One scan, start to finish: discover -> detect (+ engines) -> enrich -> suppress.

Detection is spread over processes for large trees (regex work is CPU-bound and holds the
GIL); engines, which are mostly outside processes, run on a thread meanwhile. Every stage
returns new data; nothing reaches back into an earlier stage.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from scanner.catalog import Catalog
from scanner.config import Settings
from scanner.detectors.interface import Detector
from scanner.detectors.notebooks import load_cells
from scanner.detectors.registry import build_detectors
from scanner.discover import read_source, walk
from scanner.engines.interface import Engine, EngineContext, EngineOutput
from scanner.engines.registry import build_engines
from scanner.masking import redact_url
from scanner.model import FileKind, Finding, ScanError, ScanResult
from scanner.source import ParseError, SourceFile
from scanner.suppress.baseline import apply_baseline
from scanner.suppress.inline import Directive, apply_inline, parse_directives

ProgressCallback = Callable[[int, int], None]

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 48
_CHUNK = 16


@dataclass
class FileOutcome:
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def detect_file(source: SourceFile, detectors: Sequence[Detector]) -> FileOutcome:
    """Run every interested detector on one file; a parse failure becomes one scan error."""
    outcome = FileOutcome()
    parse_failed = False
    for detector in detectors:
        if source.kind not in detector.kinds:
            continue
        started = time.perf_counter()
        try:
            outcome.findings.extend(detector.scan(source))
        except ParseError as exc:
            if not parse_failed:
                outcome.errors.append(source.error(redact_url(str(exc)), exc.line))
            parse_failed = True
        except RecursionError:
            if not parse_failed:
                outcome.errors.append(source.error("content nested too deeply to analyse"))
            parse_failed = True
        except Exception as exc:
            # A detector bug on odd input must cost this file's findings from this detector,
            # not the whole scan; the error names the detector so it can be reported.
            outcome.errors.append(
                ScanError(
                    path=source.path,
                    reason="detector-error",
                    message=f"the {detector.name} detector failed on this file "
                    f"({exc.__class__.__name__}); its checks for this file were skipped",
                )
            )
        finally:
            outcome.timings[detector.name] = (
                outcome.timings.get(detector.name, 0.0) + time.perf_counter() - started
            )
    outcome.directives.extend(_directives(source))
    return outcome


def _directives(source: SourceFile) -> list[Directive]:
    if "qgov:ignore" not in source.text:
        return []
    if source.kind is FileKind.NOTEBOOK:
        try:
            cells = load_cells(source)
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


# --- process-pool plumbing: each worker builds its detectors once ------------------------

_WORKER_DETECTORS: list[Detector] = []


def _init_worker(settings: Settings, catalog: Catalog) -> None:
    global _WORKER_DETECTORS
    _WORKER_DETECTORS = build_detectors(settings, catalog)


def _detect_chunk(sources: list[SourceFile]) -> FileOutcome:
    merged = FileOutcome()
    for source in sources:
        _merge(merged, detect_file(source, _WORKER_DETECTORS))
    return merged


def _merge(into: FileOutcome, part: FileOutcome) -> None:
    into.findings.extend(part.findings)
    into.errors.extend(part.errors)
    into.directives.extend(part.directives)
    for name, seconds in part.timings.items():
        into.timings[name] = into.timings.get(name, 0.0) + seconds


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
    outcome = FileOutcome()
    sources_all: list[SourceFile] = []

    for root in roots:
        walked = walk(
            root,
            max_file_bytes=settings.max_file_size,
            exclude=settings.exclude,
            use_gitignore=settings.use_gitignore,
        )
        errors.extend(walked.errors)
        for candidate in walked.candidates:
            read = read_source(candidate)
            if isinstance(read, ScanError):
                errors.append(read)
            else:
                sources_all.append(read)
    timings["discover+read"] = time.perf_counter() - started

    engines = build_engines(settings)
    # source_dir is not part of the dump; engines need it to resolve paths the config names
    # (osv_db) against the config file's folder.
    engine_settings = settings.model_dump() | {"source_dir": settings.source_dir}
    context = EngineContext(root=Path(roots[0]).absolute(), settings=engine_settings)
    with ThreadPoolExecutor(max_workers=1) as engine_pool:
        engine_future = engine_pool.submit(_run_engines, engines, sources_all, context)
        detect_started = time.perf_counter()
        _merge(outcome, _detect_all(sources_all, settings, catalog, progress))
        timings["detectors"] = time.perf_counter() - detect_started
        engine_output, engine_timings = _engine_result(engine_future)
    timings.update(outcome.timings)
    timings.update(engine_timings)
    errors.extend(outcome.errors)
    errors.extend(engine_output.errors)
    notices.extend(engine_output.notices)

    raw = [*outcome.findings, *engine_output.findings]
    disabled = set(settings.disable_rules)
    enriched = [f for f in enrich(raw, catalog, errors) if f.rule_id not in disabled]
    suppressed = apply_inline(enriched, outcome.directives, today or dt.date.today())
    enriched_suppressions = enrich(
        [f for f in suppressed if not f.title], catalog, errors
    )  # findings raised by the suppression stage itself
    final = [f for f in suppressed if f.title] + enriched_suppressions
    if baseline:
        final = apply_baseline(final, baseline)
    final.sort(key=lambda f: (-f.severity.rank, f.path, f.line or 0, f.rule_id))

    result = ScanResult(
        roots=tuple(str(r) for r in roots),
        findings=tuple(_dedupe(_drop_overlaps(final, catalog))),
        errors=tuple(sorted(errors, key=lambda e: (e.path, e.reason))),
        files_scanned=len(sources_all),
        duration_seconds=round(time.perf_counter() - started, 3),
        notices=tuple(dict.fromkeys(notices)),
    )
    return ScanRun(result=result, timings=timings)


def _detect_all(
    sources: list[SourceFile],
    settings: Settings,
    catalog: Catalog,
    progress: ProgressCallback | None,
) -> FileOutcome:
    total = len(sources)
    merged = FileOutcome()
    jobs = settings.jobs or os.cpu_count() or 1
    if total < PARALLEL_THRESHOLD or jobs == 1:
        detectors = build_detectors(settings, catalog)
        for done, source in enumerate(sources, start=1):
            _merge(merged, detect_file(source, detectors))
            if progress:
                progress(done, total)
        return merged
    chunks = _chunks(sources)
    done = 0
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_init_worker, initargs=(settings, catalog)
    ) as pool:
        for chunk, part in zip(chunks, pool.map(_detect_chunk, chunks), strict=True):
            _merge(merged, part)
            done += len(chunk)
            if progress:
                progress(done, total)
    return merged


def _chunks(sources: list[SourceFile]) -> list[list[SourceFile]]:
    """Work units for the pool, biggest first so one huge notebook does not end up alone at
    the tail. A Terraform module's files stay in one chunk: its detector reads the whole
    directory once per worker, so spreading a module over workers would parse it again."""
    units: dict[str, list[SourceFile]] = {}
    for source in sources:
        key = source.path
        if source.kind is FileKind.TERRAFORM:
            key = "terraform-module:" + posixpath.dirname(source.path)
        units.setdefault(key, []).append(source)
    ordered = sorted(units.values(), key=lambda u: sum(len(s.text) for s in u), reverse=True)
    chunks: list[list[SourceFile]] = [[]]
    for unit in ordered:
        if chunks[-1] and len(chunks[-1]) + len(unit) > _CHUNK:
            chunks.append([])
        chunks[-1].extend(unit)
    return [chunk for chunk in chunks if chunk]


def _run_engines(
    engines: Iterable[Engine], sources: list[SourceFile], context: EngineContext
) -> tuple[EngineOutput, dict[str, float]]:
    output = EngineOutput()
    timings: dict[str, float] = {}
    for engine in engines:
        wanted = [s for s in sources if s.kind in engine.kinds]
        started = time.perf_counter()
        try:
            part = engine.run(wanted, context)
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
        output.findings.extend(part.findings)
        output.errors.extend(part.errors)
        output.notices.extend(part.notices)
    return output, timings


def _engine_result(
    future: Future[tuple[EngineOutput, dict[str, float]]],
) -> tuple[EngineOutput, dict[str, float]]:
    return future.result()


def enrich(findings: Iterable[Finding], catalog: Catalog, errors: list[ScanError]) -> list[Finding]:
    """Attach title, controls, domain, frameworks, default severity and remediation."""
    enriched = []
    unknown: set[str] = set()
    for finding in findings:
        rule = catalog.rule(finding.rule_id)
        if rule is None:
            unknown.add(finding.rule_id)
            continue
        control_ids = tuple(dict.fromkeys([*rule.controls, *finding.control_ids]))
        update: dict[str, object] = {
            # Last line of defence: whatever a detector quoted, URL credentials go.
            "message": redact_url(finding.message),
            "evidence": redact_url(finding.evidence) if finding.evidence else finding.evidence,
            "title": rule.title,
            "control_ids": control_ids,
            "domain": catalog.rule_domain(rule),
            "frameworks": catalog.frameworks_for(control_ids),
            "remediation": finding.remediation or rule.remediation
            or catalog.controls[rule.controls[0]].remediation,
        }
        if "severity" not in finding.model_fields_set:
            update["severity"] = catalog.rule_severity(rule)
        enriched.append(finding.model_copy(update=update))
    errors.extend(
        ScanError(path=".", reason="engine-error", message=f"rule {rule_id} is not in the catalog")
        for rule_id in sorted(unknown)
    )
    return enriched


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
