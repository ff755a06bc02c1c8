"""`qgov access review`: who can submit, export and administer, and what to act on.

Exit codes: 0 nothing needs action; 1 the review lists items to act on; 2 the policy, the
ledger or an option cannot be used (message names the file, line and field).

``--sign-off REVIEWER`` appends an ``access.review`` event to the ledger through the public
``Ledger`` API (hash-chained, then covered by a signed checkpoint and the signed head): the
reviewer, the review's SHA-256 (over the canonical JSON of the review, whatever ``--format``
prints) and a summary of its items as the decisions. Activity is never read from a ledger
that fails verification without saying so, and a review is not signed into one.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, cast

from scanner.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from scanner.governance.access_review import (
    ANY,
    AccessReview,
    Grant,
    LedgerActivity,
    ledger_activity,
    review_access,
)
from scanner.governance.lenient import PolicyFile, PolicyFileError, PolicyView, read_policy_file
from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import LedgerError
from scanner.governed.ledger import Ledger, default_ledger_path

REVIEW_EVENT = "access.review"
# Cells a spreadsheet would run as a formula; written with a leading quote instead.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_SIGNED_ITEMS = 200


def _error(message: str) -> int:
    print(f"qgov: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def cmd_access_review(args: argparse.Namespace) -> int:
    try:
        loaded = read_policy_file(args.policy)
    except PolicyFileError as exc:
        return _error(str(exc))
    if loaded.kind != "policy":
        return _error(f"policy {args.policy}: an exceptions file holds no roles to review")
    policy = cast(PolicyView, loaded.view)
    ledger_path: Path = args.ledger or default_ledger_path()
    activity: LedgerActivity | None = None
    if ledger_path.exists():
        try:
            activity = ledger_activity(ledger_path)
        except LedgerError as exc:
            return _error(str(exc))
        except OSError as exc:
            return _error(f"ledger {ledger_path}: cannot read ({exc.strerror})")
    elif args.ledger is not None and not args.sign_off:
        return _error(f"ledger {ledger_path}: no such file")
    review = review_access(
        policy,
        policy_ref=_policy_ref(loaded),
        today=args.today or date.today(),
        inactive_days=args.inactive_days,
        ledger=activity,
    )
    signed: dict[str, Any] | None = None
    if args.sign_off:
        if activity is not None and not activity.intact:
            return _error(
                f"ledger {ledger_path} failed verification; a review is not signed into it "
                "(run 'qgov ledger verify')"
            )
        try:
            signed = _sign_off(review, loaded, ledger_path, args.sign_off)
        except LedgerError as exc:
            return _error(str(exc))
    sys.stdout.write(_render(review, args.format, ledger_path, signed))
    if signed is not None and args.format != "text":  # the text report says it itself
        print(
            f"qgov: review signed off by {args.sign_off}: ledger {ledger_path} event seq "
            f"{signed['seq']}, hash {signed['hash']}",
            file=sys.stderr,
        )
    return EXIT_FAIL if review.action_items else EXIT_OK


def _policy_ref(loaded: PolicyFile) -> dict[str, str | None]:
    info = cast(PolicyView, loaded.view).policy
    return {
        "id": info.id if info else None,
        "version": info.version if info else None,
        "sha256": sha256_hex(loaded.raw),
        "path": str(loaded.path),
    }


def _sign_off(
    review: AccessReview, loaded: PolicyFile, ledger_path: Path, reviewer: str
) -> dict[str, Any]:
    from scanner.governed.runtime import request_source

    settings = getattr(loaded.view, "ledger", None)
    key = getattr(settings, "signing_key", None)
    ledger = Ledger(
        ledger_path,
        signing_key=Path(key) if key else None,
        checkpoint_every=getattr(settings, "checkpoint_every", 16),
    )
    items = review.items[:_MAX_SIGNED_ITEMS]
    with ledger.session() as session:
        event = session.append(
            REVIEW_EVENT,
            actor={"subject": reviewer, "role": "access-reviewer", "verified": False},
            source=request_source("cli", "qgov access review"),
            policy={k: v for k, v in review.policy.items() if k != "path"},
            decision="action-required" if review.action_items else "no-action",
            subject={"review": "access", "as_of": review.today.isoformat()},
            data={
                "reviewer": reviewer,
                "report_sha256": review.sha256(),
                "inactive_days": review.inactive_days,
                "ledger_intact": review.ledger.intact if review.ledger else None,
                "decisions": {
                    **review.summary(),
                    "items": [
                        {"kind": i.kind, "subject": i.subject, "action": i.action}
                        for i in items
                    ],
                    "items_left_out": len(review.items) - len(items),
                },
            },
        )
        session.checkpoint()
    return event


# --- rendering --------------------------------------------------------------------------------


def _render(
    review: AccessReview, fmt: str, ledger_path: Path, signed: dict[str, Any] | None
) -> str:
    if fmt == "json":
        document = review.to_json()
        document["report_sha256"] = review.sha256()
        if signed is not None:
            document["signed_off"] = {"seq": signed["seq"], "hash": signed["hash"],
                                      "ledger": str(ledger_path)}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(review.grants)
    return _text(review, ledger_path, signed)


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv(grants: Sequence[Grant]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    fields = ("identity", "kind", "role", "project", "environment", "backend", "right")
    writer.writerow(fields)
    for grant in grants:
        row = grant.to_json()
        writer.writerow([_cell(row[name]) for name in fields])
    return out.getvalue()


def _text(review: AccessReview, ledger_path: Path, signed: dict[str, Any] | None) -> str:
    ref = review.policy
    lines = [
        f"Access review of policy {ref['id'] or '?'} {ref['version'] or ''} ({ref['path']}) "
        f"as of {review.today.isoformat()}",
    ]
    ledger = review.ledger
    if ledger is None:
        lines.append(f"ledger: none at {ledger_path}; activity not checked")
    else:
        began = ledger.began.date().isoformat() if ledger.began else "-"
        state = "intact" if ledger.intact else "NOT INTACT"
        lines.append(
            f"ledger: {ledger.path} ({state}, {ledger.events} events since {began}); "
            f"inactive means no activity for {review.inactive_days} days"
        )
    lines.append("")
    lines.extend(_who_can(review.grants))
    actions = review.action_items
    infos = [item for item in review.items if not item.action]
    lines.append(f"TO ACT ON ({len(actions)})")
    lines.extend(f"  [{item.kind}] {item.message}" for item in actions)
    if not actions:
        lines.append("  nothing")
    if infos:
        lines.append(f"FOR INFORMATION ({len(infos)})")
        lines.extend(f"  [{item.kind}] {item.message}" for item in infos)
    lines.append("")
    summary = review.summary()
    lines.append(
        f"{summary['identities']} identities with {summary['grants']} grants; "
        f"{len(actions)} item(s) to act on; review sha256 {review.sha256()}"
    )
    if signed is not None:
        lines.append(f"signed off: ledger event seq {signed['seq']}, hash {signed['hash']}")
    return "\n".join(lines) + "\n"


def _who_can(grants: Sequence[Grant]) -> list[str]:
    """Per project and right: each identity with its role, environments and backends."""
    lines = []
    projects = sorted({g.project for g in grants}, key=lambda p: (p == ANY, p))
    for project in projects:
        lines.append(f"project {project if project != ANY else '(any)'}")
        for right in ("submit", "export", "administer"):
            rows: dict[tuple[str, str, str], tuple[set[str], set[str]]] = {}
            for g in grants:
                if g.project == project and g.right == right:
                    envs, backends = rows.setdefault((g.identity, g.kind, g.role), (set(), set()))
                    envs.add(g.environment)
                    backends.add(g.backend)
            if not rows:
                continue
            lines.append(f"  {right}:")
            for (identity, kind, role), (envs, backends) in sorted(rows.items()):
                lines.append(
                    f"    {identity} ({kind}, role {role}): {', '.join(sorted(envs))} on "
                    f"{', '.join(sorted(backends))}"
                )
        lines.append("")
    if not projects:
        lines.extend(["nobody holds a usable grant", ""])
    return lines
