"""Building ``PackData`` from what ``qgov report`` was given.

Each PATH is one repository: a folder (or file) scanned here the way ``qgov scan`` scans it —
the caller passes the scanning function, so the command's own preparation (config, catalog,
policy, options) is used, not a copy of it — or a qgov scan JSON file (``*.json``) another run
wrote. Statuses are computed for every repository with the pack's catalog and evidence
(``--attestations``, else a scanned folder's configured ``attestations:``; ``--selftest``)
as of the pack's day, so repositories scanned elsewhere are judged by the same rules and the
same evidence, whose files the pack holds.

A named input that cannot be used at all (no such path, an invalid attestations or self-test
file, an unknown framework) is a ``PackInputError`` (exit 2); evidence that is damaged or
unverifiable (a missing evidence file, a tampered ledger, an invalid vendor profile) is a
``Problem`` in the pack instead.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from scanner import __version__
from scanner.catalog import Catalog
from scanner.catalog_digest import catalog_digests, catalog_info
from scanner.clock import pinned_epoch
from scanner.config import Settings
from scanner.governance.lenient import PolicyFile, PolicyFileError, read_policy_file
from scanner.model import ScanResult, Tier
from scanner.pack import evidence as ev
from scanner.pack import governance as gov
from scanner.pack.model import (
    AttestationSection,
    EnvironmentInfo,
    InputRecord,
    PackData,
    Problem,
    RepositorySection,
)
from scanner.pack.rollup import rollup, worst_first
from scanner.reports.json_load import LoadedScan, ScanJsonError, load_scan_json
from scanner.reports.report import INCOMPLETE
from scanner.scan_info import ScanInfo, display_path
from scanner.status.attestations import (
    AttestationError,
    AttestationSet,
    hash_evidence,
    load_attestations,
)
from scanner.status.controls import ControlResult, compute_status
from scanner.status.selftest import SelftestError, SelftestEvidence, load_selftest

# Packages whose versions an auditor may ask about (the environment appendix).
KEY_PACKAGES = ("pydantic", "PyYAML", "Jinja2", "weasyprint", "cryptography", "bandit",
                "semgrep", "pip-audit", "python-hcl2", "nbformat", "qiskit", "qiskit-aer")


class PackInputError(Exception):
    """An input the pack cannot be made from; the message is one line naming it."""


@dataclass(frozen=True)
class ScannedRepository:
    """A folder scanned for the pack, with what the scan was prepared with."""

    path: Path
    result: ScanResult
    scan: ScanInfo
    settings: Settings
    catalog: Catalog


# (path, the pack's day) -> the scan; raises PackInputError for unusable input.
RepositoryScanner = Callable[[Path, dt.date], ScannedRepository]


@dataclass(frozen=True)
class PackRequest:
    targets: tuple[Path, ...]
    frameworks: tuple[str, ...] | None = None  # None: every framework of the catalog
    policy: Path | None = None
    ledger: Path | None = None
    ledger_key: Path | None = None  # the trusted public key of the ledger
    attestations: Path | None = None
    selftest: Path | None = None
    vendors: tuple[Path, ...] = ()
    title: str | None = None


@dataclass(frozen=True)
class Collected:
    data: PackData
    copies: tuple[ev.FileCopy, ...]  # files the writer copies into the pack


def is_scan_json(path: Path) -> bool:
    return path.suffix.lower() == ".json" and path.is_file()


def collect(
    request: PackRequest,
    *,
    scan_repository: RepositoryScanner,
    default_catalog: Callable[[], Catalog],
    now: dt.datetime,
) -> Collected:
    today = now.date()
    for target in request.targets:
        if not target.exists() and not target.is_symlink():
            raise PackInputError(f"{target}: no such file or directory")
    problems: list[Problem] = []
    scanned: list[tuple[Path, ScannedRepository | LoadedScan]] = []
    for target in request.targets:
        if is_scan_json(target):
            try:
                scanned.append((target, load_scan_json(target)))
            except ScanJsonError as exc:
                raise PackInputError(str(exc)) from exc
        else:
            scanned.append((target, scan_repository(target, today)))
    folders = [s for _, s in scanned if isinstance(s, ScannedRepository)]
    catalog = folders[0].catalog if folders else default_catalog()
    frameworks = _frameworks(request.frameworks, catalog)
    info = catalog_info(catalog, custom=bool(folders and folders[0].settings.custom_catalog))

    org_attestations = _attestations(request.attestations, catalog)
    selftest = _selftest(request.selftest)
    policy = _policy(request.policy)

    names = _names([t for t, _ in scanned], [s for _, s in scanned])
    repositories: list[RepositorySection] = []
    used_sets: dict[str, tuple[AttestationSet, list[str]]] = {}
    for (target, item), name in zip(scanned, names, strict=True):
        attestations = org_attestations
        if attestations is None and isinstance(item, ScannedRepository) \
                and item.settings.attestations:
            attestations = _attestations(item.settings.resolve(item.settings.attestations),
                                         catalog)
        if attestations is not None:
            key = os.path.realpath(attestations.path)
            used_sets.setdefault(key, (attestations, []))[1].append(name)
        section = _repository(name, target, item, catalog, info.digest, attestations,
                              selftest, today)
        repositories.append(section)
        problems.extend(_scan_problems(section))
    ordered = worst_first(repositories)

    copies: list[ev.FileCopy] = []
    attestation_sections: list[AttestationSection] = []
    for index, (attestations, users) in enumerate(used_sets.values(), start=1):
        attestation, planned, found = ev.attestation_section(attestations, index, today,
                                                             tuple(users))
        attestation_sections.append(attestation)
        copies += planned
        problems += found

    selftest_section, planned = ev.selftest_section(
        selftest, "no self-test evidence was given (--selftest FILE, written by qgov job "
        "selftest): control-test controls are not assessed")
    copies += planned

    ledger = None
    if request.ledger is not None:
        ledger, planned, found = ev.ledger_section(request.ledger, public_key=request.ledger_key,
                                                   policy=request.policy, as_of=now)
        copies += planned
        problems += found

    loaded_policies = {os.path.realpath(policy.path): policy} if policy else {}
    policy_paths = [request.policy] if request.policy else []
    policy_paths += [f.settings.resolve(f.settings.policy) for f in folders if f.settings.policy]
    registers = gov.register_files(policy_paths, [f.path for f in folders])
    exceptions, found = gov.exception_entries(registers, loaded_policies, ordered, today)
    problems += found
    review, found = gov.access_review(policy, request.ledger, today)
    problems += found
    vendors, found = gov.vendor_sections(gov.profile_paths(request.vendors),
                                         _strictest_tier(ordered), today, catalog)
    problems += found

    data = PackData(
        title=request.title or _title(ordered),
        generated_at=now,
        today=today,
        tool_version=__version__,
        catalog=catalog,
        catalog_info=info,
        catalog_digests=catalog_digests(catalog),
        frameworks=frameworks,
        repositories=tuple(ordered),
        rollup=rollup(catalog, ordered, frameworks),
        selftest=selftest_section,
        ledger=ledger,
        vendors=tuple(vendors),
        access_review=review,
        exceptions=tuple(exceptions),
        suppressions=tuple(gov.suppression_entries(ordered, today)),
        attestations=tuple(attestation_sections),
        environment=environment(),
        problems=tuple(problems),
        policy=(display_path(policy.path), _sha256(policy.raw)) if policy else None,
        inputs=tuple(_inputs(scanned, request, policy, selftest, attestation_sections)),
    )
    return Collected(data=data, copies=tuple(copies))


# --- inputs ------------------------------------------------------------------------------------


def _frameworks(wanted: tuple[str, ...] | None, catalog: Catalog) -> tuple[str, ...]:
    known = sorted(catalog.frameworks)
    if wanted is None:
        return tuple(known)
    unknown = [key for key in wanted if key not in catalog.frameworks]
    if unknown:
        raise PackInputError(f"--frameworks: unknown framework {unknown[0]} (known: "
                             f"{', '.join(known)})")
    return tuple(dict.fromkeys(wanted))


def _attestations(path: Path | None, catalog: Catalog) -> AttestationSet | None:
    if path is None:
        return None
    try:
        return load_attestations(path, catalog.controls)
    except AttestationError as exc:
        raise PackInputError(str(exc).splitlines()[0]) from exc


def _selftest(path: Path | None) -> SelftestEvidence | None:
    if path is None:
        return None
    try:
        return load_selftest(path)
    except SelftestError as exc:
        raise PackInputError(str(exc).splitlines()[0]) from exc


def _policy(path: Path | None) -> PolicyFile | None:
    if path is None:
        return None
    try:
        return read_policy_file(path)
    except PolicyFileError as exc:
        raise PackInputError(str(exc)) from exc


def _sha256(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()


# --- repositories ------------------------------------------------------------------------------


def _names(targets: Sequence[Path], items: Sequence[ScannedRepository | LoadedScan]) -> list[str]:
    """A short unique name per repository: the scanned folder's name, or for a scan JSON the
    name of the folder it scanned (else the file's stem)."""
    names: list[str] = []
    for target, item in zip(targets, items, strict=True):
        if isinstance(item, LoadedScan) and item.scan is not None and item.scan.targets:
            base = Path(item.scan.targets[0].path).name or target.stem
        elif isinstance(item, LoadedScan):
            base = target.stem
        else:
            base = Path(os.path.abspath(target)).name or "root"
        name, number = base, 2
        while name in names:
            name, number = f"{base}-{number}", number + 1
        names.append(name)
    return names


def _repository(
    name: str,
    target: Path,
    item: ScannedRepository | LoadedScan,
    catalog: Catalog,
    catalog_digest: str,
    attestations: AttestationSet | None,
    selftest: SelftestEvidence | None,
    today: dt.date,
) -> RepositorySection:
    result = item.result
    if pinned_epoch() is not None:
        # A reproducible pack: how long the scan took is the one thing that always differs.
        result = result.model_copy(update={"duration_seconds": 0.0})
    if isinstance(item, ScannedRepository):
        result = result.model_copy(update={"roots": tuple(display_path(r) for r in result.roots)})
    status = compute_status(result, catalog, attestations=attestations, selftest=selftest,
                            today=today)
    if status.attestations is not None:
        status = replace(status, attestations=replace(
            status.attestations, path=Path(display_path(status.attestations.path))))
    if status.selftest is not None:
        status = replace(status, selftest=replace(
            status.selftest, path=Path(display_path(status.selftest.path))))
    notes: list[str] = []
    if isinstance(item, LoadedScan):
        notes += _json_notes(item, status.by_id(), catalog_digest)
        return RepositorySection(name=name, source="scan-json", origin=display_path(target),
                                 scan=item.scan, result=result, status=status,
                                 notes=tuple(notes), origin_sha256=item.sha256)
    return RepositorySection(name=name, source="scan", origin=display_path(target),
                             scan=item.scan, result=result, status=status, notes=tuple(notes))


def _json_notes(loaded: LoadedScan, statuses: dict[str, ControlResult], digest: str) -> list[str]:
    notes = []
    if loaded.scan is None:
        notes.append("the scan JSON has no scan section (written by an older qgov): its commit, "
                     "time and configuration are unknown")
    elif loaded.scan.catalog.digest != digest:
        notes.append(f"scanned with another catalog (digest {loaded.scan.catalog.digest[:12]}…, "
                     f"qgov {loaded.scan.tool_version}); statuses here use this pack's catalog")
    if loaded.result.coverage is None:
        notes.append("the scan JSON does not record what ran: every control is not assessed")
    changed = sorted(
        cid for cid, recorded in loaded.recorded_statuses.items()
        if cid in statuses and statuses[cid].status.value != recorded
    )
    if changed:
        shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6
                                          else "")
        notes.append(f"{len(changed)} control status(es) differ from those the scan recorded "
                     f"({shown}): statuses here are computed with this pack's evidence "
                     "(--attestations, --selftest) as of its day")
    return notes


