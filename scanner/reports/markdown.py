"""A Markdown summary for a pull-request comment or GitHub's job summary
(``$GITHUB_STEP_SUMMARY``): the gate, counts by severity, the worst findings in a table,
and scan problems.

Everything taken from the scanned tree (paths, messages, evidence) goes into code spans, so
a file name or message cannot add links, images, mentions or HTML to the page; table cells
escape ``|``. Evidence is the masked form, as everywhere. The tables are capped, so a PR
comment stays far below GitHub's 65,536-character limit.
"""

from __future__ import annotations

import re

from scanner.model import Finding, ScanError, Severity
from scanner.reports.report import (
    SKIPPED_BY_DESIGN,
    TOOL_VERSION,
    ScanReport,
    gate,
    shown_findings,
    skipped_count,
    summary,
)

TOP_FINDINGS = 25
TOP_PROBLEMS = 10
_CELL_CHARS = 240


def render_markdown(report: ScanReport) -> str:
    result = report.result
    stats = summary(report)
    decision = gate(report)
    lines = [f"## qgov: {_verdict(report)}", ""]
    lines.append(
        f"qgov {TOOL_VERSION} scanned {result.files_scanned} files "
        f"({result.files_excluded} excluded, {skipped_count(result)} skipped) in "
        f"{result.duration_seconds:.1f} s: {stats['findings']} findings"
        + (f", {stats['suppressed']} suppressed" if stats["suppressed"] else "")
        + "."
    )
    if result.files_scanned == 0:
        lines += ["", "> **Warning:** no files were scanned; check `.gitignore`, `.qgovignore`, "
                  "`exclude` and `--skip-path`."]
    lines += ["", "| severity | findings |", "|---|---:|"]
    lines += [f"| {sev} | {count} |" for sev, count in stats["by_severity"].items()]
    shown = shown_findings(report)
    if shown:
        lines += ["", _top_heading(len(shown), stats["findings"], report), ""]
        lines += ["| severity | rule | where | finding |", "|---|---|---|---|"]
        lines += [_finding_row(f) for f in shown[:TOP_FINDINGS]]
        if len(shown) > TOP_FINDINGS:
            lines += ["", f"{len(shown) - TOP_FINDINGS} more in the full report (SARIF, JSON "
                      "or text)."]
    problems = [e for e in result.errors if e.reason not in SKIPPED_BY_DESIGN]
    if problems:
        lines += ["", f"### Scan problems ({len(problems)})", ""]
        lines += [_problem_line(e) for e in problems[:TOP_PROBLEMS]]
        if len(problems) > TOP_PROBLEMS:
            lines.append(f"- … and {len(problems) - TOP_PROBLEMS} more")
    if result.notices:
        lines += ["", "### Notes", ""]
        lines += [f"- {code_span(n, table=False)}" for n in result.notices]
    if decision.failed and report.fail_on is not None and decision.findings:
        lines += ["", f"The gate fails on findings at or above **{report.fail_on.value}**; "
                  "accept known ones with a baseline (`qgov baseline update`) or an inline "
                  "`qgov:ignore` with a reason."]
    return "\n".join(lines) + "\n"


def _verdict(report: ScanReport) -> str:
    decision = gate(report)
    if report.fail_on is None and not report.strict:
        return "gate disabled (`--fail-on none`)"
    reasons = []
    if decision.findings:
        assert report.fail_on is not None
        reasons.append(f"{len(decision.findings)} finding(s) at or above {report.fail_on.value}")
    if decision.errors:
        reasons.append(f"{len(decision.errors)} scan error(s) under `--strict`")
    if decision.empty:
        reasons.append("no files scanned under `--strict`")
    if reasons:
        return "❌ gate failed: " + "; ".join(reasons)
    threshold = f" at or above {report.fail_on.value}" if report.fail_on else ""
    return f"✅ gate passed: no findings{threshold}" if threshold else "✅ gate passed"


def _top_heading(shown: int, total: int, report: ScanReport) -> str:
    floor = f" at or above {report.min_severity.value}" if report.min_severity else ""
    listed = min(shown, TOP_FINDINGS)
    return f"### Top findings{floor} ({listed} of {total}, worst first)"


def _finding_row(finding: Finding) -> str:
    where = f"{finding.path}:{finding.line or 1}"
    if finding.cell is not None:
        where += f" (cell {finding.cell})"
    text = finding.message
    if finding.evidence:
        text += f" — evidence: {finding.evidence}"
    return (f"| {_severity(finding.severity)} | {code_span(finding.rule_id)} | "
            f"{code_span(where)} | {code_span(text)} |")


def _problem_line(error: ScanError) -> str:
    where = f"{error.path}:{error.line}" if error.line else error.path
    return (f"- {error.reason} {code_span(where, table=False)}: "
            f"{code_span(error.message, table=False)}")


def _severity(severity: Severity) -> str:
    return f"**{severity.value}**" if severity.at_least(Severity.HIGH) else severity.value


def code_span(text: str, *, table: bool = True, limit: int | None = _CELL_CHARS) -> str:
    """``text`` as one code span: no Markdown or HTML inside it is interpreted (also used
    for the OSCAL report's Markdown fields). Whitespace runs become one space; past
    ``limit`` characters the text is cut with an ellipsis."""
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    if table:
        # GitHub splits table cells on '|' before it reads code spans.
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"
