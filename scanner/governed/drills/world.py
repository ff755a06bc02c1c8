"""The drill's world: a copy of an organisation's policy that the drill can act in.

Everything that decides -- identities, roles, tiers, projects, backends, the dataset registry,
elevation settings, existing revocations -- is the organisation's. Three things are swapped,
because a drill must not need production secrets or reach production systems: every issuer's
keys become one drill key generated in memory (so the drill can mint tokens for the policy's
identities), the SIEM target becomes a local UDP collector (so alerts can be checked), and the
data roots and a synthetic drill dataset live in the evidence folder (registered in the copy's
registry). The victim is a human identity that may run a job right now; the plan says with
which role, project, environment and backend.
"""

from __future__ import annotations

import copy
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.formats.yaml import DocumentError, read_yaml
from scanner.governed import world
from scanner.governed.errors import SpecError
from scanner.governed.ledger_queries import read_events
from scanner.governed.policy import OrgPolicy, load_policy
from scanner.governed.policy_sections import PROTECTED_ENVIRONMENTS
from scanner.governed.service import RunOutcome
from scanner.governed.timeutil import deadline, utc_now
from scanner.governed.tokens import mint_token, public_key_pem

BELL = """OPENQASM 2.0;
include "qelib1.inc";
// drill circuit: a Bell pair
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
"""
DATASET = "row_id,feature_x\ndrill-0001,0.250000\ndrill-0002,0.500000\n"
DATASET_ID = "qgov-drill-synthetic"


@dataclass(frozen=True)
class Plan:
    """Who plays the victim and what job they may run."""

    subject: str
    role: str
    project: str
    environment: str
    backend: str
    shots: int
    max_shots: int  # the role's limit
    can_export: bool
    approver: str | None  # a human approver other than the victim, if the policy has one


