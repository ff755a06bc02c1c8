"""Where each check of the self-test runs in a copy of an organisation's world (:mod:`.org`).

Each check then asks the scenario where to run (see :class:`~.scenario.Scenario`): an
identity that may run an ordinary job right now (the *main seat*: an unexpired role inside its
time window, a project whose tier and the role admit synthetic data, a local simulator backend,
an environment its issuer may be used in -- a demo issuer never for regulated-pilot or
production), a regulated backend and someone to approve it, a project with a quota, ... When
the policy has nothing for a check, the check is *not exercised* and says why; when the policy
has the thing but its control is missing or off -- no quota on any project, no burst alert,
exports without approval, every tier admitting regulated data, roles spanning every
environment -- the check *fails*: that is what the self-test is for.

Where a check needs a change to run at all, it works on a *variant* copy and says so: a role's
expiry moved to yesterday (``expired-role-refused``), a copy of a project so usage starts at
zero (``quota-exhausted-refused``, ``burst-alerted``; its quota or burst limit scaled to a few
runs when the organisation's would take more than :data:`RUN_LIMIT`), a stabilizer backend
when the policy has no backend a run can fail on (``failed-job-recorded``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from scanner.governed.policy import OrgPolicy
from scanner.governed.policy_sections import LOCAL_PROVIDERS, Backend, Project, Role
from scanner.governed.quota import cost_units
from scanner.governed.selftest.org_plan import Planner
from scanner.governed.selftest.registry import applicable, expect, fail, not_applicable
from scanner.governed.selftest.scenario import Case, Providers, Registry, Scenario, Seat

COHORT_ID = "qgov-selftest-cohort"
# A quota or burst check runs the organisation's own numbers when they take at most this many
# runs; beyond, the project's copy gets a limit a few runs reach (and the check says so).
RUN_LIMIT = 40
MAX_JOB_SHOTS = 100_000
SDK_PROVIDERS = ("ibm-runtime-local", "braket-local")


def _environments(policy: OrgPolicy) -> set[str]:
    """Every environment the policy names anywhere."""
    names: set[str] = set()
    for items in (policy.projects, policy.backends, policy.roles):
        for item in items:
            names.update(item.environments)
    names.update(e.name for e in policy.environments)
    return names


def _clone_project(policy: dict[str, Any], original: str, name: str, **changes: Any) -> None:
    """Add a copy of project ``original`` named ``name`` (with ``changes``), granted wherever
    the original is, so the copy's usage starts at zero and nothing else changes."""
    entry = copy.deepcopy(next(p for p in policy["projects"] if p.get("name") == original))
    entry["name"] = name
    entry.update(changes)
    policy["projects"].append(entry)
    for section in ("roles", "datasets"):
        for item in policy.get(section) or []:
            if isinstance(item, dict) and original in (item.get("projects") or []):
                item["projects"] = [*item["projects"], name]


