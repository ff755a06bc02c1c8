"""Self-test checks of what an attacker tries against identity, approvals, data and logs:
a replayed token, forged approvals, a mislabelled or swapped dataset, secrets and personal
data typed into free-text fields, and revoked tokens, identities and keys.

Checks that need a different policy (a registry, revocations) run in a *variant* context:
the scenario's policy with one change, written to ``jobs/policy-<label>.yaml``, on the same
ledger, so every refusal is evidence in the one ledger the later checks verify."""

from __future__ import annotations

import json
import secrets
import string
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.approvals import APPROVAL_FORMAT, sign_approval
from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import SpecError
from scanner.governed.ledger_queries import APPROVAL_GRANTED, approval_grants, read_events
from scanner.governed.runtime import Context, Runtime
from scanner.governed.selftest.registry import CheckResult, applicable, check, expect
from scanner.governed.selftest.scenario import Scenario
from scanner.governed.service import RunOutcome
from scanner.governed.spec import load_job_spec
from scanner.governed.timeutil import iso_z, utc_now
from scanner.governed.tokens import algorithm_for

COHORT = "bucket,age_band,score\nb-01,40-49,0.61\nb-02,50-59,0.72\n"  # stand-in regulated rows
SCRATCH = "row_id,x\nscratch-1,0.5\n"


# -- helpers ------------------------------------------------------------------------------------


def _variant(s: Scenario, label: str, mutate: Callable[[dict[str, Any]], None]) -> Context:
    """The scenario's context on a copy of its policy changed by ``mutate``."""
    return s.variant(label, mutate)


def _run(s: Scenario, ctx: Context, name: str, **overrides: Any) -> RunOutcome:
    return s.run(name, ctx=ctx, **overrides)


def _decision(s: Scenario, outcome: RunOutcome) -> dict[str, Any]:
    return next(e for e in s.events_for(outcome) if e["type"] == "job.decision")


def _refused(s: Scenario, outcome: RunOutcome, *codes: str) -> list[dict[str, Any]]:
    """``outcome`` was refused with every code in ``codes``, and the ledger says so."""
    expect(outcome.status == "refused", f"expected a refusal, got {outcome.status}")
    logged = _decision(s, outcome)
    reasons: list[dict[str, Any]] = logged["data"]["reasons"]
    found = {r["code"] for r in reasons}
    expect(logged["decision"] == "deny", "the refusal is not a deny decision in the ledger")
    expect(set(codes) <= found, f"expected {list(codes)} among the ledger's {sorted(found)}")
    return reasons


def _export(outcome: RunOutcome) -> str:
    """What became of a run's export request, for failure messages."""
    if outcome.export is None:
        return f"no export (the job {outcome.status}: {outcome.decision.codes})"
    decision = outcome.export.decision
    return "export allowed" if decision.allowed else f"export refused: {decision.codes}"


def _write_dataset(s: Scenario, name: str, text: str) -> str:
    (s.root / "datasets" / name).write_text(text, encoding="utf-8")
    return sha256_hex(text)


# -- token replay -------------------------------------------------------------------------------


@check("token-replay-refused", "A token is good for one request; a replay is refused", ["IAM-03"])
def check_token_replay(s: Scenario, c: CheckResult) -> None:
    seat = s.require_main()
    token = s.token()
    first = s.run("replay-first", token=token)
    expect(first.status == "completed", f"the token's first use failed: {first.decision.codes}")
    second = s.refused_with("replay-second", "TOKEN_REPLAYED", token=token)
    rejected = [e for e in s.events_for(second) if e["type"] == "identity.rejected"]
    expect(len(rejected) == 1, "the replay is not logged as identity.rejected")
    # Without a jti: refused outright in protected environments; elsewhere single-use by hash.
    now = utc_now()
    claims = {
        "iss": s.cast.issuer,
        "aud": s.cast.audience,
        "sub": seat.subject,
        "identity_kind": seat.kind,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 300,
    }
    bare = jwt.encode(
        claims, s.issuer_key, algorithm=algorithm_for(s.issuer_key), headers={"kid": s.cast.kid}
    )
    s.minted.append(bare)
    # A protected environment refuses it at the identity check, whatever else the job says.
    protected = s.regulated.job if s.regulated is not None and s.org is None else {}
    s.refused_with(
        "no-jti-regulated",
        "TOKEN_CLAIMS_MISSING",
        token=bare,
        **{**protected, "environment": "regulated-pilot"},
    )
    if seat.environment in ("regulated-pilot", "production"):
        c.skip(f"a jti-less token in dev/test: {seat.subject} only runs jobs in protected ones")
        c.detail = (
            "a token accepted once was refused the second time (TOKEN_REPLAYED, found in the "
            "ledger); a token without jti was refused for regulated-pilot"
        )
        return
    once = s.run("no-jti-dev", token=bare)
    expect(
        once.status == "completed",
        f"a jti-less token was refused in {seat.environment}: {once.decision.codes}",
    )
    s.refused_with("no-jti-dev-again", "TOKEN_REPLAYED", token=bare)
    c.detail = (
        "a token accepted once was refused the second time (TOKEN_REPLAYED, found in the "
        "ledger); a token without jti was refused for regulated-pilot and, in "
        f"{seat.environment}, accepted once and then refused as a replay (keyed by its hash)"
    )


