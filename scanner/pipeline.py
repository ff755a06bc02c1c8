"""One scan, start to finish: discover -> detect (+ engines) -> findings -> suppress.

Detection runs in supervised worker processes (``scanner.workers``): regex work is
CPU-bound and holds the GIL, and a file that runs past its budget must be stoppable. Engines
run meanwhile (``scanner.engine_runs``): bandit in shards on the same workers, the others,
which mostly wait on outside processes, on threads. The unit of work is a file,
or every file of one module for a detector that reads modules (Terraform), so a module is
parsed once, on one worker; units the result cache holds are not analysed again
(``scanner.incremental``). Every stage returns new data; nothing reaches back into an
earlier stage.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, cast

from scanner.cache import ResultCache
from scanner.catalog import Catalog
from scanner.config import Settings
from scanner.correlate import shared_credentials
from scanner.detectors.registry import DetectorOptions, build_detectors
from scanner.discover import Candidate, read_source, rebase_patterns
from scanner.engines.registry import build_engines
from scanner.findings import FindingBuilder
from scanner.fs import ScanRoot
from scanner.incremental import detect
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
from scanner.repo import RepoRoot, find_root
from scanner.source import SourceFile
from scanner.status.coverage import scan_coverage
from scanner.suppress.baseline import Baseline, apply_baseline
from scanner.suppress.exceptions import Register, apply_exceptions, root_registers
from scanner.suppress.inline import apply_inline
from scanner.targets import Selection, config_base, discover_sources, register_files
from scanner.workers import Budget

if TYPE_CHECKING:
    from scanner.governance.lenient import PolicyFile

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
    repo: RepoRoot | None = None,
    selection: Selection | None = None,
    cache: ResultCache | None = None,
) -> ScanRun:
    """Scan ``roots``. ``policy`` (``--policy``/``policy:``, already read by the caller) adds
    its exceptions to every root's, is itself checked as a file of the scan, and is what
    the provider inventory is checked against (without one: the one policy found in the
    scanned tree, if exactly one validates). Paths are relative to ``repo`` (default: the
    repository root of ``roots``, see ``scanner.repo``); ``selection`` narrows what is read
    (named files, ``--staged``), and ``cache`` keeps and reuses per-file results."""
    started = time.perf_counter()
    today = today or dt.date.today()
    timings: dict[str, float] = {}
    errors: list[ScanError] = []
    notices: list[str] = []
    repo = repo or default_root(roots, settings)
    selection = selection or Selection.of(repo, roots)
    options = _detector_options(settings, catalog, today, repo)
    sources, excluded = discover_sources(repo, selection, settings, build_detectors(options),
                                         errors, notices)
    policy_source = _policy_source(policy, repo.path, sources, settings, errors)
    if policy_source is not None:
        sources.append(policy_source)
    timings["discover+read"] = time.perf_counter() - started

    engines = build_engines(settings, Path(roots[0]).absolute())
    budget = Budget(settings.file_timeout, settings.file_memory)
    outcome, engine_output = detect(
        sources, options, budget, engines, jobs=settings.jobs, progress=progress, cache=cache,
        today=today, timings=timings,
    )
    if cache is not None:
        notices.extend(cache.notices())
        cache.maybe_prune()
    timings.update(outcome.timings)
    if outcome.slowest[1]:
        timings[f"slowest file: {outcome.slowest[1]}"] = outcome.slowest[0]
    errors.extend(outcome.errors)
    errors.extend(engine_output.errors)
    notices.extend(engine_output.notices)

    issues = [*outcome.issues, *engine_output.issues]
    cross_started = time.perf_counter()
    inventory_policy = None
    if not selection.partial:
        inventory_policy = _inventory_policy(policy, [repo.path], sources, notices)
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
    partial_registers = register_files(repo, sources) if selection.partial else []
    registers = root_registers([*sources, *partial_registers])
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


def default_root(roots: Sequence[Path], settings: Settings) -> RepoRoot:
    """The repository root of ``roots`` under ``settings`` (see ``scanner.repo``)."""
    return find_root(
        roots,
        config_dir=Path(settings.source_dir) if settings.source_dir else None,
        config_root=settings.root,
    )


def _detector_options(
    settings: Settings, catalog: Catalog, today: dt.date, repo: RepoRoot
) -> DetectorOptions:
    """The detectors' options; ``regulated_paths`` are written for the config's folder."""
    options = DetectorOptions.from_settings(settings, catalog)
    regulated = tuple(rebase_patterns(options.regulated_paths, config_base(repo, settings)))
    return replace(options, today=today, regulated_paths=regulated)


def _policy_source(
    policy: PolicyFile | None,
    base: Path,
    sources: Sequence[SourceFile],
    settings: Settings,
    errors: list[ScanError],
) -> SourceFile | None:
    """The ``--policy`` file as one more file of the scan, unless the scan already holds it.
    Its path is written relative to the repository root ``base`` (``../policy/org.yaml``)."""
    if policy is None:
        return None
    real = os.path.realpath(policy.path)
    if any(os.path.realpath(s.abs_path) == real for s in sources):
        return None
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
