"""A small governed-job world for tests: its own issuer key, policy, circuit and dataset."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.approvals import Approval
from scanner.governed.canonical import sha256_hex
from scanner.governed.policy import LoadedPolicy, load_policy
from scanner.governed.runtime import Context, request_source
from scanner.governed.service import RunOutcome, run_job
from scanner.governed.tokens import mint_token, public_key_pem

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
ISSUER = "https://idp.tests.invalid"
AUDIENCE = "qgov-tests"
ALICE = "alice@tests.invalid"
BOB = "bob@tests.invalid"
PIPELINE = "workload:tests-pipeline"
NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)  # a Wednesday
BELL = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
    "h q[0];\ncx q[0], q[1];\nmeasure q -> c;\n"
)
DATASET = "id,x,y\nsyn-0001,0.125000,0.875000\nsyn-0002,0.250000,0.750000\n"


def base_policy(issuer_key: ed25519.Ed25519PrivateKey) -> dict[str, Any]:
    role = {
        "owner": "owner@tests.invalid",
        "identity_kinds": ["human"],
        "environments": ["dev", "test"],
        "backends": ["aer_sim"],
        "max_shots": 4096,
    }
    return {
        "policy": {"id": "tests", "version": "1", "owner": "owner@tests.invalid"},
        "issuers": [
            {
                "name": "tests-idp",
                "issuer": ISSUER,
                "audience": AUDIENCE,
                "keys": [{"kid": "k1", "public_key_pem": public_key_pem(issuer_key)}],
            }
        ],
        "identities": [
            {"subject": ALICE, "kind": "human", "issuer": "tests-idp", "roles": ["researcher"]},
            {"subject": BOB, "kind": "human", "issuer": "tests-idp", "approver": True},
            {"subject": PIPELINE, "kind": "workload", "issuer": "tests-idp", "roles": ["batch"]},
        ],
        "roles": [
            {
                **role,
                "name": "researcher",
                "purpose": "tests",
                "expires": "2027-01-31",
                "can_export": True,
            },
            {
                **role,
                "name": "batch",
                "purpose": "tests: workload role",
                "expires": "2027-01-31",
                "identity_kinds": ["workload"],
            },
        ],
        "tiers": {
            "exploratory": {"data_classes": ["synthetic"]},
            "regulated-pilot": {"data_classes": ["synthetic", "regulated"]},
        },
        "projects": [
            {
                "name": "lab",
                "owner": "budget@tests.invalid",
                "tier": "exploratory",
                "environments": ["dev", "test"],
                "quota": {"period": "month", "shots": 100000},
            }
        ],
        "backends": [
            {"name": "aer_sim", "environments": ["dev", "test"], "cost_units_per_job": 1},
        ],
    }


class World:
    """Files under one tmp folder; ``policy`` is a plain dict tests may edit before ``load``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.issuer_key = ed25519.Ed25519PrivateKey.generate()
        self.policy: dict[str, Any] = base_policy(self.issuer_key)
        self.approvals: list[Approval] = []
        self.now = NOW
        (root / "jobs").mkdir(parents=True, exist_ok=True)
        (root / "jobs" / "bell.qasm").write_text(BELL, encoding="utf-8")
        (root / "data.csv").write_text(DATASET, encoding="utf-8")
        self.ledger = root / "audit" / "ledger.jsonl"

    def clock(self) -> datetime:
        return self.now

    def load(self) -> LoadedPolicy:
        path = self.root / "policy.yaml"
        path.write_text(yaml.safe_dump(self.policy, sort_keys=False), encoding="utf-8")
        return load_policy(path)

    def token(
        self,
        subject: str = ALICE,
        kind: str = "human",
        *,
        key: ed25519.Ed25519PrivateKey | None = None,
        audience: str = AUDIENCE,
        issuer: str = ISSUER,
        issued: datetime | None = None,
        ttl: int = 300,
    ) -> str:
        return mint_token(
            key or self.issuer_key,
            issuer=issuer,
            audience=audience,
            subject=subject,
            kind=kind,
            now=issued or self.now,
            ttl_seconds=ttl,
            kid="k1",
        )

    def spec(self, name: str = "job", **overrides: Any) -> Path:
        spec: dict[str, Any] = {
            "name": name,
            "project": "lab",
            "environment": "dev",
            "backend": "aer_sim",
            "circuit": {"path": "bell.qasm"},
            "shots": 256,
            "seed": 7,
            "dataset": {
                "name": "tests-data",
                "version": "1",
                "path": "../data.csv",
                "sha256": sha256_hex(DATASET),
                "classification": "synthetic",
            },
        }
        dataset = overrides.pop("dataset", {})
        spec.update(overrides)
        spec["dataset"] = {**spec["dataset"], **dataset}
        path = self.root / "jobs" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        return path

    def context(self, **kwargs: Any) -> Context:
        return Context(
            policy=kwargs.pop("policy", None) or self.load(),
            ledger_path=kwargs.pop("ledger_path", self.ledger),
            approvals=tuple(self.approvals),
            clock=self.clock,
            source=request_source("tests"),
            **kwargs,
        )

    def run(self, name: str = "job", *, token: str | None = None, **overrides: Any) -> RunOutcome:
        export = overrides.pop("export", None)
        debug = overrides.pop("debug", False)
        return run_job(
            self.spec(name, **overrides),
            self.context(),
            token=self.token() if token is None else token,
            export_path=export,
            debug=debug,
        )

    def edit(self, mutate: Callable[[dict[str, Any]], None]) -> None:
        policy = copy.deepcopy(self.policy)
        mutate(policy)
        self.policy = policy


def approval(
    approval_id: str,
    action: str = "run-regulated",
    *,
    requester: str = ALICE,
    approver: str = BOB,
    start: datetime = NOW - timedelta(minutes=10),
    hours: float = 1,
    **extra: Any,
) -> Approval:
    return Approval(
        id=approval_id,
        action=action,  # type: ignore[arg-type]
        requester=requester,
        approver=approver,
        reason="tests",
        approved_at=start,
        expires_at=start + timedelta(hours=hours),
        **extra,
    )
