"""What a ledger query asks about (:class:`Filters`), and how an event matches it.

Job filters (``subject``, ``backend``, ``project``, ``dataset``, ``decision``, the time range)
apply to the job's decision, i.e. to its submission (:mod:`.query`); raw events are matched on
their own fields (:meth:`Filters.event_matches`), ledger bookkeeping (genesis, checkpoints) only
when ``types`` asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from scanner.evidence.reading import LedgerEvent, as_mapping, as_text
from scanner.evidence.timespec import TimeRange

BOOKKEEPING = frozenset({"ledger.genesis", "ledger.checkpoint"})
Decision = Literal["allow", "deny"]


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
        name, version = as_text(dataset.get("name")), as_text(dataset.get("version"))
        registry = as_mapping(gate.get("registry"))
        names = {name, as_text(registry.get("id"))} - {None}
        if wanted in names or (name is not None and wanted == f"{name}@{version}"):
            return True
        prefix = wanted.lower()
        if not _is_hex(prefix):
            return False
        digests = (as_text(dataset.get("sha256")), as_text(gate.get("actual_sha256")))
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
            as_mapping(subject.get("dataset")), as_mapping(data.get("data_gate"))
        )
