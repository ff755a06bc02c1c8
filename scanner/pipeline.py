"""One scan, start to finish: discover -> detect (+ engines) -> findings -> suppress.

Detection runs in supervised worker processes (``scanner.workers``): regex work is
CPU-bound and holds the GIL, and a file that runs past its budget must be stoppable. Engines,
which are mostly outside processes, run on a thread meanwhile. The unit of work is a file,
or every file of one module for a detector that reads modules (Terraform), so a module is
parsed once, on one worker. Every stage returns new data; nothing reaches back into an
earlier stage.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import cast

from scanner.catalog import Catalog
from scanner.config import Settings
from scanner.correlate import shared_credentials
from scanner.detection import Outcome, work_units
from scanner.detectors.registry import DetectorOptions, build_detectors
from scanner.discover import Candidate, read_source, walk
from scanner.engines.interface import Engine, EngineOutput
from scanner.engines.registry import build_engines
from scanner.findings import FindingBuilder
from scanner.fs import ScanRoot
from scanner.governance.lenient import PolicyFile
from scanner.inventory.build import build_inventory
from scanner.inventory.checks import InventoryCheck, check_inventory
from scanner.inventory.policy import TIER_DATA_CLASS, InventoryPolicy, PolicySections
from scanner.inventory.scope import found_policy, policy_label, tree_profiles
from scanner.model import (
    FileKind,
    Finding,
    Inventory,
    Issue,
    ProviderUse,
    ScanError,
    ScanResult,
    printable,
)
from scanner.source import SourceFile
from scanner.status.coverage import scan_coverage
from scanner.suppress.baseline import Baseline, apply_baseline
from scanner.suppress.exceptions import Register, apply_exceptions, root_registers
from scanner.suppress.inline import apply_inline
from scanner.workers import Budget, WorkerPool

ProgressCallback = Callable[[int, int], None]

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
    baseline: Baseline | frozenset[str] = frozenset(),
    progress: ProgressCallback | None = None,
    today: dt.date | None = None,
    policy: PolicyFile | None = None,
) -> ScanRun:
    """Scan ``roots``. ``policy`` (``--policy``/``policy:``, already read by the caller) adds
    its exceptions to every root's, is itself checked as a file of the scan, and is what
    the provider inventory is checked against (without one: the one policy found in the
    scanned tree, if exactly one validates)."""
    started = time.perf_counter()
    today = today or dt.date.today()
    timings: dict[str, float] = {}
    errors: list[ScanError] = []
    notices: list[str] = []
    sources, excluded = _discover(roots, settings, errors)
    policy_source = _policy_source(policy, roots, sources, settings, errors)
    if policy_source is not None:
        sources.append(policy_source)
    timings["discover+read"] = time.perf_counter() - started

    options = replace(DetectorOptions.from_settings(settings, catalog), today=today)
    engines = build_engines(settings, Path(roots[0]).absolute())
    budget = Budget(settings.file_timeout, settings.file_memory)
    workers = min(settings.jobs or os.cpu_count() or 1, max(1, len(sources) // 8))
    # The workers are forked before the engine thread starts (forking beside a running
    # thread can deadlock the child).
    with WorkerPool(workers, options, budget) as pool, ThreadPoolExecutor(1) as engine_pool:
        engine_future = engine_pool.submit(_run_engines, engines, sources)
        detect_started = time.perf_counter()
        outcome = _detect_all(sources, pool, progress)
        timings["detectors"] = time.perf_counter() - detect_started
        engine_output, engine_timings = engine_future.result()
    timings.update(outcome.timings)
    timings.update(engine_timings)
    if outcome.slowest[1]:
        timings[f"slowest file: {outcome.slowest[1]}"] = outcome.slowest[0]
    errors.extend(outcome.errors)
    errors.extend(engine_output.errors)
    notices.extend(engine_output.notices)

    issues = [*outcome.issues, *engine_output.issues]
    cross_started = time.perf_counter()
    inventory_policy = _inventory_policy(policy, roots, sources, notices)
    issues += shared_credentials(
        issues,
        _line_reader(sources),
        inventory_policy.environment_refs if inventory_policy else (),
    )
    inventory, inventory_issues = _inventory(outcome.facts, inventory_policy, settings, sources)
    issues += inventory_issues
    timings["correlate+inventory"] = time.perf_counter() - cross_started

    builder = FindingBuilder(catalog)
    findings = [f for f in builder.build_all(issues) if not settings.rule_disabled(f.rule_id)]
    marked, problems = apply_inline(findings, outcome.directives, today)
    final = marked + builder.build_all(problems)
    errors.extend(builder.errors())
    registers = root_registers(sources)
    if policy is not None:
        origin = policy_source.path if policy_source is not None else str(policy.path)
        registers.append(Register(origin, policy.exceptions))
    final = apply_exceptions(final, registers, today, _roots_of(sources))
    if isinstance(baseline, frozenset):
        baseline = Baseline.of(baseline)
    if baseline:
        final, expired = apply_baseline(final, baseline, today)
        notices.extend(expired)
    final.sort(key=lambda f: (-f.severity.rank, f.path, f.line or 0, f.rule_id))

    result = ScanResult(
        roots=tuple(str(r) for r in roots),
        findings=tuple(_dedupe(_drop_overlaps(final, catalog))),
        errors=tuple(sorted(errors, key=lambda e: (e.path, e.reason))),
        files_scanned=len(sources),
        files_excluded=excluded,
        duration_seconds=round(time.perf_counter() - started, 3),
        notices=tuple(dict.fromkeys(notices)),
        inventory=inventory,
        coverage=scan_coverage(
            settings, options, outcome.examined, engine_output, len(sources),
            inventory_checked=inventory_policy is not None,
        ),
    )
    return ScanRun(result=result, timings=timings)


# --- cross-file stages ---------------------------------------------------------------------


def _inventory_policy(
    given: PolicyFile | None,
    roots: Sequence[Path],
    sources: Sequence[SourceFile],
    notices: list[str],
) -> InventoryPolicy | None:
    """The policy the inventory is checked against: the one given, else the only policy in
    the scanned tree that validates (several: none, and a notice says why)."""
    policy: InventoryPolicy | None = None
    if given is not None and given.kind == "policy":
        label = policy_label(given.path, roots)
        view = cast(PolicySections, given.view)  # the lenient model has every section
        policy = InventoryPolicy.from_policy(view, given.path, label, "given")
    else:
        found = found_policy(sources)
        if isinstance(found, int):
            if found > 1:
                notices.append(
                    f"{found} governance policies in the scanned tree validate; the provider "
                    "inventory was checked against none of them (name one with --policy)"
                )
            return None
        source, org = found
        policy = InventoryPolicy.from_policy(org, source.abs_path, source.path, "found")
        notices.append(
            f"no policy was named (--policy, policy:); the provider inventory was checked "
            f"against {source.path}, the one governance policy found in the scanned tree"
        )
    if policy.unknown_providers:
        notices.append(
            f"the policy {policy.label} lists providers qgov does not recognise in code: "
            + ", ".join(policy.unknown_providers)
        )
    return policy


def _inventory(
    facts: Sequence[ProviderUse],
    policy: InventoryPolicy | None,
    settings: Settings,
    sources: Sequence[SourceFile],
) -> tuple[Inventory, list[Issue]]:
    inventory = build_inventory(facts)
    if policy is None:
        return inventory, []
    check = InventoryCheck(
        policy=policy,
        tier=settings.tier,
        data_class=settings.data_class or TIER_DATA_CLASS[settings.tier],
        tree_profiles=tree_profiles(sources),
    )
    issues, inventory = check_inventory(facts, inventory, check)
    return inventory, issues


def _line_reader(sources: Sequence[SourceFile]) -> Callable[[str, int], str]:
    by_path = {source.path: source for source in sources}

    def line_text(path: str, line: int) -> str:
        source = by_path.get(path)
        if source is None or not 1 <= line <= len(source.lines):
            return ""
        return source.lines[line - 1]

    return line_text


def _discover(
    roots: Sequence[Path], settings: Settings, errors: list[ScanError]
) -> tuple[list[SourceFile], int]:
    """The files to scan, and how many files and folders the ignore rules left out."""
    sources: list[SourceFile] = []
    excluded = 0
    for root in roots:
        walked = walk(
            root,
            max_file_bytes=settings.max_file_size,
            exclude=settings.exclude,
            use_gitignore=settings.use_gitignore,
        )
        errors.extend(walked.errors)
        excluded += walked.excluded
        # A single-file root reads its includes from the folder it sits in.
        folder = root if root.is_dir() else root.parent
        scan_root = ScanRoot.open(folder, settings.max_file_size)
        for candidate in walked.candidates:
            read = read_source(candidate, scan_root)
            if isinstance(read, ScanError):
                errors.append(read)
            else:
                sources.append(read)
    return sources, excluded


def _policy_source(
    policy: PolicyFile | None,
    roots: Sequence[Path],
    sources: Sequence[SourceFile],
    settings: Settings,
    errors: list[ScanError],
) -> SourceFile | None:
    """The ``--policy`` file as one more file of the scan, unless a root already holds it.
    Its path is written relative to the first root (``../policy/org-policy.yaml``)."""
    if policy is None:
        return None
    real = os.path.realpath(policy.path)
    if any(os.path.realpath(s.abs_path) == real for s in sources):
        return None
    first = roots[0].absolute()
    base = first if first.is_dir() else first.parent
    shown = printable(PurePosixPath(Path(os.path.relpath(real, base)).as_posix()).as_posix())
    scan_root = ScanRoot.open(Path(real).parent, settings.max_file_size)
    read = read_source(Candidate(shown, Path(real), 0), scan_root)
    if isinstance(read, ScanError):
        errors.append(read)
        return None
    return SourceFile(read.path, read.abs_path, FileKind.GOVERNANCE_POLICY, read.text, root=None)


def _roots_of(sources: Iterable[SourceFile]) -> dict[str, set[Path]]:
    """Scan roots holding a file of each path (several roots may hold a `README.md`)."""
    found: dict[str, set[Path]] = {}
    for source in sources:
        if source.root is not None:
            found.setdefault(source.path, set()).add(source.root.path)
    return found


def _detect_all(
    sources: list[SourceFile], pool: WorkerPool, progress: ProgressCallback | None
) -> Outcome:
    """Every unit on the pool, biggest first so one huge notebook does not end up alone
    at the tail."""
    units = work_units(sources, build_detectors(pool.options))
    units.sort(key=lambda unit: sum(len(s.text) for s in unit), reverse=True)
    return pool.run(units, progress)


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
                ],
                not_run={engine.name: f"{engine.name} failed"},
            )
        timings[f"engine:{engine.name}"] = time.perf_counter() - started
        output.issues.extend(part.issues)
        output.errors.extend(part.errors)
        output.notices.extend(part.notices)
        output.not_run.update(part.not_run)
        output.vuln_db = part.vuln_db or output.vuln_db
        if engine.name not in part.not_run:
            output.ran[engine.name] = len(wanted)
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
