"""``qgov job approve``: an approver grants one elevation for one job spec, with their token.

The approver's token is verified like a submitter's (trusted issuer, signature, lifetime,
claim types, revocations, demo issuers refused for protected environments) and must belong
to a human the policy marks ``approver: true`` who is not the requester; it is then spent
like any token (a replayed approver token is refused). The approval id is the one the job
spec names (``approval`` for run-regulated, ``export_approval`` for export) or, for debug,
the policy's ``debug.approval``; an id granted before is refused, so every id means one
approval. Granted or refused, the request becomes a ledger event, written under the same lock
as the checks that read the ledger; a granted approval is signed (see :mod:`.approvals`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scanner.governed.approvals import (
    APPROVAL_FORMAT,
    ElevatedAction,
    approver_problems,
    sign_approval,
)
from scanner.governed.decision import Reason, reason
from scanner.governed.errors import SpecError
from scanner.governed.identity import verify_token
from scanner.governed.ledger_queries import APPROVAL_GRANTED, APPROVAL_REFUSED, approval_grants
from scanner.governed.runtime import Context, Runtime
from scanner.governed.scrub import scrub_free_text
from scanner.governed.spec import load_job_spec
from scanner.governed.timeutil import iso_z
from scanner.governed.token_use import refuse_replay

MAX_REASON_CHARS = 500


@dataclass
class ApproveOutcome:
    granted: bool
    approval_id: str
    action: str
    requester: str
    spec_sha256: str
    ledger_path: Path
    approver: str | None = None
    expires_at: datetime | None = None
    single_use: bool = False
    reasons: list[Reason] = field(default_factory=list)
    event_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "granted": self.granted,
            "approval_id": self.approval_id,
            "action": self.action,
            "requester": self.requester,
            "approver": self.approver,
            "spec_sha256": self.spec_sha256,
            "expires_at": iso_z(self.expires_at) if self.expires_at else None,
            "single_use": self.single_use,
            "reasons": [r.to_json() for r in self.reasons],
            "ledger": str(self.ledger_path),
            "ledger_seq": self.event_seq,
        }


def clean_reason(text: str) -> str:
    """The approver's stated reason as it may be stored: one short paragraph, scrubbed."""
    text = text.strip()
    if not text:
        raise SpecError("--reason: say why the elevation is approved")
    if len(text) > MAX_REASON_CHARS:
        raise SpecError(f"--reason: longer than {MAX_REASON_CHARS} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        raise SpecError("--reason: contains control characters")
    return scrub_free_text(text)


def approve(
    spec_path: Path,
    ctx: Context,
    *,
    token: str | None,
    action: ElevatedAction,
    requester: str,
    reason_text: str,
    valid_for: timedelta,
    single_use: bool = False,
) -> ApproveOutcome:
    loaded = load_job_spec(spec_path)
    spec = loaded.spec
    policy = ctx.require_policy().policy
    approval_id = {
        "run-regulated": spec.approval,
        "export": spec.export_approval,
        "debug": policy.debug.approval,
    }[action]
    if approval_id is None:
        where = "the policy's debug.approval" if action == "debug" else (
            "'approval'" if action == "run-regulated" else "'export_approval'"
        )
        raise SpecError(
            f"job spec {spec_path}: no approval id to grant -- name one in {where} first "
            "(e.g. your change ticket), then approve the spec"
        )
    if valid_for <= timedelta(0):
        raise SpecError("--expires: the approval must last a positive time")
    stated = clean_reason(reason_text)
    now = ctx.clock()
    expires = now + valid_for
    effective_single_use = single_use or policy.elevation.single_use
    outcome = ApproveOutcome(
        granted=False,
        approval_id=approval_id,
        action=action,
        requester=requester,
        spec_sha256=loaded.sha256,
        ledger_path=ctx.ledger_path,
        expires_at=expires,
        single_use=effective_single_use,
    )
    check = verify_token(token, policy, environment=spec.environment, now=now)
    with Runtime(ctx) as rt:
        rt.scrubber.register("token", token)
        with rt.ledger.session() as session:
            events = session.events()
            refuse_replay(check, events, policy, now)
            problems = list(check.reasons)
            identity = check.identity
            outcome.approver = identity.subject if identity else check.claimed_subject
            if identity is not None:
                problems += approver_problems(
                    identity.subject, requester, policy, f"approval {approval_id}"
                )
            if policy.identity(requester) is None:
                problems.append(
                    reason("APPROVAL_SCOPE", "the requester is not an identity in the policy")
                )
            if valid_for > timedelta(hours=policy.elevation.max_hours):
                problems.append(
                    reason(
                        "APPROVAL_TOO_LONG",
                        f"an approval may last at most {policy.elevation.max_hours} h",
                    )
                )
            earlier = approval_grants(events, approval_id)
            if earlier or any(a.id == approval_id for a in ctx.all_approvals):
                problems.append(
                    reason(
                        "APPROVAL_AMBIGUOUS",
                        f"approval id {approval_id!r} is already taken; name a new id in the "
                        "job spec",
                    )
                )
            subject = {
                "approval_id": approval_id,
                "spec_sha256": loaded.sha256,
                "job_name": spec.name,
                "project": spec.project,
                "environment": spec.environment,
            }
            common = {
                "actor": check.actor(),
                "source": ctx.source,
                "policy": ctx.policy_ref,
                "subject": subject,
            }
            if problems or identity is None:
                outcome.reasons = problems
                event = session.append(
                    APPROVAL_REFUSED,
                    decision="deny",
                    data={
                        "approval_id": approval_id,
                        "action": action,
                        "requester": requester,
                        "spec_sha256": loaded.sha256,
                        "reasons": [r.to_json() for r in problems],
                    },
                    **common,
                )
            else:
                body = rt.scrubber.scrub_obj(
                    {
                        "format": APPROVAL_FORMAT,
                        "id": approval_id,
                        "action": action,
                        "requester": requester,
                        "approver": identity.subject,
                        "approver_issuer": identity.issuer_name,
                        "approver_key_id": identity.key_id,
                        "approver_token_sha256": identity.token_sha256,
                        "approver_token_jti_sha256": identity.token_id_sha256,
                        "spec_sha256": loaded.sha256,
                        "job_name": spec.name,
                        "project": spec.project,
                        "backend": spec.backend,
                        "environment": spec.environment,
                        "granted_at": iso_z(now),
                        "expires_at": iso_z(expires),
                        "single_use": effective_single_use,
                        "reason": stated,
                    }
                )
                event = session.append(
                    APPROVAL_GRANTED,
                    decision="allow",
                    data={"approval": body, "signature": sign_approval(session.key, body)},
                    **common,
                )
                outcome.granted = True
            outcome.event_seq = int(event["seq"])
            session.checkpoint()
        rt.log.info(
            "approval %s (%s) for %s: %s",
            approval_id,
            action,
            requester,
            "granted" if outcome.granted else "refused " + ",".join(r.code for r in problems),
        )
    return outcome
