"""Databases, volumes and search domains stored unencrypted (QG-IAC-001)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import expression_text
from scanner.detectors.cloudformation.template import Template
from scanner.detectors.iac_common import iac_issue, tier_from_tags, truthy
from scanner.model import Issue, Severity

# Resources that store data unencrypted unless told otherwise: (type, what it is, the flag,
# properties that make it inherit its encryption from a source).
_UNENCRYPTED_BY_DEFAULT = (
    ("AWS::RDS::DBInstance", "RDS database", "StorageEncrypted",
     ("SourceDBInstanceIdentifier", "DBSnapshotIdentifier", "DBClusterIdentifier",
      "SourceDBInstanceAutomatedBackupsArn", "SourceDbiResourceId")),
    ("AWS::RDS::DBCluster", "Aurora/RDS cluster", "StorageEncrypted",
     ("SnapshotIdentifier", "SourceDBClusterIdentifier", "ReplicationSourceIdentifier",
      "GlobalClusterIdentifier")),
    ("AWS::Neptune::DBCluster", "Neptune cluster", "StorageEncrypted",
     ("SnapshotIdentifier", "SourceDBClusterIdentifier")),
    ("AWS::DocDB::DBCluster", "DocumentDB cluster", "StorageEncrypted",
     ("SnapshotIdentifier", "SourceDBClusterIdentifier")),
    ("AWS::EC2::Volume", "EBS volume", "Encrypted", ("SnapshotId",)),
)


def issues(t: Template) -> Iterator[Issue]:
    """Databases, volumes and search domains stored unencrypted (QG-IAC-001). These keep
    data in the clear unless told otherwise; a store restored from a snapshot or
    replicating another inherits its source's encryption and is not claimed."""
    for resource_type, what, flag, inherit in _UNENCRYPTED_BY_DEFAULT:
        for logical_id, props in t.of(resource_type):
            value = props.get(flag)
            if truthy(value) or policy.is_intrinsic(value):
                continue
            if value is None:
                if any(key in props for key in (*inherit, "KmsKeyId")):
                    continue
                engine = expression_text(props.get("Engine", "")).lower()
                if resource_type == "AWS::RDS::DBInstance" and engine.startswith("aurora"):
                    continue  # an Aurora instance: its cluster decides
                if expression_text(props.get("EngineMode", "")).lower() == "serverless":
                    continue  # Aurora Serverless v1 is always encrypted
                state = "is not set (default false)"
            elif str(value).lower() == "false":
                state = "is false"
            else:
                continue
            place = t.at(logical_id, "Properties", flag) if value is not None else (
                t.at(logical_id))
            yield iac_issue(
                "QG-IAC-001", place,
                f"{what} {logical_id}: {flag} {state}, so its storage, backups and "
                "snapshots are kept unencrypted",
                f"{logical_id}:no-encryption", _severity(t, props),
            )
    for resource_type in ("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain"):
        for logical_id, props in t.of(resource_type):
            options = props.get("EncryptionAtRestOptions")
            if policy.is_intrinsic(options):
                continue
            if not isinstance(options, dict):
                place = t.at(logical_id)
                state = "has no EncryptionAtRestOptions (encryption at rest is off by default)"
            else:
                enabled = options.get("Enabled")
                if truthy(enabled) or policy.is_intrinsic(enabled):
                    continue
                place = t.at(logical_id, "Properties", "EncryptionAtRestOptions",
                             "Enabled")
                state = "does not enable EncryptionAtRestOptions"
            yield iac_issue(
                "QG-IAC-001", place,
                f"Search domain {logical_id} {state}, so its indices, logs and automated "
                "snapshots are kept unencrypted",
                f"{logical_id}:no-encryption", _severity(t, props),
            )


def _severity(t: Template, props: dict[str, Any]) -> Severity | None:
    """High where the tier is regulated (tag, else the configured tier)."""
    tier = tier_from_tags(props.get("Tags")) or t.configured_tier
    return Severity.HIGH if tier is not None and tier.regulated else None
