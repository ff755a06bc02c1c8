"""The self-test's world: a policy with a freshly generated issuer key, approvals, job specs,
a circuit and datasets in the evidence folder, plus a local UDP collector standing in for the
SIEM, and the helpers the checks use to submit jobs and read the ledger.

Private keys (the test issuer, the forger, the ledger's checkpoint key) stay in memory or in
a temporary folder; the evidence folder keeps only public material.
"""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed import world
from scanner.governed.approvals import Approval, load_approvals
from scanner.governed.selftest.registry import expect
from scanner.governed.service import RunOutcome
from scanner.governed.timeutil import iso_z, utc_now

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


class Scenario(world.World):
    cast = CAST
    circuits = {"bell.qasm": BELL, "non-clifford.qasm": NON_CLIFFORD}
    dataset_file = "datasets/features.csv"
    dataset_text = DATASET
    channel = "selftest"
    source_label = "qgov job selftest"

    def __init__(self, out: Path, secrets: Path) -> None:
        self.out = out
        self.started = utc_now()  # role expiries and approval windows are set around it
        # The collector comes first: the policy names its port.
        self.collector = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.collector.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.collector.bind(("127.0.0.1", 0))
        self.collector.setblocking(False)
        super().__init__(out)
        self.forger_key = ed25519.Ed25519PrivateKey.generate()
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
                "name": "selftest-features",
                "version": "1",
                "path": self.dataset_ref,
                "sha256": self.dataset_sha256,
                "classification": "synthetic",
            },
        }

    # -- what the checks use ----------------------------------------------------------------

    def run(self, name: str = "job", *, token: str | None = None, **overrides: Any) -> RunOutcome:
        """Submit a job in the scenario's context and keep its outcome and SIEM frames."""
        outcome = super().run(name, token=token, ctx=self.ctx, **overrides)
        self.outcomes[name] = outcome
        self.drain()
        return outcome

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

    def refused_with(self, name: str, code: str, **overrides: Any) -> RunOutcome:
        """Submit a job that must be refused with ``code``, and logged as such."""
        outcome = self.run(name, **overrides)
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
