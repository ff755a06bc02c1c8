"""Quotas, budgets and burst alerts per project, computed from the ledger itself.

Usage is the sum of what allowed ``job.decision`` events reserved (``data.charge``) within the
quota period, so the ledger is the single book of account and two processes cannot both spend
the last shots: the check and the reservation happen under the ledger lock. A job that later
fails keeps its reservation (the conservative choice for a budget).

A burst -- more submissions for a project inside ``burst.window_seconds`` than
``burst.max_jobs`` -- does not refuse the job; it raises a ``cost.anomaly`` event that the
SIEM forwarder sends on like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scanner.governed.decision import Reason, reason
from scanner.governed.policy_sections import Backend, Project
from scanner.governed.timeutil import parse_iso

DECISION_EVENT = "job.decision"


@dataclass(frozen=True)
class Usage:
    shots: int = 0
    cost_units: int = 0
    jobs: int = 0

    def to_json(self) -> dict[str, int]:
        return {"shots": self.shots, "cost_units": self.cost_units, "jobs": self.jobs}


def cost_units(backend: Backend, shots: int) -> int:
    per_shots = -(-shots * backend.cost_units_per_1000_shots // 1000)  # ceiling division
    return backend.cost_units_per_job + per_shots


def period_start(period: str, now: datetime) -> datetime | None:
    if period == "day":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return None


def _decisions(events: list[dict[str, Any]], project: str) -> list[tuple[datetime, dict[str, Any]]]:
    found = []
    for event in events:
        if event.get("type") != DECISION_EVENT:
            continue
        subject = event.get("subject") or {}
        if subject.get("project") != project:
            continue
        try:
            found.append((parse_iso(str(event.get("ts"))), event))
        except ValueError:
            continue
    return found


def usage_for(project: Project, events: list[dict[str, Any]], now: datetime) -> Usage:
    start = period_start(project.quota.period, now)
    shots = cost = jobs = 0
    for moment, event in _decisions(events, project.name):
        if event.get("decision") != "allow" or (start is not None and moment < start):
            continue
        charge = (event.get("data") or {}).get("charge") or {}
        shots += int(charge.get("shots", 0))
        cost += int(charge.get("cost_units", 0))
        jobs += 1
    return Usage(shots=shots, cost_units=cost, jobs=jobs)


def check_quota(project: Project, usage: Usage, shots: int, cost: int) -> list[Reason]:
    reasons = []
    quota = project.quota
    if quota.shots is not None and usage.shots + shots > quota.shots:
        reasons.append(
            reason(
                "QUOTA_SHOTS_EXCEEDED",
                f"project {project.name} has used {usage.shots} of {quota.shots} shots this "
                f"{quota.period}; {shots} more would exceed it",
            )
        )
    if quota.cost_units is not None and usage.cost_units + cost > quota.cost_units:
        reasons.append(
            reason(
                "QUOTA_COST_EXCEEDED",
                f"project {project.name} has used {usage.cost_units} of {quota.cost_units} cost "
                f"units this {quota.period}; {cost} more would exceed it",
            )
        )
    return reasons


def burst_count(project: Project, events: list[dict[str, Any]], now: datetime) -> int | None:
    """Submissions in the burst window including the current one, if over the limit."""
    if project.burst is None:
        return None
    since = now - timedelta(seconds=project.burst.window_seconds)
    recent = sum(1 for moment, _ in _decisions(events, project.name) if moment > since)
    count = recent + 1
    return count if count > project.burst.max_jobs else None
