"""JUnit XML for CI test views (GitLab, Jenkins, Azure DevOps): one testcase per control."""

from __future__ import annotations

from collections import Counter
from xml.etree import ElementTree as ET

from scanner.model import Finding
from scanner.reports.report import INCOMPLETE, ScanReport, accepted_risk


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
    # Accepted risk never fails a testcase, but stays visible in its output.
    accepted: dict[str, list[Finding]] = {}
    for finding in accepted_risk(report):
        for control_id in finding.control_ids:
            accepted.setdefault(control_id, []).append(finding)
            per_control.setdefault(control_id, [])
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
        below = [_finding_text(f) for f in findings if f not in blocking]
        below += [_accepted_text(f) for f in accepted.get(control_id, [])]
        if below:
            ET.SubElement(case, "system-out").text = "\n".join(below)
    if report.result.errors:
        suite = ET.SubElement(root, "testsuite", name="qgov.scan-errors")
        counts["scan-errors"] = Counter()
        suites["scan-errors"] = suite
        for error in report.result.errors:
            case = ET.SubElement(suite, "testcase", classname="qgov.scan-errors", name=error.path)
            counts["scan-errors"]["tests"] += 1
            if error.reason in INCOMPLETE:
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


def _accepted_text(finding: Finding) -> str:
    risk = finding.suppression
    assert risk is not None
    until = f" until {risk.until}" if risk.until else ""
    return f"[accepted risk: exception {risk.id}{until}] {_finding_text(finding)}"
