"""The governed path end to end: identity -> authorization -> data gate -> quota -> run ->
record -> export, with every step written to the ledger.

``run_job`` never raises for a policy outcome: a refusal, a failed simulation and a refused
export are all returned (and logged). It raises :class:`~scanner.governed.errors.GovernedError`
only for input it cannot work with (malformed spec or circuit, unusable ledger).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner.governed.approvals import check_approval
from scanner.governed.authorize import authorize_job
from scanner.governed.canonical import sha256_file
from scanner.governed.circuits import HASH_NOTE, LoadedCircuit, load_circuit
from scanner.governed.datagate import check_dataset
from scanner.governed.decision import Decision, Reason, reason
from scanner.governed.environment import capture
from scanner.governed.errors import GovernedError
from scanner.governed.execute import COUNTS_HASH_NOTE, ExecutionResult, run_on_aer
from scanner.governed.identity import IdentityCheck, verify_token
from scanner.governed.ledger import LedgerSession
from scanner.governed.quota import burst_count, check_quota, cost_units, usage_for
from scanner.governed.record import (
    BackendInfo,
    CircuitInfo,
    DatasetInfo,
    ExecutionRecord,
    Failure,
    ResultInfo,
    Seeds,
    Timings,
    read_record,
    write_record,
)
from scanner.governed.runtime import Context, Runtime
from scanner.governed.spec import JobSpec, LoadedSpec, load_job_spec
from scanner.governed.timeutil import as_utc, iso_z

_SMALL_DATASET = 64 * 1024  # datasets up to this size are registered with the scrubber


@dataclass
class ExportOutcome:
    decision: Decision
    path: Path | None = None


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


def display_path(path: Path) -> str:
    """Relative to the working directory when below it, else absolute (POSIX form)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def run_job(
    spec_path: Path,
    ctx: Context,
    *,
    token: str | None,
    export_path: Path | None = None,
    debug: bool = False,
) -> RunOutcome:
    loaded = load_job_spec(spec_path)
    spec = loaded.spec
    circuit = load_circuit(loaded.resolve(spec.circuit.path), spec.circuit.format)
    submitted = ctx.clock()
    job_id = str(uuid.uuid4())
    policy = ctx.require_policy().policy
    with Runtime(ctx) as rt:
        _register_sensitive(rt, token, circuit, loaded)
        subject = _job_subject(job_id, loaded, circuit)
        identity = verify_token(token, policy, environment=spec.environment, now=submitted)
        auth = authorize_job(
            spec,
            identity.identity,
            policy,
            num_qubits=circuit.circuit.num_qubits,
            approvals=ctx.all_approvals,
            now=submitted,
        )
        gate = check_dataset(
            spec.dataset,
            loaded.resolve(spec.dataset.path),
            policy=policy,
            project=auth.project,
            role=auth.role,
        )
        decision = Decision(
            action="job.submit",
            reasons=identity.reasons + auth.reasons + gate.reasons,
            role=auth.role.name if auth.role else None,
            approval_id=auth.approval_id,
        )
        charge = {
            "shots": spec.shots,
            "cost_units": cost_units(auth.backend, spec.shots) if auth.backend else 0,
        }
        actor = _actor(identity)
        outcome = RunOutcome(
            status="refused",
            job_id=job_id,
            job_name=spec.name,
            decision=decision,
            ledger_path=ctx.ledger_path,
            log_path=ctx.log_file,
            subject=identity.identity.subject if identity.identity else None,
        )
        with rt.ledger.session() as session:
            _append_identity(session, ctx, identity, actor, subject)
            usage = None
            if auth.project is not None:
                events = session.events()
                usage = usage_for(auth.project, events, submitted)
                decision.reasons.extend(
                    check_quota(auth.project, usage, charge["shots"], charge["cost_units"])
                )
                burst = burst_count(auth.project, events, submitted)
                if burst is not None:
                    outcome.alerts.append(
                        f"burst: {burst} submissions for project {auth.project.name} within "
                        f"{auth.project.burst.window_seconds if auth.project.burst else 0} s"
                    )
            session.append(
                "job.decision",
                actor=actor,
                source=ctx.source,
                policy=ctx.policy_ref,
                decision=decision.verdict,
                subject=subject,
                data={
                    "decision_id": decision.decision_id,
                    "action": decision.action,
                    "role": decision.role,
                    "approval": decision.approval_id,
                    "reasons": [r.to_json() for r in decision.reasons],
                    "charge": charge if decision.allowed else {"shots": 0, "cost_units": 0},
                    "usage_before": usage.to_json() if usage else None,
                    "data_gate": gate.summary(spec.dataset),
                },
            )
            if outcome.alerts and auth.project is not None:
                session.append(
                    "cost.anomaly",
                    actor=actor,
                    source=ctx.source,
                    policy=ctx.policy_ref,
                    decision="alert",
                    subject={"job_id": job_id, "project": auth.project.name},
                    data={
                        "alert": "usage-burst",
                        "detail": outcome.alerts[-1],
                        "max_jobs": auth.project.burst.max_jobs if auth.project.burst else None,
                    },
                )
            if debug and decision.allowed and identity.identity is not None:
                outcome.debug_mode = _debug_mode(
                    session, ctx, rt, spec, identity.identity.subject, actor, subject
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
            result = _execute(rt, ctx, loaded, circuit, outcome, actor, submitted)
            if export_path is not None and outcome.status == "completed":
                outcome.export = _export(
                    rt, ctx, spec, identity, auth.role, outcome, result, actor, export_path
                )
        rt.ledger.checkpoint()
        outcome.ledger_head = rt.ledger.head()
        if rt.forwarder is not None:
            outcome.siem_sent, outcome.siem_failed = rt.forwarder.sent, rt.forwarder.failed
    return outcome


def _register_sensitive(
    rt: Runtime, token: str | None, circuit: LoadedCircuit, loaded: LoadedSpec
) -> None:
    rt.scrubber.register("token", token)
    rt.scrubber.register("circuit", circuit.canonical_text, by_line=True)
    try:
        source = circuit.source_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        source = ""
    rt.scrubber.register("circuit", source, by_line=True)
    dataset = loaded.resolve(loaded.spec.dataset.path)
    try:
        if dataset.stat().st_size <= _SMALL_DATASET:
            rt.scrubber.register("dataset", dataset.read_text(encoding="utf-8"), by_line=True)
    except (OSError, UnicodeDecodeError):
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


def _actor(identity: IdentityCheck) -> dict[str, Any]:
    if identity.identity is not None:
        return identity.identity.actor()
    return {
        "subject": identity.claimed_subject,
        "verified": False,
        "issuer": identity.issuer_name,
        "token_sha256": identity.token_sha256,
    }


def _append_identity(
    session: LedgerSession,
    ctx: Context,
    identity: IdentityCheck,
    actor: dict[str, Any],
    subject: dict[str, Any],
) -> None:
    session.append(
        "identity.verified" if identity.ok else "identity.rejected",
        actor=actor,
        source=ctx.source,
        policy=ctx.policy_ref,
        decision="allow" if identity.ok else "deny",
        subject={"job_id": subject["job_id"], "environment": subject["environment"]},
        data={
            "token_sha256": identity.token_sha256,
            "reasons": [r.to_json() for r in identity.reasons],
        },
    )


def _debug_mode(
    session: LedgerSession,
    ctx: Context,
    rt: Runtime,
    spec: JobSpec,
    requester: str,
    actor: dict[str, Any],
    subject: dict[str, Any],
) -> bool:
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
            check_approval(
                ctx.all_approvals,
                settings.approval,
                action="debug",
                requester=requester,
                project=spec.project,
                backend=spec.backend,
                policy=policy,
                now=now,
            )
        )
    session.append(
        "debug.mode",
        actor=actor,
        source=ctx.source,
        policy=ctx.policy_ref,
        decision="deny" if problems else "allow",
        subject={"job_id": subject["job_id"], "project": spec.project},
        data={
            "approval": settings.approval,
            "until": iso_z(settings.until) if settings.until else None,
            "reasons": [r.to_json() for r in problems],
        },
    )
    if problems:
        return False
    rt.enable_debug()
    return True


