"""The self-test's world: a policy with a freshly generated issuer key, approvals, job specs,
a circuit and datasets in the evidence folder, plus a local UDP collector standing in for the
SIEM, and the helpers the checks use to submit jobs and read the ledger.

The checks do not name the built-in policy's identities, projects or backends: they ask the
scenario -- :attr:`Scenario.main` (who runs an ordinary job, where) and the ``*_case`` methods
(where a quota can be exhausted, which backend can fail, ...). :class:`Scenario` answers for the
built-in policy; :class:`~.org.OrgScenario` answers from an organisation's policy, or says the
policy has nothing for a check to exercise (:class:`~.registry.NotApplicable`).

Private keys (the test issuer, the forger, the ledger's checkpoint key) stay in memory or in
a temporary folder; the evidence folder keeps only public material.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed import world
from scanner.governed.approvals import Approval, load_approvals
from scanner.governed.policy import load_policy
from scanner.governed.runtime import Context
from scanner.governed.selftest.registry import applicable, expect
from scanner.governed.service import RunOutcome
from scanner.governed.timeutil import iso_z, utc_now
from scanner.governed.tokens import PrivateKey

ISSUER = "https://idp.selftest.qgov.invalid"
AUDIENCE = "qgov-selftest"
RESEARCHER = "researcher@selftest.invalid"
APPROVER = "approver@selftest.invalid"
PIPELINE = "workload:selftest-pipeline"
CAST = world.Cast(
    issuer_name="selftest-idp",
    issuer=ISSUER,
    audience=AUDIENCE,
    kid="st-1",
    requester=RESEARCHER,
    approver=APPROVER,
    pipeline=PIPELINE,
)

BELL = """OPENQASM 2.0;
include "qelib1.inc";
// selftest circuit: a Bell pair with a marker rotation
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
rz(0.123456789) q[1];
measure q -> c;
"""
NON_CLIFFORD = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[1];
creg c[1];
h q[0];
t q[0];
measure q -> c;
"""
DATASET = "row_id,feature_x,feature_y\nsyn-000001,0.250000,0.750000\nsyn-000002,0.500000,0.125000\n"
_BUDGET_OWNER = "budget-owner@selftest.invalid"
PROVIDER_BACKENDS: list[dict[str, Any]] = [
    {
        "name": "ibm_fake_manila",
        "provider": "ibm-runtime-local",
        "device": "FakeManilaV2",
        "environments": ["dev", "test"],
        "max_qubits": 5,
    },
    {
        "name": "braket_local_sv",
        "provider": "braket-local",
        "device": "braket_sv",
        "environments": ["dev", "test"],
    },
    {
        "name": "ibm_cloud",
        "provider": "ibm-quantum",
        "device": "ibm_brisbane",
        "environments": ["dev", "test"],
    },
]


@dataclass(frozen=True)
class Seat:
    """An identity and a job it may run: role, project, environment, backend, shots."""

    subject: str
    kind: str
    role: str
    project: str
    environment: str
    backend: str
    shots: int
    can_export: bool = False

    @property
    def job(self) -> dict[str, Any]:
        """Job-spec overrides that put a job in this seat."""
        return {
            "project": self.project,
            "environment": self.environment,
            "backend": self.backend,
            "role": self.role,
            "shots": self.shots,
        }

    def describe(self) -> str:
        return (
            f"{self.subject} ({self.kind}) as {self.role} in project {self.project}, "
            f"{self.environment}, backend {self.backend}"
        )


@dataclass
class Case:
    """Where a check runs its jobs: a context (the scenario's, or a variant of its policy),
    who submits (``None``: :attr:`Scenario.main`'s subject), spec overrides and what the
    check should say about how the case was made."""

    ctx: Context
    overrides: dict[str, Any] = field(default_factory=dict)
    subject: str | None = None
    note: str = ""
    runs: int = 0  # quota: allowed runs before the refusal; burst: the limit
    expected: tuple[str, ...] = ()  # reason codes the refusal must carry


@dataclass
class Registry:
    """The dataset-registry check's context: its registry holds the regulated stand-in
    ``cohort`` (name, version); a mislabelled cohort must be refused with ``expected``; an
    unregistered dataset goes to ``above`` (a seat above the exploratory tier, if any); the
    registered dataset runs with ``registered``."""

    ctx: Context
    cohort: tuple[str, str]
    expected: tuple[str, ...]
    above: Case | None
    registered: dict[str, Any]
    evidence: str


