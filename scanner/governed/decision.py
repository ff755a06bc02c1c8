"""Reasons and decisions: the vocabulary of what the governed path allowed or refused.

Every refusal reason has a stable code and the catalog control ids it enforces, so the
ledger, the CLI output and the self-test all speak about the same controls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

# code -> control ids it evidences. Codes are stable: tests, ledgers and SIEM rules quote them.
REASON_CONTROLS: dict[str, tuple[str, ...]] = {
    # identity (token) checks
    "TOKEN_MISSING": ("IAM-03",),
    "TOKEN_MALFORMED": ("IAM-03",),
    "TOKEN_UNKNOWN_ISSUER": ("IAM-03", "IAM-09"),
    "TOKEN_ALGORITHM": ("IAM-03",),
    "TOKEN_BAD_SIGNATURE": ("IAM-03",),
    "TOKEN_EXPIRED": ("IAM-03",),
    "TOKEN_NOT_YET_VALID": ("IAM-03",),
    "TOKEN_WRONG_AUDIENCE": ("IAM-03",),
    "TOKEN_CLAIMS_MISSING": ("IAM-03",),
    "TOKEN_LIFETIME_TOO_LONG": ("IAM-03",),
    "TOKEN_CLAIM_TYPES": ("IAM-03",),
    "TOKEN_REPLAYED": ("IAM-03",),
    # revocation (policy `revocations`)
    "TOKEN_REVOKED": ("IAM-03", "SEC-05"),
    "IDENTITY_REVOKED": ("IAM-01", "SEC-05"),
    "ISSUER_KEY_REVOKED": ("IAM-03", "SEC-05"),
    "DEMO_ISSUER_NOT_ALLOWED": ("IAM-03", "GOV-02"),
    "IDENTITY_UNKNOWN": ("IAM-01",),
    "IDENTITY_KIND_MISMATCH": ("IAM-01",),
    "IDENTITY_ISSUER_MISMATCH": ("IAM-01", "IAM-09"),
    # authorization
    "ROLE_NOT_ASSIGNED": ("IAM-04", "IAM-05"),
    "ROLE_AMBIGUOUS": ("IAM-05",),
    "ROLE_EXPIRED": ("GOV-01", "IAM-05"),
    "ROLE_IDENTITY_KIND": ("IAM-01",),
    "ENVIRONMENT_NOT_ALLOWED": ("GOV-02", "IAM-05"),
    "BACKEND_UNKNOWN": ("IAM-05",),
    "BACKEND_NOT_ALLOWED": ("IAM-05", "GOV-02"),
    "OUTSIDE_TIME_WINDOW": ("IAM-05",),
    "SHOTS_OVER_LIMIT": ("IAM-05", "CST-01"),
    "CIRCUIT_TOO_LARGE": ("CST-01",),
    "PROJECT_UNKNOWN": ("CST-01", "GOV-02"),
    "PROJECT_NOT_ALLOWED": ("IAM-05",),
    "PROJECT_ENVIRONMENT": ("GOV-02",),
    # data gate
    "DATA_CLASS_NOT_ALLOWED_FOR_TIER": ("DAT-01", "DAT-03"),
    "DATA_CLASS_NOT_ALLOWED_FOR_ROLE": ("DAT-03", "IAM-05"),
    "DATASET_HASH_MISMATCH": ("DAT-04",),
    "DATASET_UNREADABLE": ("DAT-04",),
    # the dataset registry (policy `datasets`)
    "DATASET_NOT_REGISTERED": ("DAT-01",),
    "DATASET_CLASSIFICATION_MISMATCH": ("DAT-01",),
    "DATASET_REGISTRY_MISMATCH": ("DAT-01", "DAT-04"),
    "DATASET_NOT_ALLOWED": ("DAT-01", "DAT-03"),
    # just-in-time elevation
    "APPROVAL_REQUIRED": ("IAM-06",),
    "APPROVAL_UNKNOWN": ("IAM-06",),
    "APPROVAL_SELF_APPROVED": ("IAM-06",),
    "APPROVAL_EXPIRED": ("IAM-06",),
    "APPROVAL_NOT_YET_VALID": ("IAM-06",),
    "APPROVAL_SCOPE": ("IAM-06",),
    "APPROVAL_TOO_LONG": ("IAM-06",),
    "APPROVER_NOT_AUTHORISED": ("IAM-06",),
    "APPROVAL_UNSIGNED": ("IAM-06",),
    "APPROVAL_AMBIGUOUS": ("IAM-06",),
    "APPROVAL_BAD_SIGNATURE": ("IAM-06",),
    "APPROVAL_USED": ("IAM-06",),
    "APPROVAL_REVOKED": ("IAM-06", "SEC-05"),
    "EXPORT_NOT_PERMITTED": ("IAM-06",),
    # cost
    "QUOTA_SHOTS_EXCEEDED": ("CST-01",),
    "QUOTA_COST_EXCEEDED": ("CST-01",),
}


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    @property
    def control_ids(self) -> tuple[str, ...]:
        return REASON_CONTROLS.get(self.code, ())

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "control_ids": list(self.control_ids)}


def reason(code: str, message: str) -> Reason:
    if code not in REASON_CONTROLS:
        raise KeyError(f"unknown reason code {code!r}")
    return Reason(code, message)


@dataclass
class Decision:
    """The outcome of evaluating one request (a job submission or an export)."""

    action: str
    reasons: list[Reason] = field(default_factory=list)
    decision_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    role: str | None = None
    approval_id: str | None = None

    @property
    def allowed(self) -> bool:
        return not self.reasons

    @property
    def verdict(self) -> str:
        return "allow" if self.allowed else "deny"

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]