# -- forged approvals ---------------------------------------------------------------------------


def _hand_append(s: Scenario, event_type: str, **fields: Any) -> None:
    """Append an event the way someone who can write the ledger file (but holds no approval
    signature) could: properly chained, but not through `qgov job approve`."""
    with Runtime(s.ctx) as rt:
        rt.ledger.append(event_type, **fields)


@check(
    "forged-approval-refused",
    "Only signed approvals from the approver count; forged, copied, stale ones are refused",
    ["IAM-06"],
)
def check_forged_approval(s: Scenario, c: CheckResult) -> None:
    seat = s.exporter
    applicable(
        seat is not None,
        "no role the self-test can use may export results (the elevation the approvals guard "
        "here)",
    )
    assert seat is not None
    requester, approver = seat.subject, s.approver or "approver@selftest.invalid"
    exports = s.out / "exports"
    # (a) An approvals file written in the approver's name (the scenario's approvals.yaml).
    unsigned = s.run(
        "forged-file", export=exports / "forged-file.json", export_approval="APR-EXPORT-OK"
    )
    expect(
        unsigned.export is not None and "APPROVAL_UNSIGNED" in unsigned.export.decision.codes,
        f"an unsigned approval record was not refused: {_export(unsigned)}"
        + ("" if s.export_requires_approval else " (elevation.export_requires_approval: false)"),
    )
    expect(not (exports / "forged-file.json").exists(), "a forged approval exported results")
    # (b) A hand-made approval event for the right spec, signed with someone else's key.
    spec = load_job_spec(s.spec("forged-event", export_approval="APR-HANDMADE"))
    body = {
        "format": APPROVAL_FORMAT,
        "id": "APR-HANDMADE",
        "action": "export",
        "requester": requester,
        "approver": approver,
        "spec_sha256": spec.sha256,
        "granted_at": iso_z(utc_now() - timedelta(minutes=1)),
        "expires_at": iso_z(utc_now() + timedelta(hours=1)),
        "single_use": False,
        "reason": "self-test: forged",
    }
    someone_else = ed25519.Ed25519PrivateKey.generate()
    _hand_append(
        s,
        APPROVAL_GRANTED,
        actor={"subject": approver, "kind": "human"},
        decision="allow",
        subject={"approval_id": "APR-HANDMADE"},
        data={"approval": body, "signature": sign_approval(someone_else, body)},
    )
    handmade = s.run(
        "forged-event", export=exports / "forged-event.json", export_approval="APR-HANDMADE"
    )
    expect(
        handmade.export is not None
        and handmade.export.decision.codes == ["APPROVAL_BAD_SIGNATURE"],
        f"a hand-made approval event was not refused: {_export(handmade)}",
    )
    if s.approver is None:
        c.skip("copied, stale and reused genuine approvals: the policy names no human approver")
        c.detail = (
            "an unsigned approval record (APPROVAL_UNSIGNED) and a hand-appended approval event "
            "signed with another key (APPROVAL_BAD_SIGNATURE) were refused"
        )
        c.evidence = ["approvals.yaml", "ledger.jsonl"]
        return
    # (c) A genuine approval copied into a second event: the id is no longer unique.
    grant = s.grant("copied", "export", ctx=s.ctx, export_approval="APR-COPIED")
    expect(grant.granted, f"the genuine approval was refused: {grant.reasons}")
    original = approval_grants(read_events(s.ctx.ledger_path), "APR-COPIED")[0]
    _hand_append(
        s,
        APPROVAL_GRANTED,
        actor=original["actor"],
        decision="allow",
        subject=original["subject"],
        data=original["data"],
    )
    copied = s.run("copied", export=exports / "copied.json", export_approval="APR-COPIED")
    expect(
        copied.export is not None and "APPROVAL_AMBIGUOUS" in copied.export.decision.codes,
        f"a duplicated approval id was not refused as ambiguous: {_export(copied)}",
    )
    # (d) The spec changed after approval; (e) a single-use approval used twice.
    grant = s.grant("bound", "export", ctx=s.ctx, export_approval="APR-BOUND")
    changed = s.run("bound", export=exports / "bound.json", export_approval="APR-BOUND", shots=8)
    expect(
        grant.granted
        and changed.export is not None
        and "APPROVAL_SCOPE" in changed.export.decision.codes,
        f"an approval was accepted for a changed spec: {_export(changed)}",
    )
    grant = s.grant("once", "export", ctx=s.ctx, single_use=True, export_approval="APR-ONCE")
    first = s.run("once", export=exports / "once.json", export_approval="APR-ONCE")
    again = s.run("once", export=exports / "once-again.json", export_approval="APR-ONCE")
    expect(
        grant.granted and first.export is not None and first.export.decision.allowed,
        f"the single-use approval did not work once: {_export(first)}",
    )
    expect(
        again.export is not None and "APPROVAL_USED" in again.export.decision.codes,
        f"a single-use approval was accepted twice: {_export(again)}",
    )
    c.detail = (
        "an unsigned approval in the approver's name (APPROVAL_UNSIGNED), a hand-appended "
        "approval event signed with another key (APPROVAL_BAD_SIGNATURE), a copied approval "
        "(APPROVAL_AMBIGUOUS), an approval for a since-edited spec (APPROVAL_SCOPE) and a "
        "single-use approval used twice (APPROVAL_USED) were refused; the genuine ones worked"
    )
    c.evidence = ["approvals.yaml", "ledger.jsonl"]


