"""An access review of an organisation policy: who can do what, and what needs acting on.

``review_access`` expands every identity's roles into grants — one per project,
environment, backend and right (submit, export, administer) the role really reaches: its
own projects (any, when it lists none) sharing an environment with it, and its backends
available in that environment — and lists the items a reviewer must decide on. Expired
roles and roles whose identity kinds exclude the holder grant nothing; they are items.

Activity comes from the audit ledger (``ledger_activity``): the newest event whose ``actor``
is a verified identity (the governed job writes one per identity check, decision, execution
and export). An identity holding roles is inactive when that event is more than
``inactive_days`` old, or when there is none and the ledger itself is older than that.

Everything here is pure data; ``scanner.cli.access_cmds`` renders it and signs it off.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from scanner.governance.checks import EXPIRING_SOON_DAYS, MACHINE_KINDS, Graph, day_of
from scanner.governance.lenient import (
    BackendView,
    IdentityView,
    PolicyView,
    ProjectView,
    RoleView,
)
from scanner.governed.canonical import canonical_json, sha256_hex
from scanner.governed.ledger import verify_ledger
from scanner.governed.timeutil import parse_iso

Right = Literal["submit", "export", "administer"]
RIGHTS: tuple[Right, ...] = ("submit", "export", "administer")
DEFAULT_INACTIVE_DAYS = 90
ANY = "*"  # a role or backend that names no environment, or a policy without projects


@dataclass(frozen=True)
class Grant:
    identity: str
    kind: str
    role: str
    project: str
    environment: str
    backend: str
    right: Right

    def to_json(self) -> dict[str, str]:
        return {
            "identity": self.identity,
            "kind": self.kind,
            "role": self.role,
            "project": self.project,
            "environment": self.environment,
            "backend": self.backend,
            "right": self.right,
        }


@dataclass(frozen=True)
class Item:
    """Something the reviewer decides on (``action``) or should know (not ``action``)."""

    kind: str
    subject: str
    message: str
    action: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message,
                "action": self.action}


@dataclass
class LedgerActivity:
    path: Path
    intact: bool
    events: int = 0
    began: datetime | None = None
    last_seen: dict[str, datetime] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "intact": self.intact,
            "events": self.events,
            "began": self.began.date().isoformat() if self.began else None,
            "problems": self.problems,
        }


def ledger_activity(path: Path) -> LedgerActivity:
    """Verify the ledger, then read when each verified identity last acted. Raises
    ``LedgerError`` when it cannot be read."""
    report = verify_ledger(path)
    activity = LedgerActivity(
        path=path,
        intact=report.intact,
        problems=[f"{p.kind}: {p.message}" for p in report.problems[:5]],
    )
    with path.open("rb") as handle:
        for raw in handle:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            when = _timestamp(event.get("ts"))
            if when is None:
                continue
            activity.events += 1
            if activity.began is None or when < activity.began:
                activity.began = when
            actor = event.get("actor")
            if not isinstance(actor, dict) or actor.get("verified") is False:
                continue  # an unverified claim (or a sign-off) is not use of access
            subject = actor.get("subject")
            if isinstance(subject, str) and (
                subject not in activity.last_seen or when > activity.last_seen[subject]
            ):
                activity.last_seen[subject] = when
    return activity


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


@dataclass
class AccessReview:
    policy: dict[str, str | None]
    today: date
    inactive_days: int
    grants: list[Grant]
    items: list[Item]
    ledger: LedgerActivity | None

    @property
    def action_items(self) -> list[Item]:
        return [item for item in self.items if item.action]

    def to_json(self) -> dict[str, Any]:
        """The review as data; its canonical form is what ``sha256`` hashes."""
        return {
            "policy": self.policy,
            "as_of": self.today.isoformat(),
            "inactive_days": self.inactive_days,
            "ledger": self.ledger.to_json() if self.ledger else None,
            "grants": [grant.to_json() for grant in self.grants],
            "items": [item.to_json() for item in self.items],
            "summary": self.summary(),
        }

    def summary(self) -> dict[str, Any]:
        by_kind: dict[str, int] = {}
        for item in self.items:
            by_kind[item.kind] = by_kind.get(item.kind, 0) + 1
        return {
            "identities": len({g.identity for g in self.grants}),
            "grants": len(self.grants),
            "action_items": len(self.action_items),
            "info_items": len(self.items) - len(self.action_items),
            "by_kind": dict(sorted(by_kind.items())),
        }

    def sha256(self) -> str:
        return sha256_hex(canonical_json(self.to_json()))


def review_access(
    policy: PolicyView,
    *,
    policy_ref: dict[str, str | None],
    today: date,
    inactive_days: int = DEFAULT_INACTIVE_DAYS,
    ledger: LedgerActivity | None = None,
) -> AccessReview:
    graph = Graph.of(policy)
    grants: list[Grant] = []
    items: list[Item] = []
    for identity in policy.identities or ():
        subject = identity.subject or "?"
        for role_name in identity.roles:
            role = graph.roles.get(role_name)
            problem = _unusable(identity, role_name, role, today)
            if problem is not None:
                items.append(problem)
                continue
            assert role is not None
            grants.extend(_grants(subject, identity.kind or "?", role, graph))
        if not identity.roles and not identity.approver:
            items.append(Item("identity-without-roles", subject,
                              f"{subject} is listed but holds no role (and approves nothing)"))
    items.extend(_role_items(policy, graph, today))
    items.extend(_shared_service_items(policy, grants))
    if ledger is not None:
        items.extend(_ledger_items(policy, ledger, today, inactive_days))
    return AccessReview(policy_ref, today, inactive_days, grants, items, ledger)


def _unusable(
    identity: IdentityView, role_name: str, role: RoleView | None, today: date
) -> Item | None:
    subject = identity.subject or "?"
    if role is None:
        return Item("unknown-role", subject, f"{subject} holds role {role_name}, which the "
                    "policy does not define")
    if role.expires is not None and day_of(role.expires) < today:
        return Item("expired-role-granted", subject, f"{subject} still holds role {role_name}, "
                    f"which expired on {day_of(role.expires).isoformat()}")
    if role.identity_kinds is not None and identity.kind not in role.identity_kinds:
        return Item("kind-mismatch", subject, f"{subject} ({identity.kind}) holds role "
                    f"{role_name}, which is for {', '.join(role.identity_kinds)} identities")
    return None


def _grants(subject: str, kind: str, role: RoleView, graph: Graph) -> Iterator[Grant]:
    rights = [right for right, has in zip(
        RIGHTS, (bool(role.backends), role.can_export, role.can_administer), strict=True
    ) if has]
    projects: list[ProjectView | None] = (
        list(graph.projects_of(role)) if graph.projects else [None]
    )
    for project in projects:
        backends = (
            graph.backends_of(role, project) if project is not None
            else [b for name in role.backends or () if (b := graph.backends.get(name))]
        )
        for backend in backends:
            for environment in _environments(role, project, backend):
                for right in rights:
                    yield Grant(subject, kind, role.name or "?",
                                project.name or "?" if project else ANY,
                                environment, backend.name or "?", right)


def _environments(role: RoleView, project: ProjectView | None, backend: BackendView) -> list[str]:
    lists = [e for e in (role.environments, project.environments if project else None,
                         backend.environments) if e is not None]
    if not lists:
        return [ANY]
    shared = set(lists[0]).intersection(*lists[1:])
    return [e for e in lists[0] if e in shared]


def _role_items(policy: PolicyView, graph: Graph, today: date) -> Iterator[Item]:
    for role in policy.roles or ():
        name = role.name or "?"
        if role.owner is None:
            yield Item("role-without-owner", name, f"role {name} names no owner")
        if role.expires is None:
            continue
        day = day_of(role.expires)
        if today <= day <= today + timedelta(days=EXPIRING_SOON_DAYS):
            holders = [i.subject or "?" for i in graph.holders.get(name, [])]
            yield Item(
                "role-expiring",
                name,
                f"role {name} expires on {day.isoformat()} (in {(day - today).days} days); "
                f"held by {', '.join(holders) or 'nobody'}",
                action=False,
            )


def _shared_service_items(policy: PolicyView, grants: list[Grant]) -> Iterator[Item]:
    projects: dict[str, set[str]] = {}
    for grant in grants:
        if grant.kind in MACHINE_KINDS and grant.project != ANY:
            projects.setdefault(grant.identity, set()).add(grant.project)
    for subject, names in sorted(projects.items()):
        if len(names) > 1:
            yield Item("service-in-several-projects", subject, f"{subject} is used from "
                       f"{len(names)} projects ({', '.join(sorted(names))}); give each its own")


def _ledger_items(
    policy: PolicyView, ledger: LedgerActivity, today: date, inactive_days: int
) -> Iterator[Item]:
    if not ledger.intact:
        yield Item("ledger-not-intact", str(ledger.path), "the ledger failed verification, so "
                   "its activity record cannot be trusted: " + "; ".join(ledger.problems))
    cutoff = today - timedelta(days=inactive_days)
    for identity in policy.identities or ():
        if not identity.roles or identity.subject is None:
            continue
        last = ledger.last_seen.get(identity.subject)
        if last is not None:
            if last.date() < cutoff:
                yield Item("inactive", identity.subject, f"{identity.subject} last acted on "
                           f"{last.date().isoformat()}, more than {inactive_days} days ago")
        elif ledger.began is not None and ledger.began.date() < cutoff:
            yield Item("inactive", identity.subject, f"{identity.subject} has no activity in "
                       f"the ledger, which goes back to {ledger.began.date().isoformat()}")
