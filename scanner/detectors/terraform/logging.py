"""Audit logging: Amazon Braket use without a CloudTrail trail in the module, Azure Quantum
workspaces without diagnostic settings, and log retention shorter than policy (CloudWatch
log groups, Log Analytics workspaces, diagnostic settings). Rule metadata:
``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from scanner.detectors.iac_common import Located, iac_issue, truthy
from scanner.detectors.terraform.module import Module, at, braket_bucket
from scanner.detectors.terraform.policies import identity_policies, trusts_braket
from scanner.formats.hcl import Block, references
from scanner.model import Issue, Severity


def issues(m: Module) -> Iterator[Issue]:
    yield from _audit_trail(m)
    yield from _retention(m)


def _braket_markers(m: Module) -> dict[str, tuple[int, str]]:
    """First Amazon Braket marker per file: (line, what)."""
    markers: dict[str, tuple[int, str]] = {}

    def note(block: Block, what: str) -> None:
        current = markers.get(block.file)
        if current is None or block.line < current[0]:
            markers[block.file] = (block.line, what)

    for bucket in m.of("aws_s3_bucket"):
        if braket_bucket(bucket):
            note(bucket, f"Braket result bucket {bucket.address}")
    for role in m.of("aws_iam_role"):
        if trusts_braket(m, role):
            note(role, f"Braket job role {role.address}")
    for block, statements in identity_policies(m):
        if any(a.startswith("braket:") for s in statements for a in s.actions):
            note(block, f"Braket permissions in {block.address}")
    return markers


def _audit_trail(m: Module) -> Iterator[Issue]:
    if not m.of("aws_cloudtrail"):
        # Once per file that uses Braket, at its first use.
        for file, (line, what) in sorted(_braket_markers(m).items()):
            yield iac_issue(
                "QG-IAC-013", Located(file, line),
                f"{what} is defined but this module has no aws_cloudtrail: Braket API calls "
                "(CreateQuantumTask, job submissions) are only kept 90 days in event history",
                f"{posixpath.basename(file)}:no-cloudtrail",
            )
    settings = m.of("azurerm_monitor_diagnostic_setting")
    for workspace, _properties in m.quantum_workspaces:
        covered = any(
            workspace.address in references(s.get("target_resource_id")) for s in settings
        )
        if not covered:
            yield iac_issue(
                "QG-IAC-013", at(workspace),
                f"Azure Quantum workspace {workspace.address} has no "
                "azurerm_monitor_diagnostic_setting sending its logs to a retained store",
                f"{workspace.address}:no-diagnostics",
            )


def _retention(m: Module) -> Iterator[Issue]:
    for group in m.of("aws_cloudwatch_log_group"):
        days = group.get("retention_in_days")
        if days is None:
            yield iac_issue(
                "QG-IAC-014", at(group),
                f"{group.address} declares no retention_in_days (kept forever, outside any "
                "stated retention policy)",
                f"{group.address}:retention:unset", Severity.LOW,
            )
        elif isinstance(days, int) and 0 < days < 90:
            yield iac_issue(
                "QG-IAC-014", at(group, "retention_in_days"),
                f"{group.address} keeps logs only {days} days (policy minimum 90)",
                f"{group.address}:retention:{days}",
            )
    for workspace in m.of("azurerm_log_analytics_workspace"):
        days = workspace.get("retention_in_days")
        if days is None or (isinstance(days, int) and days < 90):
            shown = "is not set (default 30 days)" if days is None else f"is {days} days"
            yield iac_issue(
                "QG-IAC-014", at(workspace, "retention_in_days"),
                f"{workspace.address}: retention_in_days {shown} (policy minimum 90)",
                f"{workspace.address}:retention:{days}",
            )
    for setting in m.of("azurerm_monitor_diagnostic_setting"):
        for block in setting.walk():
            if block.type != "retention_policy" or not truthy(block.get("enabled")):
                continue
            days = block.get("days")
            if isinstance(days, int) and 0 < days < 90:
                yield iac_issue(
                    "QG-IAC-014", at(block, "days"),
                    f"{setting.address} keeps diagnostic logs only {days} days "
                    "(policy minimum 90)",
                    f"{setting.address}:retention:{days}",
                )
