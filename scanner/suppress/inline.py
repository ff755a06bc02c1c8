"""Inline suppressions: ``qgov:ignore[QG-SEC-001,QG-NBK-002] reason="…" until=2026-12-31``.

A directive sits in a comment on the finding's line or alone on the line above it. In a
notebook, a directive anywhere in a cell covers that cell's source and stored outputs.
Without a reason, or past its date, a directive suppresses nothing and is itself reported.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scanner.model import Finding, Issue, Suppression, SuppressionKind

#: Rules this stage reports about directives it cannot honour.
SUPPRESSION_RULES = frozenset({"QG-SUP-001", "QG-SUP-002", "QG-SUP-003"})

# A directive is `qgov:ignore[...]` inside a comment. It is found in two linear steps: the
# marker by plain search, then a comment opener anywhere before it on the line (one
# pattern spanning both backtracked over long lines of `;` or `--`).
_MARKER = "qgov:ignore["
_COMMENT_OPENER = re.compile(r"#|//|--|<!--|;|/\*")
_BODY = re.compile(r"qgov:ignore\[(?P<rules>[^\]\n]*)\](?P<rest>[^\n]*)")
_REASON = re.compile(r"""reason\s*=\s*(?:"([^"\n]*)"|'([^'\n]*)')""")
_UNTIL = re.compile(r"until\s*=\s*(\S+)")
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")


@dataclass(frozen=True)
class Directive:
    path: str
    line: int  # 1-based line of the comment in the file as stored
    covers: frozenset[int]  # lines it applies to
    cell: int | None
    rule_ids: frozenset[str]
    reason: str | None
    until: dt.date | None
    problem: str | None  # why the directive cannot be honoured, if it can't


def parse_directives(
    path: str, text: str, *, line_offset: int = 0, cell: int | None = None
) -> Iterator[Directive]:
    """Directives in ``text``; lines are shifted by ``line_offset`` (for notebook cells)."""
    if "qgov:ignore" not in text:
        return
    lines = text.splitlines()
    for index, line in enumerate(lines):
        at = line.find(_MARKER)
        opener = _COMMENT_OPENER.search(line, 0, at) if at != -1 else None
        match = _BODY.match(line, at) if opener is not None else None
        if opener is None or match is None:
            continue
        number = index + 1 + line_offset
        before = line[: opener.start()].strip()
        # A comment on its own line covers the next line too.
        covers = frozenset({number, number + 1}) if not before else frozenset({number})
        rules = frozenset(r.strip() for r in match.group("rules").split(",") if r.strip())
        rest = match.group("rest")
        reason_match = _REASON.search(rest)
        reason = None
        if reason_match:
            reason = (reason_match.group(1) or reason_match.group(2) or "").strip() or None
        until: dt.date | None = None
        problem = None
        until_match = _UNTIL.search(rest)
        if until_match:
            try:
                until = dt.date.fromisoformat(until_match.group(1).strip("\"'"))
            except ValueError:
                problem = f"until={until_match.group(1)} is not a YYYY-MM-DD date"
        if not rules or any(not _RULE_ID.match(r) for r in rules):
            problem = "the rule list must name rule ids, e.g. qgov:ignore[QG-SEC-001]"
        yield Directive(path, number, covers, cell, rules, reason, until, problem)


def apply_inline(
    findings: Iterable[Finding], directives: Iterable[Directive], today: dt.date
) -> tuple[list[Finding], list[Issue]]:
    """``(findings, problems)``: the findings, those covered by a valid directive marked
    suppressed; and an issue for every directive that cannot be honoured."""
    by_path: dict[str, list[Directive]] = {}
    for directive in directives:
        by_path.setdefault(directive.path, []).append(directive)
    marked: list[Finding] = []
    for finding in findings:
        covering = _covering(finding, by_path.get(finding.path, ()))
        if covering is not None and _honoured(covering, today):
            finding = finding.model_copy(
                update={
                    "suppression": Suppression(
                        kind=SuppressionKind.INLINE,
                        reason=covering.reason,
                        until=covering.until.isoformat() if covering.until else None,
                    )
                }
            )
        marked.append(finding)
    problems = [
        problem
        for path_directives in by_path.values()
        for problem in _directive_problems(path_directives, today)
    ]
    return marked, problems


def _covering(finding: Finding, directives: Iterable[Directive]) -> Directive | None:
    for directive in directives:
        if finding.rule_id not in directive.rule_ids:
            continue
        if directive.cell is not None:
            if finding.cell == directive.cell:
                return directive
        elif finding.line is not None and finding.line in directive.covers:
            return directive
    return None


def _honoured(directive: Directive, today: dt.date) -> bool:
    if directive.problem or not directive.reason:
        return False
    return directive.until is None or directive.until >= today


def _directive_problems(directives: Iterable[Directive], today: dt.date) -> Iterator[Issue]:
    for directive in directives:
        rules = ",".join(sorted(directive.rule_ids)) or "?"
        if directive.problem:
            rule_id, message = "QG-SUP-003", (
                f"Suppression for {rules} cannot be read: {directive.problem}"
            )
        elif not directive.reason:
            rule_id, message = "QG-SUP-001", (
                f'Suppression for {rules} has no reason="…"; it is not applied'
            )
        elif directive.until is not None and directive.until < today:
            rule_id, message = "QG-SUP-002", (
                f"Suppression for {rules} expired on {directive.until.isoformat()}; "
                "the finding is reported again"
            )
        else:
            continue
        yield Issue(
            rule_id,
            message,
            path=directive.path,
            line=directive.line,
            cell=directive.cell,
            material=f"{rules}\x00{directive.until}",
        )
