"""The governed path end to end: identity -> authorization -> data gate -> quota -> run ->
record -> export, with every step written to the ledger.

``run_job`` never raises for a policy outcome: a refusal, a failed simulation and a refused
export are all returned (and logged). It raises :class:`~scanner.governed.errors.GovernedError`
only for input it cannot work with (malformed spec or circuit, unusable ledger). The run
itself is in :mod:`.execution`, the export in :mod:`.export`; replays are in :mod:`.replay`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner.fs import FileRefused, read_bytes
from scanner.governed.authorize import Authorization, authorize_job
from scanner.governed.circuits import LoadedCircuit, load_circuit
from scanner.governed.datagate import check_dataset
from scanner.governed.decision import Decision, Reason, reason
from scanner.governed.execution import execute_job
from scanner.governed.export import ExportOutcome, export_results
from scanner.governed.files import SCRUB_DATASET_BYTES
from scanner.governed.identity import verify_token
from scanner.governed.journal import Journal
from scanner.governed.quota import burst_count, check_quota, cost_units, usage_for
from scanner.governed.runtime import Context, Runtime
from scanner.governed.spec import LoadedSpec, load_job_spec
from scanner.governed.timeutil import as_utc, iso_z
from scanner.governed.token_use import refuse_replay


@dataclass
class RunOutcome:
    status: str  # "completed" | "failed" | "refused"
    job_id: str
    job_name: str
    decision: Decision
    ledger_path: Path
    log_path: Path
    subject: str | None = None
    record_path: Path | None = None
    record_sha256: str | None = None
    counts_sha256: str | None = None
    alerts: list[str] = field(default_factory=list)
    export: ExportOutcome | None = None
    debug_mode: bool = False
    ledger_head: str | None = None
    siem_sent: int = 0
    siem_failed: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "job_id": self.job_id,
            "job_name": self.job_name,
            "submitter": self.subject,
            "decision": {
                "id": self.decision.decision_id,
                "verdict": self.decision.verdict,
                "role": self.decision.role,
                "reasons": [r.to_json() for r in self.decision.reasons],
            },
            "record": str(self.record_path) if self.record_path else None,
            "record_sha256": self.record_sha256,
            "counts_sha256": self.counts_sha256,
            "error": self.error,
            "alerts": self.alerts,
            "export": None
            if self.export is None
            else {
                "verdict": self.export.decision.verdict,
                "path": str(self.export.path) if self.export.path else None,
                "reasons": [r.to_json() for r in self.export.decision.reasons],
            },
            "debug_mode": self.debug_mode,
            "ledger": str(self.ledger_path),
            "ledger_head": self.ledger_head,
            "log": str(self.log_path),
            "siem": {"sent": self.siem_sent, "failed": self.siem_failed},
        }


def run_job(
    spec_path: Path,
    ctx: Context,
    *,
    token: str | None,
    export_path: Path | None = None,
    debug: bool = False,
) -> RunOutcome:
    loaded_policy = ctx.require_policy()
    policy = loaded_policy.policy
    # Input first: every file the spec names is confined, checked and bounded before the
    # ledger hears of the job (a hostile spec is an input error, exit 2, not an event).
    loaded = load_job_spec(spec_path).with_roots(loaded_policy.data_roots)
    spec = loaded.spec
    backend = policy.backend(spec.backend)
    circuit = load_circuit(
        loaded.resolve(spec.circuit.path, field="circuit.path"),
        spec.circuit.format,
        max_qubits=backend.max_qubits if backend else max(b.max_qubits for b in policy.backends),
    )
    dataset_path = loaded.resolve(spec.dataset.path, field="dataset.path")
    submitted = ctx.clock()
    job_id = str(uuid.uuid4())
    identity = verify_token(token, policy, environment=spec.environment, now=submitted)
    auth = authorize_job(
        spec,
        identity.identity,
        policy,
        num_qubits=circuit.circuit.num_qubits,
        now=submitted,
    )
    gate = check_dataset(
        spec.dataset, dataset_path, policy=policy, project=auth.project, role=auth.role
    )
    decision = Decision(
        action="job.submit",
        role=auth.role.name if auth.role else None,
        approval_id=auth.approval_id,
    )
    with Runtime(ctx) as rt:
        _register_sensitive(rt, token, circuit, dataset_path)
        subject = _job_subject(job_id, loaded, circuit)
        charge = {
            "shots": spec.shots,
            "cost_units": cost_units(auth.backend, spec.shots) if auth.backend else 0,
        }
        journal = Journal(
            rt.ledger,
            job_id=job_id,
            actor=identity.actor(),
            source=ctx.source,
            policy=ctx.policy_ref,
        )
        outcome = RunOutcome(
            status="refused",
            job_id=job_id,
            job_name=spec.name,
            decision=decision,
            ledger_path=ctx.ledger_path,
            log_path=ctx.log_file,
            subject=identity.identity.subject if identity.identity else None,
        )
        # One lock from the ledger reads (token use, approvals, quota) to the decision that
        # spends the token and the approval and reserves the shots.
        with journal.locked():
            events = journal.events()
            refuse_replay(identity, events, policy, submitted)
            journal.actor = identity.actor()
            if auth.needs_approval and identity.identity is not None:
                auth.reasons.extend(
                    ctx.approval_problems(
                        spec.approval,
                        action="run-regulated",
                        requester=identity.identity.subject,
                        job=spec,
                        now=submitted,
                        events=events,
                    )
                )
            decision.reasons = identity.reasons + auth.reasons + gate.reasons
            if not identity.ok:
                outcome.subject = None
            journal.write(
                "identity.verified" if identity.ok else "identity.rejected",
                "allow" if identity.ok else "deny",
                {
                    "token_sha256": identity.token_sha256,
                    "reasons": [r.to_json() for r in identity.reasons],
                },
                environment=spec.environment,
            )
            usage = _check_quota(events, auth, decision, charge, submitted, outcome)
            journal.write(
                "job.decision",
                decision.verdict,
                {
                    "decision_id": decision.decision_id,
                    "action": decision.action,
                    "role": decision.role,
                    "approval": decision.approval_id,
                    "reasons": [r.to_json() for r in decision.reasons],
                    "charge": charge if decision.allowed else {"shots": 0, "cost_units": 0},
                    "usage_before": usage,
                    "data_gate": gate.summary(spec.dataset),
                },
                **subject,
            )
            if outcome.alerts and auth.project is not None:
                burst = auth.project.burst
                journal.write(
                    "cost.anomaly",
                    "alert",
                    {
                        "alert": "usage-burst",
                        "detail": outcome.alerts[-1],
                        "max_jobs": burst.max_jobs if burst else None,
                    },
                    project=auth.project.name,
                )
            if debug and decision.allowed and identity.identity is not None:
                outcome.debug_mode = _debug_mode(
                    journal, ctx, rt, loaded, identity.identity.subject
                )
        rt.log.info(
            "job %s decision=%s decision_id=%s submitter=%s circuit_sha256=%s qubits=%d depth=%d "
            "dataset=%s@%s reasons=%s",
            spec.name,
            decision.verdict,
            decision.decision_id,
            outcome.subject or "-",
            circuit.circuit_sha256,
            circuit.circuit.num_qubits,
            circuit.circuit.depth(),
            spec.dataset.name,
            spec.dataset.version,
            ",".join(decision.codes) or "-",
        )
        for alert in outcome.alerts:
            rt.log.warning("cost anomaly: %s", alert)
        if outcome.debug_mode:
            rt.log.debug("debug mode: circuit text follows\n%s", circuit.canonical_text)
        if decision.allowed:
            run = execute_job(
                rt,
                ctx,
                journal,
                loaded,
                circuit,
                decision_id=decision.decision_id,
                submitted=submitted,
            )
            outcome.record_path = run.record_path
            outcome.record_sha256 = run.record.sha256
            outcome.counts_sha256 = run.result.counts_sha256
            outcome.status = run.record.status
            outcome.error = run.error
            if export_path is not None and outcome.status == "completed":
                outcome.export = export_results(
                    rt,
                    ctx,
                    journal,
                    spec,
                    requester=identity.identity.subject if identity.identity else None,
                    role=auth.role,
                    result=run.result,
                    destination=export_path,
                )
        rt.ledger.checkpoint()
        outcome.ledger_head = rt.ledger.head()
        if rt.forwarder is not None:
            outcome.siem_sent, outcome.siem_failed = rt.forwarder.sent, rt.forwarder.failed
    return outcome


def _register_sensitive(
    rt: Runtime, token: str | None, circuit: LoadedCircuit, dataset: Path
) -> None:
    rt.scrubber.register("token", token)
    rt.scrubber.register("circuit", circuit.canonical_text, by_line=True)
    rt.scrubber.register("circuit", circuit.source_text, by_line=True)
    try:  # the gate already refused anything but a regular file; small ones are scrubbed
        raw = read_bytes(dataset, max_bytes=SCRUB_DATASET_BYTES, follow_symlinks=True)
        rt.scrubber.register("dataset", raw.decode("utf-8"), by_line=True)
    except (FileRefused, UnicodeDecodeError):
        pass


def _job_subject(job_id: str, loaded: LoadedSpec, circuit: LoadedCircuit) -> dict[str, Any]:
    spec = loaded.spec
    return {
        "job_id": job_id,
        "job_name": spec.name,
        "project": spec.project,
        "environment": spec.environment,
        "backend": spec.backend,
        "shots": spec.shots,
        "spec_sha256": loaded.sha256,
        "circuit": circuit.summary(),
        "dataset": {
            "name": spec.dataset.name,
            "version": spec.dataset.version,
            "classification": spec.dataset.classification,
            "sha256": spec.dataset.sha256,
        },
    }


def _check_quota(
    events: list[dict[str, Any]],
    auth: Authorization,
    decision: Decision,
    charge: dict[str, int],
    now: datetime,
    outcome: RunOutcome,
) -> dict[str, int] | None:
    """Add quota reasons and burst alerts from the ledger; the usage before this job."""
    project = auth.project
    if project is None:
        return None
    usage = usage_for(project, events, now)
    decision.reasons.extend(check_quota(project, usage, charge["shots"], charge["cost_units"]))
    burst = burst_count(project, events, now)
    if burst is not None:
        outcome.alerts.append(
            f"burst: {burst} submissions for project {project.name} within "
            f"{project.burst.window_seconds if project.burst else 0} s"
        )
    return usage.to_json()


def _debug_mode(
    journal: Journal, ctx: Context, rt: Runtime, loaded: LoadedSpec, requester: str
) -> bool:
    spec = loaded.spec
    policy = ctx.require_policy().policy
    now = ctx.clock()
    settings = policy.debug
    problems: list[Reason] = []
    if not settings.enabled or settings.until is None:
        problems.append(reason("APPROVAL_REQUIRED", "debug mode is not enabled in the policy"))
    elif now >= as_utc(settings.until):
        problems.append(reason("APPROVAL_EXPIRED", "the policy's debug window has ended"))
    else:
        problems.extend(
            ctx.approval_problems(
                settings.approval,
                action="debug",
                requester=requester,
                job=spec,
                now=now,
                events=journal.events(),
            )
        )
    journal.write(
        "debug.mode",
        "deny" if problems else "allow",
        {
            "approval": settings.approval,
            "until": iso_z(settings.until) if settings.until else None,
            "reasons": [r.to_json() for r in problems],
        },
        project=spec.project,
    )
    if problems:
        return False
    rt.enable_debug()
    return True