def _execute(
    rt: Runtime,
    ctx: Context,
    loaded: LoadedSpec,
    circuit: LoadedCircuit,
    outcome: RunOutcome,
    actor: dict[str, Any],
    submitted: datetime,
) -> ExecutionResult:
    spec = loaded.spec
    policy = ctx.require_policy().policy
    backend = policy.backend(spec.backend)
    assert backend is not None
    seed = spec.seed if spec.seed is not None else policy.execution.default_seed
    opt_level = policy.execution.optimization_level
    started = ctx.clock()
    t0 = time.perf_counter()
    result = run_on_aer(
        circuit.circuit,
        method=backend.method,
        shots=spec.shots,
        seed_simulator=seed,
        seed_transpiler=seed,
        optimization_level=opt_level,
    )
    total_ms = round((time.perf_counter() - t0) * 1000)
    finished = ctx.clock()
    dataset_path = loaded.resolve(spec.dataset.path)
    try:
        _, dataset_size = sha256_file(dataset_path)
    except OSError:
        dataset_size = None
    error_message = rt.scrubber.scrub(result.error_message or "") if result.error_type else None
    record = ExecutionRecord(
        record_id=outcome.job_id,
        status="completed" if result.status == "completed" else "failed",
        job={
            "job_id": outcome.job_id,
            "name": spec.name,
            "project": spec.project,
            "environment": spec.environment,
            "spec_sha256": loaded.sha256,
            "spec_path": display_path(loaded.path),
        },
        submitter={
            k: v for k, v in actor.items() if k in ("subject", "kind", "issuer", "demo_issuer")
        },
        policy=ctx.policy_ref,
        decision_id=outcome.decision.decision_id,
        circuit=CircuitInfo(
            path=display_path(circuit.source_path), hash_note=HASH_NOTE, **_circuit_fields(circuit)
        ),
        dataset=DatasetInfo(
            name=spec.dataset.name,
            version=spec.dataset.version,
            classification=spec.dataset.classification,
            sha256=spec.dataset.sha256,
            path=display_path(dataset_path),
            size_bytes=dataset_size,
        ),
        backend=BackendInfo(
            policy_name=backend.name,
            simulator=result.backend_name,
            method=backend.method,
            effective_method=result.effective_method,
            regulated=backend.regulated,
            options=result.options,
        ),
        shots=spec.shots,
        seeds=Seeds(simulator=seed, transpiler=seed, optimization_level=opt_level),
        environment=capture(),
        timings=Timings(
            submitted_at=iso_z(submitted),
            started_at=iso_z(started),
            finished_at=iso_z(finished),
            transpile_ms=result.transpile_ms,
            run_ms=result.run_ms,
            total_ms=total_ms,
        ),
        result=ResultInfo(
            counts_sha256=result.counts_sha256,
            counts_hash_note=COUNTS_HASH_NOTE,
            total_shots=sum(result.counts.values()) if result.counts else None,
            distinct_outcomes=len(result.counts) if result.counts else None,
        ),
        failure=Failure(type=result.error_type, message=error_message or "")
        if result.error_type
        else None,
    )
    try:
        outcome.record_path = write_record(record, ctx.records)
    except OSError as exc:
        # The run happened; the ledger must say so even if its record cannot be stored.
        rt.ledger.append(
            "job.failed",
            actor=actor,
            source=ctx.source,
            policy=ctx.policy_ref,
            decision="failed",
            subject={"job_id": outcome.job_id, "job_name": spec.name, "project": spec.project},
            data={
                "decision_id": outcome.decision.decision_id,
                "record_id": record.record_id,
                "counts_sha256": result.counts_sha256,
                "error": {"type": "RecordWriteError", "message": exc.strerror or str(exc)},
            },
        )
        rt.ledger.checkpoint()
        raise GovernedError(
            f"execution record could not be written to {ctx.records}: {exc.strerror or exc}"
        ) from exc
    outcome.record_sha256 = record.sha256
    outcome.counts_sha256 = result.counts_sha256
    outcome.status = record.status
    outcome.error = f"{result.error_type}: {error_message}" if result.error_type else None
    rt.ledger.append(
        "job.executed" if record.status == "completed" else "job.failed",
        actor=actor,
        source=ctx.source,
        policy=ctx.policy_ref,
        decision=record.status,
        subject={"job_id": outcome.job_id, "job_name": spec.name, "project": spec.project},
        data={
            "decision_id": outcome.decision.decision_id,
            "record_id": record.record_id,
            "record_path": display_path(outcome.record_path),
            "record_sha256": record.sha256,
            "circuit_sha256": circuit.circuit_sha256,
            "counts_sha256": result.counts_sha256,
            "backend": backend.name,
            "effective_method": result.effective_method,
            "seed": seed,
            "shots": spec.shots,
            "timings_ms": {
                "transpile": result.transpile_ms,
                "run": result.run_ms,
                "total": total_ms,
            },
            "error": {"type": result.error_type, "message": error_message}
            if result.error_type
            else None,
        },
    )
    rt.log.info(
        "job %s %s record=%s counts_sha256=%s total_ms=%d",
        spec.name,
        record.status,
        record.record_id,
        result.counts_sha256 or "-",
        total_ms,
    )
    return result


