"""`qgov ledger verify|query|metrics`: check a ledger and say what was proven; answer from it
who ran what with which data and whether it was allowed; its governance telemetry.

Exit codes: 0 intact; 1 tampered (``query`` and ``metrics`` refuse to answer unless told
``--unverified``) or, with ``--strict``, qualified; 2 unreadable input or a usage error."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner.cli.exits import EXIT_FAIL, EXIT_OK
from scanner.cli.governed_common import command_group, emit, fail, format_option, guard


def register(subparsers: Any) -> None:
    """Add the `ledger` command group to an argparse subparsers action."""
    actions = command_group(subparsers, "ledger", "audit ledger tools", "verify,query,metrics")
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
    format_option(verify)
    verify.set_defaults(handler=cmd_ledger_verify)
    _register_query(actions)
    _register_metrics(actions)


def _signing_key_path(settings: Any) -> Path | None:
    return Path(settings.signing_key) if settings is not None and settings.signing_key else None


@guard
def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from scanner.governed.ledger import verify_ledger
    from scanner.governed.policy import load_policy

    settings = load_policy(args.policy).policy.ledger if args.policy else None
    witness = args.witness
    if witness is None and settings is not None and settings.witness:
        witness = Path(settings.witness)
    if args.min_seq is not None and args.min_seq < 0:
        return fail("--min-seq must be 0 or more")
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
    emit(args, report.to_json(), lines)
    if args.strict:
        return EXIT_OK if report.strict_ok else EXIT_FAIL
    return EXIT_OK if report.intact else EXIT_FAIL


# -- answering the auditor: `qgov ledger query` and `qgov ledger metrics` ----------------------

_TIME_FORMS = "ISO date or datetime (UTC unless it says), or 30m / 24h / 7d / 2w before --as-of"


def _answer_options(parser: argparse.ArgumentParser) -> None:
    """What `query` and `metrics` share: the ledger, its trust anchor and the time window."""
    parser.add_argument("ledger", type=Path, help="ledger file (JSON Lines)")
    parser.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="trusted ledger key (PEM), kept outside the ledger folder",
    )
    parser.add_argument(
        "--witness", type=Path, metavar="FILE", help="witness file of signed heads"
    )
    parser.add_argument("--since", metavar="TIME", help=f"from this time on ({_TIME_FORMS})")
    parser.add_argument(
        "--until", metavar="TIME", help="before this time (a date: through that day)"
    )
    parser.add_argument(
        "--as-of",
        metavar="TIME",
        help="the moment relative times and quota periods count from (default: now)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also exit 1 when the verdict is qualified (unanchored, no signed head, v1)",
    )
    parser.add_argument(
        "--unverified",
        action="store_true",
        help="answer even from a ledger that fails verification (forensics): the answer "
        "says so first and marks what verification does not vouch for; still exit 1",
    )


def _register_query(actions: Any) -> None:
    query = actions.add_parser(
        "query",
        help="who ran what on which backend with which data, and was it allowed (verifies first)",
        description=(
            "Verify the ledger (as 'qgov ledger verify'), then answer from it: one row per job\n"
            "-- when, who (and whether their token verified), project, environment, backend,\n"
            "dataset name/version/SHA-256, decision with reason codes, approvals used and who\n"
            "granted them, the run's outcome and record, exports -- or, with --events, the raw\n"
            "events. Filters apply to the submission (the job's decision event).\n"
            "\n"
            "A ledger that fails verification is refused: nothing is answered, the verdict and\n"
            "its problems go to stderr, exit 1. To investigate it anyway, --unverified answers\n"
            "with the warning first ('answers from a ledger that failed verification: ...'),\n"
            "marks each row resting on events verification does not vouch for and never uses\n"
            "lines that are not valid records; --verified-only answers from the verified part\n"
            "only.\n"
            "\n"
            "Exit codes: 0 intact; 1 failed verification (or qualified, with --strict);\n"
            "2 unreadable input or a usage error."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _answer_options(query)
    query.add_argument("--subject", metavar="S", help="who submitted (the token's subject)")
    query.add_argument("--backend", metavar="B", help="backend name from the policy")
    query.add_argument("--project", metavar="P")
    query.add_argument(
        "--dataset",
        metavar="D",
        help="dataset name, NAME@VERSION, or 8+ hex digits of its SHA-256",
    )
    query.add_argument("--decision", choices=("allow", "deny"))
    query.add_argument(
        "--type",
        metavar="T",
        action="append",
        default=[],
        help="event type (repeatable); jobs: those with such an event; with --events: "
        "those events (ledger.checkpoint and ledger.genesis only when named)",
    )
    query.add_argument("--events", action="store_true", help="list raw events, not jobs")
    query.add_argument(
        "--verified-only",
        action="store_true",
        help="leave out rows and events that verification does not vouch for",
    )
    query.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="take the trusted key and the witness from this policy",
    )
    query.add_argument("--format", choices=("text", "json", "csv"), default="text")
    query.set_defaults(handler=cmd_ledger_query)


def _register_metrics(actions: Any) -> None:
    metrics = actions.add_parser(
        "metrics",
        help="governance telemetry from the ledger: success rate, time to result, approval "
        "latency, denials by reason, quotas (verifies first)",
        description=(
            "Verify the ledger, then report: job success rate (completed / allowed), time to\n"
            "result (decision -> job.executed; median, p95), approval latency (first refused\n"
            "request naming an approval id -> its grant; grant -> first use), denials by reason\n"
            "code per kind of request, token replays refused, revocations hit, exports, cost\n"
            "anomalies, access reviews recorded and -- with --policy -- quota use per project in\n"
            "the current quota period against the quota, and the exceptions in force.\n"
            "Jobs count in the window of their submission. A ledger that fails verification\n"
            "is refused (exit 1) unless --unverified. CSV: one row per number (metric, item,\n"
            "value), each with the ledger's verdict.\n"
            "\n"
            "Exit codes: 0 intact; 1 failed verification (or qualified, with --strict);\n"
            "2 unreadable input or a usage error."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _answer_options(metrics)
    metrics.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="quotas and the exceptions register from this policy (also its trusted key "
        "and witness)",
    )
    metrics.add_argument("--format", choices=("text", "json", "csv"), default="text")
    metrics.set_defaults(handler=cmd_ledger_metrics)


def _verification(args: argparse.Namespace, loaded: Any) -> Any:
    from scanner.evidence import verify

    settings = loaded.policy.ledger if loaded is not None else None
    witness = args.witness
    if witness is None and settings is not None and settings.witness:
        witness = Path(settings.witness)
    return verify(
        args.ledger,
        public_key=args.public_key,
        policy_public_key=settings.public_key if settings else None,
        policy_signing_key=_signing_key_path(settings),
        witness=witness,
    )


def _window(args: argparse.Namespace) -> tuple[Any, datetime] | None:
    from scanner.evidence import TimeRange, parse_moment
    from scanner.governed.timeutil import utc_now

    try:
        as_of = parse_moment(args.as_of, now=utc_now()) if args.as_of else utc_now()
        return TimeRange.parse(args.since, args.until, now=as_of), as_of
    except ValueError as exc:
        fail(str(exc))
        return None


def _refused(args: argparse.Namespace, result: Any) -> bool:
    """Print the refusal when ``result`` rests on a ledger that failed verification (or
    changed while it was read) and the user did not ask to see it anyway."""
    if result.intact or args.unverified or getattr(args, "verified_only", False):
        return False
    ver = result.verification
    message = (
        f"refused: ledger {ver.path} failed verification ({ver.report.verdict}); nothing is "
        "answered from it. 'qgov ledger verify' shows where it was altered; --unverified "
        "answers anyway, flagged"
    )
    if ver.intact:  # it verified, then changed before it was read
        message = f"refused: {result.warning()}; nothing is answered from it"
    if args.format == "json":
        print(json.dumps({"refused": message, "verification": ver.to_json()}, indent=2))
    print(f"qgov: {message}", file=sys.stderr)
    for problem in ver.report.problems[:5]:
        where = f"line {problem.line}: " if problem.line is not None else ""
        print(f"  {where}{problem.kind}: {problem.message}", file=sys.stderr)
    if len(ver.report.problems) > 5:
        print(f"  ... {len(ver.report.problems) - 5} more problem(s)", file=sys.stderr)
    return True


def _answer(
    args: argparse.Namespace,
    result: Any,
    as_csv: Callable[[Any], str],
    as_text: Callable[[Any], list[str]],
) -> int:
    """Print a query's or the metrics' answer in the asked format (or the refusal)."""
    if _refused(args, result):
        return EXIT_FAIL
    if args.format == "csv":
        warning = result.warning()
        if warning is not None:  # the CSV carries the verdict per row; say it here too
            print(f"qgov: {warning}", file=sys.stderr)
        sys.stdout.write(as_csv(result))
    else:
        emit(args, result.to_json(), as_text(result))
    return _exit(args, result)


def _exit(args: argparse.Namespace, result: Any) -> int:
    if not result.intact:
        return EXIT_FAIL
    if args.strict and not result.verification.report.strict_ok:
        return EXIT_FAIL
    return EXIT_OK


@guard
def cmd_ledger_query(args: argparse.Namespace) -> int:
    from scanner.evidence import Filters, query
    from scanner.evidence.query import JOB_EVENT_TYPES
    from scanner.evidence.render import query_csv, query_text
    from scanner.governed.policy import load_policy

    window = _window(args)
    if window is None:
        return 2
    types = tuple(args.type)
    if types and not args.events and not set(types) & JOB_EVENT_TYPES:
        return fail(
            f"--type {', '.join(types)}: not an event of a job; add --events to list such "
            "events (job events: " + ", ".join(sorted(JOB_EVENT_TYPES)) + ")"
        )
    loaded = load_policy(args.policy) if args.policy else None
    verification = _verification(args, loaded)
    filters = Filters(
        subject=args.subject,
        backend=args.backend,
        project=args.project,
        dataset=args.dataset,
        decision=args.decision,
        types=types,
        time=window[0],
    )
    result = query(
        verification,
        filters,
        events=args.events,
        verified_only=args.verified_only,
        as_of=window[1],
    )
    return _answer(args, result, query_csv, query_text)


@guard
def cmd_ledger_metrics(args: argparse.Namespace) -> int:
    from scanner.evidence import metrics
    from scanner.evidence.metrics_csv import metrics_csv
    from scanner.evidence.render import metrics_text
    from scanner.governed.policy import load_policy

    window = _window(args)
    if window is None:
        return 2
    loaded = load_policy(args.policy) if args.policy else None
    verification = _verification(args, loaded)
    result = metrics(
        verification,
        window=window[0],
        policy=loaded.policy if loaded else None,
        policy_ref=loaded.ref if loaded else None,
        as_of=window[1],
    )
    return _answer(args, result, metrics_csv, metrics_text)
