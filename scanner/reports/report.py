"""What every scan formatter receives, and the pieces several of them share.

A formatter is a pure ``render(report) -> str``; the CLI owns files and exit codes. It
receives only the ``ScanReport`` (the result plus the catalog entries it needs), never the
engine. Evidence in every format is the masked form ``scanner.findings`` produced.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from scanner import __version__
from scanner.catalog import Catalog
from scanner.model import Finding, Inventory, ScanError, ScanResult, Severity, SuppressionKind
from scanner.reports.docs import RuleDocs
from scanner.scan_info import ScanInfo
from scanner.status.controls import ComplianceStatus, compute_status

TOOL_NAME = "qgov"
TOOL_VERSION = __version__
# The JSON contract's own version: a reader accepts its major version and ignores fields a
# later minor version adds (scanner.reports.json_load).
JSON_FORMAT_VERSION = "1.0"

# Scan errors that mean a file was not (fully) examined, as opposed to skipped by design.
INCOMPLETE = frozenset({"parse-error", "unreadable", "engine-error", "detector-error"})
# Files left out on purpose (never followed or never text): listed, but no reason to fail
# --strict. Every other scan error means something was not examined and fails it.
SKIPPED_BY_DESIGN = frozenset({"binary", "not-a-file", "symlink-loop", "symlink-outside-root"})
# What the summary counts as "skipped": files the walk or the reader declined.
SKIPPED = SKIPPED_BY_DESIGN | {"too-large", "unreadable"}


@dataclass(frozen=True)
class ScanReport:
    result: ScanResult
    catalog: Catalog
    fail_on: Severity | None  # None: never fail on findings
    color: bool = False
    # --strict: scan errors (other than files skipped by design) and an empty scan fail too.
    strict: bool = False
    # --severity: what the readable views (text, Markdown) list; the gate ignores it.
    min_severity: Severity | None = None
    # Where the rule pages are published (SARIF helpUri, informationUri).
    docs: RuleDocs | None = None
    # Control statuses with the attestations and self-test evidence the command was given;
    # None: worked out from the scan alone.
    status: ComplianceStatus | None = None
    # Targets, commit, time, tool, catalog and effective config (the JSON ``scan`` section);
    # None: not recorded (a result made without a command line, as in tests).
    scan: ScanInfo | None = None

    @cached_property
    def compliance(self) -> ComplianceStatus:
        return self.status or compute_status(self.result, self.catalog)


@dataclass(frozen=True)
class Gate:
    """The gate decision: findings at or above ``fail_on``; under ``--strict`` also scan
    errors and a scan of zero files."""

    findings: tuple[Finding, ...]
    errors: tuple[ScanError, ...]
    empty: bool

    @property
    def failed(self) -> bool:
        return bool(self.findings or self.errors or self.empty)


def failing(report: ScanReport) -> list[Finding]:
    if report.fail_on is None:
        return []
    threshold = report.fail_on
    return [f for f in report.result.active_findings if f.severity.at_least(threshold)]


def gate(report: ScanReport) -> Gate:
    result = report.result
    return Gate(
        findings=tuple(failing(report)),
        errors=tuple(e for e in result.errors if e.reason not in SKIPPED_BY_DESIGN)
        if report.strict
        else (),
        empty=report.strict and result.files_scanned == 0,
    )


def shown_findings(report: ScanReport) -> list[Finding]:
    """Active findings at or above ``--severity`` (the readable views list these)."""
    floor = report.min_severity
    active = report.result.active_findings
    return list(active) if floor is None else [f for f in active if f.severity.at_least(floor)]


def skipped_count(result: ScanResult) -> int:
    return sum(1 for e in result.errors if e.reason in SKIPPED)


def accepted_risk(report: ScanReport) -> list[Finding]:
    """Findings an exception in the register turned into accepted risk."""
    return [
        f for f in report.result.findings
        if f.suppression is not None and f.suppression.kind is SuppressionKind.EXCEPTION
    ]


def summary(report: ScanReport) -> dict[str, Any]:
    result = report.result
    active = result.active_findings
    by_severity = Counter(f.severity.value for f in active)
    return {
        "files_scanned": result.files_scanned,
        "files_excluded": result.files_excluded,
        "files_skipped": skipped_count(result),
        "findings": len(active),
        # Every finding not counted above; `accepted_risk` of them by an exception.
        "suppressed": len(result.findings) - len(active),
        "accepted_risk": len(accepted_risk(report)),
        "by_severity": {s.value: by_severity.get(s.value, 0) for s in Severity},
        "scan_errors": len(result.errors),
        # Controls by status (scanner.status): a control whose rules did not run is counted
        # as not assessed, never as passing.
        "controls": report.compliance.counts(),
        "fail_on": report.fail_on.value if report.fail_on else "none",
        "strict": report.strict,
        "failed": gate(report).failed,
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
        "frameworks": finding.framework_map,
        "engine": finding.engine,
        "suppressed": finding.suppressed,
    }
    if finding.suppression is not None:
        data["suppression"] = finding.suppression.model_dump(mode="json")
    return data


def error_dict(error: ScanError) -> dict[str, Any]:
    return {"type": "scan-error", **error.model_dump(mode="json")}


def inventory_dict(inventory: Inventory) -> dict[str, Any]:
    """The ``inventory`` object of the JSON contract (SARIF carries it in run properties)."""
    return inventory.model_dump(mode="json")


def status_sections(report: ScanReport) -> dict[str, Any]:
    """``controls``, ``frameworks``, ``evidence`` and ``coverage`` of the JSON contract: each
    control's status with its reason, every framework requirement with its roll-up, the
    attestations and self-test evidence relied on (with SHA-256), and what the scan ran."""
    status = report.compliance
    coverage = report.result.coverage
    return {
        "controls": [result.to_json(status.today) for result in status.controls],
        "frameworks": [matrix.to_json() for matrix in status.frameworks],
        "evidence": {
            "attestations": status.attestations.to_json(status.today)
            if status.attestations else None,
            "selftest": status.selftest.to_json() if status.selftest else None,
            "problems": list(status.notes),
        },
        "coverage": coverage.model_dump(mode="json") if coverage else None,
    }