def _circuit_fields(circuit: LoadedCircuit) -> dict[str, Any]:
    summary = circuit.summary()
    return {
        "hash_format": summary["hash_format"],
        "sha256": summary["sha256"],
        "source_format": summary["source_format"],
        "source_sha256": summary["source_sha256"],
        "source_bytes": summary["source_bytes"],
        "num_qubits": summary["num_qubits"],
        "num_clbits": summary["num_clbits"],
        "depth": summary["depth"],
        "size": summary["size"],
        "ops": summary["ops"],
    }


def _export(
    rt: Runtime,
    ctx: Context,
    spec: JobSpec,
    identity: IdentityCheck,
    role: Any,
    outcome: RunOutcome,
    result: ExecutionResult,
    actor: dict[str, Any],
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
    if policy.elevation.export_requires_approval and identity.identity is not None:
        decision.reasons.extend(
            check_approval(
                ctx.all_approvals,
                spec.export_approval,
                action="export",
                requester=identity.identity.subject,
                project=spec.project,
                backend=spec.backend,
                policy=policy,
                now=ctx.clock(),
            )
        )
    export = ExportOutcome(decision=decision)
    with rt.ledger.session() as session:
        if decision.allowed:
            destination.parent.mkdir(parents=True, exist_ok=True)
            payload = {
                "job_id": outcome.job_id,
                "record_id": outcome.job_id,
                "decision_id": decision.decision_id,
                "counts_sha256": result.counts_sha256,
                "counts": result.counts,
            }
            fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=2, sort_keys=True)
                handle.write("\n")
            export.path = destination
        session.append(
            "result.export",
            actor=actor,
            source=ctx.source,
            policy=ctx.policy_ref,
            decision=decision.verdict,
            subject={"job_id": outcome.job_id, "job_name": spec.name, "project": spec.project},
            data={
                "decision_id": decision.decision_id,
                "approval": spec.export_approval,
                "destination": display_path(destination),
                "counts_sha256": result.counts_sha256,
                "reasons": [r.to_json() for r in decision.reasons],
            },
        )
    rt.log.info("export of job %s: %s", spec.name, decision.verdict)
    return export


