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
from scanner.governed.selftest.registry import CheckResult, applicable, check, expect
from scanner.governed.selftest.scenario import DATASET, Scenario
from scanner.governed.service import RunOutcome
from scanner.governed.timeutil import utc_now
from scanner.governed.tokens import algorithm_for


@check(
    "allowed-job-runs",
    "An allowed job runs, is recorded and verifies",
    ["IAM-01", "LOG-01", "PRV-01", "DAT-04"],
)
def check_allowed(s: Scenario, c: CheckResult) -> None:
    seat = s.require_main()
    export: dict[str, Any] = {"export": s.out / "exports" / "allowed-counts.json"}
    if not seat.can_export:
        export = {}
        c.skip(f"the export: role {seat.role} may not export results")
    elif s.export_requires_approval and s.approver is None:
        export = {}
        c.skip("the export: it needs an approval and the policy names no human approver")
    elif s.export_requires_approval:
        grant = s.grant("allowed", "export", ctx=s.ctx, export_approval="APR-EXPORT-SIGNED")
        expect(grant.granted, f"the approver's export approval was refused: {grant.reasons}")
        export["export_approval"] = "APR-EXPORT-SIGNED"
    outcome = s.run("allowed", **export)
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
        record.seeds.simulator == 11 and record.shots == seat.shots,
        "record seeds/shots differ from the spec",
    )
    expect(record.dataset.sha256 == sha256_hex(DATASET), "record lacks the dataset hash")
    expect(
        record.decision_id == outcome.decision.decision_id, "record does not cite the decision id"
    )
    events = s.events_for(outcome)
    types = [e["type"] for e in events]
    wanted = ["identity.verified", "job.decision", "job.executed"]
    for expected in wanted + (["result.export"] if export else []):
        expect(expected in types, f"ledger lacks {expected} for the allowed job")
    decision = next(e for e in events if e["type"] == "job.decision")
    expect(
        decision["actor"]["kind"] == seat.kind and decision["actor"]["subject"] == seat.subject,
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
    if export:
        expect(
            outcome.export is not None and outcome.export.decision.allowed,
            "approved export was refused",
        )
    report = verify_ledger(s.ctx.ledger_path)
    expect(report.intact, f"ledger does not verify: {[p.kind for p in report.problems]}")
    logged = "identity, decision, execution" + (" and export" if export else "")
    c.detail = (
        f"job completed, record {outcome.record_path.name} holds circuit/dataset hashes, versions, "
        f"seed and counts hash; {logged} logged; ledger intact ({report.events} events)"
    )
    if s.org is not None:
        c.detail += f" [{seat.describe()}]"
    c.evidence = [s.rel(outcome.record_path), "ledger.jsonl"]


@check("expired-role-refused", "A role past its expiry is refused", ["GOV-01", "IAM-05"])
def check_expired_role(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    case = s.expired_role_case()
    s.refused_with("expired-role", "ROLE_EXPIRED", ctx=case.ctx, **case.overrides)
    c.detail = "job under a role past its expiry was refused with ROLE_EXPIRED and logged"
    if s.org is not None:
        c.detail += f" ({case.note})"


@check(
    "wrong-environment-refused",
    "A role used outside its environments is refused",
    ["GOV-02", "IAM-05"],
)
def check_wrong_environment(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    case = s.wrong_environment_case()
    outcome = s.refused_with(
        "wrong-environment",
        "ENVIRONMENT_NOT_ALLOWED",
        token=s.token(case.subject) if case.subject else None,
        ctx=case.ctx,
        **case.overrides,
    )
    c.detail = f"{case.note} was refused: {', '.join(outcome.decision.codes)}"


@check(
    "regulated-data-refused",
    "Regulated data cannot enter an exploratory tier",
    ["DAT-01", "DAT-03"],
)
def check_regulated_data(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    case = s.regulated_data_case()
    rows = "patient_bucket,score\nb-07,0.42\n"  # unregistered: its declared class applies
    (s.root / "datasets" / "regulated-rows.csv").write_text(rows, encoding="utf-8")
    s.refused_with(
        "regulated-data-exploratory",
        "DATA_CLASS_NOT_ALLOWED_FOR_TIER",
        token=s.token(case.subject) if case.subject else None,
        ctx=case.ctx,
        **case.overrides,
        dataset={
            "name": "regulated-rows",
            "path": "../datasets/regulated-rows.csv",
            "sha256": sha256_hex(rows),
            "classification": "regulated",
        },
    )
    c.detail = f"regulated data declared for {case.note} was refused at the data gate"


@check("dataset-hash-refused", "A dataset hash mismatch is refused", ["DAT-04"])
def check_dataset_hash(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    s.refused_with("dataset-hash-mismatch", "DATASET_HASH_MISMATCH", dataset={"sha256": "0" * 64})
    c.detail = "a dataset whose SHA-256 differs from the declared one was refused"


@check("approval-required", "Regulated backends and exports need JIT approval", ["IAM-06"])
def check_approvals(s: Scenario, c: CheckResult) -> None:
    done = []
    if _regulated_approvals(s, c):
        done.append(
            "regulated backend without approval refused; a self-approval refused when granted "
            "(and the job with it)"
        )
        if s.regulated_approver is not None:
            done.append(
                "with the approver's signed ledger approval (bound to the spec hash, unexpired) "
                "it ran"
            )
    if _export_needs_approval(s, c):
        done.append("export without approval refused and logged")
    applicable(bool(done), "; ".join(c.not_exercised))
    c.detail = "; ".join(done)


def _regulated_approvals(s: Scenario, c: CheckResult) -> bool:
    seat = s.regulated
    if seat is None:
        c.skip(f"regulated runs: {s.no_regulated}")
        return False
    regulated = seat.job
    token = s.token(seat.subject)
    s.refused_with("regulated-no-approval", "APPROVAL_REQUIRED", token=token, **regulated)
    # The requester approving their own request: refused by `qgov job approve` itself.
    own = s.grant(
        "regulated-self-approved",
        "run-regulated",
        approver=seat.subject,
        requester=seat.subject,
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
        token=s.token(seat.subject),
        approval="APR-REG-SELF-SIGNED",
        **regulated,
    )
    if s.regulated_approver is None:
        c.skip(f"a regulated run with an approval: {s.no_regulated_approver}")
        return True
    grant = s.grant(
        "regulated-approved",
        "run-regulated",
        approver=s.regulated_approver,
        requester=seat.subject,
        ctx=s.ctx,
        approval="APR-REG-SIGNED",
        **regulated,
    )
    expect(grant.granted, f"the approver's regulated-run approval was refused: {grant.reasons}")
    approved = s.run(
        "regulated-approved", token=s.token(seat.subject), approval="APR-REG-SIGNED", **regulated
    )
    expect(
        approved.status == "completed",
        f"approved regulated run did not complete: {approved.decision.codes}",
    )
    return True


def _export_needs_approval(s: Scenario, c: CheckResult) -> bool:
    seat = s.exporter
    if seat is None:
        c.skip("exports: no role the self-test can use may export results")
        return False
    export = s.run(
        "export-no-approval",
        token=s.token(seat.subject),
        export=s.out / "exports" / "refused.json",
        **seat.job,
    )
    expect(export.status == "completed", "the job before the refused export did not run")
    expect(
        export.export is not None and "APPROVAL_REQUIRED" in export.export.decision.codes,
        "export without approval was not refused"
        + ("" if s.export_requires_approval else " (elevation.export_requires_approval: false)"),
    )
    expect(
        not (s.out / "exports" / "refused.json").exists(), "a refused export still wrote results"
    )
    logged = [e for e in s.events_for(export) if e["type"] == "result.export"]
    expect(len(logged) == 1 and logged[0]["decision"] == "deny", "refused export not logged")
    return True


@check("quota-exhausted-refused", "An exhausted project quota refuses jobs", ["CST-01"])
def check_quota(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    case = s.quota_case()
    shots = int(case.overrides["shots"])
    token = (lambda: s.token(case.subject)) if case.subject else (lambda: None)
    for n in range(1, case.runs + 1):
        outcome = s.run(f"quota-{n}", token=token(), ctx=case.ctx, **case.overrides)
        expect(
            outcome.status == "completed",
            f"quota run {n} did not complete: {outcome.decision.codes}",
        )
    refused = s.run("quota-exhausted", token=token(), ctx=case.ctx, **case.overrides)
    expect(
        refused.status == "refused", f"quota-exhausted: expected a refusal, got {refused.status}"
    )
    codes = refused.decision.codes
    expect(
        any(code in codes for code in case.expected),
        f"quota-exhausted: none of {list(case.expected)} among {codes}",
    )
    decision = next(e for e in s.events_for(refused) if e["type"] == "job.decision")
    expect(decision["decision"] == "deny", "the refusal is not in the ledger as a deny decision")
    used = decision["data"]["usage_before"]["shots"]
    expect(
        used == case.runs * shots,
        f"usage read from the ledger was {used}, expected {case.runs * shots}",
    )
    words = {1: "one", 2: "two", 3: "three"}
    c.detail = (
        f"{words.get(case.runs, str(case.runs))} {shots}-shot runs used {case.note} (read back "
        "from the ledger); the next was refused"
    )


@check("burst-alerted", "A burst of submissions raises an alert", ["CST-02"])
def check_burst(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    case = s.burst_case()
    outcomes: list[RunOutcome] = []
    for n in range(1, case.runs + 2):
        token = s.token(case.subject) if case.subject else None
        outcomes.append(s.run(f"burst-{n}", token=token, ctx=case.ctx, **case.overrides))
    expect(not any(o.alerts for o in outcomes[:-1]), "alert raised below the threshold")
    expect(bool(outcomes[-1].alerts), f"no alert for submission {case.runs + 1} within the window")
    alerts = [e for e in s.events_for(outcomes[-1]) if e["type"] == "cost.anomaly"]
    expect(len(alerts) == 1, "the burst alert is not in the ledger")
    n = case.runs + 1
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    nth = {3: "third"}.get(n, f"{n}{suffix}")
    forwarded = " (forwarded to the SIEM)" if s.siem_configured else ""
    c.detail = f"{nth} submission within the burst window raised a cost.anomaly event{forwarded}"
    if case.note:
        c.detail += f" ({case.note})"


@check("forged-token-refused", "Forged, expired and long-lived tokens are refused", ["IAM-03"])
def check_tokens(s: Scenario, c: CheckResult) -> None:
    s.require_main()
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
    seat = s.require_main()
    claims = {
        "iss": s.cast.issuer,
        "aud": s.cast.audience,
        "sub": seat.subject,
        "identity_kind": seat.kind,
        "iat": int(now.timestamp()),
        "exp": str(int(now.timestamp()) + 300),
        "jti": str(uuid.uuid4()),
    }
    token = jwt.encode(
        claims, s.issuer_key, algorithm=algorithm_for(s.issuer_key), headers={"kid": s.cast.kid}
    )
    s.minted.append(token)
    return token


@check(
    "identity-kinds-distinct", "Human, workload and service identities stay distinct", ["IAM-01"]
)
def check_identity_kind(s: Scenario, c: CheckResult) -> None:
    seat = s.require_main()
    claimed = "workload" if seat.kind == "human" else "human"
    s.refused_with(
        "kind-mismatch", "IDENTITY_KIND_MISMATCH", token=s.token(seat.subject, claimed)
    )
    done = [f"a {seat.kind} subject presenting a {claimed} token"]
    if s.other is None:
        c.skip("another identity without the role: the policy has none the self-test can use")
    else:
        subject, kind = s.other
        s.refused_with("workload-human-role", "ROLE_NOT_ASSIGNED", token=s.token(subject, kind))
        done.append(f"a {kind} without the role")
    c.detail = f"{', and '.join(done)}, {'were' if len(done) > 1 else 'was'} refused"
