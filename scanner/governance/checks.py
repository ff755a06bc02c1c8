"""The governance checks `qgov scan` runs on an organisation policy (rules QG-GOV-001…013).

Each check reads the lenient view of one policy document (``scanner.governance.lenient``)
and yields ``Issue`` objects at the line of the entry concerned (``line_at`` over the
document's ``LineDict``). What a policy leaves out is what is reported; nothing here assumes
that cross-references resolve (an unknown role name is simply not followed).

The exact rules are in the docstring of each ``_check_*`` function; README's governance
section summarises them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from scanner.governance.lenient import (
    BackendView,
    ExceptionView,
    IdentityView,
    PolicyView,
    ProjectView,
    RoleView,
    line_at,
)
from scanner.governance.register import expired, label, missing_fields
from scanner.governed.timeutil import as_utc
from scanner.masking import mask
from scanner.model import Issue, Severity

EXPIRING_SOON_DAYS = 30
DEBUG_MAX_HOURS = 24
LOW_ENVIRONMENTS = frozenset({"dev", "test"})
HIGH_ENVIRONMENTS = frozenset({"regulated-pilot", "production"})
MACHINE_KINDS = frozenset({"workload", "service"})
SENSITIVE_DATA = frozenset({"regulated", "confidential"})
REGULATED_TIERS = frozenset({"regulated-pilot", "production-critical"})
_SHOWN_PATHS = 3

# A credential *reference* (vault path, secret ARN, env variable name) may be printed; a
# value that looks like the credential itself is shown masked.
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def day_of(moment: date | datetime) -> date:
    return as_utc(moment).date() if isinstance(moment, datetime) else moment


def _named(kind: str, name: str | None, index: int) -> str:
    return f"{kind} {name}" if name else f"{kind} #{index + 1}"


def _listed(names: Iterable[str], limit: int = 5, *, ordered: bool = False) -> str:
    items = list(dict.fromkeys(names)) if ordered else sorted(set(names))
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def shown_reference(value: str) -> str:
    if "/" in value or ":" in value or "${" in value or _ENV_NAME.fullmatch(value):
        return value
    return value if len(value) < 20 else mask(value)


# --- the policy as a graph: who holds what, what reaches where ---------------------------------


class Graph:
    """Names resolved once: roles, projects and backends by name, the holders of each role,
    and which projects each role reaches (computed once: policies can be large)."""

    def __init__(self, policy: PolicyView) -> None:
        self.holders: dict[str, list[IdentityView]] = {}
        for identity in policy.identities or ():
            for role_name in identity.roles:
                self.holders.setdefault(role_name, []).append(identity)
        self.roles = {r.name: r for r in policy.roles or () if r.name}
        self.projects: Sequence[ProjectView] = tuple(policy.projects or ())
        self.backends = {b.name: b for b in policy.backends or () if b.name}
        self._reach: dict[int, list[ProjectView]] = {}
        self._reached_by: dict[int, list[RoleView]] = {}
        self._owners: dict[int, dict[str, set[str]]] = {}

    @classmethod
    def of(cls, policy: PolicyView) -> Graph:
        return cls(policy)

    def held_roles(self, identity: IdentityView) -> list[RoleView]:
        return [self.roles[name] for name in identity.roles if name in self.roles]

    def projects_of(self, role: RoleView) -> list[ProjectView]:
        """Projects the role can work in: listed by it (or any, when it lists none) and
        sharing an environment with it."""
        if id(role) not in self._reach:
            listed = None if role.projects is None else set(role.projects)
            self._reach[id(role)] = [
                project
                for project in self.projects
                if (listed is None or project.name in listed)
                and overlap(role.environments, project.environments)
            ]
        return self._reach[id(role)]

    def owners_reached(self, role: RoleView) -> dict[str, set[str]]:
        """Owner -> names of the projects with that owner the role reaches."""
        if id(role) not in self._owners:
            owners: dict[str, set[str]] = {}
            for project in self.projects_of(role):
                if project.owner and project.name:
                    owners.setdefault(project.owner, set()).add(project.name)
            self._owners[id(role)] = owners
        return self._owners[id(role)]

    def roles_reaching(self, project: ProjectView) -> list[RoleView]:
        if not self._reached_by:
            for role in self.roles.values():
                for reached in self.projects_of(role):
                    self._reached_by.setdefault(id(reached), []).append(role)
        return self._reached_by.get(id(project), [])

    def backends_of(self, role: RoleView, project: ProjectView) -> list[BackendView]:
        """Backends the role may run the project's jobs on (an environment all three share)."""
        found = []
        for name in role.backends or ():
            backend = self.backends.get(name)
            if backend is not None and overlap(
                role.environments, project.environments, backend.environments
            ):
                found.append(backend)
        return found


