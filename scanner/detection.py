"""Detection of one unit of work: every interested detector over one file, or over one
module's files for a detector that reads modules, with the pipeline's rules for failure.

Runs inside worker processes (``scanner.workers``); returns issues with their paths, facts
(the provider uses the inventory is built from), scan errors, suppression directives and
per-detector timings, never findings: those are built once, in the parent, by
``scanner.findings``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Protocol

from scanner.detectors.interface import Detector, ModuleDetector
from scanner.formats.errors import ParseError
from scanner.inventory.finders import FactFinder, distinct
from scanner.masking import redact_url
from scanner.model import FileKind, Issue, ProviderUse, ScanError
from scanner.source import SourceFile
from scanner.suppress.inline import Directive, parse_directives


@dataclass
class Outcome:
    issues: list[Issue] = field(default_factory=list)  # every issue carries its path
    facts: list[ProviderUse] = field(default_factory=list)  # every fact carries its path
    errors: list[ScanError] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    # Files that requirements includes read: (including file, include, content hash or
    # None), so the result cache knows what else a unit's results depend on.
    includes: list[tuple[str, str, str | None]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # Files each detector analysed to the end, by detector name and file kind: a rule whose
    # detector read none of the scan's files checked nothing (scanner.status.coverage).
    examined: dict[str, dict[str, int]] = field(default_factory=dict)
    # The unit that took longest: (seconds, its first file), for --show-timings and bench/.
    slowest: tuple[float, str] = (0.0, "")

    def merge(self, part: Outcome) -> None:
        self.issues.extend(part.issues)
        self.facts.extend(part.facts)
        self.errors.extend(part.errors)
        self.directives.extend(part.directives)
        self.includes.extend(part.includes)
        for name, seconds in part.timings.items():
            self.timings[name] = self.timings.get(name, 0.0) + seconds
        for name, per_kind in part.examined.items():
            mine = self.examined.setdefault(name, {})
            for kind, count in per_kind.items():
                mine[kind] = mine.get(kind, 0) + count
        self.slowest = max(self.slowest, part.slowest)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Guard:
    """The pipeline's rules for a detector call: a parse failure becomes one scan error per
    file, a detector bug costs that detector's checks for those files, never the scan."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.parse_failed: set[str] = set()

    @contextmanager
    def running(
        self, detector: _Named, files: Sequence[SourceFile], *, examines: bool = True
    ) -> Iterator[None]:
        """``examines``: a call that returns normally counts ``files`` as examined by
        ``detector`` (not so for admitting a module's file or finding facts)."""
        started = time.perf_counter()
        try:
            yield
            if examines and isinstance(detector, Detector):
                for source in files:
                    if detector.examines(source):
                        per_kind = self.outcome.examined.setdefault(detector.name, {})
                        per_kind[source.kind.value] = per_kind.get(source.kind.value, 0) + 1
        except ParseError as exc:
            self._parse_error(files[0], redact_url(str(exc)), exc.line)
        except RecursionError:
            self._parse_error(files[0], "content nested too deeply to analyse", None)
        except MemoryError:
            self.outcome.errors.extend(
                ScanError(
                    path=source.path,
                    reason="budget-exceeded",
                    message=f"skipped by the {detector.name} detector: analysing it needed more "
                    "memory than the per-file budget (file_memory)",
                )
                for source in files
            )
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


def detect_unit(
    sources: Sequence[SourceFile],
    detectors: Sequence[Detector],
    finders: Sequence[FactFinder] = (),
) -> Outcome:
    """Run every interested detector and fact finder on one unit (a file, or one module's
    files)."""
    started = time.perf_counter()
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
        facts: list[ProviderUse] = []
        for finder in finders:
            if source.kind in finder.kinds:
                # A finder that fails loses its facts for this file, like a detector.
                with guard.running(finder, [source], examines=False):
                    facts.extend(finder.facts(source))
        outcome.facts.extend(distinct(facts, source.path))
    for source in sources:
        outcome.directives.extend(_directives(source))
        outcome.includes.extend((source.path, rel, digest) for rel, digest in source.included)
    if sources:
        outcome.slowest = (time.perf_counter() - started, sources[0].path)
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
            with guard.running(detector, [source], examines=False):
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
