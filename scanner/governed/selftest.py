"""`qgov job selftest`: prove the governed path's controls by exercising them.

The scenario builds a small world in the evidence folder -- a policy with a freshly generated
issuer key, approvals, job specs, a circuit and datasets -- and pushes jobs through the real
governed path: one allowed job that runs and verifies, refusals for an expired role, a wrong
environment, regulated data in an exploratory tier, a dataset hash mismatch, a missing or
self-granted approval, an exhausted quota and forged/expired/wrong-audience tokens; a burst
that raises an alert; a simulator failure that is recorded, not dropped; a scrubbed log; a
tampered ledger that verification catches; a replay that matches; SIEM forwarding to a local
UDP collector. Each check names the catalog controls it evidences and passes only if the
expected outcome *and* its evidence in the ledger are there.

Private keys (the test issuer, the forger, the ledger's checkpoint key) live in a temporary
folder that is deleted afterwards; the evidence folder keeps only public material.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.approvals import load_approvals
from scanner.governed.canonical import canonical_json, sha256_hex
from scanner.governed.ledger import event_hash, verify_ledger
from scanner.governed.policy import load_policy
from scanner.governed.record import read_record
from scanner.governed.replay import replay
from scanner.governed.runtime import Context, Runtime, request_source
from scanner.governed.service import RunOutcome, run_job
from scanner.governed.siem import parse_frame
from scanner.governed.timeutil import iso_z, utc_now
from scanner.governed.tokens import mint_token, public_key_pem

ISSUER = "https://idp.selftest.qgov.invalid"
AUDIENCE = "qgov-selftest"
RESEARCHER = "researcher@selftest.invalid"
APPROVER = "approver@selftest.invalid"
PIPELINE = "workload:selftest-pipeline"

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

_OWN_ARTEFACTS = (
    "selftest.json",
    "policy.yaml",
    "approvals.yaml",
    "run.log",
    "siem-events.jsonl",
    "ledger.jsonl",
    "ledger.jsonl.pub",
    "ledger.jsonl.head",
    "ledger.jsonl.lock",
    "jobs",
    "datasets",
    "records",
    "exports",
    "tampered",
    "replay",
)


@dataclass
class Check:
    id: str
    title: str
    control_ids: list[str]
    status: str = "fail"
    detail: str = ""
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "control_ids": self.control_ids,
            "status": self.status,
            "detail": self.detail,
            "evidence": self.evidence,
        }


class _Failed(Exception):
    """A check's expectation was not met; the message says which."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise _Failed(message)


