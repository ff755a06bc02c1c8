"""CLI for the governed quantum job: `qgov job run|replay|selftest|approve|drill`,
`qgov ledger verify`, `qgov token mint`.

`register(subparsers)` adds the command groups to the main parser; every leaf sets
``handler`` to a function ``(args) -> int``. Exit codes: 0 allowed/completed, intact, match,
all checks passed; 1 refused or failed job, tampered ledger, replay mismatch, failed self-test
check; 2 usage error or input that cannot be processed (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scanner.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from scanner.governed.errors import GovernedError
from scanner.governed.extra import needs_job_extra

DEMO_ISSUER = "https://demo.qgov.invalid/issuer"
DEMO_AUDIENCE = "qgov-governed-jobs"

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: Any) -> None:
    """Add `job`, `ledger` and `token` command groups to an argparse subparsers action."""
    _register_job(subparsers)
    _register_ledger(subparsers)
    _register_token(subparsers)


def _format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def _ledger_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        type=Path,
        metavar="FILE",
        help="audit ledger (default: $QGOV_LEDGER, else .qgov/ledger.jsonl in the current "
        "directory); its signing key is created in the user's key store "
        "($XDG_CONFIG_HOME/qgov/keys/<ledger-id>.pem) unless the policy names one",
    )


def _witness_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--witness",
        type=Path,
        metavar="FILE",
        help="also append every signed ledger head to this append-only file (default: the "
        "policy's ledger.witness); keep it outside the ledger folder",
    )


def _command_group(subparsers: Any, name: str, help_text: str, actions: str) -> Any:
    """``qgov <name> <action>``: a command group whose action is required."""
    group = subparsers.add_parser(name, help=help_text)
    sub = group.add_subparsers(dest=f"{name}_command", metavar=f"{{{actions}}}")
    sub.required = True
    return sub


def _register_job(subparsers: Any) -> None:
    actions = _command_group(
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
    _ledger_option(run)
    _witness_option(run)
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
    _format_option(run)
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
    _ledger_option(replay)
    _witness_option(replay)
    _format_option(replay)
    replay.set_defaults(handler=cmd_job_replay)

    selftest = actions.add_parser(
        "selftest", help="run the control-test scenario and write machine-readable evidence"
    )
    selftest.add_argument("--out", type=Path, required=True, metavar="DIR", help="evidence folder")
    _format_option(selftest)
    selftest.set_defaults(handler=cmd_job_selftest)

    _register_job_identity(actions)


def _register_ledger(subparsers: Any) -> None:
    actions = _command_group(subparsers, "ledger", "audit ledger tools", "verify")
    verify = actions.add_parser(
        "verify",
        help="check that the ledger is intact, say where it was altered and what was proven",
        description=(
            "Check every line's bytes, the hash chain, the checkpoint and head signatures and\n"
            "that a valid signature covers the last event, then report what was proven.\n"
            "\n"
            "Trust anchor (first found): --public-key, the policy's ledger.public_key, the\n"
            "public half of the policy's ledger.signing_key, the user's key store\n"
            "($XDG_CONFIG_HOME/qgov/keys/<ledger-id>.pub), and last the <ledger>.pub copy\n"
            "beside the ledger -- which proves nothing, so the verdict says 'unanchored'.\n"
            "Freshness (is this the newest copy?): --witness, --min-seq, --head.\n"
            "\n"
            "Verdicts: INTACT; INTACT with qualifiers (unanchored, no signed head, v1\n"
            "signatures); TAMPERED. Exit codes: 0 intact (with --strict: intact without\n"
            "qualifiers); 1 tampered, or a qualifier under --strict; 2 unreadable input."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("ledger", type=Path, help="ledger file (JSON Lines)")
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="trusted ledger key (PEM), kept outside the ledger folder",
    )
    verify.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="take the trusted key (ledger.public_key / signing_key) and witness from this policy",
    )
    verify.add_argument(
        "--witness",
        type=Path,
        metavar="FILE",
        help="witness file of signed heads: detects rollback and truncation",
    )
    verify.add_argument(
        "--min-seq",
        type=int,
        metavar="N",
        help="the ledger must reach at least sequence number N (known from elsewhere)",
    )
    verify.add_argument(
        "--head", metavar="HASH", help="an externally kept head hash that must be present"
    )
    verify.add_argument(
        "--head-file", type=Path, metavar="FILE", help="signed head (default: <ledger>.head)"
    )
    verify.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 unless the ledger is intact, anchored, has a valid signed head and only "
        "v2 signatures",
    )
    _format_option(verify)
    verify.set_defaults(handler=cmd_ledger_verify)


def _register_token(subparsers: Any) -> None:
    actions = _command_group(subparsers, "token", "identity token helpers", "mint")
    mint = actions.add_parser(
        "mint",
        help="mint a short-lived identity token (demo issuer or a given key)",
        description=(
            "Mint a signed, short-lived JWT. --demo signs with the demo issuer key derived from "
            "qgov's public demo seed (it proves nothing; refused outside dev/test). --key signs "
            "with your own private key PEM. The token goes to stdout or --out FILE (mode 0600)."
        ),
    )
    source = mint.add_mutually_exclusive_group(required=True)
    source.add_argument("--demo", action="store_true", help="use the public demo issuer key")
    source.add_argument("--key", type=Path, metavar="PEM", help="private key to sign with")
    mint.add_argument("--subject", required=True, help="the 'sub' claim")
    mint.add_argument(
        "--kind", choices=("human", "workload", "service"), help="identity kind claim"
    )
    mint.add_argument("--policy", type=Path, help="take issuer, audience and kind from this policy")
    mint.add_argument("--issuer", help="the 'iss' claim")
    mint.add_argument("--audience", help="the 'aud' claim")
    mint.add_argument("--kid", help="key id header")
    mint.add_argument(
        "--ttl", type=int, default=300, metavar="SECONDS", help="lifetime (default 300)"
    )
    mint.add_argument(
        "--out", type=Path, metavar="FILE", help="write the token here instead of stdout"
    )
    mint.set_defaults(handler=cmd_token_mint)


# -- helpers ------------------------------------------------------------------------------------


def _fail(message: str) -> int:
    print(f"qgov: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _guard(handler: Handler) -> Handler:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except GovernedError as exc:
            return _fail(str(exc))
        except OSError as exc:  # an unwritable records/log folder and the like
            where = f"{exc.filename}: " if exc.filename else ""
            return _fail(f"{where}{exc.strerror or exc}")

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: list[str]) -> None:
    if args.format == "json":
        print(json.dumps(payload, indent=2, sort_keys=False))
    else:
        print("\n".join(text))


def _read_token(args: argparse.Namespace, policy: Any) -> tuple[str | None, str]:
    """The token and a description of where it came from (never the token itself)."""
    from scanner.governed.files import read_token_file, read_token_stream

    if args.token:
        if args.token == "-":
            return read_token_stream(sys.stdin), "stdin"
        return read_token_file(Path(args.token)), f"file {args.token}"
    if args.token_env:
        value = os.environ.get(args.token_env)
        if not value:
            raise GovernedError(f"--token-env {args.token_env}: the variable is not set")
        return value.strip(), f"${args.token_env}"
    subject = args.demo_identity or policy.demo_default_identity
    if subject is None:
        raise GovernedError(
            "no identity: pass --token FILE|-, --token-env VAR or --demo-identity SUBJECT "
            "(the policy names no demo_default_identity)"
        )
    return _mint_demo(policy, subject), f"demo identity {subject} (minted in-process, 5 min)"


def _mint_demo(policy: Any, subject: str, ttl: int = 300) -> str:
    from scanner.governed.tokens import demo_private_key, mint_token

    entry = policy.identity(subject)
    if entry is None:
        raise GovernedError(f"demo identity {subject!r} is not listed in the policy's identities")
    issuer = policy.issuer_by_name(entry.issuer)
    if not issuer.demo:
        raise GovernedError(
            f"identity {subject!r} belongs to issuer {issuer.name}, which is not a demo issuer"
        )
    kid = issuer.keys[0].kid
    return mint_token(
        demo_private_key(),
        issuer=issuer.issuer,
        audience=issuer.audience,
        subject=subject,
        kind=entry.kind,
        now=datetime.now(UTC),
        ttl_seconds=ttl,
        kid=kid,
    )


# -- handlers -----------------------------------------------------------------------------------


@_guard
@needs_job_extra
def cmd_job_run(args: argparse.Namespace) -> int:
    from scanner.governed.approvals import load_approvals
    from scanner.governed.ledger import default_ledger_path
    from scanner.governed.policy import load_policy
    from scanner.governed.runtime import Context, request_source
    from scanner.governed.service import run_job

    loaded = load_policy(args.policy)
    approvals = load_approvals(args.approvals) if args.approvals else ()
    token, token_source = _read_token(args, loaded.policy)
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
    _emit(args, payload, _run_text(outcome, token_source))
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


@_guard
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
    _emit(args, outcome.to_json(), lines)
    return EXIT_OK if outcome.matched else EXIT_FAIL


@_guard
@needs_job_extra
def cmd_job_selftest(args: argparse.Namespace) -> int:
    from scanner.governed.selftest import run_selftest

    report = run_selftest(args.out)
    lines = [f"qgov governed-job self-test -> {args.out / 'selftest.json'}"]
    lines.extend(
        f"  {check['status'].upper():4}  {check['id']:<28} [{', '.join(check['control_ids'])}] "
        f"{check['detail']}"
        for check in report["checks"]
    )
    summary = report["summary"]
    lines.append(
        f"{summary['passed']} passed, {summary['failed']} failed ({summary['duration_ms']} ms)"
    )
    _emit(args, report, lines)
    return EXIT_OK if summary["failed"] == 0 else EXIT_FAIL


def _signing_key_path(settings: Any) -> Path | None:
    return Path(settings.signing_key) if settings is not None and settings.signing_key else None


@_guard
def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from scanner.governed.ledger import verify_ledger
    from scanner.governed.policy import load_policy

    settings = load_policy(args.policy).policy.ledger if args.policy else None
    witness = args.witness
    if witness is None and settings is not None and settings.witness:
        witness = Path(settings.witness)
    if args.min_seq is not None and args.min_seq < 0:
        return _fail("--min-seq must be 0 or more")
    report = verify_ledger(
        args.ledger,
        public_key=args.public_key,
        policy_public_key=settings.public_key if settings else None,
        policy_signing_key=_signing_key_path(settings),
        head=args.head,
        head_file=args.head_file,
        witness=witness,
        min_seq=args.min_seq,
    )
    span = f"seq 0-{report.last_seq}" if report.last_seq is not None else "no sequence"
    lines = [f"{report.verdict}: {args.ledger}: {report.events} events ({span})"]
    if report.intact:
        head = (
            f"at seq {report.signed_head_seq}"
            if report.head_status == "verified"
            else report.head_status
        )
        lines += [
            f"  signed:       {report.checkpoints_verified} checkpoint(s) verified, signed head "
            f"{head}",
            f"  head hash:    {report.head_hash}",
        ]
    else:
        for problem in report.problems:
            where = " ".join(
                part
                for part in (
                    f"line {problem.line}" if problem.line is not None else "",
                    f"(seq {problem.seq})" if problem.seq is not None else "",
                )
                if part
            )
            lines.append(f"  {where or 'ledger'}: {problem.kind}: {problem.message}")
    anchor = report.anchor
    lines.append(
        f"  trust anchor: {anchor.source} ({anchor.kind}"
        + ("" if anchor.anchored else ", NOT an anchor")
        + ")"
    )
    if witness is not None:
        lines.append(
            f"  witness:      {witness}: {report.witness_heads} head(s) of this ledger"
            + (f", newest seq {report.witness_latest_seq}" if report.witness_heads else "")
        )
    lines += [f"  proven:       {p}" for p in report.proven()]
    lines += [f"  not proven:   {p}" for p in report.not_proven()]
    lines += [f"  note: {n}" for n in report.notes]
    _emit(args, report.to_json(), lines)
    if args.strict:
        return EXIT_OK if report.strict_ok else EXIT_FAIL
    return EXIT_OK if report.intact else EXIT_FAIL


@_guard
def cmd_token_mint(args: argparse.Namespace) -> int:
    from scanner.governed.policy import load_policy
    from scanner.governed.tokens import demo_private_key, load_private_key, mint_token

    if not 0 < args.ttl <= 3600:
        return _fail("--ttl must be between 1 and 3600 seconds (tokens are short-lived)")
    issuer, audience, kind, kid = args.issuer, args.audience, args.kind, args.kid
    if args.policy:
        policy = load_policy(args.policy).policy
        entry = policy.identity(args.subject)
        if entry is None:
            return _fail(f"subject {args.subject!r} is not listed in {args.policy}")
        configured = policy.issuer_by_name(entry.issuer)
        if args.demo and not configured.demo:
            return _fail(f"subject {args.subject!r} belongs to non-demo issuer {configured.name}")
        issuer = issuer or configured.issuer
        audience = audience or configured.audience
        kind = kind or entry.kind
        kid = kid or configured.keys[0].kid
    if args.demo:
        key: Any = demo_private_key()
        issuer, audience = issuer or DEMO_ISSUER, audience or DEMO_AUDIENCE
    else:
        key = load_private_key(args.key)
    if not issuer or not audience or not kind:
        return _fail("--issuer, --audience and --kind are needed (or --policy to look them up)")
    token = mint_token(
        key,
        issuer=issuer,
        audience=audience,
        subject=args.subject,
        kind=kind,
        now=datetime.now(UTC),
        ttl_seconds=args.ttl,
        kid=kid,
    )
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(token + "\n")
        print(
            f"token for {args.subject} ({kind}) written to {args.out}; valid {args.ttl} s",
            file=sys.stderr,
        )
    else:
        print(token)
    return EXIT_OK


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
    _ledger_option(approve)
    _format_option(approve)
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
    _format_option(drill)
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


@_guard
def cmd_job_approve(args: argparse.Namespace) -> int:
    from scanner.governed.approve import approve
    from scanner.governed.ledger import default_ledger_path
    from scanner.governed.policy import load_policy
    from scanner.governed.runtime import Context, request_source

    loaded = load_policy(args.policy)
    token, token_source = _read_token(args, loaded.policy)
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
    _emit(args, payload, lines)
    return EXIT_OK if outcome.granted else EXIT_FAIL


@_guard
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
    _emit(args, report, lines)
    return EXIT_OK if summary["failed"] == 0 else EXIT_FAIL