# -- replay -------------------------------------------------------------------------------------


@dataclass
class ReplayOutcome:
    record_path: Path
    record_id: str
    matched: bool
    recorded_counts_sha256: str | None
    replay_counts_sha256: str | None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ledger_path: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "record": str(self.record_path),
            "record_id": self.record_id,
            "matched": self.matched,
            "recorded_counts_sha256": self.recorded_counts_sha256,
            "replay_counts_sha256": self.replay_counts_sha256,
            "problems": self.problems,
            "notes": self.notes,
            "ledger": str(self.ledger_path) if self.ledger_path else None,
        }


def _find_file(stored: str, record_path: Path) -> Path:
    candidate = Path(stored)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    beside = record_path.parent / candidate
    return beside if beside.exists() else candidate


def replay(record_path: Path, ctx: Context, *, circuit_path: Path | None = None) -> ReplayOutcome:
    record = read_record(record_path)
    circuit_file = circuit_path or _find_file(record.circuit.path, record_path)
    circuit = load_circuit(circuit_file, "auto", field="record circuit.path")
    outcome = ReplayOutcome(
        record_path=record_path,
        record_id=record.record_id,
        matched=False,
        recorded_counts_sha256=record.result.counts_sha256,
        replay_counts_sha256=None,
        ledger_path=ctx.ledger_path,
    )
    if circuit.circuit_sha256 != record.circuit.sha256:
        outcome.problems.append(
            f"circuit {circuit_file} hashes to {circuit.circuit_sha256[:16]}..., the record says "
            f"{record.circuit.sha256[:16]}..."
        )
    dataset_file = _find_file(record.dataset.path, record_path)
    if dataset_file.exists():
        actual, _ = sha256_file(dataset_file)
        if actual != record.dataset.sha256:
            outcome.problems.append(
                f"dataset {dataset_file} no longer matches the recorded SHA-256"
            )
    else:
        outcome.notes.append(
            f"dataset file {record.dataset.path} not found; its hash was not rechecked"
        )
    now_env = capture()
    for key in ("python", "qiskit", "qiskit_aer", "numpy", "platform"):
        if now_env.get(key) != record.environment.get(key):
            outcome.notes.append(
                f"environment differs: {key} {record.environment.get(key)} -> {now_env.get(key)}"
            )
    result = run_on_aer(
        circuit.circuit,
        method=record.backend.method,
        shots=record.shots,
        seed_simulator=record.seeds.simulator,
        seed_transpiler=record.seeds.transpiler,
        optimization_level=record.seeds.optimization_level,
    )
    outcome.replay_counts_sha256 = result.counts_sha256
    replay_status = "completed" if result.status == "completed" else "failed"
    if replay_status != record.status:
        outcome.problems.append(
            f"the run {replay_status} on replay; the record says {record.status}"
        )
    elif result.counts_sha256 != record.result.counts_sha256:
        outcome.problems.append("the result counts hash differs from the recorded one")
    with Runtime(ctx) as rt:
        rt.scrubber.register("circuit", circuit.canonical_text, by_line=True)
        with rt.ledger.session() as session:
            logged = [
                e
                for e in session.events()
                if e.get("type") in ("job.executed", "job.failed")
                and (e.get("data") or {}).get("record_id") == record.record_id
            ]
            if not logged:
                outcome.notes.append(
                    "this record is not in the ledger; its integrity was not cross-checked"
                )
            elif all((e.get("data") or {}).get("record_sha256") != record.sha256 for e in logged):
                outcome.problems.append(
                    "the record differs from the one the ledger logged (edited)"
                )
            outcome.matched = not outcome.problems
            session.append(
                "job.replayed",
                actor=None,
                source=ctx.source,
                policy=record.policy,
                decision="match" if outcome.matched else "mismatch",
                subject={"job_id": record.record_id, "job_name": record.job.get("name")},
                data={
                    "record_sha256": record.sha256,
                    "circuit_sha256": circuit.circuit_sha256,
                    "recorded_counts_sha256": record.result.counts_sha256,
                    "replay_counts_sha256": result.counts_sha256,
                    "problems": outcome.problems,
                },
            )
            session.checkpoint()
        rt.log.info(
            "replay of record %s: %s", record.record_id, "match" if outcome.matched else "mismatch"
        )
    return outcome
