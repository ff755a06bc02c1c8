"""GitLab Code Quality (a subset of the Code Climate format) for ``artifacts:reports:
codequality``: a JSON array of issues with ``description``, ``check_name``, ``fingerprint``,
``severity`` (info, minor, major, critical, blocker) and ``location.path`` with
``location.lines.begin``. GitLab shows them in the merge request, new and resolved ones
compared with the target branch by fingerprint.

Only open findings are issues (suppressed and baselined ones are accepted risk). The
fingerprint is qgov's own (no line numbers, so moving code does not make an issue "new");
GitLab keeps one issue per fingerprint, so a second finding with the same fingerprint in a
file gets its occurrence number hashed in.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from scanner.model import Finding, Severity
from scanner.reports.report import ScanReport

_SEVERITY = {
    Severity.INFO: "info",
    Severity.LOW: "minor",
    Severity.MEDIUM: "major",
    Severity.HIGH: "critical",
    Severity.CRITICAL: "blocker",
}


def render_codequality(report: ScanReport) -> str:
    seen: Counter[str] = Counter()
    issues = []
    for finding in report.result.active_findings:
        seen[finding.fingerprint] += 1
        issues.append(_issue(finding, seen[finding.fingerprint]))
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _issue(finding: Finding, occurrence: int) -> dict[str, Any]:
    fingerprint = finding.fingerprint
    if occurrence > 1:
        fingerprint = hashlib.sha256(f"{fingerprint}#{occurrence}".encode()).hexdigest()[:32]
    description = f"{finding.rule_id} {finding.message}"
    if finding.cell is not None and f"cell {finding.cell}" not in description:
        description += f" (notebook cell {finding.cell})"
    if finding.evidence:
        description += f" — evidence: {finding.evidence}"
    return {
        "type": "issue",
        "description": description,
        "check_name": finding.rule_id,
        "fingerprint": fingerprint,
        "severity": _SEVERITY[finding.severity],
        "categories": ["Security"],
        "location": {"path": finding.path, "lines": {"begin": finding.line or 1}},
    }
