"""S3 buckets: encryption, public access (ACLs, bucket policies, the public access block),
TLS-only policies, versioning, access logging and lifecycle, judged by the storage rules
shared with Terraform (``iac_common.storage_issues``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import expression_text
from scanner.detectors.cloudformation.template import Template
from scanner.detectors.iac_common import (
    BRAKET_BUCKET_PREFIX,
    Located,
    StorageFacts,
    storage_issues,
    tier_from_tags,
    truthy,
)
from scanner.formats.cloudformation import refs
from scanner.formats.yaml import contains_text
from scanner.model import Issue

_PUBLIC_ACLS = frozenset({"PublicRead", "PublicReadWrite", "AuthenticatedRead"})
_PAB_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def issues(t: Template) -> Iterator[Issue]:
    policies = t.of("AWS::S3::BucketPolicy")
    log_targets: set[str] = set()
    for _id, props in t.of("AWS::S3::Bucket"):
        logging = props.get("LoggingConfiguration")
        if isinstance(logging, dict):
            log_targets |= refs(logging.get("DestinationBucketName"))
    for _id, props in t.of("AWS::CloudTrail::Trail"):
        log_targets |= refs(props.get("S3BucketName"))
    trail_s3_events = any(
        contains_text(props.get("EventSelectors"), "AWS::S3::Object")
        or contains_text(props.get("AdvancedEventSelectors"), "AWS::S3::Object")
        for _id, props in t.of("AWS::CloudTrail::Trail")
    )
    for logical_id, props in t.of("AWS::S3::Bucket"):
        name = expression_text(props.get("BucketName", ""))
        facts = StorageFacts(
            address=f"{logical_id} (AWS::S3::Bucket)",
            at=t.at(logical_id),
            tier=tier_from_tags(props.get("Tags")),
            configured_tier=t.configured_tier,
            braket=name.lower().startswith(BRAKET_BUCKET_PREFIX),
            check_public_access_block=True,
            check_tls_only=True,
            cmk_hint="a customer-managed KMS key (KMSMasterKeyID)",
            public_access_block_hint="PublicAccessBlockConfiguration",
        )
        _encryption(t, logical_id, props, facts)
        acl = props.get("AccessControl")
        if isinstance(acl, str) and acl in _PUBLIC_ACLS:
            facts.public.append(
                (t.at(logical_id, "Properties", "AccessControl"), f"AccessControl {acl}")
            )
        for policy_id, policy_props in policies:
            if logical_id not in refs(policy_props.get("Bucket")):
                continue
            statements = t.statements(
                policy_props.get("PolicyDocument"), policy_id, "Properties", "PolicyDocument"
            )
            if not statements or any(
                policy.denies_insecure_transport(s) for s in statements
            ):
                facts.tls_only = True  # denies plain HTTP, or built where we cannot read
            for statement in statements:
                if policy.is_public(statement):
                    facts.public.append(
                        (Located("", statement.line),
                         f"{policy_id} allows Principal \"*\" "
                         f"({', '.join(statement.actions[:3])}) with no condition")
                    )
                    break
        block = props.get("PublicAccessBlockConfiguration")
        if policy.is_intrinsic(block):
            pass  # chosen by a condition or parameter: no claim either way
        elif not isinstance(block, dict):
            facts.public_access_block_missing = list(_PAB_FLAGS)
        else:
            missing = [flag for flag in _PAB_FLAGS if not truthy(block.get(flag))]
            if missing:
                facts.public_access_block_missing = missing
                facts.public_access_block_at = t.at(
                    logical_id, "Properties", "PublicAccessBlockConfiguration"
                )
        versioning = props.get("VersioningConfiguration")
        if isinstance(versioning, dict):
            facts.versioning = versioning.get("Status") == "Enabled"
            if not facts.versioning:
                facts.versioning_at = t.at(
                    logical_id, "Properties", "VersioningConfiguration", "Status"
                )
        facts.logging = trail_s3_events or isinstance(props.get("LoggingConfiguration"), dict)
        facts.logging_exempt = logical_id in log_targets or acl == "LogDeliveryWrite"
        facts.lifecycle = isinstance(props.get("LifecycleConfiguration"), dict)
        yield from storage_issues(facts)


def _encryption(
    t: Template, logical_id: str, props: dict[str, Any], facts: StorageFacts
) -> None:
    encryption = props.get("BucketEncryption")
    if not isinstance(encryption, dict):
        return
    facts.encryption = ""
    facts.encryption_at = t.at(logical_id, "Properties", "BucketEncryption")
    rules = encryption.get("ServerSideEncryptionConfiguration")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        default = rule.get("ServerSideEncryptionByDefault") if isinstance(rule, dict) else None
        if not isinstance(default, dict):
            continue
        algorithm = expression_text(default.get("SSEAlgorithm", ""))
        key = default.get("KMSMasterKeyID")
        facts.encryption = algorithm
        facts.encryption_at = t.at(
            logical_id, "Properties", "BucketEncryption", "ServerSideEncryptionConfiguration",
            index, "ServerSideEncryptionByDefault", "SSEAlgorithm",
        )
        facts.customer_key = algorithm.startswith("aws:kms") and key not in (None, "") and (
            expression_text(key) != "alias/aws/s3"
        )
        return
