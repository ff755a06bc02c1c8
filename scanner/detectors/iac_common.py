"""Vocabulary shared by the infrastructure-as-code detectors.

- ``iac_issue``: an ``Issue`` located by ``Located`` (module file and line) with the IaC
  fingerprint convention;
- ``StorageFacts`` + ``storage_issues``: the storage rules (QG-IAC-002..006, 017, 019) written
  once for S3 (Terraform and CloudFormation), Azure storage accounts and IBM COS buckets;
- workload tiers from ``qgov:tier`` / ``workload-tier`` tags; the tier the scan is configured
  with (``--tier`` / ``tier:``) is the default for resources without one;
- credential-looking variable names and image pinning (Kubernetes, Docker);
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scanner.formats.image_ref import ImageRef
from scanner.model import Issue, Severity, Tier

TIER_KEYS = ("qgov:tier", "workload-tier", "qgov_tier", "workload_tier")
BRAKET_BUCKET_PREFIX = "amazon-braket-"
#: The infrastructure rules (``scanner/rules/iac.yaml``), owned by the Terraform detector.
IAC_RULES = frozenset(f"QG-IAC-{n:03d}" for n in range(1, 26))


@dataclass(frozen=True)
class Located:
    file: str  # the module file (its scan path); "" for the file being scanned
    line: int


def iac_issue(
    rule_id: str,
    at: Located,
    message: str,
    material: str,
    severity: Severity | None = None,
    evidence: str | None = None,
) -> Issue:
    """An IaC issue: ``material`` names the resource and the problem (never a line), and is
    prefixed with the rule so two rules on one resource never share a fingerprint."""
    return Issue(
        rule_id,
        message,
        line=max(1, at.line),
        path=at.file or None,
        material=f"{rule_id}\x00{material}",
        severity=severity,
        evidence=evidence,
    )


def truthy(value: Any) -> bool:
    """``true`` as HCL/YAML writes it: a boolean or the string "true"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def as_int(value: Any) -> int | None:
    """A number written as a number or a numeric string (both formats accept both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def tier_from_tags(tags: Any) -> Tier | None:
    """The workload tier from a tag map (``{k: v}``), CloudFormation ``[{Key, Value}]`` tags
    or IBM ``["key:value"]`` tag lists."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(tags, dict):
        pairs = [(str(k), v) for k, v in tags.items()]
    elif isinstance(tags, list):
        for item in tags:
            if isinstance(item, dict) and "Key" in item:
                pairs.append((str(item.get("Key")), item.get("Value")))
            elif isinstance(item, str) and ":" in item:
                key, _, value = item.rpartition(":")
                pairs.append((key, value))
    for key, value in pairs:
        if key.strip().lower() in TIER_KEYS and isinstance(value, str):
            tier = value.strip().lower()
            if tier in Tier.__members__.values():
                return Tier(tier)
    return None


# --- storage -------------------------------------------------------------------------------------


@dataclass
class StorageFacts:
    """What a module/template says about one bucket or storage account."""

    address: str  # aws_s3_bucket.results, Resources.ResultsBucket, azurerm_storage_account.x
    at: Located
    label: str = "bucket"  # "bucket", "storage account"
    tier: Tier | None = None  # from the resource's (or provider's default) tags
    configured_tier: Tier | None = None  # the scan's tier: the default when no tag says one
    braket: bool = False  # an Amazon Braket result bucket (amazon-braket-*)
    quantum: bool = False  # attached to a quantum workspace
    # S3 (since January 2023), Azure Storage and IBM COS encrypt every object at rest and
    # cannot be told not to: what a configuration chooses is only whose key is used.
    default_encryption: str = "S3-managed keys (SSE-S3, applied by default)"
    encryption: str | None = None  # declared algorithm, "" when declared without one
    customer_key: bool = False
    encryption_at: Located | None = None
    cmk_hint: str = "a customer-managed KMS key (kms_master_key_id)"
    public: list[tuple[Located, str]] = field(default_factory=list)
    # Public access nothing in the configuration turns off (a provider default): the store
    # can be opened by anyone who can create a container, not yet opened.
    public_by_default: list[tuple[Located, str]] = field(default_factory=list)
    check_public_access_block: bool = False
    public_access_block_missing: list[str] | None = None  # None: complete
    public_access_block_at: Located | None = None
    public_access_block_hint: str = "aws_s3_bucket_public_access_block"
    versioning: bool | None = None  # None: not declared
    versioning_at: Located | None = None
    check_versioning: bool = True
    logging: bool = False
    logging_exempt: bool = False  # it is itself a log target
    check_logging: bool = True
    lifecycle: bool = False
    check_lifecycle: bool = True
    check_tls_only: bool = False  # S3: a bucket policy must refuse plain-HTTP requests
    tls_only: bool = False

    @property
    def effective_tier(self) -> Tier | None:
        """The tier requirements follow: the resource's tag wins over the configured tier."""
        return self.tier or self.configured_tier

    @property
    def regulated(self) -> bool:
        tier = self.effective_tier
        return tier is not None and tier.regulated

    @property
    def job_data(self) -> bool:
        """Known to hold quantum job inputs/results (Braket bucket, workspace storage, tier)."""
        return self.braket or self.quantum or self.tier is not None

    def why(self) -> str:
        reasons = []
        if self.braket:
            reasons.append("an Amazon Braket result bucket")
        if self.quantum:
            reasons.append("quantum workspace storage")
        if self.tier:
            reasons.append(f"tier {self.tier}")
        return f" ({', '.join(reasons)})" if reasons else ""


