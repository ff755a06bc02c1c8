"""Who ran what on which backend, with which data, and was it allowed: the ledger, one row per
job.

A job's events share its job id (``subject.job_id``): ``identity.verified``/``rejected``, the
``job.decision``, a ``cost.anomaly`` or ``debug.mode`` when there was one, ``job.executed`` or
``job.failed``, ``result.export`` and, later, ``job.replayed``. They are joined into one
:class:`~.job_row.JobRow` per job, started at its decision (see :mod:`.job_row`).

Filters (:class:`~.filters.Filters`: ``subject``, ``backend``, ``project``, ``dataset``,
``decision``, the time range) apply to the decision, i.e. to the submission; ``types`` keeps
jobs that have an event of one of those types. Only rows that match are kept, so memory grows
with the answer, not with the ledger.
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

from scanner.evidence.filters import Filters
from scanner.evidence.job_row import JobRow, grant_summary
from scanner.evidence.reading import (
    LedgerEvent,
    LedgerReader,
    ReadStats,
    Verification,
    answer_warning,
)
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
_IDENTITY_EVENTS = frozenset({"identity.verified", "identity.rejected"})


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
