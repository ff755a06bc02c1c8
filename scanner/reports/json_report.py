"""The JSON contract: ``{"tool", "format_version", "scan", "roots", "findings", "scan_errors",
"notices", "inventory", "controls", "frameworks", "evidence", "coverage", "summary"}``."""

from __future__ import annotations

import json
from typing import Any

from scanner.model import Finding
from scanner.reports.report import (
    JSON_FORMAT_VERSION,
    TOOL_NAME,
    TOOL_VERSION,
    ScanReport,
    error_dict,
    finding_dict,
    inventory_dict,
    status_sections,
    summary,
)


def render_json(report: ScanReport) -> str:
    document = {
        "tool": {"name": TOOL_NAME, "version": TOOL_VERSION},
        "format_version": JSON_FORMAT_VERSION,
        "scan": report.scan.model_dump(mode="json") if report.scan else None,
        "roots": list(report.result.roots),
        "findings": [_finding(f) for f in report.result.findings],
        "scan_errors": [error_dict(e) for e in report.result.errors],
        "notices": list(report.result.notices),
        "inventory": inventory_dict(report.result.inventory),
        **status_sections(report),
        "summary": summary(report),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _finding(finding: Finding) -> dict[str, Any]:
    data = finding_dict(finding)
    if finding.history is not None:  # `qgov scan --history`: where in git the blob came from
        data["history"] = finding.history.model_dump(mode="json")
    return data
