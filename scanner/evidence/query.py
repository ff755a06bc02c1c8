"""Who ran what on which backend, with which data, and was it allowed: the ledger, one row per
job.

A job's events share its job id (``subject.job_id``): ``identity.verified``/``rejected``, the
``job.decision``, a ``cost.anomaly`` or ``debug.mode`` when there was one, ``job.executed`` or
``job.failed``, ``result.export`` and, later, ``job.replayed``. A row starts at the job's
decision -- who (the actor, and whether the token verified), from where (request source), under
which policy, what (project, environment, backend, shots, circuit and spec hashes), with which
data (dataset name, version, classification as applied, declared and actual SHA-256,
registry entry), the verdict with its reason codes and the approvals it used -- and gathers the
job's later events: the run's outcome, record and result hashes and time to result, each export
request with its verdict and approval, alerts and replays. Approvals are joined to the
``approval.granted`` event that created them, so a row names who granted each elevation.

Filters (``subject``, ``backend``, ``project``, ``dataset``, ``decision``, the time range) apply
to the decision, i.e. to the submission; ``types`` keeps jobs that have an event of one of those
types. Only rows that match are kept, so memory grows with the answer, not with the ledger.
Events that belong to no matching decision are dropped -- except, when nothing is filtered but
event types, events of a job whose decision is missing (a damaged ledger): they become a row
whose status says so.

Raw events (:func:`query` with ``events=True``, or :func:`iter_events`) are filtered on their
own fields; ledger bookkeeping (genesis, checkpoints) only when ``types`` asks for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from scanner.evidence.reading import (
    LedgerEvent,
    LedgerReader,
    ReadStats,
    Verification,
    answer_warning,
)
from scanner.evidence.timespec import TimeRange
from scanner.governed.timeutil import iso_z, utc_now

JOB_EVENT_TYPES = frozenset(
    {
        "identity.verified",
        "identity.rejected",
        "job.decision",
        "cost.anomaly",
        "debug.mode",
        "job.executed",
        "job.failed",
        "result.export",
        "job.replayed",
    }
)
BOOKKEEPING = frozenset({"ledger.genesis", "ledger.checkpoint"})
_IDENTITY_EVENTS = frozenset({"identity.verified", "identity.rejected"})
Decision = Literal["allow", "deny"]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _codes(reasons: object) -> list[str]:
    if not isinstance(reasons, list):
        return []
    return [str(r.get("code")) for r in reasons if isinstance(r, dict)]


def _is_hex(text: str) -> bool:
    return len(text) >= 8 and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class Filters:
    """What to answer about; every field left ``None`` (or empty) matches everything.

    ``dataset`` matches a dataset name (or registry id), ``name@version``, or -- eight or more
    hex digits -- the start of its declared or actual SHA-256."""

    subject: str | None = None
    backend: str | None = None
    project: str | None = None
    dataset: str | None = None
    decision: Decision | None = None
    types: tuple[str, ...] = ()
    time: TimeRange = TimeRange()

    @property
    def needs_decision(self) -> bool:
        """Whether matching needs the job's decision (its submission fields)."""
        return any(
            v is not None
            for v in (self.subject, self.backend, self.project, self.dataset, self.decision)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "backend": self.backend,
            "project": self.project,
            "dataset": self.dataset,
            "decision": self.decision,
            "types": list(self.types),
            **self.time.to_json(),
        }

    def describe(self) -> str:
        parts = [
            f"{name}={value}"
            for name, value in (
                ("subject", self.subject),
                ("backend", self.backend),
                ("project", self.project),
                ("dataset", self.dataset),
                ("decision", self.decision),
            )
            if value is not None
        ]
        if self.types:
            parts.append("type=" + ",".join(self.types))
        if self.time.bounded:
            parts.append(self.time.describe())
        return "; ".join(parts) or "none"

    def dataset_matches(self, dataset: dict[str, Any], gate: dict[str, Any]) -> bool:
        wanted = self.dataset
        if wanted is None:
            return True
        name, version = _text(dataset.get("name")), _text(dataset.get("version"))
        registry = _dict(gate.get("registry"))
        names = {name, _text(registry.get("id"))} - {None}
        if wanted in names or (name is not None and wanted == f"{name}@{version}"):
            return True
        prefix = wanted.lower()
        if not _is_hex(prefix):
            return False
        digests = (_text(dataset.get("sha256")), _text(gate.get("actual_sha256")))
        return any(d is not None and d.lower().startswith(prefix) for d in digests)

    def event_matches(self, event: LedgerEvent) -> bool:
        """Raw-event matching, on the event's own fields."""
        kind = event.type
        if self.types:
            if kind not in self.types:
                return False
        elif kind in BOOKKEEPING:
            return False
        if not self.time.contains(event.ts):
            return False
        if self.subject is not None and event.actor.get("subject") != self.subject:
            return False
        if self.decision is not None and event.decision != self.decision:
            return False
        subject, data = event.subject, event.data
        if self.project is not None and subject.get("project") != self.project:
            return False
        if self.backend is not None and self.backend not in (
            subject.get("backend"),
            data.get("backend"),
        ):
            return False
        return self.dataset is None or self.dataset_matches(
            _dict(subject.get("dataset")), _dict(data.get("data_gate"))
        )


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
            self.subject = _text(actor.get("subject"))
            self.actor_kind = _text(actor.get("kind"))
            self.issuer = _text(actor.get("issuer"))
            demo = actor.get("demo_issuer")
            self.demo_issuer = demo if isinstance(demo, bool) else None
            self.token_jti_sha256 = _text(actor.get("token_jti_sha256"))
            if actor:
                # Refused after verifying (replayed, revoked) reads accepted: false.
                self.identity_verified = actor.get("verified") is not False and (
                    actor.get("accepted") is not False
                )
        source = _dict(event.body.get("source"))
        if source and not self.source:
            self.source = {k: source.get(k) for k in ("channel", "label", "host", "os_user")}
        policy = _dict(event.body.get("policy"))
        if policy and not self.policy:
            self.policy = {k: policy.get(k) for k in ("id", "version", "sha256")}
        subject = event.subject
        self.job_name = self.job_name or _text(subject.get("job_name"))
        self.project = self.project or _text(subject.get("project"))

    @classmethod
    def start(cls, job_id: str, event: LedgerEvent) -> JobRow:
        row = cls(job_id=job_id, submitted_at=_text(event.body.get("ts")), moment=event.ts)
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
        self.decision_id = _text(data.get("decision_id"))
        self.role = _text(data.get("role"))
        self.environment = _text(subject.get("environment"))
        self.backend = _text(subject.get("backend"))
        self.shots = _int(subject.get("shots"))
        self.spec_sha256 = _text(subject.get("spec_sha256"))
        self.circuit_sha256 = _text(_dict(subject.get("circuit")).get("sha256"))
        declared = _dict(subject.get("dataset"))
        gate = _dict(data.get("data_gate"))
        self.dataset = {
            "name": declared.get("name"),
            "version": declared.get("version"),
            "classification": gate.get("classification") or declared.get("classification"),
            "declared_classification": declared.get("classification"),
            "sha256": declared.get("sha256"),
            "actual_sha256": gate.get("actual_sha256"),
            "registry_id": _dict(gate.get("registry")).get("id"),
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
        self.charge = _dict(data.get("charge"))
        self.status = "refused" if self.decision != "allow" else "not run"

    def _execution(self, event: LedgerEvent) -> None:
        data = event.data
        self.status = "completed" if event.type == "job.executed" else "failed"
        self.executed_at = _text(event.body.get("ts"))
        if self.moment is not None and event.ts is not None and self.decision is not None:
            self.time_to_result_ms = round((event.ts - self.moment).total_seconds() * 1000)
        self.record_id = _text(data.get("record_id"))
        self.record_sha256 = _text(data.get("record_sha256"))
        self.counts_sha256 = _text(data.get("counts_sha256"))
        self.provider = _text(data.get("provider"))
        self.device = _text(data.get("device"))
        self.provider_job_id = _text(data.get("provider_job_id"))
        self.error_type = _text(_dict(data.get("error")).get("type"))
        if self.backend is None:
            self.backend = _text(data.get("backend"))

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
    body = _dict(event.data.get("approval"))
    approval_id = _text(body.get("id"))
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


class _Joiner:
    """Builds the matching rows from the event stream (see the module doc)."""

    def __init__(self, filters: Filters) -> None:
        self.filters = filters
        self.rows: dict[str, JobRow] = {}
        self.grants: dict[str, dict[str, Any]] = {}
        self.duplicate_decisions = 0

    def feed(self, event: LedgerEvent) -> None:
        kind = event.type
        if kind == "approval.granted":
            found = grant_summary(event)
            if found is not None:
                self.grants.setdefault(found[0], found[1])
            return
        job_id = event.job_id
        if kind not in JOB_EVENT_TYPES or job_id is None:
            return
        row = self.rows.get(job_id)
        if kind == "job.decision":
            if row is not None:
                self.duplicate_decisions += 1  # a job id decided twice: damage, keep the first
                row.verified = False
                return
            row = JobRow.start(job_id, event)
            row.add(event, self.grants)
            if self._matches(row):
                self.rows[job_id] = row
            return
        if row is None:
            if kind in _IDENTITY_EVENTS or self.filters.needs_decision or self.filters.time.bounded:
                return  # before its decision, or a job the filters left out
            row = self.rows[job_id] = JobRow.start(job_id, event)
        row.add(event, self.grants)

    def _matches(self, row: JobRow) -> bool:
        f = self.filters
        return (
            f.time.contains(row.moment)
            and (f.subject is None or row.subject == f.subject)
            and (f.backend is None or row.backend == f.backend)
            and (f.project is None or row.project == f.project)
            and (f.decision is None or row.decision == f.decision)
            and f.dataset_matches(
                row.dataset,
                {
                    "actual_sha256": row.dataset.get("actual_sha256"),
                    "registry": {"id": row.dataset.get("registry_id")},
                },
            )
        )

    def result(self) -> list[JobRow]:
        types = self.filters.types
        rows = self.rows.values()
        return [r for r in rows if not types or r.types & set(types)]


@dataclass
class QueryResult:
    """The answer and what it rests on: the verification, the reading, the filters."""

    verification: Verification
    filters: Filters
    mode: Literal["jobs", "events"]
    as_of: datetime
    stats: ReadStats
    jobs: list[JobRow] = field(default_factory=list)
    events: list[LedgerEvent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Verified, and unchanged while it was read."""
        return self.verification.intact and not self.stats.changed

    def warning(self) -> str | None:
        return answer_warning(self.verification, self.stats)

    def summary(self) -> dict[str, Any]:
        if self.mode == "events":
            kinds: dict[str, int] = {}
            for event in self.events:
                kinds[event.type] = kinds.get(event.type, 0) + 1
            return {
                "events": len(self.events),
                "unverified": sum(1 for e in self.events if not e.verified),
                "by_type": dict(sorted(kinds.items())),
            }
        count: dict[str, dict[str, int]] = {"decision": {}, "status": {}, "compliance": {}}
        exports = {"allow": 0, "deny": 0}
        for row in self.jobs:
            for key, value in (
                ("decision", row.decision or "none"),
                ("status", row.status),
                ("compliance", row.compliance),
            ):
                count[key][value] = count[key].get(value, 0) + 1
            for export in row.exports:
                verdict = "allow" if export.get("decision") == "allow" else "deny"
                exports[verdict] += 1
        return {
            "jobs": len(self.jobs),
            "unverified": sum(1 for r in self.jobs if not r.verified),
            "by_decision": dict(sorted(count["decision"].items())),
            "by_status": dict(sorted(count["status"].items())),
            "by_compliance": dict(sorted(count["compliance"].items())),
            "exports": exports,
            "subjects": len({r.subject for r in self.jobs if r.subject}),
        }

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "warning": self.warning(),
            "query": {
                "ledger": str(self.verification.path),
                "mode": self.mode,
                "filters": self.filters.to_json(),
                "as_of": iso_z(self.as_of),
            },
            "verification": self.verification.to_json(),
            "reading": self.stats.to_json(),
            "notes": self.notes,
            "summary": self.summary(),
        }
        if self.mode == "events":
            document["events"] = [event_json(e) for e in self.events]
        else:
            document["jobs"] = [r.to_json() for r in self.jobs]
        return document


def event_json(event: LedgerEvent) -> dict[str, Any]:
    return {"line": event.line, "seq": event.seq, "verified": event.verified, "event": event.body}


def iter_events(
    verification: Verification, filters: Filters = Filters(), *, verified_only: bool = False
) -> Iterator[LedgerEvent]:
    """The matching raw events, streamed (constant memory)."""
    for event in LedgerReader(verification):
        if filters.event_matches(event) and (event.verified or not verified_only):
            yield event


def query(
    verification: Verification,
    filters: Filters = Filters(),
    *,
    events: bool = False,
    verified_only: bool = False,
    as_of: datetime | None = None,
) -> QueryResult:
    """Answer ``filters`` from a verified ledger: one :class:`JobRow` per job (or, with
    ``events``, the raw events). ``verified_only`` drops rows and events verification does
    not vouch for; by default they are kept and marked."""
    reader = LedgerReader(verification)
    result = QueryResult(
        verification=verification,
        filters=filters,
        mode="events" if events else "jobs",
        as_of=as_of or utc_now(),
        stats=reader.stats,
    )
    if events:
        found = [e for e in reader if filters.event_matches(e)]
        if reader.stats.rewritten:  # known only at the end: nothing read is vouched for
            found = [dataclasses.replace(e, verified=False) for e in found]
        result.events = [e for e in found if e.verified or not verified_only]
        return result
    joiner = _Joiner(filters)
    for event in reader:
        joiner.feed(event)
    rows = joiner.result()
    if reader.stats.rewritten:
        for row in rows:
            row.verified = False
    if verified_only:
        dropped = sum(1 for r in rows if not r.verified)
        rows = [r for r in rows if r.verified]
        if dropped:
            result.notes.append(f"{dropped} job(s) resting on unverified events left out")
    if joiner.duplicate_decisions:
        result.notes.append(
            f"{joiner.duplicate_decisions} job id(s) carry more than one decision (damage): "
            "the first is shown"
        )
    result.jobs = rows
    return result

