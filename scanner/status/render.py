"""``qgov controls status`` output: each control's status, then every framework requirement
with the controls that cover it (text, JSON or CSV). The audit pack renders the same data."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from scanner.model import Coverage
from scanner.status.controls import ComplianceStatus, ControlResult
from scanner.status.matrix import FrameworkMatrix
from scanner.status.statuses import ControlStatus

# Worst first, so what needs work is read first.
_GROUP_ORDER = (
    ControlStatus.FAILING, ControlStatus.CONTROL_TEST_FAILED, ControlStatus.NOT_ASSESSED,
    ControlStatus.ACCEPTED_RISK, ControlStatus.ATTESTED, ControlStatus.CONTROL_TEST_PASSED,
    ControlStatus.PASSING, ControlStatus.NOT_APPLICABLE,
)
_TITLE_WIDTH = 44


def _frameworks(status: ComplianceStatus, only: str | None) -> list[FrameworkMatrix]:
    return [m for m in status.frameworks if only is None or m.key == only]


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {key.replace('-', ' ')}" for key, n in counts.items() if n) or "none"


def status_text(status: ComplianceStatus, framework: str | None = None) -> str:
    lines = [f"CONTROLS ({len(status.controls)}): {_counts_text(status.counts())}"]
    for group in _GROUP_ORDER:
        members = [r for r in status.controls if r.status is group]
        if not members:
            continue
        lines.append(f"  {group.label.upper()} ({len(members)})")
        lines.extend(
            f"    {r.control.id:<7} {_short(r.control.title):<{_TITLE_WIDTH}}  {r.reason}"
            for r in members
        )
    for matrix in _frameworks(status, framework):
        lines.append("")
        lines.append(f"{matrix.name} ({matrix.key}): {len(matrix.requirements)} requirements: "
                     f"{_counts_text(matrix.counts())}")
        width = max(len(row.id) for row in matrix.requirements)
        for row in matrix.requirements:
            covered = ", ".join(f"{cid} {s.label}" for cid, s in row.controls) or "-"
            lines.append(f"  {row.id:<{width}}  {row.status.label:<14} "
                         f"{_short(row.title):<{_TITLE_WIDTH}}  {covered}")
    lines.extend(f"note: {note}" for note in status.notes)
    return "\n".join(lines) + "\n"


def status_json(
    status: ComplianceStatus, coverage: Coverage | None, framework: str | None = None
) -> str:
    document: dict[str, Any] = {
        "today": status.today.isoformat(),
        "controls": [r.to_json(status.today) for r in status.controls],
        "frameworks": [m.to_json() for m in _frameworks(status, framework)],
        "evidence": {
            "attestations": status.attestations.to_json(status.today)
            if status.attestations else None,
            "selftest": status.selftest.to_json() if status.selftest else None,
            "problems": list(status.notes),
        },
        "coverage": coverage.model_dump(mode="json") if coverage else None,
        "summary": {
            "controls": status.counts(),
            "frameworks": {m.key: m.counts() for m in _frameworks(status, framework)},
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = (
    "framework", "requirement", "requirement_title", "requirement_status",
    "control", "control_title", "control_status", "reason", "evidence",
)


def status_csv(status: ComplianceStatus, framework: str | None = None) -> str:
    """One row per framework requirement and covering control (one row with no control for
    a requirement nothing covers). ``evidence``: the attestation's files with their hashes,
    the self-test checks, or the rules that ran."""
    by_id = status.by_id()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for matrix in _frameworks(status, framework):
        for row in matrix.requirements:
            head = [matrix.key, row.id, row.title, row.status.value]
            if not row.controls:
                writer.writerow(_cells([*head, "", "", "", "no control covers it", ""]))
            for cid, _ in row.controls:
                result = by_id[cid]
                writer.writerow(_cells([
                    *head, cid, result.control.title, result.status.value, result.reason,
                    _evidence(result),
                ]))
    return out.getvalue()


def _evidence(result: ControlResult) -> str:
    if result.status is ControlStatus.ATTESTED and result.attestation is not None:
        return "; ".join(f"{e.path} sha256:{e.sha256}" for e in result.attestation.evidence)
    if result.status in (ControlStatus.CONTROL_TEST_PASSED, ControlStatus.CONTROL_TEST_FAILED):
        return "; ".join(f"self-test {c.id}: {c.status}" for c in result.checks)
    if result.status in (ControlStatus.FAILING, ControlStatus.ACCEPTED_RISK):
        return "; ".join(sorted({f"{f.rule_id} {f.path}" for f in result.findings})[:20])
    return ", ".join(result.rules_ran)


def _cells(values: Iterable[str]) -> list[str]:
    # A cell a spreadsheet would run as a formula gets a leading quote.
    return [f"'{v}" if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v for v in values]


def _short(text: str) -> str:
    return text if len(text) <= _TITLE_WIDTH else text[: _TITLE_WIDTH - 1] + "…"
