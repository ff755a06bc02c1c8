"""The findings section: active findings grouped by control, then by rule, most severe first,
with the number of rows capped (``scanner.pack.caps``) so thousands of findings stay
readable.

A finding can name several controls. It is counted under each of them in the summary
table, and listed once, with its rule, under the rule's first control; the other controls
point there. Rows are ordered so the same pack always gives the same page: severity, then
repository (worst first, the pack's order), path, line, column, fingerprint.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.model import Finding, Severity
from scanner.pack.caps import Caps
from scanner.pack.legend import SEVERITIES, chip
from scanner.pack.model import PackData

UNMAPPED = "(no control)"


@dataclass(frozen=True)
class FindingRow:
    severity: str
    repository: str | None  # None in a one-repository pack
    location: str  # path:line as in the repository
    message: str
    evidence: str | None  # masked evidence, as the finding holds it
    remediation: str | None  # only when it differs from the rule's


@dataclass(frozen=True)
class RuleGroup:
    rule_id: str
    title: str
    severity: str  # the worst of its findings
    count: int
    by_severity: dict[str, int]
    remediation: str | None
    rows: tuple[FindingRow, ...]
    other_controls: tuple[str, ...]  # further controls its findings name

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


@dataclass(frozen=True)
class Reference:
    """Findings of a rule that name this control but are listed under another one."""

    rule_id: str
    count: int
    listed_under: str
    anchor: str


@dataclass(frozen=True)
class ControlGroup:
    id: str
    title: str
    anchor: str
    status: dict[str, str]
    count: int  # findings naming the control, listed here or elsewhere
    by_severity: dict[str, int]
    rules: tuple[RuleGroup, ...]
    references: tuple[Reference, ...]


@dataclass(frozen=True)
class FindingsView:
    total: int
    shown: int
    per_rule: int
    level: int  # rows each rule got once the overall cap applied (per_rule when it did not)
    controls: tuple[ControlGroup, ...]
    suppressed: int
    files: tuple[str, ...]  # where the full list is

    @property
    def capped(self) -> bool:
        return self.shown < self.total


def _location(finding: Finding) -> str:
    where = finding.path
    if finding.cell is not None:
        where += f" cell {finding.cell}"
    if finding.line is not None:
        where += f":{finding.line}"
    return where


def _worst(counts: dict[str, int]) -> int:
    return max((Severity(s).rank for s, n in counts.items() if n), default=-1)


def _severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    found = Counter(f.severity.value for f in findings)
    return {s: found.get(s, 0) for s in SEVERITIES}


def level_for(sizes: Sequence[int], per_rule: int, total: int) -> int:
    """The largest number of rows every rule may show (at most ``per_rule``) so that all
    rules together stay within ``total``."""
    def rows(level: int) -> int:
        return sum(min(size, level) for size in sizes)

    if rows(per_rule) <= total:
        return per_rule
    low, high = 0, per_rule
    while low < high:  # the largest level with rows(level) <= total
        middle = (low + high + 1) // 2
        if rows(middle) <= total:
            low = middle
        else:
            high = middle - 1
    return low


def findings_view(data: PackData, caps: Caps, anchors: dict[str, str],
                  files: tuple[str, ...]) -> FindingsView:
    """``anchors``: control id -> the id of its block in the page (made by the caller, so
    links from other sections agree)."""
    multi = data.multi_repository
    repo_order = {r.name: n for n, r in enumerate(data.repositories)}
    found: list[tuple[str, Finding]] = [
        (r.name, f) for r in data.repositories for f in r.active_findings
    ]

    def order(item: tuple[str, Finding]) -> tuple[int, int, str, int, int, str]:
        name, f = item
        return (-f.severity.rank, repo_order[name], f.path, f.line or 0, f.column or 0,
                f.fingerprint)

    found.sort(key=order)
    by_rule: dict[str, list[tuple[str, Finding]]] = {}
    for item in found:
        by_rule.setdefault(item[1].rule_id, []).append(item)

    # Each rule is listed under its first control (the catalog's, else its findings').
    home: dict[str, str] = {}
    for rule_id, items in by_rule.items():
        rule = data.catalog.rules.get(rule_id)
        controls = rule.controls if rule is not None else items[0][1].control_ids
        home[rule_id] = controls[0] if controls else UNMAPPED

    def rule_key(rule_id: str) -> tuple[int, int, str]:
        items = by_rule[rule_id]
        return (-items[0][1].severity.rank, -len(items), rule_id)

    rule_ids = sorted(by_rule, key=rule_key)
    level = level_for([len(by_rule[r]) for r in rule_ids], caps.findings_per_rule,
                      caps.findings_total)
    spare = caps.findings_total - sum(min(len(by_rule[r]), level) for r in rule_ids)
    shown_of: dict[str, int] = {}
    for rule_id in rule_ids:  # most severe rules first take what the equal share left over
        size = len(by_rule[rule_id])
        take = min(size, level)
        if level < caps.findings_per_rule and spare > 0 and size > take:
            extra = min(spare, size - take, caps.findings_per_rule - take)
            take, spare = take + extra, spare - extra
        shown_of[rule_id] = take

    groups: dict[str, list[RuleGroup]] = {}
    naming: dict[str, list[Finding]] = {}
    references: dict[str, list[Reference]] = {}
    for rule_id in rule_ids:
        items = by_rule[rule_id]
        findings = [f for _, f in items]
        rule = data.catalog.rules.get(rule_id)
        remediation = (rule.remediation if rule is not None and rule.remediation
                       else findings[0].remediation)
        named = sorted({c for f in findings for c in f.control_ids} - {home[rule_id]})
        rows = tuple(
            FindingRow(
                severity=f.severity.value,
                repository=name if multi else None,
                location=_location(f),
                message=f.message,
                evidence=f.evidence,
                remediation=f.remediation if f.remediation and f.remediation != remediation
                else None,
            )
            for name, f in items[:shown_of[rule_id]]
        )
        counts = _severity_counts(findings)
        groups.setdefault(home[rule_id], []).append(RuleGroup(
            rule_id=rule_id,
            title=rule.title if rule is not None else findings[0].title,
            severity=findings[0].severity.value,
            count=len(findings),
            by_severity=counts,
            remediation=remediation,
            rows=rows,
            other_controls=tuple(named),
        ))
        naming.setdefault(home[rule_id], []).extend(findings)
        for control_id in named:
            naming.setdefault(control_id, []).extend(
                f for f in findings if control_id in f.control_ids)
            references.setdefault(control_id, []).append(Reference(
                rule_id, sum(1 for f in findings if control_id in f.control_ids),
                home[rule_id], anchors.get(home[rule_id], "findings")))

    statuses = {c.id: c.status.value for c in data.rollup.controls}
    control_groups: list[ControlGroup] = []
    for control_id in naming:
        control = data.catalog.controls.get(control_id)
        counts = _severity_counts(naming[control_id])
        control_groups.append(ControlGroup(
            id=control_id,
            title=control.title if control is not None else "findings no control names",
            anchor=anchors.get(control_id, "findings"),
            status=chip(statuses.get(control_id, "failing")),
            count=len(naming[control_id]),
            by_severity=counts,
            rules=tuple(groups.get(control_id, ())),
            references=tuple(references.get(control_id, ())),
        ))
    control_groups.sort(key=lambda c: (-_worst(c.by_severity), -c.count, c.id))
    suppressed = sum(len(r.result.findings) - len(r.active_findings) for r in data.repositories)
    return FindingsView(
        total=len(found),
        shown=sum(shown_of.values()),
        per_rule=caps.findings_per_rule,
        level=level,
        controls=tuple(control_groups),
        suppressed=suppressed,
        files=files,
    )
