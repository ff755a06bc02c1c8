"""Data stores beyond buckets: databases (RDS, Aurora, Neptune, DocumentDB), search domains
(OpenSearch/Elasticsearch) and block volumes (EBS, Azure managed disks) whose encryption at
rest is off (QG-IAC-001).

Unlike S3, Azure Storage and IBM COS, these services store data unencrypted when the
configuration does not ask for encryption, so an unset flag is read with the provider's
default: ``storage_encrypted`` and EBS ``encrypted`` default to false, a search domain without
an ``encrypt_at_rest`` block is unencrypted. A store restored from a snapshot or replicating
another inherits its source's encryption, and a value Terraform computes is not knowable
here: neither is claimed. Rule metadata: ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.detectors.iac_common import iac_issue, truthy
from scanner.detectors.terraform.module import Module, at, falsy, unknown
from scanner.formats.hcl import Block, text_of
from scanner.model import Issue, Severity

# Database clusters and instances: (type, what it is, attributes that make it inherit its
# encryption from a source, attribute naming a KMS key).
_DATABASES = (
    ("aws_db_instance", "RDS database",
     ("replicate_source_db", "snapshot_identifier", "restore_to_point_in_time"), "kms_key_id"),
    ("aws_rds_cluster", "Aurora/RDS cluster",
     ("snapshot_identifier", "replication_source_identifier", "global_cluster_identifier",
      "restore_to_point_in_time", "s3_import"), "kms_key_id"),
    ("aws_neptune_cluster", "Neptune cluster",
     ("snapshot_identifier", "replication_source_identifier", "global_cluster_identifier"),
     "kms_key_arn"),
    ("aws_docdb_cluster", "DocumentDB cluster",
     ("snapshot_identifier", "global_cluster_identifier", "restore_to_point_in_time"),
     "kms_key_id"),
)
_SEARCH_DOMAINS = ("aws_opensearch_domain", "aws_elasticsearch_domain")


def issues(m: Module) -> Iterator[Issue]:
    yield from _databases(m)
    yield from _ebs_volumes(m)
    yield from _search_domains(m)
    yield from _managed_disks(m)


def _severity(m: Module, block: Block) -> Severity | None:
    """High where the tier is regulated (tag, else the configured tier)."""
    tier = m.required_tier(block)
    return Severity.HIGH if tier is not None and tier.regulated else None


def _inherits(block: Block, attributes: tuple[str, ...]) -> bool:
    return any(block.get(a) is not None or block.children(a) for a in attributes)


def _databases(m: Module) -> Iterator[Issue]:
    for resource_type, what, inherit, key_attribute in _DATABASES:
        for database in m.of(resource_type):
            encrypted = database.get("storage_encrypted")
            if truthy(encrypted) or unknown(encrypted):
                continue
            if encrypted is None:
                if _inherits(database, inherit) or database.get(key_attribute) is not None:
                    continue  # encryption comes from the source, or a key implies it
                engine = text_of(database.get("engine", "")).lower()
                if resource_type == "aws_db_instance" and engine.startswith("aurora"):
                    continue  # an Aurora instance: its cluster decides
                if resource_type == "aws_rds_cluster" and text_of(
                    database.get("engine_mode", "")
                ).lower() == "serverless":
                    continue  # Aurora Serverless v1 is always encrypted
                state = "is not set (default false)"
            elif falsy(encrypted):
                state = "is false"
            else:
                continue
            yield iac_issue(
                "QG-IAC-001", at(database, "storage_encrypted"),
                f"{what} {database.address}: storage_encrypted {state}, so its storage, "
                "automated backups, snapshots and replicas are kept unencrypted",
                f"{database.address}:no-encryption", _severity(m, database),
            )


def _ebs_volumes(m: Module) -> Iterator[Issue]:
    account_default = any(
        not falsy(block.get("enabled")) for block in m.of("aws_ebs_encryption_by_default")
    )
    for volume in m.of("aws_ebs_volume"):
        encrypted = volume.get("encrypted")
        if truthy(encrypted) or unknown(encrypted):
            continue
        if encrypted is None:
            if account_default or volume.get("snapshot_id") is not None or volume.get(
                "kms_key_id"
            ) is not None:
                continue
            state = ("is not set (default false; nothing in this module turns on EBS "
                     "encryption by default)")
        elif falsy(encrypted):
            state = "is false"
        else:
            continue
        yield iac_issue(
            "QG-IAC-001", at(volume, "encrypted"),
            f"EBS volume {volume.address}: encrypted {state}, so the volume and its snapshots "
            "are kept unencrypted",
            f"{volume.address}:no-encryption", _severity(m, volume),
        )


def _search_domains(m: Module) -> Iterator[Issue]:
    for resource_type in _SEARCH_DOMAINS:
        for domain in m.of(resource_type):
            blocks = domain.children("encrypt_at_rest")
            if not blocks:
                place = at(domain)
                state = "has no encrypt_at_rest block (encryption at rest is off by default)"
            else:
                if not falsy(blocks[0].get("enabled")):
                    continue
                place = at(blocks[0], "enabled")
                state = "sets encrypt_at_rest enabled = false"
            yield iac_issue(
                "QG-IAC-001", place,
                f"Search domain {domain.address} {state}, so its indices, logs and automated "
                "snapshots are kept unencrypted",
                f"{domain.address}:no-encryption", _severity(m, domain),
            )


def _managed_disks(m: Module) -> Iterator[Issue]:
    for disk in m.of("azurerm_managed_disk"):
        for settings in disk.children("encryption_settings"):
            if falsy(settings.get("enabled")):
                yield iac_issue(
                    "QG-IAC-001", at(settings, "enabled"),
                    f"Azure managed disk {disk.address} turns disk encryption off "
                    "(encryption_settings enabled = false); only the platform's default "
                    "encryption with Microsoft-managed keys remains",
                    f"{disk.address}:no-encryption", Severity.LOW,
                )
