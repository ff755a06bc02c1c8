"""JUnit XML for CI test views (GitLab, Jenkins, Azure DevOps): one suite per control, one
test case per finding.

Shape, and why:
- ``<testsuite name="SEC-01 No hard-coded credentials …">`` per catalog control, and every
  case in it has ``classname="qgov.<domain>.<control id>"``. GitLab lists cases with their
  classname as the suite column, Jenkins builds its package/class tree from the classname
  (domain, then control), Azure DevOps groups by test suite; each of them therefore shows
  the findings under the control they break.
- A finding at or above the fail-on threshold is a ``<failure>``; below it, or suppressed
  (exception, baseline, inline directive), the case passes and says why in ``system-out``,
  so the test view agrees with the exit code. Case names are ``rule path [fingerprint]``:
  stable across line moves, so GitLab's "new failures" compare across runs.
- A control without findings: one case. ``no findings`` (passing, its rules ran), the
  self-test checks (``control test <check>``, failed ones as failures), ``attested``, or a
  ``<skipped>`` case whose message is the reason it was not assessed or does not apply. A
  control no rule checked is never reported as passed.
- At most ``MAX_CASES_PER_CONTROL`` cases per control (failures first); the rest fold into
  one summary case that fails if any of them would have, keeping a report of thousands of
  findings far below GitLab's 30 MB limit. The JSON and SARIF reports hold every finding.
- ``<testsuites>`` carries no attributes and timestamps no timezone, for strict parsers.
"""

from __future__ import annotations

from collections import Counter
from xml.etree import ElementTree as ET

from scanner.clock import report_time
from scanner.model import Finding, Severity, SuppressionKind
from scanner.reports.report import INCOMPLETE, ScanReport
from scanner.status.controls import ControlResult
from scanner.status.statuses import ControlStatus

MAX_CASES_PER_CONTROL = 200

_SKIPPED = {ControlStatus.NOT_ASSESSED: "not assessed", ControlStatus.NOT_APPLICABLE:
            "not applicable"}


def render_junit(report: ScanReport) -> str:
    root = ET.Element("testsuites")
    stamp = _timestamp()
    for result in report.compliance.controls:
        _control_suite(root, result, report.fail_on, stamp)
    if report.result.errors:
        suite = _suite(root, "qgov scan errors", stamp)
        counts: Counter[str] = Counter()
        for error in report.result.errors:
            case = ET.SubElement(suite, "testcase", classname="qgov.scan-errors", name=error.path)
            counts["tests"] += 1
            if error.reason in INCOMPLETE:
                ET.SubElement(case, "error", message=error.message, type=error.reason)
                counts["errors"] += 1
            else:
                ET.SubElement(case, "skipped", message=f"{error.reason}: {error.message}")
                counts["skipped"] += 1
        _count(suite, counts)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _control_suite(
    root: ET.Element, result: ControlResult, threshold: Severity | None, stamp: str
) -> None:
    control = result.control
    suite = _suite(root, f"{control.id} {control.title}", stamp)
    properties = ET.SubElement(suite, "properties")
    for name, value in (("qgov.status", result.status.value), ("qgov.reason", result.reason),
                        ("qgov.verification", control.verification.value)):
        ET.SubElement(properties, "property", name=name, value=value)
    classname = f"qgov.{control.domain.value}.{control.id}"
    counts: Counter[str] = Counter()

    def case(name: str) -> ET.Element:
        counts["tests"] += 1
        return ET.SubElement(suite, "testcase", classname=classname, name=name)

    def blocking(finding: Finding) -> bool:
        return (not finding.suppressed and threshold is not None
                and finding.severity.at_least(threshold))

    ordered = sorted(
        result.findings,
        key=lambda f: (not blocking(f), f.suppressed, -f.severity.rank, f.path, f.line or 0),
    )
    shown = ordered if len(ordered) <= MAX_CASES_PER_CONTROL else \
        ordered[:MAX_CASES_PER_CONTROL - 1]
    for finding in shown:
        element = case(f"{finding.rule_id} {_where(finding)} [{finding.fingerprint[:8]}]")
        if blocking(finding):
            failure = ET.SubElement(element, "failure", message=_headline(finding),
                                    type=finding.severity.value)
            failure.text = _finding_text(finding)
            counts["failures"] += 1
        else:
            ET.SubElement(element, "system-out").text = (
                f"{_why_passed(finding, threshold)}\n{_finding_text(finding)}"
            )
    rest = ordered[len(shown):]
    if rest:
        failing = sum(1 for f in rest if blocking(f))
        element = case(f"{len(rest)} more findings")
        text = (f"{len(rest)} further findings of {control.id} are not listed one by one here "
                "(JUnit is capped per control); the JSON and SARIF reports list them all.")
        if failing:
            ET.SubElement(element, "failure", type="capped",
                          message=f"{failing} of them at or above the fail-on threshold"
                          ).text = text
            counts["failures"] += 1
        else:
            ET.SubElement(element, "system-out").text = text
    for check in result.checks:
        element = case(f"control test {check.id}")
        if check.status == "fail":
            ET.SubElement(element, "failure", type="control-test",
                          message=f"self-test check {check.id} failed").text = check.detail
            counts["failures"] += 1
        else:
            ET.SubElement(element, "system-out").text = f"{check.title}: passed"
    if not result.findings and not result.checks:
        if result.status in _SKIPPED:
            ET.SubElement(case(_SKIPPED[result.status]), "skipped", message=result.reason)
            counts["skipped"] += 1
        else:
            name = "attested" if result.status is ControlStatus.ATTESTED else "no findings"
            ET.SubElement(case(name), "system-out").text = result.reason
    _count(suite, counts)


def _suite(root: ET.Element, name: str, stamp: str) -> ET.Element:
    return ET.SubElement(root, "testsuite", name=name, timestamp=stamp, time="0")


def _count(suite: ET.Element, counts: Counter[str]) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        suite.set(key, str(counts[key]))


def _timestamp() -> str:
    """The report time in UTC without a timezone suffix (strict JUnit parsers)."""
    return report_time().replace(tzinfo=None).isoformat()


def _where(finding: Finding) -> str:
    return finding.path + (f" cell {finding.cell}" if finding.cell is not None else "")


def _headline(finding: Finding) -> str:
    return f"{finding.rule_id} {finding.path}:{finding.line or 1} {finding.message}"


def _why_passed(finding: Finding, threshold: Severity | None) -> str:
    risk = finding.suppression
    if risk is None:
        limit = threshold.value if threshold else "none (--fail-on none)"
        return f"passed: {finding.severity.value} is below the fail-on threshold ({limit})"
    until = f" until {risk.until}" if risk.until else ""
    if risk.kind is SuppressionKind.EXCEPTION:
        owner = f", risk owner {risk.owner}" if risk.owner else ""
        return f"accepted risk: exception {risk.id}{until}{owner}: {risk.reason or ''}"
    how = "baseline entry" if risk.kind is SuppressionKind.BASELINE else "inline qgov:ignore"
    reason = f": {risk.reason}" if risk.reason else ""
    return f"suppressed by {how}{until}{reason}"


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
