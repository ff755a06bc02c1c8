"""The self-test in a copy of an organisation's world (``qgov job selftest --policy FILE``).

What decides stays the organisation's: identities, roles (owners, expiries, environments,
backends, shot limits, time windows, data classes, export rights), tiers, projects with their
quotas and burst alerts, backends, the dataset registry, elevation rules, revocations. What
the self-test cannot have, or must not touch, is swapped, as in a drill
(:mod:`scanner.governed.drills.world`):

- every issuer keeps its name, ``iss``, audience, algorithms, lifetime and demo flag, but each
  of its keys (same kids) gets the public half of a self-test key made in memory for it -- the
  organisation's private keys are never available;
- the SIEM target, when the policy has one, becomes a local UDP collector;
- the ledger's signing key, public key and witness are dropped (the evidence ledger is a new
  one, signed with a key in a temporary folder), and so are unsigned ``approvals`` records;
- ``data_roots`` point into the evidence folder, and the self-test's synthetic dataset is
  registered in the copy's registry (for any project), beside the organisation's entries.

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from scanner.formats.yaml import DocumentError, read_yaml
from scanner.governed import world
from scanner.governed.approvals import Approval
from scanner.governed.errors import SpecError
from scanner.governed.policy import LoadedPolicy, OrgPolicy, load_policy
from scanner.governed.policy_sections import (
    LOCAL_PROVIDERS,
    PROTECTED_ENVIRONMENTS,
    Backend,
    IdentityEntry,
    Project,
    Role,
)
from scanner.governed.quota import cost_units
from scanner.governed.selftest.registry import applicable, expect, fail, not_applicable
from scanner.governed.selftest.scenario import (
    Case,
    Providers,
    Registry,
    Scenario,
    Seat,
)
from scanner.governed.timeutil import deadline, utc_now
from scanner.governed.tokens import PrivateKey, mint_token, public_key_pem

DATASET_ID = "qgov-selftest-synthetic"
COHORT_ID = "qgov-selftest-cohort"
# A quota or burst check runs the organisation's own numbers when they take at most this many
# runs; beyond, the project's copy gets a limit a few runs reach (and the check says so).
RUN_LIMIT = 40
MAX_JOB_SHOTS = 100_000
SDK_PROVIDERS = ("ibm-runtime-local", "braket-local")
# Token algorithms the self-test can sign with, in order of preference.
_ALGORITHMS = ("EdDSA", "ES256", "ES384", "RS256")


@dataclass(frozen=True)
class OrgPolicyFile:
    """The organisation's policy as validated (``loaded``) and as written (``raw``)."""

    loaded: LoadedPolicy
    raw: dict[str, Any]

    @property
    def policy(self) -> OrgPolicy:
        return self.loaded.policy


def read_org_policy(path: Path) -> OrgPolicyFile:
    loaded = load_policy(path)
    try:
        raw, _ = read_yaml(path, what="policy")
    except DocumentError as exc:  # load_policy read it a moment ago; only a race gets here
        raise SpecError(str(exc)) from exc
    return OrgPolicyFile(loaded, raw)


def _new_key(algorithm: str) -> PrivateKey:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ed25519.Ed25519PrivateKey.generate()


@dataclass(frozen=True)
class Signer:
    """The self-test's stand-in for one of the organisation's issuers."""

    key: PrivateKey
    kid: str | None  # a kid of the issuer's no revocation covers
    algorithm: str


def _signers(policy: OrgPolicy, now: datetime) -> dict[str, Signer]:
    """A signer per issuer the self-test can mint for: it accepts an algorithm the self-test
    signs with, and one of its kids is not revoked."""
    found = {}
    for issuer in policy.issuers:
        algorithm = next((a for a in _ALGORITHMS if a in issuer.algorithms), None)
        revoked = {
            r.key_id
            for r in policy.revocations
            if r.key_id is not None and r.effective <= now and r.issuer in (None, issuer.name)
        }
        kids = [k.kid for k in issuer.keys if k.kid is None or k.kid not in revoked]
        if algorithm is not None and kids:
            found[issuer.name] = Signer(_new_key(algorithm), kids[0], algorithm)
    return found


def _revoked(policy: OrgPolicy, entry: IdentityEntry, now: datetime) -> bool:
    return any(
        r.subject == entry.subject and r.effective <= now and r.issuer in (None, entry.issuer)
        for r in policy.revocations
    )


def _environments(policy: OrgPolicy) -> set[str]:
    """Every environment the policy names anywhere."""
    names: set[str] = set()
    for items in (policy.projects, policy.backends, policy.roles):
        for item in items:
            names.update(item.environments)
    names.update(e.name for e in policy.environments)
    return names


