"""Governance telemetry from the ledger: is the secure path working, and how fast?

Definitions (``since <= t < until``; a job belongs to the window of its submission, i.e. its
``job.decision`` event, and its later events are joined to it by job id wherever they fall):

- **jobs**: submissions (``job.decision`` events), allowed and refused.
- **job success rate**: completed / allowed -- allowed jobs with a ``job.executed`` event over
  all allowed jobs; ``job.failed`` counts as failed, an allowed job with neither as not run.
- **time to result**: from a job's ``job.decision`` (its submission, authorised and recorded)
  to its ``job.executed`` event, for completed jobs; median and p95.
- **approval latency**: there is no "approval requested" event -- a request for an elevation
  shows up as a refused job, export or debug request that names the approval id it needs. So:
  *request -> grant* runs from the first refused request naming an approval id that was not
  granted yet to that id's ``approval.granted`` event (how long a requester waited);
  *grant -> use* from ``approval.granted`` to the first allowed request that used it. Both are
  counted in the window of the grant. Grants never used are counted, and those past their
  expiry at ``as_of`` as expired unused.
- **denials by reason**: per kind of request -- job submissions (``job.decision``), exports
  (``result.export``), debug (``debug.mode``), approval grants (``approval.refused``) -- how
  many refused requests carried each reason code (a request counts once per code), with the
  catalog controls each code enforces.
- **token replays refused** and **revocations hit**: refused requests carrying
  ``TOKEN_REPLAYED``, and each revocation code (``TOKEN_REVOKED``, ``IDENTITY_REVOKED``,
  ``ISSUER_KEY_REVOKED``, ``APPROVAL_REVOKED``).
- **quota use per project**: with the policy, for each project the shots and cost units that
  allowed decisions reserved in the quota period containing ``as_of`` (what the quota check
  itself counts; the window does not apply), against the project's quota; without it, what
  allowed decisions reserved within the window, per project.
- **exceptions in force** (policy only): the policy's exceptions register at ``as_of``; an
  expiry date is valid through that day.
- **access reviews**: ``access.review`` events (``qgov access review --sign-off``).

Percentiles use the nearest-rank method (p50 is the median), in whole milliseconds. Memory holds
one small entry per job still waiting for its result and per approval not yet used, and one
integer per measured duration -- never the events.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scanner.evidence.job_row import grant_summary
from scanner.evidence.reading import (
    LedgerEvent,
    LedgerReader,
    ReadStats,
    Verification,
    answer_warning,
    moment,
)
from scanner.evidence.timespec import TimeRange
from scanner.governed.decision import REASON_CONTROLS
from scanner.governed.timeutil import deadline, iso_z, utc_now

if TYPE_CHECKING:
    from scanner.governed.policy import OrgPolicy

REVOCATION_CODES = ("TOKEN_REVOKED", "IDENTITY_REVOKED", "ISSUER_KEY_REVOKED", "APPROVAL_REVOKED")
REPLAY_CODE = "TOKEN_REPLAYED"
# The refused requests whose reasons count, by event type (identity.rejected is the same
# request as its job.decision, whose reasons include the identity's).
REQUEST_KINDS = {
    "job.decision": "job",
    "result.export": "export",
    "debug.mode": "debug",
    "approval.refused": "approval",
}
APPROVAL_USES = ("job.decision", "result.export", "debug.mode")


def percentile(ordered: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Durations:
    """Milliseconds, one machine integer each."""

    values: array[int] = field(default_factory=lambda: array("q"))

    def add(self, start: datetime | None, end: datetime | None) -> None:
        if start is not None and end is not None and end >= start:
            self.values.append(round((end - start).total_seconds() * 1000))

    def to_json(self) -> dict[str, int | None]:
        ordered = sorted(self.values)
        return {
            "count": len(ordered),
            "median_ms": percentile(ordered, 0.5),
            "p95_ms": percentile(ordered, 0.95),
            "max_ms": ordered[-1] if ordered else None,
        }


@dataclass
class ProjectUse:
    shots: int = 0
    cost_units: int = 0
    jobs: int = 0

    def add(self, charge: dict[str, Any]) -> None:
        for name in ("shots", "cost_units"):
            value = charge.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(self, name, getattr(self, name) + value)
        self.jobs += 1


@dataclass
class Metrics:
    """The telemetry and what it rests on (see the module doc for each definition)."""

    verification: Verification
    window: TimeRange
    as_of: datetime
    stats: ReadStats
    policy_ref: dict[str, Any] | None = None
    submitted: int = 0
    allowed: int = 0
    refused: int = 0
    completed: int = 0
    failed: int = 0
    time_to_result: Durations = field(default_factory=Durations)
    request_to_grant: Durations = field(default_factory=Durations)
    grant_to_use: Durations = field(default_factory=Durations)
    approvals_granted: int = 0
    approvals_refused: int = 0
    approvals_used: int = 0
    approvals_unused: int = 0
    approvals_expired_unused: int = 0
    denials: dict[str, Counter[str]] = field(default_factory=dict)
    refused_requests: Counter[str] = field(default_factory=Counter)
    token_replays_refused: int = 0
    revocations_hit: Counter[str] = field(default_factory=Counter)
    exports: Counter[str] = field(default_factory=Counter)
    cost_anomalies: Counter[str] = field(default_factory=Counter)
    replays: Counter[str] = field(default_factory=Counter)
    identity_rejections: int = 0
    access_reviews: list[dict[str, Any]] = field(default_factory=list)
    access_reviews_total: int = 0
    quota: list[dict[str, Any]] = field(default_factory=list)
    quota_basis: str = ""
    exceptions: dict[str, Any] | None = None
    unverified_events_used: int = 0
    first_event: str | None = None
    last_event: str | None = None

    @property
    def intact(self) -> bool:
        """Verified, and unchanged while it was read."""
        return self.verification.intact and not self.stats.changed

    def warning(self) -> str | None:
        return answer_warning(self.verification, self.stats)

    @property
    def not_run(self) -> int:
        return self.allowed - self.completed - self.failed

    @property
    def success_rate(self) -> float | None:
        return self.completed / self.allowed if self.allowed else None

    def to_json(self) -> dict[str, Any]:
        rate = self.success_rate
        return {
            "warning": self.warning(),
            "ledger": str(self.verification.path),
            "window": {**self.window.to_json(), "as_of": iso_z(self.as_of)},
            "events_in_window": {"first": self.first_event, "last": self.last_event},
            "policy": self.policy_ref,
            "verification": self.verification.to_json(),
            "reading": self.stats.to_json(),
            "unverified_events_used": self.unverified_events_used,
            "jobs": {
                "submitted": self.submitted,
                "allowed": self.allowed,
                "refused": self.refused,
                "completed": self.completed,
                "failed": self.failed,
                "not_run": self.not_run,
                "success_rate": None if rate is None else round(rate, 4),
            },
            "time_to_result": self.time_to_result.to_json(),
            "approvals": {
                "granted": self.approvals_granted,
                "refused": self.approvals_refused,
                "used": self.approvals_used,
                "unused": self.approvals_unused,
                "expired_unused": self.approvals_expired_unused,
                "latency": {
                    "request_to_grant": self.request_to_grant.to_json(),
                    "grant_to_use": self.grant_to_use.to_json(),
                },
            },
            "denials": {
                kind: {
                    "requests": self.refused_requests[kind],
                    "by_reason": [
                        {
                            "code": code,
                            "count": count,
                            "control_ids": list(REASON_CONTROLS.get(code, ())),
                        }
                        for code, count in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))
                    ],
                }
                for kind, codes in sorted(self.denials.items())
            },
            "token_replays_refused": self.token_replays_refused,
            "revocations_hit": dict(sorted(self.revocations_hit.items())),
            "identity_rejections": self.identity_rejections,
            "exports": dict(sorted(self.exports.items())),
            "cost_anomalies": dict(sorted(self.cost_anomalies.items())),
            "replays": dict(sorted(self.replays.items())),
            "access_reviews": {
                "recorded": self.access_reviews_total,
                "latest": self.access_reviews,
            },
            "quota": {"basis": self.quota_basis, "projects": self.quota},
            "exceptions": self.exceptions,
        }


MAX_REVIEWS_LISTED = 20


@dataclass
class _Grant:
    at: datetime | None
    in_window: bool
    expires: datetime | None
    used: bool = False


class _Collector:
    """One streamed pass; see the module doc for what each number means."""

    def __init__(self, m: Metrics, policy: OrgPolicy | None) -> None:
        self.m = m
        self.window = m.window
        self.waiting: dict[str, datetime | None] = {}  # allowed job id -> decision time
        self.asked: dict[str, datetime] = {}  # approval id -> first refused request naming it
        self.granted: dict[str, _Grant] = {}
        self.usage: dict[str, ProjectUse] = {}
        self.period_starts: dict[str, datetime | None] = {}
        self.policy = policy
        if policy is not None:
            from scanner.governed.quota import period_start

            for project in policy.projects:
                self.period_starts[project.name] = period_start(project.quota.period, m.as_of)

    def feed(self, event: LedgerEvent) -> None:
        m, kind, in_window = self.m, event.type, self.window.contains(event.ts)
        if in_window and kind not in ("ledger.genesis", "ledger.checkpoint"):
            stamp = event.body.get("ts")
            if isinstance(stamp, str):
                m.first_event = m.first_event or stamp
                m.last_event = stamp
        self._quota(event)
        if kind == "job.decision":
            self._decision(event, in_window)
        elif kind in ("job.executed", "job.failed"):
            self._result(event)
        elif kind == "approval.granted":
            self._grant(event, in_window)
        counted = in_window and (
            kind in ("access.review", "cost.anomaly", "job.replayed", "identity.rejected")
            or kind in REQUEST_KINDS
        )
        if counted and not event.verified:
            m.unverified_events_used += 1
        if kind in APPROVAL_USES:
            self._use(event)  # counted in the window of the grant, wherever the use falls
        if not in_window:
            return
        if kind in REQUEST_KINDS and kind != "job.decision":
            self._request(event)
        if kind == "result.export":
            m.exports["allowed" if event.decision == "allow" else "refused"] += 1
        elif kind == "cost.anomaly":
            m.cost_anomalies[str(event.subject.get("project") or "-")] += 1
        elif kind == "job.replayed":
            m.replays[event.decision or "-"] += 1
        elif kind == "identity.rejected":
            m.identity_rejections += 1
        elif kind == "access.review":
            self._review(event)

    def _decision(self, event: LedgerEvent, in_window: bool) -> None:
        if not in_window:
            return
        m = self.m
        m.submitted += 1
        job_id = event.job_id
        if event.decision == "allow":
            m.allowed += 1
            if job_id is not None:
                self.waiting[job_id] = event.ts
        else:
            m.refused += 1
        self._request(event)

    def _result(self, event: LedgerEvent) -> None:
        job_id = event.job_id
        if job_id is None or job_id not in self.waiting:
            return  # a job outside the window, or refused, or already counted
        started = self.waiting.pop(job_id)
        if event.type == "job.executed":
            self.m.completed += 1
            self.m.time_to_result.add(started, event.ts)
        else:
            self.m.failed += 1

    def _request(self, event: LedgerEvent) -> None:
        """A request with a verdict: refused ones count their reasons."""
        kind = REQUEST_KINDS[event.type]
        if event.decision != "deny":
            return
        m = self.m
        m.refused_requests[kind] += 1
        reasons = event.data.get("reasons")
        codes = {
            str(r.get("code"))
            for r in (reasons if isinstance(reasons, list) else [])
            if isinstance(r, dict)
        }
        counter = m.denials.setdefault(kind, Counter())
        counter.update(codes)
        if REPLAY_CODE in codes:
            m.token_replays_refused += 1
        for code in REVOCATION_CODES:
            if code in codes:
                m.revocations_hit[code] += 1
        if event.type == "approval.refused":
            m.approvals_refused += 1
            return
        approval_id = event.data.get("approval")
        if isinstance(approval_id, str) and approval_id not in self.granted:
            if event.ts is not None:
                self.asked.setdefault(approval_id, event.ts)

    def _grant(self, event: LedgerEvent, in_window: bool) -> None:
        found = grant_summary(event)
        if found is None or found[0] in self.granted:
            return
        approval_id, grant = found
        self.granted[approval_id] = _Grant(event.ts, in_window, moment(grant.get("expires_at")))
        asked = self.asked.pop(approval_id, None)
        if in_window:
            self.m.approvals_granted += 1
            self.m.request_to_grant.add(asked, event.ts)

    def _use(self, event: LedgerEvent) -> None:
        approval_id = event.data.get("approval")
        if event.decision != "allow" or not isinstance(approval_id, str):
            return
        grant = self.granted.get(approval_id)
        if grant is None or grant.used:
            return
        grant.used = True
        if grant.in_window:
            self.m.approvals_used += 1
            self.m.grant_to_use.add(grant.at, event.ts)

    def _review(self, event: LedgerEvent) -> None:
        m = self.m
        m.access_reviews_total += 1
        data, subject = event.data, event.subject
        m.access_reviews.append(
            {
                "at": event.body.get("ts"),
                "reviewer": data.get("reviewer"),
                "as_of": subject.get("as_of"),
                "outcome": event.decision,
                "report_sha256": data.get("report_sha256"),
                "ledger_intact": data.get("ledger_intact"),
                "seq": event.seq,
                "verified": event.verified,
            }
        )
        del m.access_reviews[:-MAX_REVIEWS_LISTED]

    def _quota(self, event: LedgerEvent) -> None:
        if event.type != "job.decision" or event.decision != "allow":
            return
        project = event.subject.get("project")
        if not isinstance(project, str):
            return
        if self.policy is not None and project in self.period_starts:
            start = self.period_starts[project]
            when = event.ts
            if when is None or when > self.m.as_of or (start is not None and when < start):
                return
        elif not self.window.contains(event.ts):
            return
        self.usage.setdefault(project, ProjectUse()).add(event.data.get("charge") or {})

    def finish(self) -> None:
        m = self.m
        for grant in self.granted.values():
            if grant.used or not grant.in_window:
                continue
            m.approvals_unused += 1
            if grant.expires is not None and grant.expires <= m.as_of:
                m.approvals_expired_unused += 1
        m.quota = self._quota_rows()
        if self.policy is not None:
            m.exceptions = exceptions_in_force(self.policy, m.as_of)

    def _quota_rows(self) -> list[dict[str, Any]]:
        m, rows = self.m, []
        if self.policy is None:
            m.quota_basis = f"reserved by allowed jobs submitted {m.window.describe()}"
            for name, use in sorted(self.usage.items()):
                rows.append({"project": name, **use.__dict__, "quota": None})
            return rows
        m.quota_basis = f"reserved in each project's quota period containing {iso_z(m.as_of)}"
        for project in self.policy.projects:
            use = self.usage.pop(project.name, ProjectUse())
            quota = project.quota
            start = self.period_starts[project.name]
            rows.append(
                {
                    "project": project.name,
                    "period": quota.period,
                    "period_start": iso_z(start) if start else None,
                    **use.__dict__,
                    "quota": {"shots": quota.shots, "cost_units": quota.cost_units},
                    "shots_used_percent": _percent(use.shots, quota.shots),
                    "cost_units_used_percent": _percent(use.cost_units, quota.cost_units),
                }
            )
        for name, use in sorted(self.usage.items()):  # projects the policy no longer lists
            rows.append({"project": name, **use.__dict__, "quota": None, "not_in_policy": True})
        return rows


def _percent(used: int, limit: int | None) -> float | None:
    return None if not limit else round(100 * used / limit, 2)


def exceptions_in_force(policy: OrgPolicy, as_of: datetime) -> dict[str, Any]:
    """The policy's exceptions register at ``as_of``: in force (unexpired or open-ended) and
    expired, each with its control, owner and expiry."""
    active, expired = [], []
    for entry in policy.exceptions:
        item = {
            "id": entry.id,
            "control": entry.control,
            "risk_owner": entry.risk_owner,
            "expires": entry.expires.isoformat() if entry.expires else None,
            "ticket": entry.ticket,
        }
        if entry.expires is not None and as_of >= deadline(entry.expires):
            expired.append(item)
        else:
            active.append(item)
    return {
        "in_force": len(active),
        "expired": len(expired),
        "open_ended": sum(1 for a in active if a["expires"] is None),
        "entries": {"in_force": active, "expired": expired},
    }


def metrics(
    verification: Verification,
    *,
    window: TimeRange | None = None,
    policy: OrgPolicy | None = None,
    policy_ref: dict[str, Any] | None = None,
    as_of: datetime | None = None,
) -> Metrics:
    """The governance telemetry of a verified ledger (see the module doc). ``policy`` adds
    quotas and the exceptions register; ``policy_ref`` (id, version, sha256) says which."""
    reader = LedgerReader(verification)
    result = Metrics(
        verification=verification,
        window=window or TimeRange(),
        as_of=as_of or utc_now(),
        stats=reader.stats,
        policy_ref=policy_ref,
    )
    collector = _Collector(result, policy)
    for event in reader:
        collector.feed(event)
    collector.finish()
    return result