def _usable(policy: OrgPolicy, subject: str, now: datetime) -> Plan | None:
    entry = policy.identity(subject)
    if entry is None or entry.kind != "human":
        return None
    demo = policy.issuer_by_name(entry.issuer).demo
    approver = next(
        (
            i.subject
            for i in policy.identities
            if i.approver and i.kind == "human" and i.subject != subject
        ),
        None,
    )
    for role_name in entry.roles:
        role = policy.role(role_name)
        if role is None or now >= deadline(role.expires) or "human" not in role.identity_kinds:
            continue
        if role.time_windows is not None and not any(w.contains(now) for w in role.time_windows):
            continue
        if role.data_classes is not None and "synthetic" not in role.data_classes:
            continue
        for project in policy.projects:
            if role.projects is not None and project.name not in role.projects:
                continue
            if "synthetic" not in policy.tiers[project.tier].data_classes:
                continue
            for backend_name in role.backends:
                backend = policy.backend(backend_name)
                if backend is None or backend.regulated:
                    continue
                for env in role.environments:
                    if env not in project.environments or env not in backend.environments:
                        continue
                    if demo and env in PROTECTED_ENVIRONMENTS:
                        continue
                    quota = project.quota.shots or 1_000_000
                    shots = max(1, min(64, role.max_shots, quota // 20))
                    return Plan(
                        subject=subject,
                        role=role.name,
                        project=project.name,
                        environment=env,
                        backend=backend.name,
                        shots=shots,
                        max_shots=role.max_shots,
                        can_export=role.can_export,
                        approver=approver,
                    )
    return None


def plan_for(policy: OrgPolicy, subject: str | None, now: datetime) -> Plan:
    candidates = [subject] if subject else [i.subject for i in policy.identities]
    for candidate in candidates:
        found = _usable(policy, candidate, now)
        if found is not None:
            return found
    who = f"identity {subject!r}" if subject else "no human identity"
    raise SpecError(
        f"the policy cannot host this drill: {who} may run a job right now (an unexpired "
        "role, a project and a non-regulated backend sharing an environment, synthetic data "
        "allowed)"
    )


class DrillWorld(world.World):
    circuits = {"bell.qasm": BELL}
    dataset_file = "datasets/drill.csv"
    dataset_text = DATASET
    channel = "drill"

    def __init__(self, root: Path, policy_path: Path, scenario: str, subject: str | None) -> None:
        loaded = load_policy(policy_path)
        try:
            raw, _ = read_yaml(policy_path, what="policy")
        except DocumentError as exc:  # load_policy read it a moment ago; only a race gets here
            raise SpecError(str(exc)) from exc
        self.org = loaded.policy
        self.org_raw: dict[str, Any] = raw
        self.source_label = f"qgov job drill {scenario}"
        self.plan = plan_for(self.org, subject, utc_now())
        self.drill_key = ed25519.Ed25519PrivateKey.generate()
        self.collector = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.collector.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.collector.bind(("127.0.0.1", 0))
        self.collector.setblocking(False)
        self.frames: list[bytes] = []
        entry = self.org.identity(self.plan.subject)
        assert entry is not None
        issuer = self.org.issuer_by_name(entry.issuer)
        self.cast = world.Cast(
            issuer_name=issuer.name,
            issuer=issuer.issuer,
            audience=issuer.audience,
            kid=issuer.keys[0].kid or "drill-1",
            requester=self.plan.subject,
            approver=self.plan.approver or self.plan.subject,
            pipeline=self.plan.subject,
        )
        super().__init__(root)
        self.issuer_key = self.drill_key  # World generated one; the policy names this one

    def base_policy(self) -> dict[str, Any]:
        policy = copy.deepcopy(self.org_raw)
        public = public_key_pem(self.drill_key)
        for issuer in policy.get("issuers", []):
            kid = (issuer.get("keys") or [{}])[0].get("kid") or "drill-1"
            issuer["keys"] = [{"kid": kid, "public_key_pem": public}]
        policy["siem"] = {
            "syslog": {
                "host": "127.0.0.1",
                "port": self.collector.getsockname()[1],
                "protocol": "udp",
            }
        }
        policy.pop("approvals", None)
        policy["ledger"] = {
            k: v for k, v in (policy.get("ledger") or {}).items() if k != "signing_key"
        }
        policy["data_roots"] = ["datasets"]
        policy.setdefault("datasets", [])
        policy["datasets"] = [
            *policy["datasets"],
            {
                "id": DATASET_ID,
                "version": "1",
                "sha256": self.dataset_sha256,
                "classification": "synthetic",
                "owner": "qgov drill",
                "projects": [self.plan.project],
            },
        ]
        return policy

    def base_job(self, name: str) -> dict[str, Any]:
        plan = self.plan
        return {
            "apiVersion": "qgov/v1",
            "kind": "QuantumJob",
            "name": name,
            "project": plan.project,
            "environment": plan.environment,
            "backend": plan.backend,
            "role": plan.role,
            "circuit": {"path": "bell.qasm"},
            "shots": plan.shots,
            "seed": 7,
            "dataset": {
                "name": DATASET_ID,
                "version": "1",
                "path": self.dataset_ref,
                "sha256": self.dataset_sha256,
                "classification": "synthetic",
            },
        }

    def token_for(self, subject: str) -> str:
        """A fresh token for any identity of the policy, from its own issuer (drill key)."""
        entry = self.org.identity(subject)
        if entry is None:
            raise SpecError(f"drill: {subject!r} is not an identity of the policy")
        issuer = self.org.issuer_by_name(entry.issuer)
        token = mint_token(
            self.drill_key,
            issuer=issuer.issuer,
            audience=issuer.audience,
            subject=subject,
            kind=entry.kind,
            now=self.clock(),
            ttl_seconds=min(300, issuer.max_token_lifetime_seconds),
            kid=issuer.keys[0].kid or "drill-1",
        )
        self.minted.append(token)
        return token

    def token(self, subject: str | None = None, kind: str = "human", **_: Any) -> str:
        return self.token_for(subject or self.cast.requester)

    def revoke(self, **entry: Any) -> None:
        """Add a revocation to the copy's policy, in force from now."""
        entry.setdefault("revoked_at", self.clock())
        self.policy.setdefault("revocations", [])
        self.policy["revocations"] = [*self.policy["revocations"], entry]

    def run(self, name: str = "job", **kwargs: Any) -> RunOutcome:
        outcome = super().run(name, **kwargs)
        self.drain()
        return outcome

    def drain(self) -> None:
        while True:
            try:
                frame, _ = self.collector.recvfrom(65535)
            except (BlockingIOError, OSError):
                return
            self.frames.append(frame)

    def events(self) -> list[dict[str, Any]]:
        return read_events(self.ledger)

    def snapshot_policy(self, path: Path) -> None:
        path.write_text(yaml.safe_dump(self.policy, sort_keys=False), encoding="utf-8")

    def close(self) -> None:
        self.collector.close()