class Scenario:
    def __init__(self, out: Path, secrets: Path) -> None:
        self.out = out
        self.secrets = secrets
        self.now = utc_now()
        self.issuer_key = ed25519.Ed25519PrivateKey.generate()
        self.forger_key = ed25519.Ed25519PrivateKey.generate()
        self.collector = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.collector.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.collector.bind(("127.0.0.1", 0))
        self.collector.setblocking(False)
        self.frames: list[bytes] = []
        self.tokens: list[str] = []
        self.outcomes: dict[str, RunOutcome] = {}
        self._write_world()
        self.ctx = Context(
            policy=load_policy(out / "policy.yaml"),
            ledger_path=out / "ledger.jsonl",
            records_dir=out / "records",
            log_path=out / "run.log",
            approvals=load_approvals(out / "approvals.yaml"),
            source=request_source("selftest", "qgov job selftest"),
            signing_key=secrets / "ledger.key",
        )

    # -- world ---------------------------------------------------------------------------------

    def _write_world(self) -> None:
        (self.out / "jobs").mkdir(parents=True, exist_ok=True)
        (self.out / "datasets").mkdir(parents=True, exist_ok=True)
        (self.out / "jobs" / "bell.qasm").write_text(BELL, encoding="utf-8")
        (self.out / "jobs" / "non-clifford.qasm").write_text(NON_CLIFFORD, encoding="utf-8")
        (self.out / "datasets" / "features.csv").write_text(DATASET, encoding="utf-8")
        day = timedelta(days=1)
        everywhere = ["dev", "test"]
        role = {
            "owner": "controls-owner@selftest.invalid",
            "identity_kinds": ["human"],
            "max_shots": 4096,
            "can_export": True,
        }
        policy = {
            "policy": {"id": "qgov-selftest", "version": "1", "owner": "selftest@qgov.invalid"},
            "issuers": [
                {
                    "name": "selftest-idp",
                    "issuer": ISSUER,
                    "audience": AUDIENCE,
                    "algorithms": ["EdDSA"],
                    "max_token_lifetime_seconds": 600,
                    "keys": [{"kid": "st-1", "public_key_pem": public_key_pem(self.issuer_key)}],
                }
            ],
            "identities": [
                {
                    "subject": RESEARCHER,
                    "kind": "human",
                    "issuer": "selftest-idp",
                    "roles": ["researcher", "researcher-expired", "regulated-runner"],
                },
                {"subject": APPROVER, "kind": "human", "issuer": "selftest-idp", "approver": True},
                {"subject": PIPELINE, "kind": "workload", "issuer": "selftest-idp"},
            ],
            "roles": [
                {
                    **role,
                    "name": "researcher",
                    "purpose": "self-test: exploration on synthetic and masked data",
                    "expires": iso_z(self.now + 30 * day),
                    "environments": everywhere,
                    "backends": ["aer_sim", "aer_stabilizer"],
                    "data_classes": ["synthetic", "masked", "regulated"],
                },
                {
                    **role,
                    "name": "researcher-expired",
                    "purpose": "self-test: a role whose expiry has passed",
                    "expires": iso_z(self.now - day),
                    "environments": everywhere,
                    "backends": ["aer_sim"],
                },
                {
                    **role,
                    "name": "regulated-runner",
                    "purpose": "self-test: regulated pilot runs with JIT approval",
                    "expires": iso_z(self.now + 30 * day),
                    "environments": ["regulated-pilot"],
                    "backends": ["aer_regulated"],
                },
            ],
            "tiers": {
                "exploratory": {"data_classes": ["synthetic"]},
                "internal-pilot": {"data_classes": ["synthetic", "masked", "internal"]},
                "regulated-pilot": {
                    "data_classes": ["synthetic", "masked", "internal", "confidential", "regulated"]
                },
            },
            "projects": [
                _project("lab", "exploratory", everywhere, 1_000_000),
                _project("quota-lab", "exploratory", everywhere, 2048),
                {
                    **_project("burst-lab", "exploratory", everywhere, 1_000_000),
                    "burst": {"max_jobs": 2, "window_seconds": 3600},
                },
                _project("reg-pilot", "regulated-pilot", ["regulated-pilot"], 1_000_000),
            ],
            "backends": [
                {"name": "aer_sim", "environments": everywhere, "cost_units_per_job": 1},
                {"name": "aer_stabilizer", "method": "stabilizer", "environments": everywhere},
                {"name": "aer_regulated", "regulated": True, "environments": ["regulated-pilot"]},
            ],
            "ledger": {"checkpoint_every": 8},
            "siem": {
                "syslog": {
                    "host": "127.0.0.1",
                    "port": self.collector.getsockname()[1],
                    "protocol": "udp",
                }
            },
        }
        (self.out / "policy.yaml").write_text(
            yaml.safe_dump(policy, sort_keys=False), encoding="utf-8"
        )
        approval = {
            "approved_at": iso_z(self.now - timedelta(minutes=5)),
            "expires_at": iso_z(self.now + timedelta(hours=1)),
        }
        approvals = [
            {
                **approval,
                "id": "APR-REG-OK",
                "action": "run-regulated",
                "requester": RESEARCHER,
                "approver": APPROVER,
                "project": "reg-pilot",
                "reason": "self-test: approved regulated run",
            },
            {
                **approval,
                "id": "APR-REG-SELF",
                "action": "run-regulated",
                "requester": RESEARCHER,
                "approver": RESEARCHER,
                "project": "reg-pilot",
                "reason": "self-test: self-approval must be refused",
            },
            {
                **approval,
                "id": "APR-EXPORT-OK",
                "action": "export",
                "requester": RESEARCHER,
                "approver": APPROVER,
                "project": "lab",
                "reason": "self-test: approved export",
            },
        ]
        (self.out / "approvals.yaml").write_text(
            yaml.safe_dump({"approvals": approvals}, sort_keys=False), encoding="utf-8"
        )

    def token(
        self,
        subject: str = RESEARCHER,
        kind: str = "human",
        *,
        key: ed25519.Ed25519PrivateKey | None = None,
        audience: str = AUDIENCE,
        issued: datetime | None = None,
        ttl: int = 300,
    ) -> str:
        value = mint_token(
            key or self.issuer_key,
            issuer=ISSUER,
            audience=audience,
            subject=subject,
            kind=kind,
            now=issued or utc_now(),
            ttl_seconds=ttl,
            kid="st-1",
        )
        self.tokens.append(value)
        return value

    def job(self, name: str, **overrides: Any) -> Path:
        dataset_sha = sha256_hex(DATASET)
        spec: dict[str, Any] = {
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
                "path": "../datasets/features.csv",
                "sha256": dataset_sha,
                "classification": "synthetic",
            },
        }
        dataset = overrides.pop("dataset", {})
        spec.update(overrides)
        spec["dataset"].update(dataset)
        path = self.out / "jobs" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        return path

    def run(self, name: str, token: str | None = None, **kwargs: Any) -> RunOutcome:
        export = kwargs.pop("export", None)
        outcome = run_job(
            self.job(name, **kwargs),
            self.ctx,
            token=token if token is not None else self.token(),
            export_path=export,
        )
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

    def refused_with(self, name: str, code: str, **kwargs: Any) -> RunOutcome:
        outcome = self.run(name, **kwargs)
        _expect(outcome.status == "refused", f"{name}: expected a refusal, got {outcome.status}")
        _expect(
            code in outcome.decision.codes, f"{name}: {code} not among {outcome.decision.codes}"
        )
        _expect(outcome.record_path is None, f"{name}: a refused job left an execution record")
        logged = [e for e in self.events_for(outcome) if e["type"] == "job.decision"]
        _expect(
            len(logged) == 1 and logged[0]["decision"] == "deny",
            f"{name}: the refusal is not in the ledger as a deny decision",
        )
        codes = [r["code"] for r in logged[0]["data"]["reasons"]]
        _expect(code in codes, f"{name}: the ledger's decision lacks reason {code}")
        return outcome

    def close(self) -> None:
        self.collector.close()