def _scan_problems(section: RepositorySection) -> list[Problem]:
    incomplete = [e for e in section.result.errors if e.reason in INCOMPLETE]
    problems = []
    if incomplete:
        problems.append(Problem(section.name, f"{len(incomplete)} file(s) or engine(s) were not "
                                "fully examined (see the repository's scan errors)"))
    if section.result.coverage is None:
        problems.append(Problem(section.name, "what the scan ran is not recorded; no control "
                                "can be shown as passing"))
    return problems


def _strictest_tier(repositories: Sequence[RepositorySection]) -> Tier:
    order = list(Tier)
    tiers = [r.result.coverage.tier for r in repositories if r.result.coverage is not None]
    return max(tiers, key=order.index) if tiers else Tier.INTERNAL_PILOT


def _title(repositories: Sequence[RepositorySection]) -> str:
    names = sorted(r.name for r in repositories)
    if len(names) == 1:
        return f"Audit pack: {names[0]}"
    return f"Audit pack: {len(names)} repositories"


def _inputs(
    scanned: Sequence[tuple[Path, ScannedRepository | LoadedScan]],
    request: PackRequest,
    policy: PolicyFile | None,
    selftest: SelftestEvidence | None,
    attestations: Sequence[AttestationSection],
) -> list[InputRecord]:
    records = []
    for target, item in scanned:
        if isinstance(item, LoadedScan):
            records.append(InputRecord("scan-json", display_path(target), item.sha256))
        else:
            git = item.scan.targets[0].git if item.scan.targets else None
            records.append(InputRecord("scan-target", display_path(target), None,
                                       git.commit if git else None, git.dirty if git else None))
    if policy is not None:
        records.append(InputRecord("policy", display_path(policy.path), _sha256(policy.raw)))
    records += [InputRecord("attestations", a.source, a.sha256) for a in attestations]
    if selftest is not None:
        records.append(InputRecord("selftest", display_path(selftest.path), selftest.sha256))
    if request.ledger is not None:
        hashed = hash_evidence(request.ledger.parent, request.ledger.name)
        records.append(InputRecord("ledger", display_path(request.ledger), hashed.sha256))
    for path in gov.profile_paths(request.vendors):
        hashed = hash_evidence(path.parent, path.name)
        records.append(InputRecord("vendor-profile", display_path(path), hashed.sha256))
    return records


def environment() -> EnvironmentInfo:
    packages = []
    for name in KEY_PACKAGES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        packages.append((name, version))
    return EnvironmentInfo(
        python=platform.python_version(),
        implementation=sys.implementation.name,
        platform=f"{platform.system()} {platform.machine()}",
        packages=tuple(sorted(packages, key=lambda p: p[0].lower())),
    )
