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
from scanner.cli.governed_common import emit, fail, guard


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
