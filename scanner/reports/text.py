"""The readable console report, grouped by severity, with the gate line last."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable

from scanner.model import Inventory, ProviderInventory, Severity
from scanner.reports.report import (
    SKIPPED,
    TOOL_VERSION,
    ScanReport,
    accepted_risk,
    gate,
    shown_findings,
    summary,
)

_COLORS = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
_RESET = "\033[0m"
_BOLD = "\033[1m"


def use_color(stream_isatty: bool) -> bool:
    return stream_isatty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _painter(report: ScanReport) -> Callable[[str, str], str]:
    if report.color:
        return lambda text, code: f"{code}{text}{_RESET}"
    return lambda text, _code: text


def render_text(report: ScanReport) -> str:
    result = report.result
    paint = _painter(report)
    lines: list[str] = []
    shown = shown_findings(report)
    for severity in Severity:
        group = [f for f in shown if f.severity is severity]
        if not group:
            continue
        lines.append(paint(f"{severity.value.upper()} ({len(group)})", _COLORS[severity]))
        for finding in group:
            where = f"{finding.path}:{finding.line or 1}"
            if finding.cell is not None:
                where += f" [cell {finding.cell}]"
            lines.append(f"  {paint(finding.rule_id, _BOLD)}  {where}")
            lines.append(f"    {finding.message}")
            if finding.evidence:
                lines.append(f"    evidence: {finding.evidence}")
            controls = ", ".join(finding.control_ids)
            mapped = " ".join(
                f"{key}:{','.join(ids[:3])}{'…' if len(ids) > 3 else ''}"
                for key, ids in finding.frameworks
            )
            lines.append(f"    controls: {controls}" + (f"  |  {mapped}" if mapped else ""))
            if finding.remediation:
                lines.append(f"    fix: {finding.remediation}")
        lines.append("")
    accepted = accepted_risk(report)
    if accepted:
        lines.append(paint(f"ACCEPTED RISK ({len(accepted)})", _BOLD))
        for finding in accepted:
            risk = finding.suppression
            assert risk is not None
            until = f" until {risk.until}" if risk.until else ""
            owner = f", risk owner {risk.owner}" if risk.owner else ""
            lines.append(f"  {finding.rule_id}  {finding.path}:{finding.line or 1}")
            lines.append(f"    exception {risk.id}{until}{owner}: {risk.reason or ''}")
        lines.append("")
    problems = [e for e in result.errors if e.reason not in {"binary"}]
    if problems:
        lines.append(paint(f"SCAN PROBLEMS ({len(problems)})", _BOLD))
        for error in problems:
            where = f"{error.path}:{error.line}" if error.line else error.path
            lines.append(f"  {error.reason}  {where}: {error.message}")
        lines.append("")
    lines.extend(_inventory_block(result.inventory))
    lines.extend(f"note: {notice}" for notice in result.notices)
    lines.extend(f"note: {problem}" for problem in report.compliance.notes)
    lines.extend(summary_lines(report))
    return "\n".join(lines) + "\n"


def summary_lines(report: ScanReport) -> list[str]:
    """The counts, any warning about what was not scanned, and the gate line: what the
    console shows whatever else the run writes."""
    result = report.result
    paint = _painter(report)
    stats = summary(report)
    counts = ", ".join(f"{n} {s}" for s, n in stats["by_severity"].items() if n)
    skipped: Counter[str] = Counter(e.reason for e in result.errors if e.reason in SKIPPED)
    problems = len(result.errors) - sum(skipped.values())
    lines = []
    if report.min_severity is not None:
        hidden = stats["findings"] - len(shown_findings(report))
        if hidden:
            lines.append(
                f"note: {hidden} finding(s) below {report.min_severity.value} not listed "
                "(--severity); the gate still counts them"
            )
    if result.files_scanned == 0:
        lines.append(
            paint(
                f"warning: no files were scanned ({result.files_excluded} excluded by ignore "
                f"files or exclude patterns, {sum(skipped.values())} skipped); check .gitignore, "
                ".qgovignore, exclude and --skip-path",
                _COLORS[Severity.MEDIUM],
            )
        )
    lines.append(
        f"qgov {TOOL_VERSION}: {stats['files_scanned']} files scanned, "
        f"{result.files_excluded} excluded, {sum(skipped.values())} skipped"
        + (f" ({_reasons(skipped)})" if skipped else "")
        + f" in {result.duration_seconds:.2f}s; {stats['findings']} findings"
        + (f" ({counts})" if counts else "")
        + (f", {stats['suppressed']} suppressed" if stats["suppressed"] else "")
        + (f" ({stats['accepted_risk']} as accepted risk)" if stats["accepted_risk"] else "")
        + (f", {problems} scan problem(s)" if problems else "")
    )
    lines.append(controls_line(stats["controls"]))
    lines.append(gate_line(report))
    return lines


def _reasons(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))


def gate_line(report: ScanReport) -> str:
    decision = gate(report)
    if report.fail_on is None and not report.strict:
        return "gate: disabled (--fail-on none)"
    parts = []
    if report.fail_on is not None:
        parts.append(f"{len(decision.findings)} finding(s) at or above {report.fail_on.value}")
    else:
        parts.append("findings not gated (--fail-on none)")
    if report.strict:
        parts.append(f"{len(decision.errors)} scan error(s) (--strict)")
        if decision.empty:
            parts.append("no files scanned (--strict)")
    verdict = "FAIL" if decision.failed else "PASS"
    color = _COLORS[Severity.CRITICAL] if decision.failed else "\033[32m"
    return _painter(report)(f"gate: {verdict} — {'; '.join(parts)}", color)


# In this order; the first five always (so "0 not assessed" is as visible as the rest), the
# others when they occur.
_LINE_ORDER = ("failing", "passing", "accepted-risk", "not-assessed", "attested",
               "control-test-failed", "control-test-passed", "not-applicable")


def controls_line(counts: dict[str, int]) -> str:
    """``controls: 12 failing, 30 passing, 4 accepted risk, 20 not assessed, 3 attested``."""
    shown = [s for i, s in enumerate(_LINE_ORDER) if i < 5 or counts.get(s)]
    return "controls: " + ", ".join(
        f"{counts.get(status, 0)} {status.replace('-', ' ')}" for status in shown
    )


# What each inventory check means, in the one-line-per-provider block.
_PROBLEMS = {
    "QG-INV-001": "no assessed vendor profile",
    "QG-INV-002": "region not allowed",
    "QG-INV-003": "not approved for the tier",
}
_LISTED = 4


def _inventory_block(inventory: Inventory) -> list[str]:
    """``Quantum providers used …`` and one line per provider."""
    if not inventory.providers:
        return []
    if inventory.policy is None:
        checked = "not checked against a policy: name one with --policy"
    else:
        where = " (found in the scanned tree)" if inventory.policy_origin == "found" else ""
        tier = inventory.tier.value if inventory.tier else "?"
        checked = (f"checked against {inventory.policy}{where} for tier {tier}, "
                   f"{inventory.data_class} data")
    lines = [f"Quantum providers used ({checked}):"]
    lines.extend(f"  {_provider_line(provider)}" for provider in inventory.providers)
    lines.append("")
    return lines


def _provider_line(provider: ProviderInventory) -> str:
    # Hardware vendors a device already names are not listed twice.
    vendors = tuple(
        v for v in provider.vendors if not any(d.startswith(f"{v} ") for d in provider.devices)
    )
    parts = [
        f"{label}: {_few(values)}"
        for label, values in (("devices", provider.devices), ("backends", provider.backends),
                              ("vendors", vendors), ("regions", provider.regions))
        if values
    ]
    files = len(provider.files)
    parts.append(f"{files} file{'s' if files != 1 else ''}")
    line = f"{provider.id} ({'; '.join(parts)})"
    if provider.problems:
        line += " — " + ", ".join(_PROBLEMS.get(p, p) for p in provider.problems)
    return line


def _few(values: tuple[str, ...]) -> str:
    shown = ", ".join(values[:_LISTED])
    return shown + (f" and {len(values) - _LISTED} more" if len(values) > _LISTED else "")
