"""`qgov ledger verify`: check a ledger and say what was proven (exit 0 intact, 1 tampered or,
with ``--strict``, qualified; 2 unreadable input)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scanner.cli.exits import EXIT_FAIL, EXIT_OK
from scanner.cli.governed_common import command_group, emit, fail, format_option, guard


def register(subparsers: Any) -> None:
    """Add the `ledger` command group to an argparse subparsers action."""
    actions = command_group(subparsers, "ledger", "audit ledger tools", "verify")
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
