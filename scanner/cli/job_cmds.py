"""`qgov job run|replay|selftest|approve|drill`: the governed quantum job from the command line.

Exit codes: 0 completed, match, every self-test check or drill step passed, approval granted;
1 refused or failed job (or refused export), replay mismatch, a failed check or step, a
refused approval; 2 usage error or input that cannot be processed.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from scanner.cli.exits import EXIT_FAIL, EXIT_OK
from scanner.cli.governed_common import (
    emit,
    guard,
    read_token,
)
from scanner.governed.errors import GovernedError
from scanner.governed.extra import needs_job_extra


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