@dataclass
class Providers:
    """The provider-SDK runs of ``provider-adapters``: (name, backend) pairs, the backend and
    shots of an over-limit run, and a cloud backend (which must fail "not run here")."""

    ctx: Context
    runs: list[tuple[str, str]]
    over_limit: tuple[str, int] | None
    cloud: str | None
    subject: str | None = None
    replay_backend: str | None = None


class Scenario(world.World):
    cast = CAST
    circuits = {"bell.qasm": BELL, "non-clifford.qasm": NON_CLIFFORD}
    dataset_file = "datasets/features.csv"
    dataset_text = DATASET
    channel = "selftest"
    source_label = "qgov job selftest"
    dataset_name = "selftest-features"
    # Who does what in the built-in policy (an organisation's scenario finds its own).
    main: Seat | None = Seat(
        RESEARCHER, "human", "researcher", "lab", "dev", "aer_sim", 1024, can_export=True
    )
    regulated: Seat | None = Seat(
        RESEARCHER,
        "human",
        "regulated-runner",
        "reg-pilot",
        "regulated-pilot",
        "aer_regulated",
        1024,
        can_export=True,
    )
    approver: str | None = APPROVER
    regulated_approver: str | None = APPROVER
    other: tuple[str, str] | None = (PIPELINE, "workload")  # an identity without main's role
    export_requires_approval = True
    siem_configured = True
    witness_configured = True  # the policy keeps signed heads outside the ledger somewhere
    org: Any = None  # an organisation's policy (OrgPolicy) when the scenario runs in its copy
    # Why a seat is missing (an organisation's policy may not have one).
    no_main = ""
    no_regulated = ""
    no_regulated_approver = ""

    @property
    def exporter(self) -> Seat | None:
        """A seat whose role may export results (exports need an approval of their own)."""
        return self.main if self.main is not None and self.main.can_export else None

    def __init__(self, out: Path, secrets: Path) -> None:
        self.out = out
        self.secrets = secrets
        self.started = utc_now()  # role expiries and approval windows are set around it
        # The collector comes first: the policy names its port.
        self.collector = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.collector.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.collector.bind(("127.0.0.1", 0))
        self.collector.setblocking(False)
        super().__init__(out)
        self.forger_key: PrivateKey = ed25519.Ed25519PrivateKey.generate()
        self.frames: list[bytes] = []
        self.outcomes: dict[str, RunOutcome] = {}
        self.approvals = self._approvals()
        self.ctx = self.context(
            policy=self.load(),
            records_dir=out / "records",
            log_path=out / "run.log",
            approvals=load_approvals(self.write_approvals()),
            signing_key=secrets / "ledger.key",
        )

    def base_policy(self) -> dict[str, Any]:
        day = timedelta(days=1)
        everywhere = ["dev", "test"]
        role = {
            "owner": "controls-owner@selftest.invalid",
            "identity_kinds": ["human"],
            "max_shots": 4096,
            "can_export": True,
        }
        burst_lab = world.project(
            "burst-lab", "exploratory", everywhere, owner=_BUDGET_OWNER, shots=1_000_000
        )
        return world.policy_document(
            CAST,
            self.issuer_key,
            info={"id": "qgov-selftest", "version": "1", "owner": "selftest@qgov.invalid"},
            requester_roles=["researcher", "researcher-expired", "regulated-runner"],
            issuer_options={"algorithms": ["EdDSA"], "max_token_lifetime_seconds": 600},
            roles=[
                {
                    **role,
                    "name": "researcher",
                    "purpose": "self-test: exploration on synthetic and masked data",
                    "expires": iso_z(self.started + 30 * day),
                    "environments": everywhere,
                    "backends": ["aer_sim", "aer_stabilizer"],
                    "data_classes": ["synthetic", "masked", "regulated"],
                },
                {
                    **role,
                    "name": "researcher-expired",
                    "purpose": "self-test: a role whose expiry has passed",
                    "expires": iso_z(self.started - day),
                    "environments": everywhere,
                    "backends": ["aer_sim"],
                },
                {
                    **role,
                    "name": "regulated-runner",
                    "purpose": "self-test: regulated pilot runs with JIT approval",
                    "expires": iso_z(self.started + 30 * day),
                    "environments": ["regulated-pilot"],
                    "backends": ["aer_regulated"],
                },
            ],
            tiers={
                "exploratory": {"data_classes": ["synthetic"]},
                "internal-pilot": {"data_classes": ["synthetic", "masked", "internal"]},
                "regulated-pilot": {
                    "data_classes": ["synthetic", "masked", "internal", "confidential", "regulated"]
                },
            },
            projects=[
                world.project(
                    "lab", "exploratory", everywhere, owner=_BUDGET_OWNER, shots=1_000_000
                ),
                world.project(
                    "quota-lab", "exploratory", everywhere, owner=_BUDGET_OWNER, shots=2048
                ),
                {**burst_lab, "burst": {"max_jobs": 2, "window_seconds": 3600}},
                world.project(
                    "reg-pilot",
                    "regulated-pilot",
                    ["regulated-pilot"],
                    owner=_BUDGET_OWNER,
                    shots=1_000_000,
                ),
            ],
            backends=[
                {"name": "aer_sim", "environments": everywhere, "cost_units_per_job": 1},
                {"name": "aer_stabilizer", "method": "stabilizer", "environments": everywhere},
                {"name": "aer_regulated", "regulated": True, "environments": ["regulated-pilot"]},
            ],
            ledger={"checkpoint_every": 8},
            siem={
                "syslog": {
                    "host": "127.0.0.1",
                    "port": self.collector.getsockname()[1],
                    "protocol": "udp",
                }
            },
        )

    def _approvals(self) -> list[Approval]:
        window = {
            "start": self.started - timedelta(minutes=5),
            "end": self.started + timedelta(hours=1),
        }
        return [
            world.approval(
                "APR-REG-OK",
                "run-regulated",
                requester=RESEARCHER,
                approver=APPROVER,
                project="reg-pilot",
                reason="self-test: approved regulated run",
                **window,
            ),
            world.approval(
                "APR-REG-SELF",
                "run-regulated",
                requester=RESEARCHER,
                approver=RESEARCHER,
                project="reg-pilot",
                reason="self-test: self-approval must be refused",
                **window,
            ),
            world.approval(
                "APR-EXPORT-OK",
                "export",
                requester=RESEARCHER,
                approver=APPROVER,
                project="lab",
                reason="self-test: approved export",
                **window,
            ),
        ]

    def base_job(self, name: str) -> dict[str, Any]:
        return {
            "apiVersion": "qgov/v1",
            "kind": "QuantumJob",
            "name": name,
            "project": "lab",
            "environment": "dev",
            "backend": "aer_sim",
            "role": "researcher",
            "circuit": {"path": "bell.qasm"},
            "shots": 1024,
            "seed": 11,
            "dataset": {
                "name": self.dataset_name,
                "version": "1",
                "path": self.dataset_ref,
                "sha256": self.dataset_sha256,
                "classification": "synthetic",
            },
        }

    # -- what the checks use ----------------------------------------------------------------

    def run(
        self,
        name: str = "job",
        *,
        token: str | None = None,
        ctx: Context | None = None,
        **overrides: Any,
    ) -> RunOutcome:
        """Submit a job in the scenario's context (or ``ctx``) and keep its outcome and SIEM
        frames."""
        outcome = super().run(name, token=token, ctx=ctx or self.ctx, **overrides)
        self.outcomes[name] = outcome
        self.drain()
        return outcome

    def require_main(self) -> Seat:
        """The seat of ordinary jobs; a check that needs one is not exercised without."""
        applicable(self.main is not None, self.no_main)
        assert self.main is not None
        return self.main

    def variant(self, label: str, mutate: Any) -> Context:
        """The scenario's context on a copy of its policy changed by ``mutate``, written to
        ``jobs/policy-<label>.yaml``; the same ledger, so every run stays evidence there."""
        policy = copy.deepcopy(self.policy)
        mutate(policy)
        policy["data_roots"] = [str(self.root / "datasets")]  # the copy lives in jobs/
        path = self.root / "jobs" / f"policy-{label}.yaml"
        path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
        return dataclasses.replace(self.ctx, policy=load_policy(path))

    def org_revocations(self) -> str:
        """The organisation's own revocations, tried (the built-in policy has none)."""
        return ""

    def policy_info(self) -> dict[str, Any]:
        """Which policy the checks ran against (``selftest.json``'s ``policy``)."""
        loaded = self.ctx.require_policy()
        return {"source": "built-in", **loaded.ref, "file": "policy.yaml"}

    # -- where each check runs (the built-in policy's answers) --------------------------------

    def expired_role_case(self) -> Case:
        return Case(self.ctx, {"role": "researcher-expired"}, note="a role past its expiry")

    def wrong_environment_case(self) -> Case:
        return Case(
            self.ctx,
            {"environment": "regulated-pilot"},
            note="dev/test role used for regulated-pilot",
        )

    def regulated_data_case(self) -> Case:
        return Case(self.ctx, note="an exploratory-tier project")

    def quota_case(self) -> Case:
        return Case(
            self.ctx,
            {"project": "quota-lab", "shots": 1024},
            runs=2,
            note="the 2048-shot quota",
            expected=("QUOTA_SHOTS_EXCEEDED",),
        )

    def burst_case(self) -> Case:
        return Case(self.ctx, {"project": "burst-lab", "shots": 16}, runs=2)

    def failing_case(self) -> Case:
        return Case(
            self.ctx,
            {"backend": "aer_stabilizer", "circuit": {"path": "non-clifford.qasm"}},
            note="a circuit the stabilizer simulator rejects",
        )

    def registry_case(self, cohort_sha: str) -> Registry:
        """The built-in registry: the synthetic dataset and ``cohort-features`` (regulated,
        released to reg-pilot only), and an internal-pilot project for the rest."""

        def registry(policy: dict[str, Any]) -> None:
            policy["projects"].append(
                world.project(
                    "pilot-lab",
                    "internal-pilot",
                    ["dev", "test"],
                    owner="o@qgov.invalid",
                    shots=10**6,
                )
            )
            policy["datasets"] = [
                {
                    "id": "selftest-features",
                    "version": "1",
                    "sha256": self.dataset_sha256,
                    "classification": "synthetic",
                    "owner": "data-owner@selftest.invalid",
                },
                {
                    "id": "cohort-features",
                    "version": "2026.1",
                    "sha256": cohort_sha,
                    "classification": "regulated",
                    "owner": "data-owner@selftest.invalid",
                    "projects": ["reg-pilot"],
                    "tiers": ["regulated-pilot"],
                },
            ]

        ctx = self.variant("registry", registry)
        pilot = {"project": "pilot-lab"}
        return Registry(
            ctx,
            cohort=("cohort-features", "2026.1"),
            expected=("DATASET_CLASSIFICATION_MISMATCH", "DATA_CLASS_NOT_ALLOWED_FOR_TIER"),
            above=Case(ctx, pilot, note="an internal-pilot project"),
            registered=pilot,
            evidence="jobs/policy-registry.yaml",
        )

    def providers_case(self, folder: Path) -> Providers:
        """The built-in policy gains the provider backends (in ``folder/policy.yaml``)."""
        policy = copy.deepcopy(self.policy)
        policy["data_roots"] = [str(self.root / "datasets")]  # the copy lives in providers/
        policy["backends"] = [*policy["backends"], *PROVIDER_BACKENDS]
        for role in policy["roles"]:
            if role["name"] == "researcher":
                role["backends"] = [*role["backends"], *(b["name"] for b in PROVIDER_BACKENDS)]
        path = folder / "policy.yaml"
        path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
        ctx = dataclasses.replace(self.ctx, policy=load_policy(path))
        return Providers(
            ctx,
            runs=[("on-ibm-fake", "ibm_fake_manila"), ("on-braket", "braket_local_sv")],
            over_limit=("braket_local_sv", 100_000),
            cloud="ibm_cloud",
            replay_backend="ibm_fake_manila",
        )

    def drain(self) -> None:
        """Move datagrams from the collector socket into memory (UDP buffers are small)."""
        while True:
            try:
                frame, _ = self.collector.recvfrom(65535)
            except (BlockingIOError, OSError):
                return
            self.frames.append(frame)

    def events(self) -> list[dict[str, Any]]:
        text = self.ctx.ledger_path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line]

    def events_for(self, outcome: RunOutcome) -> list[dict[str, Any]]:
        return [
            e for e in self.events() if (e.get("subject") or {}).get("job_id") == outcome.job_id
        ]

    def refused_with(
        self,
        name: str,
        code: str,
        *,
        token: str | None = None,
        ctx: Context | None = None,
        **overrides: Any,
    ) -> RunOutcome:
        """Submit a job that must be refused with ``code``, and logged as such."""
        outcome = self.run(name, token=token, ctx=ctx, **overrides)
        expect(outcome.status == "refused", f"{name}: expected a refusal, got {outcome.status}")
        expect(code in outcome.decision.codes, f"{name}: {code} not among {outcome.decision.codes}")
        expect(outcome.record_path is None, f"{name}: a refused job left an execution record")
        logged = [e for e in self.events_for(outcome) if e["type"] == "job.decision"]
        expect(
            len(logged) == 1 and logged[0]["decision"] == "deny",
            f"{name}: the refusal is not in the ledger as a deny decision",
        )
        codes = [r["code"] for r in logged[0]["data"]["reasons"]]
        expect(code in codes, f"{name}: the ledger's decision lacks reason {code}")
        return outcome

    def rel(self, path: Path) -> str:
        """``path`` relative to the evidence folder, as the report names evidence."""
        try:
            return path.resolve().relative_to(self.out.resolve()).as_posix()
        except ValueError:
            return str(path)

    def close(self) -> None:
        self.collector.close()