def overlap(*environments: tuple[str, ...] | None) -> bool:
    """Whether the given environment lists (None: unrestricted) have one in common."""
    given = [e for e in environments if e is not None]
    if not given:
        return True
    first, *rest = given
    return any(all(name in other for other in rest) for name in first)


# --- checks ---------------------------------------------------------------------------------


def check_policy(document: Any, policy: PolicyView, today: date) -> Iterator[Issue]:
    """Every governance issue of one policy document."""
    graph = Graph.of(policy)
    yield from _check_roles(document, policy, graph, today)
    yield from _check_shared_identities(document, policy, graph)
    yield from _check_mixed_roles(document, policy, graph)
    yield from _check_separation(document, policy)
    yield from _check_access_reviews(document, policy, graph, today)
    yield from check_exceptions(document, policy.exceptions, today)
    yield from _check_projects(document, policy)
    yield from _check_environments(document, policy)
    yield from _check_tiers(document, policy, graph)
    yield from _check_debug(document, policy)


def _check_roles(
    document: Any, policy: PolicyView, graph: Graph, today: date
) -> Iterator[Issue]:
    """QG-GOV-001: a role without owner, purpose or expires. QG-GOV-002: a role whose
    expiry day is before today while an identity still lists it. QG-GOV-003 (info): a role
    expiring today or within the next 30 days."""
    for n, role in enumerate(policy.roles or ()):
        name = _named("role", role.name, n)
        missing = [f for f in ("owner", "purpose", "expires") if getattr(role, f) is None]
        if missing:
            yield Issue(
                "QG-GOV-001",
                f"The {name} has no {_listed(missing, ordered=True)}",
                line=line_at(document, "roles", n),
                material=f"{role.name}\x00{','.join(missing)}",
            )
        if role.expires is None:
            continue
        day = day_of(role.expires)
        where = line_at(document, "roles", n, "expires")
        holders = [i.subject for i in graph.holders.get(role.name or "", ()) if i.subject]
        if day < today and holders:
            yield Issue(
                "QG-GOV-002",
                f"The {name} expired on {day.isoformat()} but is still granted to "
                f"{_listed(holders)}",
                line=where,
                material=f"{role.name}\x00expired",
            )
        elif today <= day <= today + timedelta(days=EXPIRING_SOON_DAYS):
            days = (day - today).days
            yield Issue(
                "QG-GOV-003",
                f"The {name} expires on {day.isoformat()} (in {days} day(s))",
                line=where,
                material=f"{role.name}\x00expiring",
            )


