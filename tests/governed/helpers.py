"""The tests' governed-job world: its own issuer key, policy, circuit and dataset, on a fixed
clock. The mechanics are the shipped :class:`scanner.governed.world.World`'s."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scanner.cli import register_governed
from scanner.governed import world
from scanner.governed.approvals import Approval

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
CAST = world.Cast(
    issuer_name="tests-idp",
    issuer=ISSUER,
    audience=AUDIENCE,
    kid="k1",
    requester=ALICE,
    approver=BOB,
    pipeline=PIPELINE,
)


class World(world.World):
    """Files under one tmp folder; ``policy`` is a plain dict tests may edit before ``load``."""

    cast = CAST
    circuits = {"bell.qasm": BELL}
    dataset_file = "data.csv"
    dataset_text = DATASET
    ledger_file = "audit/ledger.jsonl"

    def __init__(self, root: Path) -> None:
        super().__init__(root, now=NOW)

    def base_policy(self) -> dict[str, Any]:
        role = {
            "owner": "owner@tests.invalid",
            "identity_kinds": ["human"],
            "environments": ["dev", "test"],
            "backends": ["aer_sim"],
            "max_shots": 4096,
        }
        return world.policy_document(
            CAST,
            self.issuer_key,
            info={"id": "tests", "version": "1", "owner": "owner@tests.invalid"},
            requester_roles=["researcher"],
            pipeline_roles=["batch"],
            roles=[
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
            tiers={
                "exploratory": {"data_classes": ["synthetic"]},
                "regulated-pilot": {"data_classes": ["synthetic", "regulated"]},
            },
            projects=[
                world.project(
                    "lab",
                    "exploratory",
                    ["dev", "test"],
                    owner="budget@tests.invalid",
                    shots=100000,
                )
            ],
            backends=[
                {"name": "aer_sim", "environments": ["dev", "test"], "cost_units_per_job": 1},
            ],
        )

    def base_job(self, name: str) -> dict[str, Any]:
        return {
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
                "path": self.dataset_ref,
                "sha256": self.dataset_sha256,
                "classification": "synthetic",
            },
        }


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
    return world.approval(
        approval_id,
        action,  # type: ignore[arg-type]
        requester=requester,
        approver=approver,
        start=start,
        end=start + timedelta(hours=hours),
        reason="tests",
        **extra,
    )


def qgov(*argv: str) -> int:
    """The governed-job commands (job, ledger, token) as the CLI runs them."""
    parser = argparse.ArgumentParser(prog="qgov")
    register_governed(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.handler(args))