class OrgCases(Scenario):
    """The cases each check runs in, chosen from the organisation's policy (see the module
    doc); :class:`~.org.OrgScenario` plans the seats and makes the copy they run in."""

    planner: Planner

    def _seat(self) -> Seat:
        assert self.main is not None
        return self.main

    def _role(self, name: str) -> Role:
        role = self.org.role(name)
        assert role is not None
        return role

    def expired_role_case(self) -> Case:
        seat = self._seat()
        role = self._role(seat.role)
        yesterday = (self.started - timedelta(days=1)).date().isoformat()

        def expire(policy: dict[str, Any]) -> None:
            for entry in policy["roles"]:
                if entry.get("name") == seat.role:
                    entry["expires"] = yesterday

        expires = role.expires.isoformat()
        return Case(
            self.variant("role-expired", expire),
            note=f"role {seat.role} (expires {expires}), its expiry set to {yesterday} in "
            "jobs/policy-role-expired.yaml",
        )

    def wrong_environment_case(self) -> Case:
        known = _environments(self.org)
        applicable(len(known) > 1, f"the policy knows one environment only ({', '.join(known)})")
        main = self._seat()
        candidates = [main, *(seat for seat, _ in self.planner.seats(regulated=None))]
        spanning = []
        for seat in candidates:
            role = self._role(seat.role)
            entry = self.org.identity(seat.subject)
            assert entry is not None
            outside = sorted(known - set(role.environments))
            if not outside:
                spanning.append(role.name)
                continue
            usable = [env for env in outside if self.planner.usable(entry, env)]
            if usable:
                env = usable[0]
                return Case(
                    self.ctx,
                    {**seat.job, "environment": env},
                    subject=seat.subject,
                    note=f"role {role.name} ({', '.join(role.environments)}) used in {env} by "
                    f"{seat.subject}",
                )
        if len(spanning) == len(candidates):
            fail(
                f"every role the self-test can use spans every environment the policy knows "
                f"({', '.join(sorted(known))}): roles {', '.join(sorted(set(spanning)))}"
            )
        not_applicable(
            "the environments the roles leave out are protected and their identities come from "
            "demo issuers (refused before the role is checked)"
        )

    def regulated_data_case(self) -> Case:
        tiers = self.org.tiers
        for seat, _ in self._seats_main_first():
            project = self.org.project(seat.project)
            assert project is not None
            if "regulated" not in tiers[project.tier].data_classes:
                return Case(
                    self.ctx,
                    seat.job,
                    subject=seat.subject,
                    note=f"project {project.name} (tier {project.tier})",
                )
        keeping_out = [
            p.name for p in self.org.projects if "regulated" not in tiers[p.tier].data_classes
        ]
        applicable(
            not keeping_out,
            f"no identity may run a job in a project whose tier keeps regulated data out "
            f"({', '.join(keeping_out)})",
        )
        fail(
            "regulated data may enter every project: every tier in use admits it ("
            + ", ".join(sorted({p.tier for p in self.org.projects}))
            + ")"
        )

    def _seats_main_first(self) -> Iterator[tuple[Seat, Backend | None]]:
        if self.main is not None:
            yield self.main, None
        yield from self.planner.seats()
        yield from self.planner.seats(regulated=True)

    def _limited(self, attribute: str) -> tuple[Seat, Project]:
        """The first seat (main first) whose project has ``quota`` or ``burst`` limits."""
        for seat, _ in self._seats_main_first():
            project = self.org.project(seat.project)
            assert project is not None
            if seat.backend in self._runnable_backends() and _has(project, attribute):
                return seat, project
        names = [p.name for p in self.org.projects if _has(p, attribute)]
        expect(bool(names), _MISSING[attribute])
        not_applicable(
            f"no identity may run a job (without an approval) in a project with "
            f"{attribute} limits ({', '.join(names)})"
        )

    def _runnable_backends(self) -> set[str]:
        """Backends a job runs on without an approval and without failing."""
        return {
            b.name
            for b in self.org.backends
            if not b.regulated and b.provider in LOCAL_PROVIDERS and b.method != "stabilizer"
        }

    def quota_case(self) -> Case:
        seat, project = self._limited("quota")
        role, backend = self._role(seat.role), self.org.backend(seat.backend)
        assert backend is not None
        quota = project.quota
        shots = min(role.max_shots, MAX_JOB_SHOTS)
        cost = cost_units(backend, shots)
        limits = []
        if quota.shots is not None:
            limits.append(quota.shots // shots)
        if quota.cost_units is not None:
            expect(
                cost > 0 or quota.shots is not None,
                f"project {project.name}'s cost quota never binds: a job on {backend.name} "
                "costs nothing",
            )
            if cost > 0:
                limits.append(quota.cost_units // cost)
        runs = min(limits)
        clone = f"qgov-selftest-quota-{project.name}"
        changes: dict[str, Any] = {}
        what = _quota_text(quota.shots, quota.cost_units)
        note = f"the quota of a copy of project {project.name} ({what} a {quota.period})"
        if runs > RUN_LIMIT or runs == 0:
            new_shots = 2 * shots if quota.shots is not None else None
            new_cost = 2 * cost if quota.cost_units is not None and cost else None
            changes["quota"] = {
                "period": quota.period,
                **({"shots": new_shots} if new_shots else {}),
                **({"cost_units": new_cost} if new_cost else {}),
            }
            note = (
                f"the quota of a copy of project {project.name}, scaled from {what} a "
                f"{quota.period} to {_quota_text(new_shots, new_cost)} so that two runs reach it"
            )
            runs = 2
        ctx = self.variant(
            "quota", lambda policy: _clone_project(policy, project.name, clone, **changes)
        )
        return Case(
            ctx,
            {**seat.job, "project": clone, "shots": shots},
            subject=seat.subject,
            runs=runs,
            note=note,
            expected=("QUOTA_SHOTS_EXCEEDED", "QUOTA_COST_EXCEEDED"),
        )

    def burst_case(self) -> Case:
        seat, project = self._limited("burst")
        burst = project.burst
        assert burst is not None
        clone = f"qgov-selftest-burst-{project.name}"
        changes: dict[str, Any] = {}
        note = (
            f"a copy of project {project.name}: {burst.max_jobs} jobs per "
            f"{burst.window_seconds} s"
        )
        runs = burst.max_jobs
        if runs + 1 > RUN_LIMIT:
            changes["burst"] = {"max_jobs": 2, "window_seconds": burst.window_seconds}
            note = (
                f"a copy of project {project.name}, its burst limit scaled from "
                f"{burst.max_jobs} to 2 jobs per {burst.window_seconds} s"
            )
            runs = 2
        ctx = self.variant(
            "burst", lambda policy: _clone_project(policy, project.name, clone, **changes)
        )
        shots = min(16, self._role(seat.role).max_shots)
        return Case(
            ctx,
            {**seat.job, "project": clone, "shots": shots},
            subject=seat.subject,
            runs=runs,
            note=note,
        )

    def failing_case(self) -> Case:
        main = self._seat()
        every = frozenset(
            {"aer", "ibm-runtime-local", "braket-local", "ibm-quantum", "amazon-braket",
             "azure-quantum"}
        )
        for seat, backend in self.planner.seats(providers=every):
            if backend.provider == "aer" and backend.method == "stabilizer":
                return Case(
                    self.ctx,
                    {**seat.job, "circuit": {"path": "non-clifford.qasm"}},
                    subject=seat.subject,
                    note=f"a circuit the stabilizer backend {backend.name} rejects",
                )
            if backend.provider not in LOCAL_PROVIDERS:
                return Case(
                    self.ctx,
                    seat.job,
                    subject=seat.subject,
                    note=f"a job on cloud backend {backend.name}, which this build does not "
                    "reach",
                )
        name = "qgov-selftest-stabilizer"

        def add(policy: dict[str, Any]) -> None:
            policy["backends"].append(
                {"name": name, "method": "stabilizer", "environments": [main.environment]}
            )
            for role in policy["roles"]:
                if role.get("name") == main.role:
                    role["backends"] = [*role["backends"], name]

        return Case(
            self.variant("failing-backend", add),
            {"backend": name, "circuit": {"path": "non-clifford.qasm"}},
            note=f"a circuit the stabilizer simulator rejects, on a stabilizer backend added to "
            f"role {main.role} in jobs/policy-failing-backend.yaml (the policy has no backend "
            "a run can fail on)",
        )

    def registry_case(self, cohort_sha: str) -> Registry:
        main = self._seat()

        def register(policy: dict[str, Any]) -> None:
            policy["datasets"] = [
                *policy["datasets"],
                {
                    "id": COHORT_ID,
                    "version": "1",
                    "sha256": cohort_sha,
                    "classification": "regulated",
                    "owner": "qgov job selftest",
                    "description": "the self-test's stand-in for regulated rows",
                },
            ]

        ctx = self.variant("registry", register)
        project = self.org.project(main.project)
        assert project is not None
        expected: tuple[str, ...] = ("DATASET_CLASSIFICATION_MISMATCH",)
        if "regulated" not in self.org.tiers[project.tier].data_classes:
            expected += ("DATA_CLASS_NOT_ALLOWED_FOR_TIER",)
        above = None
        for seat, _ in self._seats_main_first():
            candidate = self.org.project(seat.project)
            if candidate is not None and candidate.tier != "exploratory":
                above = Case(
                    ctx,
                    seat.job,
                    subject=seat.subject,
                    note=f"project {candidate.name} (tier {candidate.tier})",
                )
                break
        return Registry(
            ctx,
            cohort=(COHORT_ID, "1"),
            expected=expected,
            above=above,
            registered={},
            evidence="jobs/policy-registry.yaml",
        )

    def providers_case(self, folder: Path) -> Providers:
        main = self._seat()
        role = self._role(main.role)
        backends = [self.org.backend(name) for name in role.backends]
        usable = [b for b in backends if b is not None and main.environment in b.environments]
        sdk = [b for b in usable if b.provider in SDK_PROVIDERS and b.max_qubits >= 2]
        applicable(
            bool(sdk),
            f"role {role.name} reaches no provider-SDK backend (ibm-runtime-local, braket-local) "
            f"in {main.environment}",
        )
        cloud = next((b.name for b in usable if b.provider not in LOCAL_PROVIDERS), None)
        runs, seen = [], set()
        for backend in sdk:
            if backend.provider not in seen:
                seen.add(backend.provider)
                runs.append((f"on-{backend.name}", backend.name))
        replay_backend = next(
            (b.name for b in sdk if b.provider == "ibm-runtime-local"), None
        )
        return Providers(
            self.ctx,
            runs=runs,
            over_limit=(sdk[0].name, role.max_shots + 1),
            cloud=cloud,
            replay_backend=replay_backend,
        )


_MISSING = {
    "quota": "no project has a quota (quota.shots or quota.cost_units): nothing caps what a "
    "project may spend",
    "burst": "no project raises burst alerts (burst:): a runaway loop of submissions goes "
    "unnoticed",
}


def _has(project: Project, attribute: str) -> bool:
    if attribute == "quota":
        return project.quota.shots is not None or project.quota.cost_units is not None
    return project.burst is not None


def _quota_text(shots: int | None, cost: int | None) -> str:
    parts = []
    if shots is not None:
        parts.append(f"{shots:,} shots")
    if cost is not None:
        parts.append(f"{cost:,} cost units")
    return " and ".join(parts)