# -- dataset registry ---------------------------------------------------------------------------


@check(
    "dataset-registry-enforced",
    "The registry, not the requester, classifies data; hash mismatches are refused",
    ["DAT-01", "DAT-03", "DAT-04"],
)
def check_registry(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    cohort_sha = _write_dataset(s, "cohort.csv", COHORT)
    scratch_sha = _write_dataset(s, "scratch.csv", SCRATCH)
    case = s.registry_case(cohort_sha)
    ctx, above = case.ctx, case.above
    cohort = {"path": "../datasets/cohort.csv", "sha256": cohort_sha}
    name, version = case.cohort
    mislabelled = _run(
        s, ctx, "registry-mislabelled", dataset={**cohort, "name": name, "version": version}
    )
    _refused(s, mislabelled, *case.expected)
    renamed = _run(s, ctx, "registry-renamed", dataset=cohort)
    _refused(s, renamed, "DATASET_REGISTRY_MISMATCH", *case.expected[1:])
    swapped = _run(
        s,
        ctx,
        "registry-swapped",
        dataset={"path": "../datasets/scratch.csv", "sha256": scratch_sha},
    )
    _refused(s, swapped, "DATASET_REGISTRY_MISMATCH")
    done = [
        "a regulated file declared synthetic, the same file under a synthetic dataset's name, "
        "a registered name with other content"
    ]
    if above is None:
        c.skip(
            "an unregistered dataset above the exploratory tier: no identity may run a job in "
            "a project above it"
        )
    else:
        unregistered = _run(
            s,
            above.ctx,
            "registry-unregistered",
            token=s.token(above.subject) if above.subject else None,
            **above.overrides,
            dataset={"name": "scratch", "path": "../datasets/scratch.csv", "sha256": scratch_sha},
        )
        _refused(s, unregistered, "DATASET_NOT_REGISTERED")
        done.append(f"an unregistered dataset in {above.note}")
    registered_run = _run(s, ctx, "registry-registered", **case.registered)
    expect(
        registered_run.status == "completed",
        f"a registered dataset was refused: {registered_run.decision.codes}",
    )
    gate = _decision(s, registered_run)["data"]["data_gate"]
    expect(
        (gate.get("registry") or {}).get("classification") == "synthetic",
        "the decision does not record the registry entry it applied",
    )
    c.detail = (
        f"{', and '.join(done) if len(done) > 1 else done[0]} were refused; the registered "
        "dataset ran with the registry's classification on record"
    )
    c.evidence = [case.evidence]


# -- free text ----------------------------------------------------------------------------------


@check(
    "free-text-scrubbed",
    "Secrets and personal data typed into names never reach logs, ledger, records or output",
    ["LOG-03", "DAT-02"],
)
def check_free_text(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    # Generated per run, so no credential-shaped literal lives in the source.
    alphabet = string.ascii_uppercase + string.digits
    aws = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    email = "jane.roe" + "@" + "corp-mail.com"
    ssn = "-".join(("078", "05", "1120"))
    ran = s.run("free-text-ok", job_name=f"scrub-{aws}")
    expect(
        ran.status == "completed",
        f"the job with a secret in its name did not run: {ran.decision.codes}",
    )
    refused = s.run(
        "free-text-refused",
        job_name=f"note-{email}",
        project=ssn,
        dataset={"version": ssn},
    )
    expect(refused.status == "refused", "a job for a project that is an SSN ran")
    outputs = {
        "run log": (s.out / "run.log").read_text(encoding="utf-8"),
        "ledger": s.ctx.ledger_path.read_text(encoding="utf-8"),
        "CLI output": json.dumps([ran.to_json(), refused.to_json()]),
    }
    if ran.record_path is not None:
        outputs["execution record"] = ran.record_path.read_text(encoding="utf-8")
    for where, text in outputs.items():
        for label, value in (("credential", aws), ("email address", email), ("SSN", ssn)):
            expect(value not in text, f"the {where} contains the {label} typed into a name")
    expect("scrubbed:secret:" in outputs["ledger"], "the scrubbed name is not in the ledger")
    # A circuit line or a data row with its newline is refused at validation, unquoted.
    line = "h q[0];\nsyn-000001,0.250000"
    rejected = s.root / "jobs" / "free-text-newline.yaml"
    rejected.write_text(
        yaml.safe_dump({**s.base_job("x"), "name": line}, sort_keys=False), encoding="utf-8"
    )
    try:
        load_job_spec(rejected)
    except SpecError as exc:
        expect("h q[0]" not in str(exc) and "syn-0" not in str(exc), "the error quotes the name")
    else:
        expect(False, "a job name with a newline and a circuit line was accepted")
    c.detail = (
        "a credential in a job name, an email in another, an SSN as project and dataset "
        "version: none reached the run log, the ledger, the execution record or the CLI "
        "output (hashed as scrubbed:<kind>:<sha256>); a multi-line name was refused unquoted"
    )
    c.evidence = ["run.log", "ledger.jsonl"]


# -- revocation ---------------------------------------------------------------------------------


def _revoking(entry: dict[str, Any], since: str) -> Callable[[dict[str, Any]], None]:
    def mutate(policy: dict[str, Any]) -> None:
        # Added to the policy's own revocations (an organisation's stay in force).
        policy["revocations"] = [*(policy.get("revocations") or []), {**entry, "revoked_at": since}]

    return mutate


@check(
    "revocation-enforced",
    "Revoked tokens, identities, issuer keys and approvers are refused, with the reason logged",
    ["SEC-05", "IAM-01", "IAM-03"],
)
def check_revocation(s: Scenario, c: CheckResult) -> None:
    seat = s.require_main()
    since = iso_z(utc_now() - timedelta(minutes=1))
    leaked = s.token()
    jti = str(jwt.decode(leaked, options={"verify_signature": False})["jti"])
    cases: list[tuple[str, dict[str, Any], str, str | None]] = [
        ("jti", {"jti_sha256": sha256_hex(jti)}, "TOKEN_REVOKED", leaked),
        ("subject", {"subject": seat.subject}, "IDENTITY_REVOKED", None),
        ("key", {"key_id": s.cast.kid}, "ISSUER_KEY_REVOKED", None),
    ]
    for label, target, code, token in cases:
        why = f"self-test: {label} compromised ({uuid.uuid4().hex[:8]})"
        ctx = _variant(s, f"revoked-{label}", _revoking({**target, "reason": why}, since))
        outcome = _run(s, ctx, f"revoked-{label}", token=token)
        reasons = _refused(s, outcome, code)
        expect(
            any(r["code"] == code and why in r["message"] for r in reasons),
            f"{code}: the ledger's decision does not carry the revocation reason",
        )
        if label == "jti":
            fresh = _run(s, ctx, "revoked-jti-fresh")
            expect(
                fresh.status == "completed",
                f"revoking one token refused another: {fresh.decision.codes}",
            )
    c.detail = (
        "with a token revoked by its jti hash, the requester revoked by subject and the issuer "
        "key revoked by kid, each request was refused with the revocation's reason in the "
        "ledger's decision; another token of the same identity still worked after the token "
        "revocation"
    )
    c.evidence = [f"jobs/policy-revoked-{label}.yaml" for label, *_ in cases]
    # An approval stops counting once its approver is revoked.
    if s.approver is None or s.exporter is None or not s.export_requires_approval:
        c.skip(
            "a revoked approver's approval: the policy gives no exported result an approval "
            "to revoke (no exporting role, no human approver or no export approvals)"
        )
    else:
        grant = s.grant("revoked-approver", "export", ctx=s.ctx, export_approval="APR-REVOKED")
        ctx = _variant(
            s,
            "revoked-approver",
            _revoking({"subject": s.approver, "reason": "self-test"}, since),
        )
        outcome = _run(
            s,
            ctx,
            "revoked-approver",
            export=s.out / "exports" / "revoked-approver.json",
            export_approval="APR-REVOKED",
        )
        expect(
            grant.granted
            and outcome.export is not None
            and "APPROVAL_REVOKED" in outcome.export.decision.codes,
            f"an approval by a revoked approver was accepted: {_export(outcome)}",
        )
        c.detail += "; an approval by a since-revoked approver stopped counting"
    found = s.org_revocations()
    if found:
        c.detail += "; " + found
