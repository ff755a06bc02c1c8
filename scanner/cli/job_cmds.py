"""`qgov job run|replay|selftest|approve|drill`: the governed quantum job from the command line.

Exit codes: 0 completed, match, every self-test check or drill step passed, approval granted;
1 refused or failed job (or refused export), replay mismatch, a failed check or step, a
refused approval; 2 usage error or input that cannot be processed.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scanner.cli.exits import EXIT_FAIL, EXIT_OK
from scanner.cli.governed_common import (
    command_group,
    emit,
    format_option,
    guard,
    ledger_option,
    read_token,
    witness_option,
)
from scanner.governed.errors import GovernedError
from scanner.governed.extra import needs_job_extra


def register(subparsers: Any) -> None:
    """Add the `job` command group to an argparse subparsers action."""
    actions = command_group(
        subparsers,
        "job",
        "submit, approve, replay, self-test and drill governed quantum jobs",
        "run,approve,replay,selftest,drill",
    )

    run = actions.add_parser(
        "run",
        help="run a job spec through the governed path on the Aer simulator",
        description=(
            "Check identity, authorization, data gate and quota, then run the job on the Aer\n"
            "simulator, or refuse it with the reasons. Either way the audit ledger records it.\n"
            "\n"
            "Identity: --token FILE|-, --token-env VAR or --demo-identity SUBJECT. With none\n"
            "of them, qgov mints a 5-minute token for the policy's demo_default_identity with\n"
            "the public demo issuer key: fine for the dev/test samples, always refused for\n"
            "regulated-pilot and production. A token is good for one request: a second use\n"
            "is refused as a replay. Elevations (regulated backend, export, debug) need an\n"
            "approval granted with 'qgov job approve'.\n"
            "\n"
            "Exit codes: 0 completed; 1 refused, failed in the simulator, or export refused;\n"
            "2 malformed spec/policy or unusable ledger."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("spec", type=Path, help="job spec (YAML)")
    run.add_argument("--policy", type=Path, required=True, help="org policy (YAML)")
    ledger_option(run)
    witness_option(run)
    who = run.add_mutually_exclusive_group()
    who.add_argument(
        "--token", metavar="FILE|-", help="read the identity token (JWT) from a file or stdin"
    )
    who.add_argument(
        "--token-env", metavar="VAR", help="read the identity token from this environment variable"
    )
    who.add_argument(
        "--demo-identity",
        metavar="SUBJECT",
        help="mint a 5-minute demo token for this subject (its issuer must be marked demo)",
    )
    run.add_argument(
        "--approvals",
        type=Path,
        metavar="FILE",
        help="unsigned approval records (YAML): never valid on their own -- an id found there is "
        "refused as unsigned, or as ambiguous if also granted; see 'qgov job approve'",
    )
    run.add_argument(
        "--export",
        type=Path,
        metavar="FILE",
        help="write the result counts here -- a separately authorised and logged export",
    )
    run.add_argument(
        "--records",
        type=Path,
        metavar="DIR",
        help="execution records (default: <ledger dir>/records)",
    )
    run.add_argument(
        "--log-file",
        type=Path,
        metavar="FILE",
        help="scrubbed run log (default: <ledger dir>/governed.log)",
    )
    run.add_argument(
        "--debug",
        action="store_true",
        help="ask for debug logging; granted only inside the policy's approved, time-boxed window",
    )
    run.add_argument(
        "--source", metavar="LABEL", help="caller label recorded as the request source"
    )
    format_option(run)
    run.set_defaults(handler=cmd_job_run)

    replay = actions.add_parser(
        "replay", help="re-run a recorded execution and compare the result hash"
    )
    replay.add_argument("record", type=Path, help="execution record (JSON)")
    replay.add_argument(
        "--circuit", type=Path, metavar="FILE", help="circuit file, if not at the recorded path"
    )
    replay.add_argument(
        "--policy", type=Path, help="policy for ledger settings and SIEM forwarding"
    )
    ledger_option(replay)
    witness_option(replay)
    format_option(replay)
    replay.set_defaults(handler=cmd_job_replay)

    selftest = actions.add_parser(
        "selftest",
        help="run the control-test scenario and write machine-readable evidence",
        description=(
            "Push jobs through the governed path and check that each control holds, with its\n"
            "evidence in the ledger; write DIR/selftest.json (pass / fail / not-exercised per\n"
            "check) and the evidence beside it.\n"
            "\n"
            "Without --policy the checks run in a built-in world. With --policy they run in a\n"
            "copy of the organisation's: its roles, projects, tiers, backends, registry,\n"
            "elevation rules, revocations and quotas; a self-test key stands in for each\n"
            "issuer's (the organisation's private keys are never needed) and a local collector\n"
            "for the SIEM. A check the policy gives nothing to exercise is not exercised (the\n"
            "reason is recorded); one whose control the policy leaves out or switches off fails.\n"
            "\n"
            "Exit codes: 0 no check failed; 1 a check failed; 2 unusable policy or folder."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    selftest.add_argument("--out", type=Path, required=True, metavar="DIR", help="evidence folder")
    selftest.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="run against this organisation policy (default: the built-in one)",
    )
    format_option(selftest)
    selftest.set_defaults(handler=cmd_job_selftest)

    _register_job_identity(actions)


@guard
@needs_job_extra
def cmd_job_run(args: argparse.Namespace) -> int:
    from scanner.governed.approvals import load_approvals
    from scanner.governed.ledger import default_ledger_path
    from scanner.governed.policy import load_policy
    from scanner.governed.runtime import Context, request_source
    from scanner.governed.service import run_job

    loaded = load_policy(args.policy)
    approvals = load_approvals(args.approvals) if args.approvals else ()
    token, token_source = read_token(args, loaded.policy)
    ctx = Context(
        policy=loaded,
        ledger_path=args.ledger or default_ledger_path(),
        records_dir=args.records,
        log_path=args.log_file,
        approvals=approvals,
        source=request_source("cli", args.source),
        witness=args.witness,
    )
    outcome = run_job(args.spec, ctx, token=token, export_path=args.export, debug=args.debug)
    payload = outcome.to_json()
    payload["identity_source"] = token_source
    emit(args, payload, _run_text(outcome, token_source))
    refused_export = outcome.export is not None and not outcome.export.decision.allowed
    return EXIT_OK if outcome.status == "completed" and not refused_export else EXIT_FAIL


def _run_text(outcome: Any, token_source: str) -> list[str]:
    headline = {"completed": "COMPLETED", "failed": "FAILED", "refused": "REFUSED"}[outcome.status]
    decision = outcome.decision
    lines = [
        f"{headline}: job {outcome.job_name} (job id {outcome.job_id})",
        f"  identity:  {outcome.subject or 'not verified'} via {token_source}",
        f"  decision:  {decision.verdict} (decision id {decision.decision_id}"
        + (f", role {decision.role})" if decision.role else ")"),
    ]
    if decision.reasons:
        lines.append("  reasons:")
        lines += [
            f"    - [{r.code}] {r.message} ({', '.join(r.control_ids)})" for r in decision.reasons
        ]
    if outcome.error:
        lines.append(f"  error:     {outcome.error}")
    if outcome.record_path:
        lines.append(f"  record:    {outcome.record_path}")
        lines.append(f"  result:    counts sha256 {outcome.counts_sha256 or '-'}")
    for alert in outcome.alerts:
        lines.append(f"  ALERT:     {alert}")
    if outcome.export is not None:
        export = outcome.export
        lines.append(
            f"  export:    {export.decision.verdict}"
            + (f" -> {export.path}" if export.path else "")
        )
        lines += [f"    - [{r.code}] {r.message}" for r in export.decision.reasons]
    if outcome.debug_mode:
        lines.append("  debug:     approved debug logging was on for this run")
    lines.append(f"  ledger:    {outcome.ledger_path} (head {outcome.ledger_head})")
    lines.append(f"  log:       {outcome.log_path}")
    return lines


def _replay_headline(outcome: Any) -> str:
    if not outcome.matched:
        return "MISMATCH"
    return "MATCH" if outcome.result_compared else "MATCH (inputs only; result not comparable)"


@guard
@needs_job_extra
def cmd_job_replay(args: argparse.Namespace) -> int:
    from scanner.governed.ledger import default_ledger_path
    from scanner.governed.policy import load_policy
    from scanner.governed.replay import replay
    from scanner.governed.runtime import Context, request_source

    loaded = load_policy(args.policy) if args.policy else None
    ctx = Context(
        policy=loaded,
        ledger_path=args.ledger or default_ledger_path(),
        source=request_source("cli", None),
        witness=args.witness,
    )
    outcome = replay(args.record, ctx, circuit_path=args.circuit)
    lines = [
        f"{_replay_headline(outcome)}: record {outcome.record_id}",
        f"  recorded counts sha256: {outcome.recorded_counts_sha256}",
        f"  replayed counts sha256: {outcome.replay_counts_sha256}",
    ]
    lines += [f"  problem: {p}" for p in outcome.problems]
    lines += [f"  note:    {n}" for n in outcome.notes]
    lines.append(f"  ledger:  {outcome.ledger_path}")
    emit(args, outcome.to_json(), lines)
    return EXIT_OK if outcome.matched else EXIT_FAIL


@guard
@needs_job_extra
def cmd_job_selftest(args: argparse.Namespace) -> int:
    from scanner.governed.selftest import run_selftest

    report = run_selftest(args.out, policy=args.policy)
    lines = [f"qgov governed-job self-test -> {args.out / 'selftest.json'}"]
    policy = report["policy"]
    if policy["source"] == "organisation":
        lines.append(
            f"policy: {policy['id']} {policy['version']} (sha256 {policy['sha256'][:16]}...) "
            f"from {policy['file']}, in a copy: evidence policy.yaml"
        )
    labels = {"pass": "PASS", "fail": "FAIL", "not-exercised": "SKIP"}
    lines.extend(
        f"  {labels.get(check['status'], check['status']):4}  {check['id']:<28} "
        f"[{', '.join(check['control_ids'])}] {check['detail']}"
        for check in report["checks"]
    )
    summary = report["summary"]
    skipped = f", {summary['not_exercised']} not exercised" if summary["not_exercised"] else ""
    lines.append(
        f"{summary['passed']} passed, {summary['failed']} failed{skipped} "
        f"({summary['duration_ms']} ms)"
    )
    emit(args, report, lines)
    return EXIT_OK if summary["failed"] == 0 else EXIT_FAIL


# -- identity, approvals and drills (`qgov job approve`, `qgov job drill`) ---------------------


def _register_job_identity(actions: Any) -> None:
    from scanner.governed.approvals import ELEVATED_ACTIONS
    from scanner.governed.drills import DRILLS

    approve = actions.add_parser(
        "approve",
        help="grant a just-in-time approval for a job spec, as the approver, with your token",
        description=(
            "Grant one elevation (run-regulated, export, debug) for one job spec. Your token is\n"
            "verified like a submitter's; you must be a human the policy marks approver: true\n"
            "and not the requester. The approval is bound to the spec's SHA-256, the action,\n"
            "the requester and an expiry, signed, and written to the ledger -- the only place\n"
            "approvals count. Its id is the one the spec names (approval / export_approval) or,\n"
            "for debug, the policy's debug.approval.\n"
            "\n"
            "Exit codes: 0 granted; 1 refused (reasons printed and logged); 2 unusable input."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    approve.add_argument("spec", type=Path, help="the job spec (YAML) to approve")
    approve.add_argument("--policy", type=Path, required=True, help="org policy (YAML)")
    approve.add_argument("--action", required=True, choices=ELEVATED_ACTIONS)
    approve.add_argument("--requester", required=True, metavar="SUBJECT", help="who may use it")
    approve.add_argument("--reason", required=True, help="why (a ticket, a sentence)")
    approve.add_argument(
        "--expires",
        default="1h",
        metavar="DURATION|TIME",
        help="how long it lasts: 30m, 2h, 1h30m, or an ISO time (default 1h; at most "
        "elevation.max_hours)",
    )
    approve.add_argument(
        "--single-use",
        action="store_true",
        help="valid for one request (always so when the policy says elevation.single_use)",
    )
    who = approve.add_mutually_exclusive_group(required=True)
    who.add_argument("--token", metavar="FILE|-", help="the approver's identity token")
    who.add_argument("--token-env", metavar="VAR", help="read it from this environment variable")
    ledger_option(approve)
    format_option(approve)
    approve.set_defaults(handler=cmd_job_approve, demo_identity=None)

    drill = actions.add_parser(
        "drill",
        help="play a tabletop incident drill against the policy, with per-step evidence",
        description=(
            "Play an incident end to end in a copy of the policy's world (its identities,\n"
            "roles, projects, backends and registry; a drill issuer key stands in for the\n"
            "real ones) and write per-step evidence -- JSON and the ledger excerpt -- to DIR.\n"
            "  token-leak           a leaked token is replayed, then revoked and refused\n"
            "  access-compromise    a compromised identity is revoked; its jobs are listed\n"
            "  unauthorized-export  export without / with a forged / with a real approval\n"
            "\n"
            "Exit codes: 0 every step behaved as the control requires; 1 a step did not;\n"
            "2 the policy cannot host the drill (e.g. no identity that may run a job)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    drill.add_argument("scenario", choices=sorted(DRILLS))
    drill.add_argument("--policy", type=Path, required=True, help="org policy (YAML)")
    drill.add_argument("--out", type=Path, required=True, metavar="DIR", help="evidence folder")
    drill.add_argument(
        "--subject", metavar="SUBJECT", help="the identity to play the victim (default: chosen)"
    )
    format_option(drill)
    drill.set_defaults(handler=cmd_job_drill)


def parse_validity(text: str, now: datetime) -> timedelta:
    """``30m``, ``2h``, ``1h30m`` or an ISO time (UTC unless it says otherwise)."""
    import re

    from scanner.governed.timeutil import parse_iso

    match = re.fullmatch(r"(?:(\d{1,3})h)?(?:(\d{1,4})m)?", text.strip())
    if match and text.strip():
        return timedelta(hours=int(match.group(1) or 0), minutes=int(match.group(2) or 0))
    try:
        return parse_iso(text.strip()) - now
    except ValueError as exc:
        raise GovernedError(f"--expires {text!r}: not a duration (2h, 30m) or an ISO time") from exc


@guard
def cmd_job_approve(args: argparse.Namespace) -> int:
    from scanner.governed.approve import approve
    from scanner.governed.ledger import default_ledger_path
    from scanner.governed.policy import load_policy
    from scanner.governed.runtime import Context, request_source

    loaded = load_policy(args.policy)
    token, token_source = read_token(args, loaded.policy)
    now = datetime.now(UTC)
    ctx = Context(
        policy=loaded,
        ledger_path=args.ledger or default_ledger_path(),
        source=request_source("cli", "qgov job approve"),
    )
    outcome = approve(
        args.spec,
        ctx,
        token=token,
        action=args.action,
        requester=args.requester,
        reason_text=args.reason,
        valid_for=parse_validity(args.expires, now),
        single_use=args.single_use,
    )
    payload = outcome.to_json()
    payload["identity_source"] = token_source
    head = "APPROVED" if outcome.granted else "REFUSED"
    lines = [
        f"{head}: approval {outcome.approval_id} ({outcome.action}) for {outcome.requester}",
        f"  approver:  {outcome.approver or 'not verified'} via {token_source}",
        f"  job spec:  {args.spec} (sha256 {outcome.spec_sha256})",
    ]
    if outcome.granted and outcome.expires_at is not None:
        lines.append(
            f"  valid:     until {outcome.expires_at.isoformat(timespec='seconds')}"
            + (", single use" if outcome.single_use else "")
        )
    lines += [
        f"    - [{r.code}] {r.message} ({', '.join(r.control_ids)})" for r in outcome.reasons
    ]
    lines.append(f"  ledger:    {outcome.ledger_path} (seq {outcome.event_seq})")
    emit(args, payload, lines)
    return EXIT_OK if outcome.granted else EXIT_FAIL


@guard
@needs_job_extra
def cmd_job_drill(args: argparse.Namespace) -> int:
    from scanner.governed.drills import run_drill

    report = run_drill(args.scenario, args.policy, args.out, subject=args.subject)
    lines = [f"qgov drill {args.scenario} -> {args.out / 'drill.json'}"]
    lines += [
        f"  {step['status'].upper():7} {step['id']:<28} {step['observed']}"
        for step in report["steps"]
    ]
    summary = report["summary"]
    lines.append(
        f"{summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped"
    )
    emit(args, report, lines)
    return EXIT_OK if summary["failed"] == 0 else EXIT_FAIL
