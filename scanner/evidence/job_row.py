"""One row per job of the ledger (:class:`JobRow`), folded from the job's events.

A row starts at the job's decision -- who (the actor, and whether the token verified), from
where (request source), under which policy, what (project, environment, backend, shots, circuit
and spec hashes), with which data (dataset name, version, classification as applied, declared
and actual SHA-256, registry entry), the verdict with its reason codes and the approvals it
used -- and gathers the job's later events: the run's outcome, record and result hashes and time
to result, each export request with its verdict and approval, alerts and replays. Approvals are
joined to the ``approval.granted`` event that created them (:func:`grant_summary`), so a row
names who granted each elevation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanner.evidence.reading import LedgerEvent, as_int, as_mapping, as_text


def _codes(reasons: object) -> list[str]:
    if not isinstance(reasons, list):
        return []
    return [str(r.get("code")) for r in reasons if isinstance(r, dict)]


@dataclass
class JobRow:
    """One job: its submission, decision, run, exports and where each fact is in the ledger."""

    job_id: str
    submitted_at: str | None = None
    moment: datetime | None = None
    seqs: list[int] = field(default_factory=list)
    verified: bool = True
    types: set[str] = field(default_factory=set)
    job_name: str | None = None
    subject: str | None = None
    actor_kind: str | None = None
    identity_verified: bool | None = None
    issuer: str | None = None
    demo_issuer: bool | None = None
    token_jti_sha256: str | None = None
    source: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    project: str | None = None
    environment: str | None = None
    backend: str | None = None
    role: str | None = None
    shots: int | None = None
    dataset: dict[str, Any] = field(default_factory=dict)
    circuit_sha256: str | None = None
    spec_sha256: str | None = None
    decision: str | None = None
    decision_id: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    charge: dict[str, Any] = field(default_factory=dict)
    status: str = "no decision recorded"
    executed_at: str | None = None
    time_to_result_ms: int | None = None
    record_id: str | None = None
    record_sha256: str | None = None
    counts_sha256: str | None = None
    provider: str | None = None
    device: str | None = None
    provider_job_id: str | None = None
    error_type: str | None = None
    exports: list[dict[str, Any]] = field(default_factory=list)
    debug: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    replays: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reason_codes(self) -> list[str]:
        return [str(r.get("code")) for r in self.reasons]

    @property
    def compliance(self) -> str:
        """``complied``: allowed, and every export or debug request for it was allowed;
        ``partly refused``: allowed, but such a request was refused; ``refused``: the
        submission was refused; ``no decision recorded``: the ledger lacks its decision."""
        if self.decision is None:
            return "no decision recorded"
        if self.decision != "allow":
            return "refused"
        if any(e.get("decision") != "allow" for e in [*self.exports, *self.debug]):
            return "partly refused"
        return "complied"

    def _note(self, event: LedgerEvent) -> None:
        if event.seq is not None:
            self.seqs.append(event.seq)
        self.verified = self.verified and event.verified
        self.types.add(event.type)

    def _actor(self, event: LedgerEvent) -> None:
        actor = event.actor
        if self.subject is None:
            self.subject = as_text(actor.get("subject"))
            self.actor_kind = as_text(actor.get("kind"))
            self.issuer = as_text(actor.get("issuer"))
            demo = actor.get("demo_issuer")
            self.demo_issuer = demo if isinstance(demo, bool) else None
            self.token_jti_sha256 = as_text(actor.get("token_jti_sha256"))
            if actor:
                # Refused after verifying (replayed, revoked) reads accepted: false.
                self.identity_verified = actor.get("verified") is not False and (
                    actor.get("accepted") is not False
                )
        source = as_mapping(event.body.get("source"))
        if source and not self.source:
            self.source = {k: source.get(k) for k in ("channel", "label", "host", "os_user")}
        policy = as_mapping(event.body.get("policy"))
        if policy and not self.policy:
            self.policy = {k: policy.get(k) for k in ("id", "version", "sha256")}
        subject = event.subject
        self.job_name = self.job_name or as_text(subject.get("job_name"))
        self.project = self.project or as_text(subject.get("project"))

    @classmethod
    def start(cls, job_id: str, event: LedgerEvent) -> JobRow:
        row = cls(job_id=job_id, submitted_at=as_text(event.body.get("ts")), moment=event.ts)
        return row

    def add(self, event: LedgerEvent, grants: dict[str, dict[str, Any]]) -> None:
        """Fold one of the job's events into the row."""
        self._note(event)
        self._actor(event)
        kind, data = event.type, event.data
        if kind == "job.decision":
            self._decision(event, grants)
        elif kind in ("job.executed", "job.failed"):
            self._execution(event)
        elif kind == "result.export":
            self.exports.append(
                {
                    "at": event.body.get("ts"),
                    "decision": event.decision,
                    "approval": _approval(data.get("approval"), "export", grants),
                    "destination": data.get("destination"),
                    "reasons": _codes(data.get("reasons")),
                    "seq": event.seq,
                }
            )
        elif kind == "debug.mode":
            self.debug.append(
                {
                    "at": event.body.get("ts"),
                    "decision": event.decision,
                    "approval": _approval(data.get("approval"), "debug", grants),
                    "reasons": _codes(data.get("reasons")),
                }
            )
        elif kind == "cost.anomaly":
            self.alerts.append(str(data.get("alert") or "alert"))
        elif kind == "job.replayed":
            self.replays.append({"at": event.body.get("ts"), "result": event.decision})

    def _decision(self, event: LedgerEvent, grants: dict[str, dict[str, Any]]) -> None:
        subject, data = event.subject, event.data
        self.decision = event.decision
        self.decision_id = as_text(data.get("decision_id"))
        self.role = as_text(data.get("role"))
        self.environment = as_text(subject.get("environment"))
        self.backend = as_text(subject.get("backend"))
        self.shots = as_int(subject.get("shots"))
        self.spec_sha256 = as_text(subject.get("spec_sha256"))
        self.circuit_sha256 = as_text(as_mapping(subject.get("circuit")).get("sha256"))
        declared = as_mapping(subject.get("dataset"))
        gate = as_mapping(data.get("data_gate"))
        self.dataset = {
            "name": declared.get("name"),
            "version": declared.get("version"),
            "classification": gate.get("classification") or declared.get("classification"),
            "declared_classification": declared.get("classification"),
            "sha256": declared.get("sha256"),
            "actual_sha256": gate.get("actual_sha256"),
            "registry_id": as_mapping(gate.get("registry")).get("id"),
        }
        reasons = data.get("reasons")
        self.reasons = [
            {
                "code": r.get("code"),
                "message": r.get("message"),
                "control_ids": r.get("control_ids") or [],
            }
            for r in (reasons if isinstance(reasons, list) else [])
            if isinstance(r, dict)
        ]
        approval = _approval(data.get("approval"), "run-regulated", grants)
        if approval is not None:
            self.approvals.append(approval)
        self.charge = as_mapping(data.get("charge"))
        self.status = "refused" if self.decision != "allow" else "not run"

    def _execution(self, event: LedgerEvent) -> None:
        data = event.data
        self.status = "completed" if event.type == "job.executed" else "failed"
        self.executed_at = as_text(event.body.get("ts"))
        if self.moment is not None and event.ts is not None and self.decision is not None:
            self.time_to_result_ms = round((event.ts - self.moment).total_seconds() * 1000)
        self.record_id = as_text(data.get("record_id"))
        self.record_sha256 = as_text(data.get("record_sha256"))
        self.counts_sha256 = as_text(data.get("counts_sha256"))
        self.provider = as_text(data.get("provider"))
        self.device = as_text(data.get("device"))
        self.provider_job_id = as_text(data.get("provider_job_id"))
        self.error_type = as_text(as_mapping(data.get("error")).get("type"))
        if self.backend is None:
            self.backend = as_text(data.get("backend"))

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "job_name": self.job_name,
            "submitted_at": self.submitted_at,
            "who": {
                "subject": self.subject,
                "kind": self.actor_kind,
                "identity_verified": self.identity_verified,
                "issuer": self.issuer,
                "demo_issuer": self.demo_issuer,
                "token_jti_sha256": self.token_jti_sha256,
            },
            "source": self.source,
            "policy": self.policy,
            "project": self.project,
            "environment": self.environment,
            "backend": self.backend,
            "role": self.role,
            "shots": self.shots,
            "dataset": self.dataset,
            "circuit_sha256": self.circuit_sha256,
            "spec_sha256": self.spec_sha256,
            "decision": self.decision,
            "decision_id": self.decision_id,
            "reasons": self.reasons,
            "approvals": self.approvals,
            "charge": self.charge,
            "status": self.status,
            "executed_at": self.executed_at,
            "time_to_result_ms": self.time_to_result_ms,
            "record": {
                "id": self.record_id,
                "sha256": self.record_sha256,
                "counts_sha256": self.counts_sha256,
                "provider": self.provider,
                "device": self.device,
                "provider_job_id": self.provider_job_id,
                "error_type": self.error_type,
            },
            "exports": self.exports,
            "debug": self.debug,
            "alerts": self.alerts,
            "replays": self.replays,
            "compliance": self.compliance,
            "verified": self.verified,
            "ledger_seqs": self.seqs,
        }


def _approval(
    approval_id: object, action: str, grants: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """The approval a request cited, with who granted it (when the ledger holds the grant)."""
    if not isinstance(approval_id, str):
        return None
    grant = grants.get(approval_id)
    if grant is None:
        return {"id": approval_id, "action": action, "granted": False}
    return {"id": approval_id, **grant, "granted": True}


def grant_summary(event: LedgerEvent) -> tuple[str, dict[str, Any]] | None:
    """``(approval id, who granted what when)`` of an ``approval.granted`` event."""
    body = as_mapping(event.data.get("approval"))
    approval_id = as_text(body.get("id"))
    if approval_id is None:
        return None
    return approval_id, {
        "action": body.get("action"),
        "requester": body.get("requester"),
        "approver": body.get("approver"),
        "granted_at": body.get("granted_at"),
        "expires_at": body.get("expires_at"),
        "single_use": body.get("single_use"),
        "grant_seq": event.seq,
    }