class Planner:
    """Where the organisation's policy lets jobs run right now (see the module doc)."""

    def __init__(self, policy: OrgPolicy, signers: dict[str, Signer], now: datetime) -> None:
        self.policy = policy
        self.signers = signers
        self.now = now

    def usable(self, entry: IdentityEntry, environment: str) -> bool:
        """Whether the self-test can present a token for ``entry`` in ``environment`` that
        only the job itself can refuse."""
        if entry.issuer not in self.signers or _revoked(self.policy, entry, self.now):
            return False
        demo = self.policy.issuer_by_name(entry.issuer).demo
        return not (demo and environment in PROTECTED_ENVIRONMENTS)

    def role_usable(self, role: Role | None, entry: IdentityEntry) -> bool:
        now = self.now
        return (
            role is not None
            and now < deadline(role.expires)
            and entry.kind in role.identity_kinds
            and (role.time_windows is None or any(w.contains(now) for w in role.time_windows))
            and (role.data_classes is None or "synthetic" in role.data_classes)
        )

    def seats(
        self, *, regulated: bool | None = False, providers: frozenset[str] = LOCAL_PROVIDERS
    ) -> Iterator[tuple[Seat, Backend]]:
        """Every identity, role, project, backend and environment a synthetic-data job may
        use now, in policy order."""
        policy = self.policy
        for entry in policy.identities:
            for role_name in entry.roles:
                role = policy.role(role_name)
                if role is None or not self.role_usable(role, entry):
                    continue
                for project in policy.projects:
                    if role.projects is not None and project.name not in role.projects:
                        continue
                    if "synthetic" not in policy.tiers[project.tier].data_classes:
                        continue
                    for backend_name in role.backends:
                        backend = policy.backend(backend_name)
                        if backend is None or backend.provider not in providers:
                            continue
                        if regulated is not None and backend.regulated != regulated:
                            continue
                        if backend.max_qubits < 2:
                            continue  # the self-test's circuit is a Bell pair
                        for env in role.environments:
                            if env not in project.environments or env not in backend.environments:
                                continue
                            if not self.usable(entry, env):
                                continue
                            seat = Seat(
                                entry.subject,
                                entry.kind,
                                role.name,
                                project.name,
                                env,
                                backend.name,
                                _shots(role, project, backend),
                                can_export=role.can_export,
                            )
                            yield seat, backend

    def main(self) -> Seat | None:
        """The ordinary job's seat: a human if possible, who may export, on Aer, outside the
        protected environments -- never a stabilizer backend (the circuit is not Clifford)."""
        ranked = [
            (
                seat.kind != "human",
                not seat.can_export,
                backend.provider != "aer",
                seat.environment in PROTECTED_ENVIRONMENTS,
                n,
                seat,
            )
            for n, (seat, backend) in enumerate(self.seats())
            if backend.method != "stabilizer"
        ]
        return min(ranked)[-1] if ranked else None

    def approver(self, requester: str, environment: str) -> str | None:
        """A human marked approver, not the requester, whose token counts in ``environment``."""
        return next(
            (
                i.subject
                for i in self.policy.identities
                if i.approver
                and i.kind == "human"
                and i.subject != requester
                and self.usable(i, environment)
            ),
            None,
        )


