"""Just-in-time elevation: approval records and the checks an approval must pass.

An approval lets one named requester do one elevated thing (run on a regulated backend,
export results, switch on debug logging) for a short time. It is valid only when the approver
is a different person, a human identity the policy marks as an approver, the time box has not
expired and is no longer than the policy allows, and the scope matches the request.

Approvals come from the policy's ``approvals`` list or a separate YAML file (``--approvals``):
in a real deployment that file is exported from the change/ticketing system.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scanner.formats.yaml import DocumentError, load_yaml_model
from scanner.governed.decision import Reason, reason
from scanner.governed.errors import FieldProblem, SpecError
from scanner.governed.timeutil import as_utc

if TYPE_CHECKING:
    from scanner.governed.policy import OrgPolicy

ElevatedAction = Literal["run-regulated", "export", "debug"]


class Approval(BaseModel):
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


def check_approval(
    approvals: Sequence[Approval],
    approval_id: str | None,
    *,
    action: ElevatedAction,
    requester: str,
    project: str,
    backend: str | None,
    policy: OrgPolicy,
    now: datetime,
) -> list[Reason]:
    """Reasons the elevation is refused; empty means the approval is valid for this request."""
    if approval_id is None:
        return [reason("APPROVAL_REQUIRED", f"'{action}' needs a just-in-time approval record")]
    found = next((a for a in approvals if a.id == approval_id), None)
    if found is None:
        return [reason("APPROVAL_UNKNOWN", f"approval {approval_id!r} was not found")]
    problems: list[Reason] = []
    if found.action != action:
        problems.append(
            reason("APPROVAL_SCOPE", f"approval {found.id} covers '{found.action}', not '{action}'")
        )
    if found.requester != requester:
        problems.append(
            reason("APPROVAL_SCOPE", f"approval {found.id} was granted to a different requester")
        )
    if found.project is not None and found.project != project:
        problems.append(reason("APPROVAL_SCOPE", f"approval {found.id} is for another project"))
    if found.backend is not None and backend is not None and found.backend != backend:
        problems.append(reason("APPROVAL_SCOPE", f"approval {found.id} is for another backend"))
    if found.approver == found.requester or found.approver == requester:
        problems.append(
            reason("APPROVAL_SELF_APPROVED", f"approval {found.id}: approver is the requester")
        )
    approver = policy.identity(found.approver)
    if approver is None or not approver.approver or approver.kind != "human":
        problems.append(
            reason(
                "APPROVER_NOT_AUTHORISED",
                f"approval {found.id}: approver is not a human identity marked approver",
            )
        )
    start, end = as_utc(found.approved_at), as_utc(found.expires_at)
    if now < start:
        problems.append(reason("APPROVAL_NOT_YET_VALID", f"approval {found.id} starts later"))
    if now >= end:
        problems.append(reason("APPROVAL_EXPIRED", f"approval {found.id} expired"))
    if end - start > timedelta(hours=policy.elevation.max_hours):
        problems.append(
            reason(
                "APPROVAL_TOO_LONG",
                f"approval {found.id} lasts longer than {policy.elevation.max_hours} h",
            )
        )
    return problems
