"""Self-test checks of the decision path: identity, authorization, data gate, approvals and
quotas. Each submits jobs that must run or be refused, and looks for the ledger evidence."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import jwt

from scanner.governed.canonical import sha256_hex
from scanner.governed.ledger import verify_ledger
from scanner.governed.record import read_record
from scanner.governed.selftest.registry import CheckResult, check, expect
from scanner.governed.selftest.scenario import DATASET, PIPELINE, RESEARCHER, Scenario
from scanner.governed.timeutil import utc_now


@check(
    "allowed-job-runs",
    "An allowed job runs, is recorded and verifies",
    ["IAM-01", "LOG-01", "PRV-01", "DAT-04"],
)
def check_allowed(s: Scenario, c: CheckResult) -> None:
    grant = s.grant("allowed", "export", ctx=s.ctx, export_approval="APR-EXPORT-SIGNED")
    expect(grant.granted, f"the approver's export approval was refused: {grant.reasons}")
    outcome = s.run(
        "allowed",
        export=s.out / "exports" / "allowed-counts.json",
        export_approval="APR-EXPORT-SIGNED",
    )
    expect(
        outcome.status == "completed",
        f"expected completed, got {outcome.status} {outcome.decision.codes}",
    )
    expect(outcome.record_path is not None, "no execution record was written")
    assert outcome.record_path is not None
    record = read_record(outcome.record_path)
    expect(record.circuit.hash_format == "openqasm3-text", "record lacks the circuit hash format")
    for name, value in (
        ("qiskit version", record.environment.get("qiskit")),
        ("qiskit-aer version", record.environment.get("qiskit_aer")),
        ("python version", record.environment.get("python")),
        ("counts hash", record.result.counts_sha256),
    ):
        expect(bool(value), f"record lacks the {name}")
    expect(
        record.seeds.simulator == 11 and record.shots == 1024,
        "record seeds/shots differ from the spec",
    )
    expect(record.dataset.sha256 == sha256_hex(DATASET), "record lacks the dataset hash")
    expect(
        record.decision_id == outcome.decision.decision_id, "record does not cite the decision id"
    )
    events = s.events_for(outcome)
    types = [e["type"] for e in events]
    for expected in ("identity.verified", "job.decision", "job.executed", "result.export"):
        expect(expected in types, f"ledger lacks {expected} for the allowed job")
    decision = next(e for e in events if e["type"] == "job.decision")
    expect(
        decision["actor"]["kind"] == "human" and decision["actor"]["subject"] == RESEARCHER,
        "actor missing",
    )
    for part in ("actor", "source", "policy", "ts", "decision"):
        expect(
            bool(decision.get(part)), f"the decision event has no '{part}' (who/where/which policy)"
        )
    executed = next(e for e in events if e["type"] == "job.executed")
    expect(
        executed["data"]["record_sha256"] == record.sha256, "ledger does not bind the record hash"
    )
    expect(
        outcome.export is not None and outcome.export.decision.allowed,
        "approved export was refused",
    )
    report = verify_ledger(s.ctx.ledger_path)
    expect(report.intact, f"ledger does not verify: {[p.kind for p in report.problems]}")
    c.detail = (
        f"job completed, record {outcome.record_path.name} holds circuit/dataset hashes, versions, "
        f"seed and counts hash; identity, decision, execution and export logged; ledger intact "
        f"({report.events} events)"
    )
    c.evidence = [s.rel(outcome.record_path), "ledger.jsonl"]


@check("expired-role-refused", "A role past its expiry is refused", ["GOV-01", "IAM-05"])
def check_expired_role(s: Scenario, c: CheckResult) -> None:
    s.refused_with("expired-role", "ROLE_EXPIRED", role="researcher-expired")
    c.detail = "job under a role past its expiry was refused with ROLE_EXPIRED and logged"


@check(
    "wrong-environment-refused",
    "A role used outside its environments is refused",
    ["GOV-02", "IAM-05"],
)
def check_wrong_environment(s: Scenario, c: CheckResult) -> None:
    outcome = s.refused_with(
        "wrong-environment", "ENVIRONMENT_NOT_ALLOWED", environment="regulated-pilot"
    )
    c.detail = (
        f"dev/test role used for regulated-pilot was refused: {', '.join(outcome.decision.codes)}"
    )


@check(
    "regulated-data-refused",
    "Regulated data cannot enter an exploratory tier",
    ["DAT-01", "DAT-03"],
)
def check_regulated_data(s: Scenario, c: CheckResult) -> None:
    rows = "patient_bucket,score\nb-07,0.42\n"  # unregistered: its declared class applies
    (s.root / "datasets" / "regulated-rows.csv").write_text(rows, encoding="utf-8")
    s.refused_with(
        "regulated-data-exploratory",
        "DATA_CLASS_NOT_ALLOWED_FOR_TIER",
        dataset={
            "name": "regulated-rows",
            "path": "../datasets/regulated-rows.csv",
            "sha256": sha256_hex(rows),
            "classification": "regulated",
        },
    )
    c.detail = (
        "regulated data declared for an exploratory-tier project was refused at the data gate"
    )


@check("dataset-hash-refused", "A dataset hash mismatch is refused", ["DAT-04"])
def check_dataset_hash(s: Scenario, c: CheckResult) -> None:
    s.refused_with("dataset-hash-mismatch", "DATASET_HASH_MISMATCH", dataset={"sha256": "0" * 64})
    c.detail = "a dataset whose SHA-256 differs from the declared one was refused"


@check("approval-required", "Regulated backends and exports need JIT approval", ["IAM-06"])
def check_approvals(s: Scenario, c: CheckResult) -> None:
    regulated: dict[str, Any] = {
        "project": "reg-pilot",
        "environment": "regulated-pilot",
        "backend": "aer_regulated",
        "role": "regulated-runner",
    }
    s.refused_with("regulated-no-approval", "APPROVAL_REQUIRED", **regulated)
    # The requester approving their own request: refused by `qgov job approve` itself.
    own = s.grant(
        "regulated-self-approved",
        "run-regulated",
        approver=RESEARCHER,
        ctx=s.ctx,
        approval="APR-REG-SELF-SIGNED",
        **regulated,
    )
    expect(
        not own.granted and "APPROVAL_SELF_APPROVED" in [r.code for r in own.reasons],
        f"a self-approval was not refused: {[r.code for r in own.reasons]}",
    )
    s.refused_with(
        "regulated-self-approved",
        "APPROVAL_UNKNOWN",
        approval="APR-REG-SELF-SIGNED",
        **regulated,
    )
    grant = s.grant(
        "regulated-approved", "run-regulated", ctx=s.ctx, approval="APR-REG-SIGNED", **regulated
    )
    expect(grant.granted, f"the approver's regulated-run approval was refused: {grant.reasons}")
    approved = s.run("regulated-approved", approval="APR-REG-SIGNED", **regulated)
    expect(
        approved.status == "completed",
        f"approved regulated run did not complete: {approved.decision.codes}",
    )
    export = s.run("export-no-approval", export=s.out / "exports" / "refused.json")
    expect(export.status == "completed", "the job before the refused export did not run")
    expect(
        export.export is not None and "APPROVAL_REQUIRED" in export.export.decision.codes,
        "export without approval was not refused",
    )
    expect(
        not (s.out / "exports" / "refused.json").exists(), "a refused export still wrote results"
    )
    logged = [e for e in s.events_for(export) if e["type"] == "result.export"]
    expect(len(logged) == 1 and logged[0]["decision"] == "deny", "refused export not logged")
    c.detail = (
        "regulated backend without approval refused; a self-approval refused when granted (and "
        "the job with it); with the approver's signed ledger approval (bound to the spec hash, "
        "unexpired) it ran; export without approval refused and logged"
    )


@check("quota-exhausted-refused", "An exhausted project quota refuses jobs", ["CST-01"])
def check_quota(s: Scenario, c: CheckResult) -> None:
    for n in (1, 2):
        outcome = s.run(f"quota-{n}", project="quota-lab")
        expect(
            outcome.status == "completed",
            f"quota run {n} did not complete: {outcome.decision.codes}",
        )
    refused = s.refused_with("quota-exhausted", "QUOTA_SHOTS_EXCEEDED", project="quota-lab")
    decision = next(e for e in s.events_for(refused) if e["type"] == "job.decision")
    used = decision["data"]["usage_before"]["shots"]
    expect(used == 2048, f"usage read from the ledger was {used}, expected 2048")
    c.detail = (
        "two 1024-shot runs used the 2048-shot quota (read back from the ledger); "
        "the third was refused"
    )


@check("burst-alerted", "A burst of submissions raises an alert", ["CST-02"])
def check_burst(s: Scenario, c: CheckResult) -> None:
    outcomes = [s.run(f"burst-{n}", project="burst-lab", shots=16) for n in (1, 2, 3)]
    expect(not outcomes[0].alerts and not outcomes[1].alerts, "alert raised below the threshold")
    expect(bool(outcomes[2].alerts), "no alert for the third submission within the window")
    alerts = [e for e in s.events_for(outcomes[2]) if e["type"] == "cost.anomaly"]
    expect(len(alerts) == 1, "the burst alert is not in the ledger")
    c.detail = (
        "third submission within the burst window raised a cost.anomaly event "
        "(forwarded to the SIEM)"
    )


@check("forged-token-refused", "Forged, expired and long-lived tokens are refused", ["IAM-03"])
def check_tokens(s: Scenario, c: CheckResult) -> None:
    cases = {
        "TOKEN_BAD_SIGNATURE": s.token(key=s.forger_key),
        "TOKEN_EXPIRED": s.token(issued=utc_now() - timedelta(minutes=30)),
        "TOKEN_WRONG_AUDIENCE": s.token(audience="someone-else"),
        "TOKEN_LIFETIME_TOO_LONG": s.token(ttl=86_400),
        "TOKEN_MALFORMED": "not-a-jwt",
        "TOKEN_CLAIM_TYPES": _string_expiry_token(s),
    }
    for code, token in cases.items():
        outcome = s.refused_with(f"token-{code.lower().replace('_', '-')}", code, token=token)
        rejected = [e for e in s.events_for(outcome) if e["type"] == "identity.rejected"]
        expect(len(rejected) == 1, f"{code}: identity rejection not logged")
    c.detail = (
        "forged, expired, wrong-audience, long-lived, malformed tokens and one whose 'exp' is a "
        "string were all refused and logged"
    )


def _string_expiry_token(s: Scenario) -> str:
    """A correctly signed token whose ``exp`` is a string (PyJWT alone would accept it)."""
    now = utc_now()
    claims = {
        "iss": s.cast.issuer,
        "aud": s.cast.audience,
        "sub": RESEARCHER,
        "identity_kind": "human",
        "iat": int(now.timestamp()),
        "exp": str(int(now.timestamp()) + 300),
        "jti": str(uuid.uuid4()),
    }
    token = jwt.encode(claims, s.issuer_key, algorithm="EdDSA", headers={"kid": s.cast.kid})
    s.minted.append(token)
    return token


@check(
    "identity-kinds-distinct", "Human, workload and service identities stay distinct", ["IAM-01"]
)
def check_identity_kind(s: Scenario, c: CheckResult) -> None:
    s.refused_with("kind-mismatch", "IDENTITY_KIND_MISMATCH", token=s.token(RESEARCHER, "workload"))
    s.refused_with("workload-human-role", "ROLE_NOT_ASSIGNED", token=s.token(PIPELINE, "workload"))
    c.detail = (
        "a human subject presenting a workload token, and a workload without the role, were refused"
    )