def _check_shared_identities(document: Any, policy: PolicyView, graph: Graph) -> Iterator[Issue]:
    """QG-GOV-004, for service and workload identities: (a) two or more `vendors`; (b) its
    own `environments` plus those of its roles include dev/test and regulated-pilot/
    production; (c) its roles reach projects with different owners (a project's budget owner
    stands for its team; a role reaches the projects it lists, or all when it lists none,
    that share an environment with it)."""
    for n, identity in enumerate(policy.identities or ()):
        if identity.kind not in MACHINE_KINDS:
            continue
        reasons = []
        if len(set(identity.vendors)) > 1:
            reasons.append(f"for several vendors ({_listed(identity.vendors)})")
        roles = graph.held_roles(identity)
        environments = set(identity.environments)
        for role in roles:
            environments.update(role.environments or ())
        if environments & LOW_ENVIRONMENTS and environments & HIGH_ENVIRONMENTS:
            low = _listed(environments & LOW_ENVIRONMENTS)
            high = _listed(environments & HIGH_ENVIRONMENTS)
            reasons.append(f"in {low} as well as {high}")
        owners: dict[str, set[str]] = {}
        for role in roles:
            for owner, names in graph.owners_reached(role).items():
                owners.setdefault(owner, set()).update(names)
        if len(owners) > 1:
            projects = {p for names in owners.values() for p in names}
            reasons.append(
                f"by projects of {len(owners)} different owners ({_listed(projects)})"
            )
        if reasons:
            who = identity.subject or f"identity #{n + 1}"
            yield Issue(
                "QG-GOV-004",
                f"The {identity.kind} identity {who} is used " + "; ".join(reasons)
                + ", so its audit trail cannot say which team, vendor or environment acted",
                line=line_at(document, "identities", n),
                material=f"{identity.subject}\x00shared",
            )


def _check_mixed_roles(document: Any, policy: PolicyView, graph: Graph) -> Iterator[Issue]:
    """QG-GOV-005: a role whose `identity_kinds` include human and workload/service, or
    whose holders are of both sorts."""
    for n, role in enumerate(policy.roles or ()):
        name = _named("role", role.name, n)
        kinds = set(role.identity_kinds or ())
        if "human" in kinds and kinds & MACHINE_KINDS:
            yield Issue(
                "QG-GOV-005",
                f"The {name} is meant for human and {_listed(kinds & MACHINE_KINDS)} "
                "identities alike",
                line=line_at(document, "roles", n, "identity_kinds"),
                material=f"{role.name}\x00kinds",
            )
            continue
        holders = graph.holders.get(role.name or "", [])
        people = [i.subject or "?" for i in holders if i.kind == "human"]
        machines = [i.subject or "?" for i in holders if i.kind in MACHINE_KINDS]
        if people and machines:
            yield Issue(
                "QG-GOV-005",
                f"The {name} is held by people ({_listed(people)}) and by workload or service "
                f"identities ({_listed(machines)})",
                line=line_at(document, "roles", n),
                material=f"{role.name}\x00holders",
            )


def _check_separation(document: Any, policy: PolicyView) -> Iterator[Issue]:
    """QG-GOV-006: a role with `can_administer` that can also submit (it names backends)
    or export; or a role that can submit and export while
    `elevation.export_requires_approval` is false (with it true, each export is separately
    approved, which keeps the duties apart)."""
    approval = policy.elevation.export_requires_approval
    for n, role in enumerate(policy.roles or ()):
        name = _named("role", role.name, n)
        submit = bool(role.backends)
        if role.can_administer and (submit or role.can_export):
            rights = [r for r, has in (("submit jobs", submit), ("export results",
                      role.can_export)) if has]
            yield Issue(
                "QG-GOV-006",
                f"The {name} can administer the configuration and also "
                + " and ".join(rights),
                line=line_at(document, "roles", n, "can_administer"),
                material=f"{role.name}\x00admin",
            )
        elif submit and role.can_export and not approval:
            yield Issue(
                "QG-GOV-006",
                f"The {name} can submit jobs and export their results, and exports need no "
                "approval (elevation.export_requires_approval is false)",
                line=line_at(document, "roles", n, "can_export"),
                material=f"{role.name}\x00export",
            )


def high_risk(project: ProjectView, graph: Graph) -> bool:
    """Regulated-pilot and production-critical projects, and any project a role can run on
    a regulated backend, are reviewed on the short (monthly) cadence."""
    if project.tier in REGULATED_TIERS:
        return True
    return any(
        backend.regulated
        for role in graph.roles_reaching(project)
        for backend in graph.backends_of(role, project)
    )


@dataclass(frozen=True)
class _Review:
    day: date
    scope: str | None
    line: int


