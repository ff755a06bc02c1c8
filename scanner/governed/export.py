"""Exporting a job's result counts: a request of its own, authorised and logged.

The execution record never holds the counts; handing them out needs a role that may export
and, when the policy says so, a just-in-time approval. Allowed or refused, the request is a
``result.export`` event in the ledger.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from scanner.governed.decision import Decision, reason
from scanner.governed.execute import ExecutionResult
from scanner.governed.journal import Journal
from scanner.governed.policy_sections import Role
from scanner.governed.record import display_path
from scanner.governed.runtime import Context, Runtime
from scanner.governed.spec import JobSpec


@dataclass
class ExportOutcome:
    decision: Decision
    path: Path | None = None


def export_results(
    rt: Runtime,
    ctx: Context,
    journal: Journal,
    spec: JobSpec,
    *,
    requester: str | None,
    role: Role | None,
    result: ExecutionResult,
    destination: Path,
) -> ExportOutcome:
    policy = ctx.require_policy().policy
    decision = Decision(
        action="result.export", role=role.name if role else None, approval_id=spec.export_approval
    )
    if role is None or not role.can_export:
        decision.reasons.append(
            reason(
                "EXPORT_NOT_PERMITTED", f"role {role.name if role else '-'} may not export results"
            )
        )
    if policy.elevation.export_requires_approval and requester is not None:
        decision.reasons.extend(
            ctx.approval_problems(
                spec.export_approval,
                action="export",
                requester=requester,
                job=spec,
                now=ctx.clock(),
            )
        )
    export = ExportOutcome(decision=decision)
    with journal.locked():
        if decision.allowed:
            _write_counts(destination, journal.job_id, decision, result)
            export.path = destination
        journal.write(
            "result.export",
            decision.verdict,
            {
                "decision_id": decision.decision_id,
                "approval": spec.export_approval,
                "destination": display_path(destination),
                "counts_sha256": result.counts_sha256,
                "reasons": [r.to_json() for r in decision.reasons],
            },
            job_name=spec.name,
            project=spec.project,
        )
    rt.log.info("export of job %s: %s", spec.name, decision.verdict)
    return export


def _write_counts(
    destination: Path, job_id: str, decision: Decision, result: ExecutionResult
) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "job_id": job_id,
        "record_id": job_id,  # a job's record is named by its job id
        "decision_id": decision.decision_id,
        "counts_sha256": result.counts_sha256,
        "counts": result.counts,
    }
    # 0640: results are data, not for every local user.
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.write("\n")
