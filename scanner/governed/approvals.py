"""Just-in-time elevation: signed approvals in the ledger, and the checks an approval must pass.

An approval lets one named requester do one elevated thing (run on a regulated backend,
export results, switch on debug logging) for one job spec, for a short time. It exists only
as an ``approval.granted`` event in the ledger, written by ``qgov job approve`` (see
:mod:`.approve`) after it verified the approver's own token: a trusted issuer, a human the
policy marks ``approver: true``, not the requester, not a replayed or revoked token. The event
carries the approval (:data:`APPROVAL_FORMAT`: id, action, requester, approver and the token
evidence, the job spec's SHA-256, project, backend, granted/expiry times, single-use) and an
Ed25519 signature over it by the ledger's key -- the key the ledger's genesis event declares
and its checkpoints use -- under the label ``qgov-approval/1``, so the signature cannot be
confused with a checkpoint's. A line appended to the ledger by hand has no valid signature,
and a YAML record typed in the approver's name is not an approval at all.

Using an approval re-checks it against the request and today's policy: same action,
requester and spec hash (a spec edited after approval needs a new approval), the approver
still a human approver and not revoked, unexpired, no longer than ``elevation.max_hours``,
and -- when the approval or the policy says ``single_use`` -- not used by an earlier allowed
request. An id that is granted twice, or also appears in the policy's ``approvals`` list or an
``--approvals`` file, is refused as ambiguous; an id found only in such an unsigned list is
refused as unsigned. Those lists are still read so that both cases can be named.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import BaseModel, ConfigDict, Field, model_validator

from scanner.formats.yaml import DocumentError, load_yaml_model
from scanner.governed.canonical import canonical_json, sha256_hex
from scanner.governed.decision import Reason, reason
from scanner.governed.errors import FieldProblem, SpecError
from scanner.governed.ledger_queries import approval_grants, approval_uses, genesis_key
from scanner.governed.timeutil import as_utc, parse_iso

if TYPE_CHECKING:
    from scanner.governed.policy import OrgPolicy

ElevatedAction = Literal["run-regulated", "export", "debug"]
ELEVATED_ACTIONS: tuple[ElevatedAction, ...] = ("run-regulated", "export", "debug")
APPROVAL_FORMAT = "qgov-approval/1"
_SIGNING_LABEL = b"qgov-approval/1\n"


class Approval(BaseModel):
    """An unsigned approval record (policy ``approvals`` or an ``--approvals`` file). Read
    only so the checks can say why it does not count; it never authorises anything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    action: ElevatedAction
    requester: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    approved_at: datetime
    expires_at: datetime
    project: str | None = None
    backend: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Approval:
        if as_utc(self.expires_at) <= as_utc(self.approved_at):
            raise FieldProblem("expires_at", "must be later than approved_at")
        return self


class ApprovalsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    approvals: tuple[Approval, ...]


def load_approvals(path: Path) -> tuple[Approval, ...]:
    try:
        loaded, _ = load_yaml_model(path, ApprovalsFile, what="approvals")
    except DocumentError as exc:
        raise SpecError(str(exc)) from exc
    return loaded.approvals


# -- signing ------------------------------------------------------------------------------------


def _signed_bytes(body: dict[str, Any]) -> bytes:
    return _SIGNING_LABEL + canonical_json(body)


