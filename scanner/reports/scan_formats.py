"""Scan-result formatters: pure ``render(report) -> str``; the CLI owns files and exit codes.

Every formatter receives only the ``ScanReport`` (result + the catalog entries it needs),
never the engine. Evidence in every format is the masked form the detectors produced.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, assert_never
from xml.etree import ElementTree as ET

from scanner import __version__
from scanner.catalog import Catalog
from scanner.model import Finding, ScanError, ScanResult, Severity

TOOL_NAME = "qgov"
INFORMATION_URI = "https://github.com/qgov/qgov"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"


@dataclass(frozen=True)
class ScanReport:
    result: ScanResult
    catalog: Catalog
    fail_on: Severity | None  # None: never fail
    color: bool = False


def render(report: ScanReport, output_format: OutputFormat) -> str:
    if output_format is OutputFormat.TEXT:
        return render_text(report)
    if output_format is OutputFormat.JSON:
        return render_json(report)
    if output_format is OutputFormat.SARIF:
        return render_sarif(report)
    if output_format is OutputFormat.JUNIT:
        return render_junit(report)
    assert_never(output_format)


def failing(report: ScanReport) -> list[Finding]:
    if report.fail_on is None:
        return []
    threshold = report.fail_on
    return [f for f in report.result.active_findings if f.severity.at_least(threshold)]


def summary(report: ScanReport) -> dict[str, Any]:
    result = report.result
    active = result.active_findings
    by_severity = Counter(f.severity.value for f in active)
    return {
        "files_scanned": result.files_scanned,
        "findings": len(active),
        "suppressed": len(result.findings) - len(active),
        "by_severity": {s.value: by_severity.get(s.value, 0) for s in Severity},
        "scan_errors": len(result.errors),
        "fail_on": report.fail_on.value if report.fail_on else "none",
        "failed": bool(failing(report)),
        "duration_seconds": result.duration_seconds,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "title": finding.title,
        "control_ids": list(finding.control_ids),
        "domain": finding.domain.value if finding.domain else None,
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "path": finding.path,
        "line": finding.line,
        "cell": finding.cell,
        "message": finding.message,
        "evidence": finding.evidence,
        "remediation": finding.remediation,
        "fingerprint": finding.fingerprint,
        "frameworks": finding.frameworks,
        "engine": finding.engine,
        "suppressed": finding.suppressed,
    }
    if finding.suppression is not None:
        data["suppression"] = finding.suppression.model_dump(mode="json")
    return data


def error_dict(error: ScanError) -> dict[str, Any]:
    return {"type": "scan-error", **error.model_dump(mode="json")}


def render_json(report: ScanReport) -> str:
    document = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "roots": list(report.result.roots),
        "findings": [finding_dict(f) for f in report.result.findings],
        "scan_errors": [error_dict(e) for e in report.result.errors],
        "notices": list(report.result.notices),
        "summary": summary(report),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- SARIF 2.1.0 -------------------------------------------------------------------------

_SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks alerts by this number (critical >= 9.0, high 7.0-8.9, medium 4.0-6.9).
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def _sarif_rule(rule_id: str, report: ScanReport) -> dict[str, Any]:
    catalog = report.catalog
    rule = catalog.rule(rule_id)
    if rule is None:
        return {"id": rule_id, "shortDescription": {"text": rule_id}}
    severity = catalog.rule_severity(rule)
    frameworks = catalog.frameworks_for(rule.controls)
    remediation = rule.remediation or catalog.controls[rule.controls[0]].remediation
    controls = ", ".join(rule.controls)
    mapped = "; ".join(f"{key}: {', '.join(ids)}" for key, ids in frameworks.items())
    help_text = f"{rule.description}\n\nFix: {remediation}\n\nControls: {controls}"
    if mapped:
        help_text += f"\nFrameworks: {mapped}"
    tags = ["security", catalog.rule_domain(rule).value, *rule.controls]
    tags += [f"{key}:{rid}" for key, ids in frameworks.items() for rid in ids]
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.title.split()[:8] if part.isalnum())
        or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {
            "text": help_text,
            "markdown": (
                f"{rule.description}\n\n**Fix:** {remediation}\n\n**Controls:** {controls}"
                + (f"\n\n**Frameworks:** {mapped}" if mapped else "")
            ),
        },
        "defaultConfiguration": {"level": _SARIF_LEVEL[severity]},
        "properties": {
            "tags": tags,
            "security-severity": _SECURITY_SEVERITY[severity],
            "precision": "high",
        },
    }


def _sarif_result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": finding.line or 1}
    if finding.end_line:
        region["endLine"] = finding.end_line
    if finding.column:
        region["startColumn"] = finding.column
    message = finding.message
    if finding.cell is not None and f"cell {finding.cell}" not in message:
        message += f" (notebook cell {finding.cell})"
    if finding.evidence:
        message += f" — evidence: {finding.evidence}"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index[finding.rule_id],
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"},
                    "region": region,
                },
                **(
                    {"logicalLocations": [{"name": f"cell {finding.cell}", "kind": "member"}]}
                    if finding.cell is not None
                    else {}
                ),
            }
        ],
        "partialFingerprints": {"qgovFingerprint/v1": finding.fingerprint},
        "properties": {
            "severity": finding.severity.value,
            "controls": list(finding.control_ids),
            "frameworks": finding.frameworks,
            **({"notebookCell": finding.cell} if finding.cell is not None else {}),
        },
    }
    if finding.suppression is not None:
        result["suppressions"] = [
            {
                "kind": "inSource" if finding.suppression.kind.value == "inline" else "external",
                "justification": finding.suppression.reason or "",
            }
        ]
    return result


# Scan errors that mean a file was not (fully) examined, as opposed to skipped by design.
_INCOMPLETE = frozenset({"parse-error", "unreadable", "engine-error", "detector-error"})


def render_sarif(report: ScanReport) -> str:
    findings = report.result.findings
    rule_ids = sorted({f.rule_id for f in findings})
    rule_index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    notifications = [
        {
            "level": "warning" if e.reason in _INCOMPLETE else "note",
            "message": {"text": f"{e.path}: {e.message}"},
            "descriptor": {"id": e.reason},
            **(
                {
                    "locations": [
                        {"physicalLocation": {"artifactLocation": {"uri": e.path}}}
                    ]
                }
                if e.path != "."
                else {}
            ),
        }
        for e in report.result.errors
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_sarif_rule(rule_id, report) for rule_id in rule_ids],
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The scanned root"}}},
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": [_sarif_result(f, rule_index) for f in findings],
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- JUnit XML ---------------------------------------------------------------------------


def render_junit(report: ScanReport) -> str:
    """One testcase per control in the catalog; each failing finding is a <failure>.

    A control with only below-threshold findings passes but lists them in system-out,
    so the CI's UI shows the same gate decision as the exit code.
    """
    catalog = report.catalog
    threshold = report.fail_on
    per_control: dict[str, list[Finding]] = {cid: [] for cid in catalog.controls}
    for finding in report.result.active_findings:
        for control_id in finding.control_ids:
            per_control.setdefault(control_id, []).append(finding)
    root = ET.Element("testsuites")
    suites: dict[str, ET.Element] = {}
    counts: dict[str, Counter[str]] = {}
    for control_id, findings in per_control.items():
        control = catalog.controls.get(control_id)
        domain = control.domain.value if control else "other"
        suite = suites.get(domain)
        if suite is None:
            suite = suites[domain] = ET.SubElement(root, "testsuite", name=f"qgov.{domain}")
            counts[domain] = Counter()
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"qgov.{domain}",
            name=f"{control_id} {control.title if control else ''}".strip(),
        )
        counts[domain]["tests"] += 1
        blocking = [f for f in findings if threshold is not None and f.severity.at_least(threshold)]
        for finding in blocking:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{finding.rule_id} {finding.path}:{finding.line or 1} {finding.message}",
                type=finding.severity.value,
            )
            failure.text = _finding_text(finding)
        if blocking:
            counts[domain]["failures"] += 1
        below = [f for f in findings if f not in blocking]
        if below:
            ET.SubElement(case, "system-out").text = "\n".join(_finding_text(f) for f in below)
    if report.result.errors:
        suite = ET.SubElement(root, "testsuite", name="qgov.scan-errors")
        counts["scan-errors"] = Counter()
        suites["scan-errors"] = suite
        for error in report.result.errors:
            case = ET.SubElement(suite, "testcase", classname="qgov.scan-errors", name=error.path)
            counts["scan-errors"]["tests"] += 1
            if error.reason in _INCOMPLETE:
                ET.SubElement(case, "error", message=error.message, type=error.reason)
                counts["scan-errors"]["errors"] += 1
            else:
                ET.SubElement(case, "skipped", message=f"{error.reason}: {error.message}")
                counts["scan-errors"]["skipped"] += 1
    for key, suite in suites.items():
        suite.set("tests", str(counts[key]["tests"]))
        suite.set("failures", str(counts[key]["failures"]))
        suite.set("errors", str(counts[key]["errors"]))
        suite.set("skipped", str(counts[key]["skipped"]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _finding_text(finding: Finding) -> str:
    where = f"{finding.path}:{finding.line or 1}"
    if finding.cell is not None:
        where += f" (cell {finding.cell})"
    lines = [f"[{finding.severity.value}] {finding.rule_id} {where}", finding.message]
    if finding.evidence:
        lines.append(f"evidence: {finding.evidence}")
    if finding.remediation:
        lines.append(f"fix: {finding.remediation}")
    return "\n".join(lines)


# --- text --------------------------------------------------------------------------------

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
                for key, ids in finding.frameworks.items()
            )
            lines.append(f"    controls: {controls}" + (f"  |  {mapped}" if mapped else ""))
            if finding.remediation:
                lines.append(f"    fix: {finding.remediation}")
        lines.append("")
    problems = [e for e in result.errors if e.reason not in {"binary"}]
    skipped_binary = sum(1 for e in result.errors if e.reason == "binary")
    if problems:
        lines.append(paint(f"SCAN PROBLEMS ({len(problems)})", _BOLD))
        for error in problems:
            where = f"{error.path}:{error.line}" if error.line else error.path
            lines.append(f"  {error.reason}  {where}: {error.message}")
        lines.append("")
    lines.extend(f"note: {notice}" for notice in result.notices)
    stats = summary(report)
    counts = ", ".join(f"{n} {s}" for s, n in stats["by_severity"].items() if n)
    lines.append(
        f"qgov {__version__}: {stats['files_scanned']} files scanned in "
        f"{result.duration_seconds:.2f}s, {stats['findings']} findings"
        + (f" ({counts})" if counts else "")
        + (f", {stats['suppressed']} suppressed" if stats["suppressed"] else "")
        + (f", {skipped_binary} binary files skipped" if skipped_binary else "")
    )
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
