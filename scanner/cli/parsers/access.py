"""The parser of `qgov access review`."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from scanner.cli.parsers import handler

# Also the default of scanner.governance.access_review.review (a test keeps them equal).
DEFAULT_INACTIVE_DAYS = 90


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    access = sub.add_parser("access", help="review who can reach quantum backends")
    actions = access.add_subparsers(dest="access_command", metavar="{review}")
    actions.required = True
    review = actions.add_parser(
        "review",
        help="who can submit, export and administer; what needs acting on",
        description=(
            "Expand the policy's roles and identities into rights per project, environment\n"
            "and backend, and list what a reviewer must act on: expired roles still held,\n"
            "roles without owner, identities without roles, service identities used from\n"
            "several projects, identities without ledger activity for --inactive-days.\n"
            "\n"
            "Exit codes: 0 nothing to act on; 1 items to act on; 2 unusable input."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.add_argument("--policy", type=Path, required=True, metavar="FILE")
    review.add_argument(
        "--ledger",
        type=Path,
        metavar="FILE",
        help="audit ledger for activity and sign-off (default: $QGOV_LEDGER, else "
        ".qgov/ledger.jsonl); without one, activity is not checked",
    )
    review.add_argument("--format", choices=("text", "json", "csv"), default="text")
    review.add_argument(
        "--inactive-days",
        type=_positive,
        default=DEFAULT_INACTIVE_DAYS,
        metavar="N",
        help=f"no ledger activity for N days counts as inactive (default {DEFAULT_INACTIVE_DAYS})",
    )
    review.add_argument(
        "--sign-off",
        metavar="REVIEWER",
        help="record this review, by REVIEWER, as an event in the ledger",
    )
    review.add_argument("--today", type=_day, metavar="YYYY-MM-DD", help="review as of this day")
    review.set_defaults(handler=handler("access_cmds", "cmd_access_review"))


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from exc
    if number <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number