def storage_issues(facts: StorageFacts) -> Iterator[Issue]:
    address, at, why = facts.address, facts.at, facts.why()
    # ENC-02. Encryption at rest itself (ENC-01) needs no check here: these services
    # encrypt whatever the configuration says; a regulated tier asks whose key it is.
    if facts.regulated and not facts.customer_key:
        where = facts.encryption_at or at
        used = facts.encryption or facts.default_encryption
        if facts.tier is not None:
            tier = f"its tier ({facts.tier})"
        else:
            tier = f"the configured tier ({facts.configured_tier})"
        yield iac_issue(
            "QG-IAC-002", where,
            f"{address}{why} is encrypted with {used}, but {tier} needs {facts.cmk_hint}, so "
            "the organisation can revoke access and audit every decryption",
            f"{address}:no-cmk",
        )
    # NET-01
    for place, what in facts.public:
        yield iac_issue(
            "QG-IAC-003", place, f"{address}{why} is publicly accessible: {what}",
            f"{address}:public:{what}", Severity.CRITICAL if facts.job_data else None,
        )
    for place, what in facts.public_by_default:
        yield iac_issue(
            "QG-IAC-003", place, f"{address}{why} allows public access: {what}",
            f"{address}:public:{what}", Severity.HIGH if facts.job_data else Severity.MEDIUM,
        )
    if facts.check_public_access_block and facts.public_access_block_missing is not None:
        missing = facts.public_access_block_missing
        if facts.public_access_block_at is None:
            message = (
                f"{address}{why} has no public access block ({facts.public_access_block_hint})"
            )
            place = at
        else:
            message = f"{address}{why}: public access block leaves {', '.join(missing)} off"
            place = facts.public_access_block_at
        yield iac_issue(
            "QG-IAC-004", place, message, f"{address}:pab:{','.join(missing)}",
            Severity.HIGH if facts.braket else None,
        )
    raised = Severity.MEDIUM if facts.job_data else None
    # PRV-04
    if facts.check_versioning and not facts.versioning:
        state = "is not enabled" if facts.versioning is None else "is disabled or suspended"
        yield iac_issue(
            "QG-IAC-005", facts.versioning_at or at,
            f"{address}{why}: versioning {state}, so overwritten or deleted results cannot "
            "be recovered",
            f"{address}:versioning", raised,
        )
    # LOG-06
    if facts.check_logging and not facts.logging and not facts.logging_exempt:
        yield iac_issue(
            "QG-IAC-006", at, f"{address}{why} has no access logging",
            f"{address}:logging", raised,
        )
    # ENC-05: S3 answers plain HTTP unless a bucket policy denies aws:SecureTransport false
    if facts.check_tls_only and not facts.tls_only:
        yield iac_issue(
            "QG-IAC-017", at,
            f"{address}{why} has no bucket policy denying requests without TLS "
            "(aws:SecureTransport = false), so its objects can be read or written over plain HTTP",
            f"{address}:tls-only", Severity.MEDIUM if facts.job_data else Severity.LOW,
        )
    # DAT-05 (only where the store is known to hold job data)
    if facts.check_lifecycle and facts.job_data and not facts.lifecycle:
        yield iac_issue(
            "QG-IAC-019", at,
            f"{address}{why} has no lifecycle rule, so job data is kept forever",
            f"{address}:lifecycle",
        )


# --- containers ----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"^(?:\$\{?[\w.:-]+\}?|\$\(\w+\)|<[^>]*>|\{\{.*\}\}|changeme|xxx+|\*+)$",
                          re.I)


# Values that name where a credential lives rather than being one: an ARN, a URL without
# credentials in it (``https://login.example.com/token``; ``https://user:pw@host`` is kept).
_LOCATOR = re.compile(r"^(?:arn:|[a-z][a-z0-9+.-]*://[^@\s/]*(?:/|$))", re.I)


def literal_secret(value: Any) -> bool:
    """A literal that could be a credential: non-empty, not a reference, a placeholder, an
    ARN or a URL without credentials."""
    if not isinstance(value, str):
        return False
    text = value.strip().strip("\"'")
    if len(text) < 4 or text.startswith("/") or _PLACEHOLDER.match(text) or _LOCATOR.match(text):
        return False
    return text.lower() not in {"true", "false", "null", "none", "disabled", "enabled"}


def image_pin_issue(image: ImageRef) -> tuple[Severity, str] | None:
    """``(severity, problem)`` when an image is not pinned by digest."""
    if image.digest:
        return None
    if image.tag is None:
        return Severity.MEDIUM, "has no tag (resolves to :latest)"
    if image.tag.lower() == "latest":
        return Severity.MEDIUM, "uses the moving :latest tag"
    return Severity.LOW, f"is pinned by tag :{image.tag} but not by digest"
