"""The readable console report, grouped by severity, with the gate line last."""

from __future__ import annotations

import os
from collections.abc import Callable

from scanner.model import Inventory, ProviderInventory, Severity
from scanner.reports.report import TOOL_VERSION, ScanReport, accepted_risk, failing, summary

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


def render_text(report: ScanReport) -> str:
    result = report.result
    paint: Callable[[str, str], str] = (
        (lambda text, code: f"{code}{text}{_RESET}") if report.color else (lambda text, _c: text)
    )
    lines: list[str] = []
    active = result.active_findings
    for severity in Severity:
        group = [f for f in active if f.severity is severity]
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
    skipped_binary = sum(1 for e in result.errors if e.reason == "binary")
    if problems:
        lines.append(paint(f"SCAN PROBLEMS ({len(problems)})", _BOLD))
        for error in problems:
            where = f"{error.path}:{error.line}" if error.line else error.path
            lines.append(f"  {error.reason}  {where}: {error.message}")
        lines.append("")
    lines.extend(_inventory_block(result.inventory))
    lines.extend(f"note: {notice}" for notice in result.notices)
    lines.extend(f"note: {problem}" for problem in report.compliance.notes)
    stats = summary(report)
    counts = ", ".join(f"{n} {s}" for s, n in stats["by_severity"].items() if n)
    lines.append(
        f"qgov {TOOL_VERSION}: {stats['files_scanned']} files scanned in "
        f"{result.duration_seconds:.2f}s, {stats['findings']} findings"
        + (f" ({counts})" if counts else "")
        + (f", {stats['suppressed']} suppressed" if stats["suppressed"] else "")
        + (f" ({stats['accepted_risk']} as accepted risk)" if stats["accepted_risk"] else "")
        + (f", {skipped_binary} binary files skipped" if skipped_binary else "")
    )
    lines.append(controls_line(stats["controls"]))
    if report.fail_on is None:
        lines.append("gate: disabled (--fail-on none)")
    else:
        blocking = len(failing(report))
        verdict = "FAIL" if blocking else "PASS"
        lines.append(
            paint(
                f"gate: {verdict} — {blocking} finding(s) at or above {report.fail_on.value}",
                _COLORS[Severity.CRITICAL] if blocking else "\033[32m",
            )
        )
    return "\n".join(lines) + "\n"


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