def _reviews(document: Any, policy: PolicyView) -> list[_Review]:
    found = [
        _Review(record.date, record.scope, line_at(document, "access_reviews", "records", n))
        for n, record in enumerate(policy.access_reviews.records)
        if record.date is not None
    ]
    if policy.policy is not None and policy.policy.reviewed is not None:
        found.append(
            _Review(policy.policy.reviewed, None, line_at(document, "policy", "reviewed"))
        )
    return found


def _check_access_reviews(
    document: Any, policy: PolicyView, graph: Graph, today: date
) -> Iterator[Issue]:
    """QG-GOV-007, for a policy that grants anything (it has roles or identities): per
    project, the newest review covering it (an `access_reviews.records` entry for the
    project or for the whole policy, or `policy.reviewed`) must be no older than
    `access_reviews.high_risk_cadence_days` (30) for high-risk projects and
    `cadence_days` (90) for the rest; without projects the whole policy is held to 90."""
    if not (policy.roles or policy.identities):
        return
    reviews = _reviews(document, policy)
    settings = policy.access_reviews
    scopes: list[tuple[str | None, int, int]] = [
        (
            project.name,
            settings.high_risk_cadence_days if high_risk(project, graph)
            else settings.cadence_days,
            line_at(document, "projects", n),
        )
        for n, project in enumerate(graph.projects)
    ] or [(None, settings.cadence_days, line_at(document, "access_reviews"))]
    for scope, cadence, fallback_line in scopes:
        covering = [r for r in reviews if r.scope is None or r.scope == scope]
        what = f"project {scope}" if scope else "this policy"
        if not covering:
            line = (
                line_at(document, "access_reviews") if "access_reviews" in document
                else fallback_line
            )
            yield Issue(
                "QG-GOV-007",
                f"No access review is recorded for {what} (due every {cadence} days)",
                line=line,
                material=f"{scope}\x00never",
            )
            continue
        latest = max(covering, key=lambda r: r.day)
        age = (today - latest.day).days
        if age > cadence:
            yield Issue(
                "QG-GOV-007",
                f"The last access review of {what} was on {latest.day.isoformat()}, {age} days "
                f"ago; it is due every {cadence} days",
                line=latest.line,
                material=f"{scope}\x00overdue",
            )


def check_exceptions(
    document: Any, exceptions: Sequence[ExceptionView], today: date
) -> Iterator[Issue]:
    """QG-GOV-008: an exception whose `expires` day is before today. QG-GOV-009: an
    exception lacking id, control, risk_owner, reason, compensating_controls or expires.
    Either way the scan does not apply it (``scanner.governance.register``)."""
    for n, entry in enumerate(exceptions):
        name = label(entry, n)
        missing = missing_fields(entry)
        if missing:
            yield Issue(
                "QG-GOV-009",
                f"The {name} has no {_listed(missing, ordered=True)}; it is not applied",
                line=line_at(document, "exceptions", n),
                material=f"{entry.id}\x00{','.join(missing)}",
            )
        if expired(entry, today):
            assert entry.expires is not None
            control = f" for {entry.control}" if entry.control else ""
            yield Issue(
                "QG-GOV-008",
                f"The {name}{control} expired on {entry.expires.isoformat()}; the findings "
                "it covered are reported again",
                line=line_at(document, "exceptions", n, "expires"),
                material=f"{entry.id}\x00expired",
            )


def _check_projects(document: Any, policy: PolicyView) -> Iterator[Issue]:
    """QG-GOV-010: a project without `owner` (its budget owner), without a `quota` that
    limits shots or cost units, or with neither `burst` nor `budget_alert`."""
    for n, project in enumerate(policy.projects or ()):
        missing = []
        if project.owner is None:
            missing.append("budget owner")
        quota = project.quota
        if quota is None or (quota.shots is None and quota.cost_units is None):
            missing.append("quota")
        if project.burst is None and project.budget_alert is None:
            missing.append("usage alert (burst or budget_alert)")
        if missing:
            yield Issue(
                "QG-GOV-010",
                f"The {_named('project', project.name, n)} has no " + ", no ".join(missing),
                line=line_at(document, "projects", n),
                material=f"{project.name}\x00{','.join(missing)}",
            )


