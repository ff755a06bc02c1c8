"""Audit logging: CloudTrail where the template defines Amazon Braket resources, log file
validation and object lock on the trail's bucket (LOG-02), and log group retention."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.detectors import aws_policy as policy
from scanner.detectors.cloudformation.template import Template
from scanner.detectors.iac_common import Located, as_int, iac_issue, truthy
from scanner.formats.cloudformation import properties, refs
from scanner.model import Issue, Severity


def issues(t: Template) -> Iterator[Issue]:
    yield from _trail(t)
    yield from _tamper_evidence(t)
    yield from _retention(t)


def _trail(t: Template) -> Iterator[Issue]:
    if t.of("AWS::CloudTrail::Trail"):
        return
    marker = t.braket_marker()
    if marker is not None:
        line, what = marker
        yield iac_issue(
            "QG-IAC-013", Located("", line),
            f"{what} is defined but the template has no AWS::CloudTrail::Trail: Braket API "
            "calls are only kept 90 days in event history",
            "template:no-cloudtrail",
        )


def _tamper_evidence(t: Template) -> Iterator[Issue]:
    """LOG-02: trails with log file validation, writing to buckets with object lock and a
    default retention (CloudTrail sets no retention on what it writes)."""
    audit_buckets: dict[str, str] = {}
    for logical_id, props in t.of("AWS::CloudTrail::Trail"):
        validation = props.get("EnableLogFileValidation")
        if not truthy(validation) and not policy.is_intrinsic(validation):
            state = "is false" if validation is not None else "is not set (default false)"
            place = t.at(logical_id, "Properties", "EnableLogFileValidation") if (
                validation is not None) else t.at(logical_id)
            yield iac_issue(
                "QG-IAC-022", place,
                f"Trail {logical_id}: EnableLogFileValidation {state}, so a log file "
                "changed or deleted after delivery goes unnoticed",
                f"{logical_id}:log-file-validation",
            )
        for bucket in sorted(refs(props.get("S3BucketName"))):
            if t.resources.get(bucket, {}).get("Type") == "AWS::S3::Bucket":
                audit_buckets.setdefault(bucket, logical_id)
    for bucket, trail in audit_buckets.items():
        props = properties(t.resources[bucket])
        enabled = props.get("ObjectLockEnabled")
        if policy.is_intrinsic(enabled):
            continue
        config = props.get("ObjectLockConfiguration")
        rule = config.get("Rule") if isinstance(config, dict) else None
        retention = isinstance(rule, dict) and "DefaultRetention" in rule
        if not truthy(enabled):
            yield iac_issue(
                "QG-IAC-023", t.at(bucket),
                f"{bucket} (AWS::S3::Bucket) receives the audit trail of {trail} but has no "
                "object lock, so anyone allowed to delete or overwrite objects can erase "
                "the record",
                f"{bucket}:object-lock",
            )
        elif not retention:
            yield iac_issue(
                "QG-IAC-023", t.at(bucket, "Properties", "ObjectLockEnabled"),
                f"{bucket} (AWS::S3::Bucket) receives the audit trail of {trail} and has "
                "object lock on, but no default retention rule, so the log files "
                "CloudTrail writes are not locked",
                f"{bucket}:object-lock-retention", Severity.LOW,
            )


def _retention(t: Template) -> Iterator[Issue]:
    for logical_id, props in t.of("AWS::Logs::LogGroup"):
        days = as_int(props.get("RetentionInDays"))
        if "RetentionInDays" not in props:
            yield iac_issue(
                "QG-IAC-014", t.at(logical_id),
                f"Log group {logical_id} declares no RetentionInDays (kept forever, outside "
                "any stated retention policy)",
                f"{logical_id}:retention:unset", Severity.LOW,
            )
        elif days is not None and 0 < days < 90:
            yield iac_issue(
                "QG-IAC-014", t.at(logical_id, "Properties", "RetentionInDays"),
                f"Log group {logical_id} keeps logs only {days} days (policy minimum 90)",
                f"{logical_id}:retention:{days}",
            )
