"""The one vocabulary every pipeline stage shares: findings, scan problems, results.

Findings are frozen; later stages (enrichment, suppression) derive new ones with
``model_copy(update=...)`` instead of mutating, so data flows one way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

# What must not reach a terminal, an XML report or a JSON encoder as is: control characters
# (ANSI escapes from a hostile file name), bidirectional overrides (text that reads
# differently than it runs) and lone surrogates (file names that are not UTF-8).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNPRINTABLE_IN_PATH = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, path: bool = True) -> str:
    """``text`` with unprintable characters written as ``\\xNN``/``\\uNNNN`` escapes; paths
    lose tabs and newlines too, messages keep them."""
    pattern = _UNPRINTABLE_IN_PATH if path else _UNPRINTABLE
    return pattern.sub(_escape, text) if pattern.search(text) else text


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @classmethod
    def parse(cls, label: object, default: Confidence) -> Confidence:
        """An outside tool's confidence label ("HIGH", "medium" …), else ``default``."""
        try:
            return cls(str(label).lower())
        except ValueError:
            return default


class Domain(StrEnum):
    IDENTITY = "identity"
    SECRETS = "secrets"
    SUPPLY_CHAIN = "supply-chain"
    SDLC = "sdlc"
    NOTEBOOK = "notebook"
    DATA = "data"
    ENCRYPTION = "encryption"
    LOGGING = "logging"
    PROVENANCE = "provenance"
    VENDOR = "vendor"
    NETWORK = "network"
    CICD = "cicd"
    COST = "cost"
    GOVERNANCE = "governance"


class Tier(StrEnum):
    """How much a workload is exposed, and so how much is required of it."""

    EXPLORATORY = "exploratory"
    INTERNAL_PILOT = "internal-pilot"
    REGULATED_PILOT = "regulated-pilot"
    PRODUCTION_CRITICAL = "production-critical"

    @property
    def regulated(self) -> bool:
        """Regulated data or production: hashes, customer-managed keys and approvals."""
        return self in (Tier.REGULATED_PILOT, Tier.PRODUCTION_CRITICAL)


# The class of data a workload handles (policy, job specs, `--data-class`). Here rather than
# in scanner.governed so that the config and `qgov scan` need none of the governed job.
DataClass = Literal["synthetic", "masked", "internal", "confidential", "regulated"]


class FileKind(StrEnum):
    PYTHON = "python"
    NOTEBOOK = "notebook"
    TERRAFORM = "terraform"
    CLOUDFORMATION = "cloudformation"
    KUBERNETES = "kubernetes"
    DOCKERFILE = "dockerfile"
    GITHUB_WORKFLOW = "github-workflow"
    GITHUB_ACTION = "github-action"  # action.yml of a composite or docker action
    GITLAB_CI = "gitlab-ci"
    REQUIREMENTS = "requirements"
    PYPROJECT = "pyproject"
    DEPENDENCY_MANIFEST = "dependency-manifest"
    VENDOR_PROFILE = "vendor-profile"
    GOVERNANCE_POLICY = "governance-policy"
    JOB_SPEC = "job-spec"
    QISKIT_CREDENTIALS = "qiskit-credentials"
    ENV_FILE = "env-file"
    DATASET = "dataset"  # committed data and logs: CSV/TSV, JSON lines, .log/.out, text dumps
    YAML = "yaml"
    JSON = "json"
    OTHER_TEXT = "other-text"
    BINARY = "binary"


class SuppressionKind(StrEnum):
    INLINE = "inline"
    BASELINE = "baseline"
    EXCEPTION = "exception"  # accepted risk from the exceptions register