def _project(name: str, tier: str, environments: list[str], shots: int) -> dict[str, Any]:
    return {
        "name": name,
        "owner": "budget-owner@selftest.invalid",
        "tier": tier,
        "environments": environments,
        "quota": {"period": "month", "shots": shots},
    }


# -- checks ------------------------------------------------------------------------------------


def check_allowed(s: Scenario, c: Check) -> None:
    outcome = s.run(
        "allowed", export=s.out / "exports" / "allowed-counts.json", export_approval="APR-EXPORT-OK"
    )
    _expect(
        outcome.status == "completed",
        f"expected completed, got {outcome.status} {outcome.decision.codes}",
    )
    _expect(outcome.record_path is not None, "no execution record was written")
    assert outcome.record_path is not None
    record = read_record(outcome.record_path)
    _expect(record.circuit.hash_format == "openqasm3-text", "record lacks the circuit hash format")
    for name, value in (
        ("qiskit version", record.environment.get("qiskit")),
        ("qiskit-aer version", record.environment.get("qiskit_aer")),
        ("python version", record.environment.get("python")),
        ("counts hash", record.result.counts_sha256),
    ):
        _expect(bool(value), f"record lacks the {name}")
    _expect(
        record.seeds.simulator == 11 and record.shots == 1024,
        "record seeds/shots differ from the spec",
    )
    _expect(record.dataset.sha256 == sha256_hex(DATASET), "record lacks the dataset hash")
    _expect(
        record.decision_id == outcome.decision.decision_id, "record does not cite the decision id"
    )
    events = s.events_for(outcome)
    types = [e["type"] for e in events]
    for expected in ("identity.verified", "job.decision", "job.executed", "result.export"):
        _expect(expected in types, f"ledger lacks {expected} for the allowed job")
    decision = next(e for e in events if e["type"] == "job.decision")
    _expect(
        decision["actor"]["kind"] == "human" and decision["actor"]["subject"] == RESEARCHER,
        "actor missing",
    )
    for part in ("actor", "source", "policy", "ts", "decision"):
        _expect(
            bool(decision.get(part)), f"the decision event has no '{part}' (who/where/which policy)"
        )
    executed = next(e for e in events if e["type"] == "job.executed")
    _expect(
        executed["data"]["record_sha256"] == record.sha256, "ledger does not bind the record hash"
    )
    _expect(
        outcome.export is not None and outcome.export.decision.allowed,
        "approved export was refused",
    )
    report = verify_ledger(s.ctx.ledger_path)
    _expect(report.intact, f"ledger does not verify: {[p.kind for p in report.problems]}")
    c.detail = (
        f"job completed, record {outcome.record_path.name} holds circuit/dataset hashes, versions, "
        f"seed and counts hash; identity, decision, execution and export logged; ledger intact "
        f"({report.events} events)"
    )
    c.evidence = [_rel(s, outcome.record_path), "ledger.jsonl"]


