"""Audit logging: Amazon Braket use without a CloudTrail trail in the module, Azure Quantum
workspaces without diagnostic settings, trails without log file validation and the buckets
they write to without object lock (tamper evidence), and log retention shorter than policy
(CloudWatch log groups, Log Analytics workspaces, diagnostic settings). Rule metadata:
``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from scanner.detectors.iac_common import Located, iac_issue, truthy
from scanner.detectors.terraform.module import (
    Module,
    at,
    braket_bucket,
    bucket_name,
    nested,
    unknown,
)
from scanner.detectors.terraform.policies import identity_policies, trusts_braket
from scanner.formats.hcl import Block, references, text_of
from scanner.model import Issue, Severity


def issues(m: Module) -> Iterator[Issue]:
    yield from _audit_trail(m)
    yield from _tamper_evidence(m)
    yield from _retention(m)


def braket_markers(m: Module) -> dict[str, tuple[int, str]]:
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
        for file, (line, what) in sorted(braket_markers(m).items()):
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


def _tamper_evidence(m: Module) -> Iterator[Issue]:
    """LOG-02: a trail's log files can be checked for changes (log file validation) and the
    bucket it writes to keeps them from being deleted or overwritten (object lock with a
    default retention; CloudTrail sets no retention on what it writes)."""
    buckets = {bucket.address: bucket for bucket in m.of("aws_s3_bucket")}
    by_name = {bucket_name(bucket): bucket for bucket in buckets.values() if bucket_name(bucket)}
    audit_buckets: dict[str, tuple[Block, Block]] = {}
    for trail in m.of("aws_cloudtrail"):
        validation = trail.get("enable_log_file_validation")
        if not truthy(validation) and not unknown(validation):
            state = "is false" if validation is not None else "is not set (default false)"
            yield iac_issue(
                "QG-IAC-022", at(trail, "enable_log_file_validation"),
                f"{trail.address}: enable_log_file_validation {state}, so a log file changed "
                "or deleted after delivery goes unnoticed",
                f"{trail.address}:log-file-validation",
            )
        target = trail.get("s3_bucket_name")
        found = [buckets[a] for a in sorted(references(target)) if a in buckets]
        if isinstance(target, str) and target in by_name:
            found.append(by_name[target])
        for bucket in found:
            audit_buckets.setdefault(bucket.address, (bucket, trail))
    for bucket, trail in audit_buckets.values():
        yield from _object_lock(m, bucket, trail)


def _object_lock(m: Module, bucket: Block, trail: Block) -> Iterator[Issue]:
    enabled = truthy(bucket.get("object_lock_enabled")) or unknown(
        bucket.get("object_lock_enabled"))
    retention = False
    configs = [*nested(bucket, "object_lock_configuration"),
               *m.linked("aws_s3_bucket_object_lock_configuration", "bucket", bucket)]
    for config in configs:
        if text_of(config.get("object_lock_enabled", "Enabled")) == "Enabled":
            enabled = True
        retention = retention or any(
            nested(rule, "default_retention") for rule in nested(config, "rule")
        )
    if not enabled:
        yield iac_issue(
            "QG-IAC-023", at(bucket),
            f"{bucket.address} receives the audit trail of {trail.address} but has no object "
            "lock, so anyone allowed to delete or overwrite objects can erase the record",
            f"{bucket.address}:object-lock",
        )
    elif not retention:
        yield iac_issue(
            "QG-IAC-023", at(bucket),
            f"{bucket.address} receives the audit trail of {trail.address} and has object lock "
            "on, but no default retention rule, so the log files CloudTrail writes are not "
            "locked",
            f"{bucket.address}:object-lock-retention", Severity.LOW,
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