class Suppression(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SuppressionKind
    reason: str | None = None
    until: str | None = None
    # The register entry that accepted the risk (exceptions), and who answers for it
    # (an exception's risk owner, a baseline entry's owner).
    id: str | None = None
    owner: str | None = None


# Framework key -> requirement ids, as an immutable value: findings share it.
FrameworkRefs = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class Sealed:
    """What the parent needs of an issue's content once the content itself is gone: the
    content hash its fingerprint takes, and for a credential how it is shown and the
    SHA-256 the cross-file check compares. Cached results (``scanner.cache``) carry this
    instead of ``material`` and ``secret``, which may quote a credential."""

    digest: str  # content_digest(material or secret)
    masked: str | None = None  # masking.mask(secret)
    secret_sha256: str | None = None  # SHA-256 of the stripped secret


@dataclass(frozen=True, slots=True)
class Issue:
    """What a detector or engine reports: a rule broken at a place, in its own words.

    ``scanner.findings`` turns every issue into a ``Finding`` in one place: evidence is
    masked there (``secret``) or capped (``evidence``), the fingerprint comes from
    ``material`` (falling back to the secret), and the catalog adds the rest.
    """

    rule_id: str
    message: str
    line: int | None = None
    # Stable content the fingerprint is built from (never a line number).
    material: str = ""
    path: str | None = None  # None: the file being scanned
    cell: int | None = None
    end_line: int | None = None
    column: int | None = None
    severity: Severity | None = None  # None: the rule's default severity
    confidence: Confidence = Confidence.HIGH
    evidence: str | None = None  # shown as written; must not hold a secret
    secret: str | None = None  # a credential value: only ever shown masked
    control_ids: tuple[str, ...] = ()  # controls beyond the rule's own
    engine: str = "qgov"
    sealed: Sealed | None = None  # stands in for material and secret in cached results


class UseKind(StrEnum):
    """How a file shows that it uses a quantum provider."""

    SDK_IMPORT = "sdk-import"  # imports a module that talks to the provider's cloud
    CLIENT = "client"  # builds a client, session, sampler or workspace for it
    DEVICE = "device"  # names a device: a Braket ARN, an Azure Quantum target
    BACKEND = "backend"  # names a backend: ibm_brisbane, H1-1, Ankaa-3
    RESOURCE = "resource"  # infrastructure for it: Terraform/CloudFormation, service instances
    DEPENDENCY = "dependency"  # a manifest or install line lists its SDK
    CONFIG = "config"  # configuration outside code: its environment variables, endpoints


@dataclass(frozen=True, slots=True)
class ProviderUse:
    """A fact, not a finding: this place uses this quantum provider.

    Fact finders report these from worker processes next to the detectors' issues; the
    parent folds them into the scan's inventory and checks it against the policy.
    ``provider`` is a canonical id from ``scanner/inventory/providers.yaml``; ``vendor`` is
    the hardware maker behind a marketplace (ionq for a Braket or Azure Quantum device).
    """

    provider: str
    kind: UseKind
    detail: str  # what was seen, short and printable: "ionq Aria-1", "QiskitRuntimeService"
    region: str | None = None
    path: str | None = None  # None: the file being scanned
    line: int | None = None
    cell: int | None = None
    vendor: str | None = None


class HistoryRef(BaseModel):
    """Where a finding of a git-history scan came from: the first commit holding the blob
    (its path is the finding's ``path`` as it was then)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commit: str
    author_date: str  # ISO 8601, as git gives it
    in_tree: bool = False  # the blob is still at that path in HEAD


class Finding(BaseModel):
    """One thing wrong at one place, with everything the catalog says about its rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    message: str
    path: str
    line: int | None = None
    end_line: int | None = None
    column: int | None = None
    cell: int | None = None
    severity: Severity = Severity.MEDIUM
    confidence: Confidence = Confidence.HIGH
    # Masked evidence only: a short prefix plus a hash, never the secret itself.
    evidence: str | None = None
    # Hash of the offending content; the fingerprint is built from it, not from the line.
    content_hash: str = ""
    title: str = ""
    control_ids: tuple[str, ...] = ()
    domain: Domain | None = None
    frameworks: FrameworkRefs = ()
    remediation: str | None = None
    engine: str = "qgov"
    suppression: Suppression | None = None
    history: HistoryRef | None = None  # set by `qgov scan --history` only

    @field_validator("path")
    @classmethod
    def _printable_path(cls, value: str) -> str:
        return printable(value)

    @field_validator("message", "evidence")
    @classmethod
    def _printable_text(cls, value: str | None) -> str | None:
        return None if value is None else printable(value, path=False)

    @property
    def fingerprint(self) -> str:
        """Stable across runs and line moves: rule + path + content hash."""
        material = f"{self.rule_id}\x00{self.path}\x00{self.content_hash}"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    @property
    def framework_map(self) -> dict[str, list[str]]:
        """``frameworks`` as the JSON contract writes it (a fresh dict)."""
        return {key: list(ids) for key, ids in self.frameworks}


ScanErrorReason = Literal[
    "parse-error",
    "binary",
    "too-large",
    "unreadable",
    "not-a-file",
    "symlink-loop",
    "symlink-outside-root",
    "engine-unavailable",
    "engine-error",
    "detector-error",
    "budget-exceeded",
    "suppression-error",
    "stale-database",
]


class ScanError(BaseModel):
    """A file (or engine) the scan could not fully examine. Reported, never silent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    reason: ScanErrorReason
    message: str
    line: int | None = None

    @field_validator("path")
    @classmethod
    def _printable_path(cls, value: str) -> str:
        return printable(value)

    @field_validator("message")
    @classmethod
    def _printable_message(cls, value: str) -> str:
        return printable(value, path=False)


class InventoryUse(BaseModel):
    """One distinct use of a provider: the first line of a kind and detail in a file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: UseKind
    detail: str
    path: str
    line: int | None = None
    cell: int | None = None
    region: str | None = None
    vendor: str | None = None

    @field_validator("path")
    @classmethod
    def _printable_path(cls, value: str) -> str:
        return printable(value)

    @field_validator("detail")
    @classmethod
    def _printable_detail(cls, value: str) -> str:
        return printable(value)


class ProviderInventory(BaseModel):
    """Everything the scan saw of one provider."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    kinds: tuple[UseKind, ...]
    files: tuple[str, ...]
    devices: tuple[str, ...] = ()  # "ionq Aria-1 us-east-1"
    backends: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()  # hardware makers reached through this provider
    first_use: InventoryUse
    uses: tuple[InventoryUse, ...]
    uses_total: int = 0  # before the cap on ``uses``
    # What the policy check found wrong (rule ids), empty when nothing or no policy.
    problems: tuple[str, ...] = ()


class Inventory(BaseModel):
    """The quantum providers a scan found in use, and the policy they were held against."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    providers: tuple[ProviderInventory, ...] = ()
    policy: str | None = None  # the policy file as shown to the user; None: not checked
    policy_origin: Literal["given", "found"] | None = None
    tier: Tier | None = None
    data_class: str | None = None

    @field_validator("policy")
    @classmethod
    def _printable_policy(cls, value: str | None) -> str | None:
        return None if value is None else printable(value)


class CheckRun(BaseModel):
    """One detector, engine or parent-side stage of a scan: the rules it can report and how
    many files it examined. Zero files (or a ``skipped`` reason) means its rules checked
    nothing, so no control may pass on them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["detector", "engine", "stage"]
    rules: tuple[str, ...]
    file_kinds: tuple[str, ...] = ()  # what it reads, for "no files of these kinds" reasons
    files: int = 0
    skipped: str | None = None  # why it examined nothing: turned off, not installed, …


class VulnDatabase(BaseModel):
    """The offline OSV database a scan used: where, and how current it was."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str  # as the scan was given it (osv_db:, --osv-db)
    # The newest advisory's ``modified`` time (ISO 8601, UTC): the snapshot's date. None when
    # no PyPI advisory carries one.
    snapshot: str | None = None
    advisories: int = 0  # PyPI advisories it holds


class Coverage(BaseModel):
    """What a scan actually checked: the basis of every control's status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tier: Tier
    checks: tuple[CheckRun, ...] = ()
    disabled_rules: tuple[str, ...] = ()
    vuln_db: VulnDatabase | None = None  # the offline OSV database, when one was opened

    def rules_run(self) -> frozenset[str]:
        """Rule ids some check that examined at least one file can report (not disabled)."""
        ran = {rule for check in self.checks if check.files > 0 for rule in check.rules}
        return frozenset(ran - set(self.disabled_rules))


class ScanResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    roots: tuple[str, ...]
    findings: tuple[Finding, ...]
    errors: tuple[ScanError, ...] = ()
    files_scanned: int = 0
    # Files and folders left out by ignore files, `exclude` and --skip-path (a folder once).
    files_excluded: int = 0
    duration_seconds: float = 0.0
    notices: tuple[str, ...] = ()
    inventory: Inventory = Inventory()
    # None: the result was not made by a scan that recorded what ran (every control is then
    # not assessed).
    coverage: Coverage | None = None

    @property
    def active_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.suppressed)


def content_digest(text: str) -> str:
    """Short SHA-256 used for content hashes and masked evidence."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