def _shots(role: Role, project: Project, backend: Backend) -> int:
    """Shots per ordinary job: small enough that the self-test's few dozen jobs stay far
    below the project's quota."""
    shots = min(1024, role.max_shots)
    quota = project.quota
    if quota.shots is not None:
        shots = min(shots, max(1, quota.shots // 200))
    per_1000 = backend.cost_units_per_1000_shots
    if quota.cost_units is not None and per_1000:
        budget = quota.cost_units // 200 - backend.cost_units_per_job
        shots = min(shots, max(1, budget * 1000 // per_1000))
    return shots


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


class OrgScenario(Scenario):
    """The scenario in a copy of an organisation's world (see the module doc)."""

    dataset_name = DATASET_ID
    channel = "selftest"

    def __init__(self, out: Path, secrets: Path, org: OrgPolicyFile) -> None:
        self.org_file = org
        self.org = org.policy
        now = utc_now()
        self.signers = _signers(self.org, now)
        self.planner = Planner(self.org, self.signers, now)
        self._plan()
        main = self.main
        subject = main.subject if main else self.org.identities[0].subject
        entry = self.org.identity(subject)
        assert entry is not None
        issuer = self.org.issuer_by_name(entry.issuer)
        signer = self.signers.get(issuer.name)
        self.cast = world.Cast(
            issuer_name=issuer.name,
            issuer=issuer.issuer,
            audience=issuer.audience,
            kid=(signer.kid if signer else None) or "",
            requester=subject,
            approver=self.approver or subject,
            pipeline=self.other[0] if self.other else subject,
        )
        self.siem_configured = self.org.siem.syslog is not None
        self.witness_configured = self.org.ledger.witness is not None
        self.export_requires_approval = self.org.elevation.export_requires_approval
        super().__init__(out, secrets)
        if signer is not None:
            self.issuer_key = signer.key
            self.forger_key = _new_key(signer.algorithm)

    # -- the plan ------------------------------------------------------------------------------

    def _plan(self) -> None:
        org, planner = self.org, self.planner
        self.main = planner.main()
        self.no_main = (
            "no identity of the policy may run a job right now on a local simulator backend "
            "(an unexpired role inside its time window, a project and a backend sharing an "
            "environment its issuer may be used in, synthetic data allowed)"
        )
        main = self.main
        self.approver = planner.approver(main.subject, main.environment) if main else None
        self.other = None
        if main is not None:
            for entry in sorted(
                org.identities, key=lambda i: ("workload", "service", "human").index(i.kind)
            ):
                if (
                    entry.subject != main.subject
                    and main.role not in entry.roles
                    and planner.usable(entry, main.environment)
                ):
                    self.other = (entry.subject, entry.kind)
                    break
        regulated = [b.name for b in org.backends if b.regulated]
        self.regulated = next((seat for seat, _ in planner.seats(regulated=True)), None)
        self.regulated_approver = None
        if not regulated:
            self.no_regulated = "the policy has no regulated backend"
        elif self.regulated is None:
            self.no_regulated = (
                f"no identity may run a job on {', '.join(regulated)} right now (an unexpired "
                "role that reaches it in an environment its issuer may be used in)"
            )
        else:
            seat = self.regulated
            self.regulated_approver = planner.approver(seat.subject, seat.environment)
            self.no_regulated_approver = (
                f"no human approver other than {seat.subject} whose token counts in "
                f"{seat.environment} (demo issuers never do there)"
            )

    def policy_info(self) -> dict[str, Any]:
        loaded = self.org_file.loaded
        copy_sha = self.ctx.require_policy().sha256
        seats = {
            "main": self.main.describe() if self.main else None,
            "approver": self.approver,
            "regulated": self.regulated.describe() if self.regulated else None,
            "regulated_approver": self.regulated_approver,
            "other_identity": self.other[0] if self.other else None,
        }
        return {
            "source": "organisation",
            **loaded.ref,
            "file": str(loaded.path),
            "copy": {"file": "policy.yaml", "sha256": copy_sha},
            "adaptations": [
                "issuer keys: each issuer's keys (same kids) replaced by a self-test key made in "
                "memory; the organisation's private keys are never used",
                "SIEM target: a local collector"
                if self.siem_configured
                else "SIEM: none configured in the policy",
                "ledger: a new evidence ledger with its own key; the policy's signing key, "
                "public key and witness are not used",
                "unsigned approvals records: dropped",
                f"datasets: {DATASET_ID} (synthetic) registered beside the policy's entries; "
                "data_roots point into the evidence folder",
            ],
            "seats": seats,
        }

    # -- the copy of the organisation's policy ---------------------------------------------------

    def base_policy(self) -> dict[str, Any]:
        policy = copy.deepcopy(self.org_file.raw)
        for issuer in policy.get("issuers", []):
            signer = self.signers.get(issuer.get("name"))
            if signer is not None:
                public = public_key_pem(signer.key)
                issuer["keys"] = [
                    {"kid": key.get("kid"), "public_key_pem": public} for key in issuer["keys"]
                ]
        if self.siem_configured:
            port = self.collector.getsockname()[1]
            policy["siem"] = {"syslog": {"host": "127.0.0.1", "port": port, "protocol": "udp"}}
        else:
            policy.pop("siem", None)
        policy.pop("approvals", None)
        settings = policy.get("ledger") or {}
        policy["ledger"] = {k: v for k, v in settings.items() if k == "checkpoint_every"}
        policy["data_roots"] = ["datasets"]
        policy["datasets"] = [
            *(policy.get("datasets") or []),
            {
                "id": DATASET_ID,
                "version": "1",
                "sha256": self.dataset_sha256,
                "classification": "synthetic",
                "owner": "qgov job selftest",
                "description": "the self-test's synthetic rows",
            },
        ]
        return policy

    def base_job(self, name: str) -> dict[str, Any]:
        seat = self.main
        first = self.org
        job = {
            "apiVersion": "qgov/v1",
            "kind": "QuantumJob",
            "name": name,
            "project": seat.project if seat else first.projects[0].name,
            "environment": seat.environment if seat else first.roles[0].environments[0],
            "backend": seat.backend if seat else first.backends[0].name,
            "role": seat.role if seat else first.roles[0].name,
            "circuit": {"path": "bell.qasm"},
            "shots": seat.shots if seat else 1,
            "seed": 11,
            "dataset": {
                "name": DATASET_ID,
                "version": "1",
                "path": self.dataset_ref,
                "sha256": self.dataset_sha256,
                "classification": "synthetic",
            },
        }
        return job

    def _approvals(self) -> list[Approval]:
        seat = self.main
        window = {
            "start": self.started - timedelta(minutes=5),
            "end": self.started + timedelta(hours=1),
        }
        return [
            world.approval(
                "APR-EXPORT-OK",
                "export",
                requester=seat.subject if seat else "requester@selftest.invalid",
                approver=self.approver or "approver@selftest.invalid",
                project=seat.project if seat else None,
                reason="self-test: an unsigned record in the approver's name",
                **window,
            )
        ]

    def token(
        self,
        subject: str | None = None,
        kind: str | None = None,
        *,
        key: PrivateKey | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        issued: datetime | None = None,
        ttl: int | None = None,
        kid: str | None = None,
        jti: str | None = None,
    ) -> str:
        """A token for any identity of the policy, from its own issuer (the self-test key)."""
        subject = subject or self.cast.requester
        entry = self.org.identity(subject)
        if entry is None:
            raise SpecError(f"self-test: {subject!r} is not an identity of the policy")
        source = self.org.issuer_by_name(entry.issuer)
        signer = self.signers.get(source.name)
        if signer is None:
            raise SpecError(f"self-test: cannot sign for issuer {source.name}")
        value = mint_token(
            key or signer.key,
            issuer=issuer or source.issuer,
            audience=audience or source.audience,
            subject=subject,
            kind=kind or entry.kind,
            now=issued or self.clock(),
            ttl_seconds=ttl if ttl is not None else min(300, source.max_token_lifetime_seconds),
            kid=kid or signer.kid,
            extra_claims={"jti": jti} if jti else None,
        )
        self.minted.append(value)
        return value

    # -- where each check runs -------------------------------------------------------------------

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

    def org_revocations(self) -> str:
        """The organisation's own revocations in force, each tried: a token it covers must be
        refused with its code and the organisation's reason."""
        now = utc_now()
        tried = []
        for n, entry in enumerate(r for r in self.org.revocations if r.effective <= now):
            if n >= 5:
                break
            token, code = self._revoked_token(entry)
            if token is None:
                continue
            outcome = self.run(f"org-revoked-{n + 1}", token=token)
            logged = [
                r
                for e in self.events_for(outcome)
                if e["type"] == "job.decision"
                for r in e["data"]["reasons"]
            ]
            expect(
                outcome.status == "refused"
                and any(r["code"] == code and entry.reason in r["message"] for r in logged),
                f"the policy's revocation of {entry.target} did not refuse a request with "
                f"{code} and its reason: {outcome.decision.codes}",
            )
            tried.append(f"{entry.target} ({code})")
        if not tried:
            return ""
        return "the policy's own revocations in force refused: " + ", ".join(tried)

    def _revoked_token(self, entry: Any) -> tuple[str | None, str]:
        org = self.org
        if entry.subject is not None:
            identity = org.identity(entry.subject)
            if identity is None or identity.issuer not in self.signers:
                return None, ""
            return self.token(entry.subject), "IDENTITY_REVOKED"
        if entry.key_id is not None:
            for identity in org.identities:
                issuer = org.issuer_by_name(identity.issuer)
                if entry.issuer not in (None, issuer.name) or issuer.name not in self.signers:
                    continue
                if any(k.kid == entry.key_id for k in issuer.keys) and not _revoked(
                    org, identity, utc_now()
                ):
                    return self.token(identity.subject, kid=entry.key_id), "ISSUER_KEY_REVOKED"
            return None, ""
        if entry.jti is not None and self.main is not None:
            return self.token(jti=entry.jti), "TOKEN_REVOKED"
        return None, ""  # a token known only by its hash cannot be minted again


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