def check_expired_role(s: Scenario, c: Check) -> None:
    s.refused_with("expired-role", "ROLE_EXPIRED", role="researcher-expired")
    c.detail = "job under a role past its expiry was refused with ROLE_EXPIRED and logged"


def check_wrong_environment(s: Scenario, c: Check) -> None:
    outcome = s.refused_with(
        "wrong-environment", "ENVIRONMENT_NOT_ALLOWED", environment="regulated-pilot"
    )
    c.detail = (
        f"dev/test role used for regulated-pilot was refused: {', '.join(outcome.decision.codes)}"
    )


def check_regulated_data(s: Scenario, c: Check) -> None:
    s.refused_with(
        "regulated-data-exploratory",
        "DATA_CLASS_NOT_ALLOWED_FOR_TIER",
        dataset={"classification": "regulated"},
    )
    c.detail = (
        "regulated data declared for an exploratory-tier project was refused at the data gate"
    )


def check_dataset_hash(s: Scenario, c: Check) -> None:
    s.refused_with("dataset-hash-mismatch", "DATASET_HASH_MISMATCH", dataset={"sha256": "0" * 64})
    c.detail = "a dataset whose SHA-256 differs from the declared one was refused"


def check_approvals(s: Scenario, c: Check) -> None:
    regulated = {
        "project": "reg-pilot",
        "environment": "regulated-pilot",
        "backend": "aer_regulated",
        "role": "regulated-runner",
    }
    s.refused_with("regulated-no-approval", "APPROVAL_REQUIRED", **regulated)
    s.refused_with(
        "regulated-self-approved", "APPROVAL_SELF_APPROVED", approval="APR-REG-SELF", **regulated
    )
    approved = s.run("regulated-approved", approval="APR-REG-OK", **regulated)
    _expect(
        approved.status == "completed",
        f"approved regulated run did not complete: {approved.decision.codes}",
    )
    export = s.run("export-no-approval", export=s.out / "exports" / "refused.json")
    _expect(export.status == "completed", "the job before the refused export did not run")
    _expect(
        export.export is not None and "APPROVAL_REQUIRED" in export.export.decision.codes,
        "export without approval was not refused",
    )
    _expect(
        not (s.out / "exports" / "refused.json").exists(), "a refused export still wrote results"
    )
    logged = [e for e in s.events_for(export) if e["type"] == "result.export"]
    _expect(len(logged) == 1 and logged[0]["decision"] == "deny", "refused export not logged")
    c.detail = (
        "regulated backend without approval and with a self-granted approval refused; with a "
        "valid approval (approver != requester, unexpired) it ran; export without approval refused "
        "and logged"
    )


def check_quota(s: Scenario, c: Check) -> None:
    for n in (1, 2):
        outcome = s.run(f"quota-{n}", project="quota-lab")
        _expect(
            outcome.status == "completed",
            f"quota run {n} did not complete: {outcome.decision.codes}",
        )
    refused = s.refused_with("quota-exhausted", "QUOTA_SHOTS_EXCEEDED", project="quota-lab")
    decision = next(e for e in s.events_for(refused) if e["type"] == "job.decision")
    used = decision["data"]["usage_before"]["shots"]
    _expect(used == 2048, f"usage read from the ledger was {used}, expected 2048")
    c.detail = (
        "two 1024-shot runs used the 2048-shot quota (read back from the ledger); "
        "the third was refused"
    )


def check_burst(s: Scenario, c: Check) -> None:
    outcomes = [s.run(f"burst-{n}", project="burst-lab", shots=16) for n in (1, 2, 3)]
    _expect(not outcomes[0].alerts and not outcomes[1].alerts, "alert raised below the threshold")
    _expect(bool(outcomes[2].alerts), "no alert for the third submission within the window")
    alerts = [e for e in s.events_for(outcomes[2]) if e["type"] == "cost.anomaly"]
    _expect(len(alerts) == 1, "the burst alert is not in the ledger")
    c.detail = (
        "third submission within the burst window raised a cost.anomaly event "
        "(forwarded to the SIEM)"
    )