def _check_environments(document: Any, policy: PolicyView) -> Iterator[Issue]:
    """QG-GOV-011: the same credential reference or storage location named by two
    environments; reported at each later entry, high when it joins dev/test with
    regulated-pilot/production, medium otherwise."""
    seen: dict[tuple[str, str], list[str]] = {}
    for n, entry in enumerate(policy.environments):
        if entry.name is None:
            continue
        for field, what in (("credentials", "credential"), ("storage", "storage location")):
            for k, value in enumerate(getattr(entry, field)):
                earlier = [e for e in seen.get((field, value), []) if e != entry.name]
                seen.setdefault((field, value), []).append(entry.name)
                if not earlier:
                    continue
                names = {entry.name, *earlier}
                crosses = bool(names & LOW_ENVIRONMENTS and names & HIGH_ENVIRONMENTS)
                shown = shown_reference(value) if field == "credentials" else value
                yield Issue(
                    "QG-GOV-011",
                    f"Environment {entry.name} uses the same {what} as {_listed(earlier)}: "
                    f"{shown}",
                    line=line_at(document, "environments", n, field, k),
                    severity=Severity.HIGH if crosses else Severity.MEDIUM,
                    material=f"{field}\x00{entry.name}\x00{value}",
                )


def _check_tiers(document: Any, policy: PolicyView, graph: Graph) -> Iterator[Issue]:
    """QG-GOV-012: a tier whose `data_classes` include regulated or confidential, with a
    path into it that asks for no approval: a project of the tier, a role that reaches the
    project and may carry that data (its own `data_classes`, else the tier's), and one of
    the role's backends, sharing an environment with both, that is not `regulated: true`
    (only regulated backends make the governed job demand a run-regulated approval)."""
    for tier, rule in (policy.tiers or {}).items():
        admitted = set(rule.data_classes or ()) & SENSITIVE_DATA
        if not admitted:
            continue
        paths: list[str] = []
        for project in graph.projects:
            if project.tier != tier:
                continue
            for role in graph.roles_reaching(project):
                carries = set(role.data_classes if role.data_classes is not None
                              else rule.data_classes or ())
                if not carries & SENSITIVE_DATA:
                    continue
                paths.extend(
                    f"role {role.name} on backend {backend.name} for project {project.name}"
                    for backend in graph.backends_of(role, project)
                    if not backend.regulated
                )
        if paths:
            more = f" and {len(paths) - _SHOWN_PATHS} more" if len(paths) > _SHOWN_PATHS else ""
            yield Issue(
                "QG-GOV-012",
                f"Tier {tier} admits {_listed(admitted)} data, but no approval is asked for on "
                f"these paths: {'; '.join(paths[:_SHOWN_PATHS])}{more}",
                line=line_at(document, "tiers", tier, "data_classes"),
                material=f"{tier}\x00unapproved",
            )


def _check_debug(document: Any, policy: PolicyView) -> Iterator[Issue]:
    """QG-GOV-013: `debug.enabled` without `until`, without `approval`, or with `until`
    more than 24 hours after the approval's `approved_at` (when the approval is in the
    policy's `approvals`)."""
    debug = policy.debug
    if not debug.enabled:
        return
    problems = []
    if debug.until is None:
        problems.append("has no end time (until)")
    if debug.approval is None:
        problems.append("names no approval")
    else:
        approval = next((a for a in policy.approvals if a.id == debug.approval), None)
        if approval is not None and approval.approved_at is not None and debug.until:
            hours = (as_utc(debug.until) - as_utc(approval.approved_at)).total_seconds() / 3600
            if hours > DEBUG_MAX_HOURS:
                problems.append(
                    f"runs until {int(hours)} hours after its approval {approval.id} "
                    f"(at most {DEBUG_MAX_HOURS})"
                )
    if problems:
        yield Issue(
            "QG-GOV-013",
            "Debug mode is enabled but " + " and ".join(problems),
            line=line_at(document, "debug", "until" if debug.until else "enabled"),
            material="debug",
        )
