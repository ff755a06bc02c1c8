"""``PackData``: everything an audit pack shows, built once (``scanner.pack.collect``) and
handed to every writer — the HTML/PDF report, the machine-readable files, the manifest.

It is plain, frozen data: renderers read it and decide nothing about status. Paths in it are
already shown the way a reader may see them (relative to the working folder, ``~`` for the
home folder, pack-relative for files copied into the pack); nothing in it holds a secret
value (findings carry masked evidence only).

Stability: renderers outside this package depend on these names. Adding a field is fine;
renaming or removing one is not.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from scanner.catalog import Catalog
from scanner.catalog_digest import CatalogDigests, CatalogInfo
from scanner.governance.access_review import AccessReview
from scanner.model import Finding, ScanResult, Severity, SuppressionKind
from scanner.scan_info import ScanInfo
from scanner.status.attestations import AttestationSet, LoadedAttestation
from scanner.status.controls import ComplianceStatus
from scanner.status.matrix import FrameworkMatrix
from scanner.status.selftest import SelftestEvidence
from scanner.status.statuses import ControlStatus
from scanner.vendors.assess import Assessment

RepositorySource = Literal["scan", "scan-json"]


@dataclass(frozen=True)
class RepositorySection:
    """One repository of the pack: a folder scanned by ``qgov report`` or a scan JSON file
    another run wrote."""

    name: str  # unique in the pack; also its folder under repositories/ when there are several
    source: RepositorySource
    origin: str  # the scanned path or the scan JSON file, as shown
    scan: ScanInfo | None  # None: a scan JSON written before the contract had a scan section
    result: ScanResult
    status: ComplianceStatus
    # What a reader should know about this repository's data (a scan JSON written with
    # another catalog, attestations recorded there that count only when given here …).
    notes: tuple[str, ...] = ()
    # The scan JSON file read: its SHA-256 (None for a folder scanned here).
    origin_sha256: str | None = None

    @property
    def active_findings(self) -> tuple[Finding, ...]:
        return self.result.active_findings

    def severity_counts(self) -> dict[str, int]:
        found = Counter(f.severity.value for f in self.result.active_findings)
        return {s.value: found.get(s.value, 0) for s in Severity}

    @property
    def failing_controls(self) -> int:
        return sum(1 for r in self.status.controls
                   if r.status in (ControlStatus.FAILING, ControlStatus.CONTROL_TEST_FAILED))


@dataclass(frozen=True)
class OrgControl:
    """One control across every repository (``scanner.pack.rollup`` says how)."""

    id: str
    title: str
    status: ControlStatus
    by_repository: tuple[tuple[str, ControlStatus], ...]  # (repository name, status)
    reason: str


@dataclass(frozen=True)
class Rollup:
    """The organisation's status: per control and per framework requirement, over all
    repositories (for one repository, that repository's own)."""

    controls: tuple[OrgControl, ...]
    frameworks: tuple[FrameworkMatrix, ...]  # only the selected frameworks

    def counts(self) -> dict[str, int]:
        found = Counter(c.status for c in self.controls)
        return {status.value: found.get(status, 0) for status in ControlStatus}


ExceptionState = Literal["honoured", "expired", "incomplete"]


@dataclass(frozen=True)
class ExceptionEntry:
    """One entry of an exceptions register (a policy's ``exceptions:`` or a
    ``.qgov-exceptions.yaml``), with whether it is honoured on the pack's day."""

    id: str | None
    control: str | None
    risk_owner: str | None
    reason: str | None
    compensating_controls: tuple[str, ...]
    expires: dt.date | None
    ticket: str | None
    scope: dict[str, tuple[str, ...]]  # paths / resources / rules, those given
    register: str  # the file it is in, as shown
    state: ExceptionState
    missing: tuple[str, ...] = ()  # required fields it lacks (state incomplete)
    findings_covered: int = 0  # findings it turned into accepted risk, all repositories


@dataclass(frozen=True)
class SuppressionEntry:
    """A suppressed finding: who accepted it, why, and until when."""

    repository: str
    rule_id: str
    severity: Severity
    path: str
    line: int | None
    fingerprint: str
    kind: SuppressionKind
    reason: str | None
    owner: str | None
    until: str | None
    id: str | None  # the exception's id
    expired: bool = False  # ``until`` is before the pack's day


@dataclass(frozen=True)
class AttestationFileCopy:
    """An attestation's evidence file as copied into the pack."""

    source: str  # as written in attestations.yaml (relative to it)
    pack_path: str | None  # where it is in the pack; None when it could not be copied
    sha256: str | None
    size: int | None
    problem: str | None = None


@dataclass(frozen=True)
class AttestationRecord:
    """One attestation, with its state on the pack's day and its evidence in the pack."""

    attestation: LoadedAttestation
    current: bool
    state: str | None  # why it does not count (lapsed, missing evidence …); None: it counts
    lapsed: bool
    files: tuple[AttestationFileCopy, ...]


@dataclass(frozen=True)
class AttestationSection:
    source: str  # the attestations file, as shown
    repositories: tuple[str, ...]  # the repositories whose statuses it counts for
    sha256: str
    pack_path: str  # the attestations file's copy in the pack
    records: tuple[AttestationRecord, ...]
    evidence_set: AttestationSet


@dataclass(frozen=True)
class SelftestSection:
    """Governed-job control-test results, or why there are none."""

    evidence: SelftestEvidence | None
    why_missing: str | None  # set when evidence is None
    pack_path: str | None = None  # the evidence file's copy in the pack
    origin: str | None = None  # where it came from, as shown
    # "given": --selftest FILE; "run": qgov report ran the self-test (--policy).
    how: Literal["given", "run"] | None = None


@dataclass(frozen=True)
class LedgerSection:
    """The governed job's audit ledger, copied into the pack with its verification."""

    origin: str  # the ledger file, as shown
    pack_path: str | None  # its copy in the pack (None: could not be read)
    verdict: str  # INTACT, INTACT (qualified) …, TAMPERED, UNREADABLE
    intact: bool
    verification: dict[str, Any]  # VerifyReport.to_json(), paths shown
    problems: tuple[str, ...] = ()
    proven: tuple[str, ...] = ()
    not_proven: tuple[str, ...] = ()
    # The answers of a ledger that verified (scanner.evidence): `qgov ledger metrics`'s JSON,
    # `qgov ledger query`'s job rows (JSON) and CSV; paths shown as elsewhere in the pack.
    metrics: dict[str, Any] | None = None
    jobs: tuple[dict[str, Any], ...] = ()
    jobs_csv: str | None = None
    # Why there are no answers (failed verification, changed while read …); None: answered.
    answers_withheld: str | None = None
    extra_files: tuple[str, ...] = ()  # further pack files (metrics.json, jobs.csv …)


@dataclass(frozen=True)
class VendorSection:
    assessment: Assessment
    verdict: str
    score: int
    gaps: int
    origin: str


@dataclass(frozen=True)
class Problem:
    """An input that was damaged, unverifiable or unusable: shown in the pack, never skipped."""

    source: str  # what input (a file as shown, or a kind of input)
    message: str


@dataclass(frozen=True)
class InputRecord:
    """One input of the pack, described for the cover and the manifest (no secrets, no
    absolute home paths)."""

    kind: str  # scan-target, scan-json, policy, attestations, selftest, ledger, vendor-profile
    path: str  # as shown
    sha256: str | None = None  # files: their SHA-256; folders: None
    git_commit: str | None = None  # scanned folders in a git work tree
    git_dirty: bool | None = None


@dataclass(frozen=True)
class EnvironmentInfo:
    python: str
    implementation: str
    platform: str
    packages: tuple[tuple[str, str], ...]  # (name, version), sorted; "not installed" when absent


@dataclass(frozen=True)
class PackData:
    title: str
    generated_at: dt.datetime  # UTC; SOURCE_DATE_EPOCH pins it
    today: dt.date  # the day statuses, expiries and reviews are evaluated on
    tool_version: str
    catalog: Catalog
    catalog_info: CatalogInfo
    catalog_digests: CatalogDigests
    frameworks: tuple[str, ...]  # selected framework keys, in display order
    repositories: tuple[RepositorySection, ...]  # worst first
    rollup: Rollup
    selftest: SelftestSection
    ledger: LedgerSection | None
    vendors: tuple[VendorSection, ...]
    access_review: AccessReview | None
    exceptions: tuple[ExceptionEntry, ...]
    suppressions: tuple[SuppressionEntry, ...]
    attestations: tuple[AttestationSection, ...]  # each attestations file used
    environment: EnvironmentInfo
    problems: tuple[Problem, ...]
    # The organisation policy given (--policy), as shown, with its SHA-256.
    policy: tuple[str, str] | None = None
    inputs: tuple[InputRecord, ...] = ()
    # Pack-relative paths of the machine-readable files, for the report to link.
    files: dict[str, str] = field(default_factory=dict)

    @property
    def multi_repository(self) -> bool:
        return len(self.repositories) > 1

    def findings_total(self) -> int:
        return sum(len(r.result.active_findings) for r in self.repositories)

    def severity_counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for repository in self.repositories:
            total.update(repository.severity_counts())
        return {s.value: total.get(s.value, 0) for s in Severity}

    def selected_matrices(self, repository: RepositorySection) -> tuple[FrameworkMatrix, ...]:
        """A repository's framework matrices, only the selected frameworks, in order."""
        by_key = {m.key: m for m in repository.status.frameworks}
        return tuple(by_key[key] for key in self.frameworks if key in by_key)