def check_tokens(s: Scenario, c: Check) -> None:
    cases = {
        "TOKEN_BAD_SIGNATURE": s.token(key=s.forger_key),
        "TOKEN_EXPIRED": s.token(issued=utc_now() - timedelta(minutes=30)),
        "TOKEN_WRONG_AUDIENCE": s.token(audience="someone-else"),
        "TOKEN_LIFETIME_TOO_LONG": s.token(ttl=86_400),
        "TOKEN_MALFORMED": "not-a-jwt",
    }
    for code, token in cases.items():
        outcome = s.refused_with(f"token-{code.lower().replace('_', '-')}", code, token=token)
        rejected = [e for e in s.events_for(outcome) if e["type"] == "identity.rejected"]
        _expect(len(rejected) == 1, f"{code}: identity rejection not logged")
    c.detail = (
        "forged, expired, wrong-audience, long-lived and malformed tokens were all refused "
        "and logged"
    )


def check_identity_kind(s: Scenario, c: Check) -> None:
    s.refused_with("kind-mismatch", "IDENTITY_KIND_MISMATCH", token=s.token(RESEARCHER, "workload"))
    s.refused_with("workload-human-role", "ROLE_NOT_ASSIGNED", token=s.token(PIPELINE, "workload"))
    c.detail = (
        "a human subject presenting a workload token, and a workload without the role, were refused"
    )


def check_failed_job(s: Scenario, c: Check) -> None:
    outcome = s.run(
        "simulator-failure", backend="aer_stabilizer", circuit={"path": "non-clifford.qasm"}
    )
    _expect(outcome.status == "failed", f"expected a failed run, got {outcome.status}")
    _expect(outcome.record_path is not None, "the failed run left no record")
    failed = [e for e in s.events_for(outcome) if e["type"] == "job.failed"]
    _expect(
        len(failed) == 1 and failed[0]["data"]["error"],
        "job.failed with the error is not in the ledger",
    )
    c.detail = (
        f"a circuit the stabilizer simulator rejects was recorded as failed ({outcome.error})"
    )
    c.evidence = [_rel(s, outcome.record_path)] if outcome.record_path else []


def check_scrubbed(s: Scenario, c: Check) -> None:
    # A careless log call through the governed logger: the scrubber must still catch it.
    with Runtime(s.ctx) as rt:
        leak_token = s.token()
        rt.scrubber.register("token", leak_token)
        rt.scrubber.register("circuit", BELL, by_line=True)
        rt.scrubber.register("dataset", DATASET, by_line=True)
        rt.log.info("careless debug line: token=%s circuit=%s rows=%s", leak_token, BELL, DATASET)
    log = (s.out / "run.log").read_text(encoding="utf-8")
    ledger = s.ctx.ledger_path.read_text(encoding="utf-8")
    secrets = [("token", t) for t in s.tokens if len(t) > 20]
    secrets += [
        ("circuit line", line.strip()) for line in BELL.splitlines() if len(line.strip()) >= 12
    ]
    secrets += [("circuit text", BELL), ("dataset row", DATASET.splitlines()[1])]
    for label, value in secrets:
        _expect(value not in log, f"the run log contains a {label}")
        _expect(value not in ledger, f"the ledger contains a {label}")
    _expect(
        "[scrubbed token" in log and "[scrubbed circuit" in log,
        "the careless line was not scrubbed",
    )
    _expect("circuit_sha256=" in log, "the log does not carry circuit hashes")
    c.detail = (
        f"run log ({len(log.splitlines())} lines) and ledger hold circuit hashes and sizes but "
        f"no circuit text, dataset rows or any of {len(s.tokens)} tokens; a deliberate leak "
        "was scrubbed"
    )
    c.evidence = ["run.log"]