def _key_id(public: ed25519.Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256_hex(raw)[:32]


def sign_approval(key: ed25519.Ed25519PrivateKey, body: dict[str, Any]) -> dict[str, str]:
    return {
        "algorithm": "Ed25519",
        "label": APPROVAL_FORMAT,
        "key_id": _key_id(key.public_key()),
        "value": base64.b64encode(key.sign(_signed_bytes(body))).decode("ascii"),
    }


def signature_valid(event: dict[str, Any], key: ed25519.Ed25519PublicKey | None) -> bool:
    data = event.get("data") or {}
    body, signature = data.get("approval"), data.get("signature")
    if key is None or not isinstance(body, dict) or not isinstance(signature, dict):
        return False
    value = signature.get("value")
    if not isinstance(value, str) or body.get("format") != APPROVAL_FORMAT:
        return False
    try:
        key.verify(base64.b64decode(value, validate=True), _signed_bytes(body))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


# -- checking -----------------------------------------------------------------------------------


def _times(body: dict[str, Any]) -> tuple[datetime, datetime] | None:
    try:
        return parse_iso(str(body["granted_at"])), parse_iso(str(body["expires_at"]))
    except (KeyError, ValueError):
        return None


def approver_problems(
    approver: str, requester: str, policy: OrgPolicy, label: str
) -> list[Reason]:
    """The approver must be a human the policy marks approver, and not the requester."""
    problems = []
    if approver == requester:
        problems.append(reason("APPROVAL_SELF_APPROVED", f"{label}: approver is the requester"))
    entry = policy.identity(approver)
    if entry is None or not entry.approver or entry.kind != "human":
        problems.append(
            reason(
                "APPROVER_NOT_AUTHORISED",
                f"{label}: approver is not a human identity marked approver",
            )
        )
    return problems


def check_approval(
    events: list[dict[str, Any]],
    approval_id: str | None,
    *,
    action: ElevatedAction,
    requester: str,
    spec_sha256: str | None,
    policy: OrgPolicy,
    unsigned: Sequence[Approval],
    now: datetime,
) -> list[Reason]:
    """Reasons the elevation is refused; empty means the approval is valid for this request."""
    from scanner.governed.revocation import describe, matching

    if approval_id is None:
        return [reason("APPROVAL_REQUIRED", f"'{action}' needs a just-in-time approval")]
    grants = approval_grants(events, approval_id)
    listed = sum(1 for a in unsigned if a.id == approval_id)
    if len(grants) + listed > 1:
        return [
            reason(
                "APPROVAL_AMBIGUOUS",
                f"approval id {approval_id!r} appears {len(grants) + listed} times (ledger "
                "grants, policy approvals, approvals file); an approval must be unique",
            )
        ]
    if not grants:
        if listed:
            return [
                reason(
                    "APPROVAL_UNSIGNED",
                    f"approval {approval_id} is an unsigned record; only approvals granted with "
                    "'qgov job approve' (signed, in the ledger) count",
                )
            ]
        return [reason("APPROVAL_UNKNOWN", f"approval {approval_id!r} was not found")]
    grant = grants[0]
    if not signature_valid(grant, genesis_key(events)):
        return [
            reason(
                "APPROVAL_BAD_SIGNATURE",
                f"approval {approval_id}: its signature does not verify with the ledger's key",
            )
        ]
    body: dict[str, Any] = grant["data"]["approval"]
    label = f"approval {approval_id}"
    problems: list[Reason] = []
    if body.get("action") != action:
        problems.append(
            reason("APPROVAL_SCOPE", f"{label} covers '{body.get('action')}', not '{action}'")
        )
    if body.get("requester") != requester:
        problems.append(reason("APPROVAL_SCOPE", f"{label} was granted to a different requester"))
    if spec_sha256 is None or body.get("spec_sha256") != spec_sha256:
        problems.append(
            reason(
                "APPROVAL_SCOPE",
                f"{label} approves a different job spec (SHA-256 differs); a changed spec needs "
                "a new approval",
            )
        )
    approver = str(body.get("approver"))
    problems += approver_problems(approver, requester, policy, label)
    for entry in matching(
        policy,
        issuer=body.get("approver_issuer"),
        subject=approver,
        jti_sha256=body.get("approver_token_jti_sha256"),
        key_id=body.get("approver_key_id"),
        now=now,
    ):
        problems.append(reason("APPROVAL_REVOKED", f"{label}: {describe(entry)}"))
    window = _times(body)
    if window is None:
        problems.append(reason("APPROVAL_EXPIRED", f"{label} has no readable validity window"))
    else:
        start, end = window
        if now < start:
            problems.append(reason("APPROVAL_NOT_YET_VALID", f"{label} starts later"))
        if now >= end:
            problems.append(reason("APPROVAL_EXPIRED", f"{label} expired"))
        if end - start > timedelta(hours=policy.elevation.max_hours):
            problems.append(
                reason(
                    "APPROVAL_TOO_LONG",
                    f"{label} lasts longer than {policy.elevation.max_hours} h",
                )
            )
    single_use = bool(body.get("single_use")) or policy.elevation.single_use
    used = approval_uses(events, approval_id)
    if single_use and used:
        problems.append(
            reason(
                "APPROVAL_USED",
                f"{label} is single-use and was used at {used[0].get('ts')} (ledger seq "
                f"{used[0].get('seq')})",
            )
        )
    return problems
