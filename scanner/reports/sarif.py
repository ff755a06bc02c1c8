"""SARIF 2.1.0, as GitHub code scanning and other consumers read it (rules with help text,
tags, ``security-severity`` and ``helpUri``; results with relative locations, fingerprints,
and their own level and ``security-severity``, since the tier may raise or lower a finding
above or below its rule's default).

GitHub takes at most 25,000 results per run: past that the most severe are kept (open
findings before suppressed ones) and a tool notification says how many were left out."""

from __future__ import annotations

import json
from typing import Any

from scanner.catalog import Catalog
from scanner.model import Finding, Severity, Suppression, SuppressionKind
from scanner.reports.report import (
    INCOMPLETE,
    TOOL_NAME,
    TOOL_VERSION,
    ScanReport,
    inventory_dict,
)

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub code scanning's limit on results in one run.
MAX_RESULTS = 25_000

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
    help_uri = report.docs.rule_uri(rule.id) if report.docs else None
    return {
        "id": rule.id,
        **({"helpUri": help_uri} if help_uri else {}),
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


def _sarif_result(
    finding: Finding, rule_index: dict[str, int], catalog: Catalog
) -> dict[str, Any]:
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
    rule = catalog.rule(finding.rule_id)
    default = catalog.rule_severity(rule) if rule is not None else finding.severity
    if finding.severity is not default:
        # GitHub ranks by the rule's security-severity; say it where a reader sees it.
        message += f" [severity {finding.severity.value}; the rule's default is {default.value}]"
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
            "security-severity": _SECURITY_SEVERITY[finding.severity],
            "controls": list(finding.control_ids),
            "frameworks": finding.framework_map,
            **({"notebookCell": finding.cell} if finding.cell is not None else {}),
        },
    }
    if finding.suppression is not None:
        result["suppressions"] = [_sarif_suppression(finding.suppression)]
    return result


def _sarif_suppression(suppression: Suppression) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": "inSource" if suppression.kind is SuppressionKind.INLINE else "external",
        "justification": suppression.reason or "",
    }
    if suppression.kind is SuppressionKind.EXCEPTION:
        # Accepted risk from the exceptions register: which entry, whose, until when.
        entry["status"] = "accepted"
        entry["justification"] = (
            f"exception {suppression.id}: {suppression.reason}"
            + (f" (until {suppression.until})" if suppression.until else "")
        )
    extra = {
        key: value
        for key, value in (
            ("qgovSuppression", suppression.kind.value),
            ("exceptionId", suppression.id),
            ("owner", suppression.owner),
            ("expires", suppression.until),
        )
        if value is not None
    }
    entry["properties"] = extra
    return entry


def capped_findings(report: ScanReport) -> tuple[list[Finding], int]:
    """The findings SARIF carries (at most ``MAX_RESULTS``, the worst first, open before
    suppressed) and how many were left out."""
    ordered = sorted(report.result.findings, key=lambda f: (f.suppressed, -f.severity.rank))
    return ordered[:MAX_RESULTS], max(0, len(ordered) - MAX_RESULTS)


def _controls(report: ScanReport) -> dict[str, Any]:
    status = report.compliance
    return {
        "summary": status.counts(),
        "controls": [
            {"id": r.control.id, "status": r.status.value, "reason": r.reason}
            for r in status.controls
        ],
        "frameworks": {matrix.key: matrix.counts() for matrix in status.frameworks},
    }


def render_sarif(report: ScanReport) -> str:
    findings, dropped = capped_findings(report)
    rule_ids = sorted({f.rule_id for f in findings})
    rule_index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    notifications = [
        {
            "level": "warning" if e.reason in INCOMPLETE else "note",
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
    if dropped:
        notifications.insert(0, {
            "level": "warning",
            "message": {
                "text": f"{dropped} of {len(report.result.findings)} results left out: GitHub "
                f"code scanning takes at most {MAX_RESULTS:,} per run; the most severe are kept"
            },
            "descriptor": {"id": "results-capped"},
        })
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": TOOL_VERSION,
                "semanticVersion": TOOL_VERSION,
                **({"informationUri": report.docs.information_uri} if report.docs else {}),
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
        "results": [_sarif_result(f, rule_index, report.catalog) for f in findings],
        # Neither the provider inventory nor control status has a SARIF construct of its
        # own; property bags keep them (results stay one per finding).
        "properties": {
            "qgovInventory": inventory_dict(report.result.inventory),
            "qgovControls": _controls(report),
        },
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