def check_tamper(s: Scenario, c: Check) -> None:
    original = s.ctx.ledger_path
    _expect(verify_ledger(original).intact, "the untouched ledger does not verify")
    lines = original.read_text(encoding="utf-8").splitlines(keepends=True)
    _expect(len(lines) > 12, "ledger too short for the tamper test")
    folder = s.out / "tampered"
    folder.mkdir(exist_ok=True)

    def edited(ls: list[str]) -> list[str]:
        event = json.loads(ls[5])
        event["actor"] = {"subject": "mallory@selftest.invalid", "kind": "human"}
        return [*ls[:5], json.dumps(event) + "\n", *ls[6:]]

    def rehashed(ls: list[str]) -> list[str]:
        # Edit, then recompute every later hash and link: only the signatures can catch it.
        out, prev = list(ls[:5]), json.loads(ls[4])["hash"]
        for n, raw in enumerate(ls[5:]):
            event = json.loads(raw)
            if n == 0:
                event["decision"] = "allow"
            event["prev"] = prev
            event["hash"] = event_hash(event)
            prev = event["hash"]
            out.append(canonical_json(event).decode() + "\n")
        return out

    def inserted(ls: list[str]) -> list[str]:
        forged = json.loads(ls[6])
        forged["id"] = "forged"
        forged["hash"] = event_hash(forged)
        return [*ls[:7], canonical_json(forged).decode() + "\n", *ls[7:]]

    cases: dict[str, tuple[Callable[[list[str]], list[str]], set[str]]] = {
        "edited": (edited, {"hash-mismatch"}),
        "deleted": (lambda ls: ls[:4] + ls[5:], {"sequence-gap", "chain-broken"}),
        "inserted": (inserted, {"sequence-order", "chain-broken"}),
        "reordered": (
            lambda ls: [*ls[:4], ls[5], ls[4], *ls[6:]],
            {"sequence-order", "chain-broken"},
        ),
        "truncated": (lambda ls: ls[:-3], {"truncated"}),
        "rehashed": (rehashed, {"checkpoint-mismatch", "head-mismatch"}),
    }
    found = []
    for name, (mutate, expected) in cases.items():
        target = folder / f"ledger-{name}.jsonl"
        target.write_text("".join(mutate(lines)), encoding="utf-8")
        shutil.copy(str(original) + ".pub", str(target) + ".pub")
        shutil.copy(str(original) + ".head", str(target) + ".head")
        report = verify_ledger(target)
        kinds = {p.kind for p in report.problems}
        _expect(
            not report.intact and bool(kinds & expected),
            f"{name}: verification reported {sorted(kinds)}",
        )
        first = report.problems[0]
        found.append(
            f"{name}->{first.kind}@line {first.line}" if first.line else f"{name}->{first.kind}"
        )
        c.evidence.append(_rel(s, target))
    c.detail = "original intact; caught: " + "; ".join(found)


def check_replay(s: Scenario, c: Check) -> None:
    allowed = s.outcomes.get("allowed")
    _expect(
        allowed is not None and allowed.record_path is not None, "no record from the allowed job"
    )
    assert allowed is not None and allowed.record_path is not None
    outcome = replay(allowed.record_path, s.ctx)
    _expect(outcome.matched, f"replay did not match: {outcome.problems}")
    forged = s.out / "replay" / "edited-record.json"
    forged.parent.mkdir(exist_ok=True)
    data = json.loads(allowed.record_path.read_text(encoding="utf-8"))
    data["result"]["counts_sha256"] = "f" * 64
    forged.write_text(json.dumps(data, indent=2), encoding="utf-8")
    mismatch = replay(forged, s.ctx, circuit_path=s.out / "jobs" / "bell.qasm")
    _expect(not mismatch.matched, "an edited record still replayed as a match")
    c.detail = (
        f"replay reproduced counts hash {(outcome.replay_counts_sha256 or '-')[:16]}...; "
        "an edited record was reported as a mismatch"
    )
    c.evidence = [_rel(s, allowed.record_path)]


def check_siem(s: Scenario, c: Check) -> None:
    s.drain()
    raw_frames = s.frames
    received = [parse_frame(frame) for frame in raw_frames]
    (s.out / "siem-events.jsonl").write_text(
        "".join(json.dumps(e, sort_keys=True) + "\n" for e in received), encoding="utf-8"
    )
    classes = {e["class_uid"] for e in received}
    _expect({3002, 6003} <= classes, f"OCSF classes received: {sorted(classes)}")
    _expect(
        all(e["type_uid"] == e["class_uid"] * 100 + e["activity_id"] for e in received),
        "bad type_uid",
    )
    blob = b"".join(raw_frames).decode("utf-8", "replace")
    _expect(not any(t in blob for t in s.tokens if len(t) > 20), "a token reached the SIEM")
    _expect(BELL not in blob, "circuit text reached the SIEM")
    c.detail = f"{len(received)} OCSF events received over syslog/UDP (classes {sorted(classes)})"
    c.evidence = ["siem-events.jsonl"]


