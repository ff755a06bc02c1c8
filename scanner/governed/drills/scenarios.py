"""The three tabletop drills, step by step. Each step acts, observes, and states whether the
control behaved as required; its evidence (what was observed, plus the ledger events of the
step) is written beside the report by :mod:`scanner.governed.drills`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
import yaml

from scanner.governed.canonical import sha256_hex
from scanner.governed.drills.world import DrillWorld
from scanner.governed.ledger_queries import jobs_of
from scanner.governed.service import RunOutcome
from scanner.governed.siem import parse_frame
from scanner.governed.world import approval


@dataclass
class Step:
    id: str
    title: str
    expected: str
    controls: list[str]
    status: str = "fail"  # pass | fail | skipped
    observed: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    job_ids: list[str] = field(default_factory=list)
    approval_ids: list[str] = field(default_factory=list)

    def check(self, condition: bool, observed: str) -> None:
        self.observed = observed
        self.status = "pass" if condition else "fail"

    def skip(self, why: str) -> None:
        self.status = "skipped"
        self.observed = why


Scenario = Callable[[DrillWorld], list[Step]]


def _ledger_reasons(w: DrillWorld, outcome: RunOutcome) -> list[dict[str, Any]]:
    events = [e for e in w.events() if (e.get("subject") or {}).get("job_id") == outcome.job_id]
    decision = next((e for e in events if e["type"] == "job.decision"), None)
    return list((decision or {}).get("data", {}).get("reasons", []))


def _job(step: Step, outcome: RunOutcome) -> RunOutcome:
    step.job_ids.append(outcome.job_id)
    step.details.setdefault("jobs", []).append(
        {
            "job_id": outcome.job_id,
            "status": outcome.status,
            "decision": outcome.decision.verdict,
            "reasons": outcome.decision.codes,
            "export": None
            if outcome.export is None
            else {
                "verdict": outcome.export.decision.verdict,
                "reasons": outcome.export.decision.codes,
            },
        }
    )
    return outcome


# -- token leak ---------------------------------------------------------------------------------


def token_leak(w: DrillWorld) -> list[Step]:
    victim = w.plan.subject
    used = Step(
        "victim-job-runs",
        "The victim's own job runs with a fresh token",
        "completed",
        ["IAM-03", "LOG-01"],
    )
    first = w.token_for(victim)
    outcome = _job(used, w.run("victim-job", token=first))
    used.check(outcome.status == "completed", f"{outcome.status} {outcome.decision.codes}")

    replay = Step(
        "leaked-token-replayed",
        "An attacker replays the victim's already used token",
        "refused with TOKEN_REPLAYED, logged as a denied decision",
        ["IAM-03"],
    )
    outcome = _job(replay, w.run("attacker-replay", token=first))
    logged = [r.get("code") for r in _ledger_reasons(w, outcome)]
    replay.check(
        outcome.status == "refused" and "TOKEN_REPLAYED" in logged,
        f"{outcome.status}; ledger reasons {logged}",
    )

    revoked = Step(
        "leaked-token-revoked",
        "A token leaked before use is revoked by its jti; the attacker's use is refused",
        "refused with TOKEN_REVOKED; the ledger's decision carries the revocation reason",
        ["IAM-03", "SEC-05"],
    )
    leaked = w.token_for(victim)
    jti = str(jwt.decode(leaked, options={"verify_signature": False})["jti"])
    why = "drill: token pasted into a public channel"
    w.revoke(jti_sha256=sha256_hex(jti), reason=why)
    revoked.details["revocation"] = {"jti_sha256": sha256_hex(jti), "reason": why}
    outcome = _job(revoked, w.run("attacker-leaked", token=leaked))
    reasons = _ledger_reasons(w, outcome)
    carried = any(
        r.get("code") == "TOKEN_REVOKED" and why in str(r.get("message")) for r in reasons
    )
    revoked.check(
        outcome.status == "refused" and carried,
        f"{outcome.status}; ledger reasons {[r.get('code') for r in reasons]}"
        + ("; revocation reason recorded" if carried else "; revocation reason missing"),
    )

    unaffected = Step(
        "victim-unaffected",
        "Revoking one token does not lock the victim out: a new token works",
        "completed",
        ["IAM-03"],
    )
    outcome = _job(unaffected, w.run("victim-new-token", token=w.token_for(victim)))
    unaffected.check(outcome.status == "completed", f"{outcome.status} {outcome.decision.codes}")
    return [used, replay, revoked, unaffected]


# -- access compromise --------------------------------------------------------------------------


def access_compromise(w: DrillWorld) -> list[Step]:
    victim = w.plan.subject
    activity = Step(
        "attacker-activity",
        "With the compromised identity's credentials, one job runs and one is refused",
        "one completed, one refused (beyond the role's limits)",
        ["LOG-01"],
    )
    ran = _job(activity, w.run("compromised-run", token=w.token_for(victim)))
    # A probe past what the role allows: more shots if that is possible, else another
    # environment.
    probe: dict[str, Any] = (
        {"shots": w.plan.max_shots + 1}
        if w.plan.max_shots < 1_000_000
        else {"environment": "production" if w.plan.environment != "production" else "dev"}
    )
    refused = _job(activity, w.run("compromised-probe", token=w.token_for(victim), **probe))
    activity.check(
        ran.status == "completed" and refused.status == "refused",
        f"{ran.status}, then {refused.status} {refused.decision.codes}",
    )

    revoked = Step(
        "identity-revoked",
        "The identity is revoked; its next request is refused, with the reason in the ledger",
        "refused with IDENTITY_REVOKED; the decision carries the revocation reason",
        ["IAM-01", "SEC-05"],
    )
    why = "drill: credentials of this identity compromised"
    w.revoke(subject=victim, reason=why)
    revoked.details["revocation"] = {"subject": victim, "reason": why}
    after = _job(revoked, w.run("after-revocation", token=w.token_for(victim)))
    reasons = _ledger_reasons(w, after)
    carried = any(
        r.get("code") == "IDENTITY_REVOKED" and why in str(r.get("message")) for r in reasons
    )
    revoked.check(
        after.status == "refused" and carried,
        f"{after.status}; ledger reasons {[r.get('code') for r in reasons]}",
    )

    listed = Step(
        "jobs-listed",
        "Every job the identity submitted is listed from the ledger",
        "the completed, the refused and the post-revocation job, with their decisions",
        ["LOG-01", "LOG-02"],
    )
    jobs = jobs_of(w.events(), victim)
    listed.details["jobs_of_identity"] = jobs
    by_id = {j.get("job_id"): j for j in jobs}
    expected = {ran.job_id: "allow", refused.job_id: "deny", after.job_id: "deny"}
    found = {job_id: (by_id.get(job_id) or {}).get("decision") for job_id in expected}
    listed.job_ids = list(expected)
    listed.check(
        found == expected and bool(by_id.get(ran.job_id, {}).get("ran")),
        f"{len(jobs)} job(s) of {victim} in the ledger; decisions {list(found.values())}",
    )
    return [activity, revoked, listed]


# -- unauthorized export ------------------------------------------------------------------------


def _denied_export_alerted(w: DrillWorld, outcome: RunOutcome) -> bool:
    for frame in w.frames:
        try:
            body = parse_frame(frame)
        except (ValueError, UnicodeDecodeError):
            continue
        ledger = (body.get("unmapped") or {}).get("ledger") or {}
        correlation = (body.get("metadata") or {}).get("correlation_uid")
        if (
            ledger.get("type") == "result.export"
            and correlation == outcome.job_id
            and body.get("status") == "Failure"
        ):
            return True
    return False


def unauthorized_export(w: DrillWorld) -> list[Step]:
    victim = w.plan.subject
    target = w.root / "exports"
    bare = Step(
        "export-without-approval",
        "Results are exported without an approval",
        "the job runs, the export is refused, nothing is written, the SIEM gets the denial",
        ["IAM-06", "LOG-07"],
    )
    destination = target / "no-approval.json"
    outcome = _job(bare, w.run("export-bare", token=w.token_for(victim), export=destination))
    export = outcome.export
    alerted = _denied_export_alerted(w, outcome)
    bare.check(
        export is not None
        and not export.decision.allowed
        and not destination.exists()
        and alerted,
        f"job {outcome.status}; export "
        f"{export.decision.verdict if export else 'not attempted'} "
        f"{export.decision.codes if export else ''}; "
        f"{'SIEM alerted' if alerted else 'no SIEM alert'}",
    )

    forged = Step(
        "forged-approval-refused",
        "An approval written in the approver's name (unsigned YAML) is presented",
        "the export is refused (APPROVAL_UNSIGNED or not permitted); nothing is written",
        ["IAM-06"],
    )
    approver = w.plan.approver or "approver@forged.invalid"
    record = approval(
        "DRILL-FORGED",
        "export",
        requester=victim,
        approver=approver,
        start=w.clock(),
        end=w.clock() + timedelta(hours=1),
        reason="forged in the drill",
    )
    forged_file = w.root / "forged-approvals.yaml"
    forged_file.write_text(
        yaml.safe_dump({"approvals": [record.model_dump(mode="json")]}, sort_keys=False),
        encoding="utf-8",
    )
    destination = target / "forged.json"
    ctx = w.context(approvals=(record,))
    outcome = _job(
        forged,
        w.run(
            "export-forged",
            token=w.token_for(victim),
            export=destination,
            export_approval="DRILL-FORGED",
            ctx=ctx,
        ),
    )
    export = outcome.export
    forged.check(
        export is not None and not export.decision.allowed and not destination.exists(),
        f"export {export.decision.verdict if export else 'not attempted'} "
        f"{export.decision.codes if export else ''}",
    )

    approved = Step(
        "approved-export",
        "The approver grants the export with their own token; the export goes through",
        "approval granted and signed in the ledger; export allowed and written",
        ["IAM-06"],
    )
    if w.plan.approver is None or not w.plan.can_export:
        approved.skip(
            "the policy has no approver besides the victim"
            if w.plan.approver is None
            else f"role {w.plan.role} may not export at all (EXPORT_NOT_PERMITTED)"
        )
        return [bare, forged, approved]
    grant = w.grant(
        "export-approved",
        "export",
        approver=w.plan.approver,
        token=w.token_for(w.plan.approver),
        export_approval="DRILL-EXPORT-1",
    )
    approved.approval_ids.append("DRILL-EXPORT-1")
    destination = target / "approved.json"
    outcome = _job(
        approved,
        w.run(
            "export-approved",
            token=w.token_for(victim),
            export=destination,
            export_approval="DRILL-EXPORT-1",
        ),
    )
    export = outcome.export
    approved.details["grant"] = grant.to_json()
    approved.check(
        grant.granted
        and export is not None
        and export.decision.allowed
        and destination.exists(),
        f"approval {'granted' if grant.granted else 'refused'} "
        f"{[r.code for r in grant.reasons]}; export "
        f"{export.decision.verdict if export else 'not attempted'} "
        f"{export.decision.codes if export else ''}",
    )
    return [bare, forged, approved]


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False, default=str) + "\n"


DRILLS: dict[str, Scenario] = {
    "token-leak": token_leak,
    "access-compromise": access_compromise,
    "unauthorized-export": unauthorized_export,
}