CHECKS: list[tuple[str, str, list[str], Callable[[Scenario, Check], None]]] = [
    (
        "allowed-job-runs",
        "An allowed job runs, is recorded and verifies",
        ["IAM-01", "LOG-01", "PRV-01", "DAT-04"],
        check_allowed,
    ),
    (
        "expired-role-refused",
        "A role past its expiry is refused",
        ["GOV-01", "IAM-05"],
        check_expired_role,
    ),
    (
        "wrong-environment-refused",
        "A role used outside its environments is refused",
        ["GOV-02", "IAM-05"],
        check_wrong_environment,
    ),
    (
        "regulated-data-refused",
        "Regulated data cannot enter an exploratory tier",
        ["DAT-01", "DAT-03"],
        check_regulated_data,
    ),
    ("dataset-hash-refused", "A dataset hash mismatch is refused", ["DAT-04"], check_dataset_hash),
    (
        "approval-required",
        "Regulated backends and exports need JIT approval",
        ["IAM-06"],
        check_approvals,
    ),
    ("quota-exhausted-refused", "An exhausted project quota refuses jobs", ["CST-01"], check_quota),
    ("burst-alerted", "A burst of submissions raises an alert", ["CST-02"], check_burst),
    (
        "forged-token-refused",
        "Forged, expired and long-lived tokens are refused",
        ["IAM-03"],
        check_tokens,
    ),
    (
        "identity-kinds-distinct",
        "Human, workload and service identities stay distinct",
        ["IAM-01"],
        check_identity_kind,
    ),
    (
        "failed-job-recorded",
        "A job failing in the simulator is recorded as failed",
        ["LOG-01", "PRV-01"],
        check_failed_job,
    ),
    (
        "log-scrubbed",
        "Logs and ledger carry hashes, never circuits, data or tokens",
        ["LOG-03"],
        check_scrubbed,
    ),
    ("ledger-tamper-detected", "Ledger verification catches tampering", ["LOG-02"], check_tamper),
    (
        "replay-matches",
        "A recorded execution replays to the same result hash",
        ["PRV-02"],
        check_replay,
    ),
    ("siem-forwarded", "Events reach a SIEM collector as OCSF JSON", ["LOG-07"], check_siem),
]


def _rel(s: Scenario, path: Path) -> str:
    try:
        return path.resolve().relative_to(s.out.resolve()).as_posix()
    except ValueError:
        return str(path)


def _clean(out: Path) -> None:
    for name in _OWN_ARTEFACTS:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def run_selftest(out: Path) -> dict[str, Any]:
    """Run every check, write ``out/selftest.json`` with the evidence beside it, return it."""
    from scanner.governed.environment import capture

    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    results: list[Check] = []
    with tempfile.TemporaryDirectory(prefix="qgov-selftest-") as secrets:
        scenario = Scenario(out, Path(secrets))
        try:
            for check_id, title, controls, run in CHECKS:
                check = Check(check_id, title, controls)
                try:
                    run(scenario, check)
                    check.status = "pass"
                except _Failed as exc:
                    check.detail = str(exc)
                except Exception as exc:  # a broken check fails itself, not the whole test
                    check.detail = f"error: {type(exc).__name__}: {exc}"
                results.append(check)
        finally:
            scenario.close()
    passed = sum(1 for c in results if c.status == "pass")
    by_control: dict[str, str] = {}
    for check in results:
        for control in check.control_ids:
            if by_control.get(control) != "fail":
                by_control[control] = check.status
    env = capture()
    report = {
        "tool": {
            "name": "qgov",
            "version": env.get("qgov") or "0.1.0",
            "component": "governed-job selftest",
        },
        "generated_at": iso_z(utc_now()),
        "environment": env,
        "evidence": {
            "ledger": "ledger.jsonl",
            "ledger_public_key": "ledger.jsonl.pub",
            "ledger_signed_head": "ledger.jsonl.head",
            "records": sorted(_rel_path(out, p) for p in (out / "records").glob("*.json")),
            "log": "run.log",
            "policy": "policy.yaml",
            "approvals": "approvals.yaml",
            "siem_events": "siem-events.jsonl",
        },
        "checks": [c.to_json() for c in results],
        "summary": {
            "total": len(results),
            "passed": passed,
            "failed": len(results) - passed,
            "controls": by_control,
            "duration_ms": round((time.perf_counter() - started) * 1000),
        },
    }
    (out / "selftest.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _rel_path(out: Path, path: Path) -> str:
    return path.relative_to(out).as_posix()
