"""CloudFormation templates (YAML or JSON): the same cloud rules as Terraform (QG-IAC-*).

A template is self-contained, so every check runs on one file. YAML templates keep exact
lines (short-form tags such as ``!Ref`` arrive as their long form, unknown tags keep their
data); JSON templates have no line information, so a line is found by searching for the
resource's logical id and then each property name after it.

Covered: S3 buckets with their bucket policies, databases, volumes and search domains stored
unencrypted, resource policies and Lambda permissions open to everyone, KMS keys, IAM
policies, roles, users and groups, Braket job roles, CloudTrail for Braket resources, log
file validation and object lock on trail buckets, log retention, security-group ingress and
egress, public endpoints (notebooks, databases, EKS), notebook root access and literal
secrets. Resources without a tier tag take the scan's configured tier. Which QG-IAC rule
each problem becomes, and why it matters: ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import Statement, expression_text
from scanner.detectors.iac_common import (
    BRAKET_BUCKET_PREFIX,
    IAC_RULES,
    Located,
    StorageFacts,
    as_int,
    iac_issue,
    literal_secret,
    storage_issues,
    tier_from_tags,
    truthy,
)
from scanner.detectors.interface import Detector
from scanner.detectors.secret_names import secret_name
from scanner.formats.cloudformation import Locator, load_template, properties, ref, refs
from scanner.formats.yaml import LineDict, contains_text
from scanner.masking import mask
from scanner.model import FileKind, Issue, Severity, Tier
from scanner.source import SourceFile

_PUBLIC_ACLS = frozenset({"PublicRead", "PublicReadWrite", "AuthenticatedRead"})
_PAB_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
_OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
_ADMIN_PORTS = frozenset({22, 23, 3389, 5432, 3306, 1433, 6379, 27017, 9200, 5601, 8888, 2375,
                          2376, 6443, 10250})

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

# Resource type -> (the property holding its resource policy, what anyone could then do).
_POLICY_PROPERTIES = {
    "AWS::SQS::QueuePolicy": ("PolicyDocument", "send, read or delete the queues' messages"),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",
                              "publish to the topics or subscribe to what they carry"),
    "AWS::ECR::Repository": ("RepositoryPolicyText", "pull (or push) the repository's images"),
    "AWS::OpenSearchService::Domain": ("AccessPolicies", "query and change the domain's indices"),
    "AWS::Elasticsearch::Domain": ("AccessPolicies", "query and change the domain's indices"),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy", "read the secret"),
    "AWS::EFS::FileSystem": ("FileSystemPolicy", "mount the file system"),
    "AWS::Backup::BackupVault": ("AccessPolicy", "use the vault's recovery points"),
}


class _Template:
    def __init__(
        self, source: SourceFile, template: dict[str, Any], tier: Tier | None = None
    ) -> None:
        self.locate = Locator(source, template)
        #: The scan's tier: the requirements of resources that carry no tier tag.
        self.configured_tier = tier
        resources = template.get("Resources")
        self.resources: dict[str, dict[str, Any]] = {}
        if isinstance(resources, dict):
            for logical_id, body in resources.items():
                if isinstance(body, dict) and isinstance(body.get("Type"), str):
                    self.resources[str(logical_id)] = body

    def of(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (logical_id, properties(body))
            for logical_id, body in self.resources.items()
            if body.get("Type") == resource_type
        ]

    def at(self, logical_id: str, *path: str | int) -> Located:
        return Located("", self.locate.line(logical_id, *path))

    def statements(self, document: Any, logical_id: str, *path: str | int) -> list[Statement]:
        return policy.statements_from_document(document, self.locate.line(logical_id, *path))

    # ------------------------------------------------------------------------------------------

    def issues(self) -> Iterator[Issue]:
        yield from self._buckets()
        yield from self._data_stores()
        yield from self._resource_policies()
        yield from self._keys()
        yield from self._identity()
        yield from self._roles()
        yield from self._access_keys()
        yield from self._trail()
        yield from self._tamper_evidence()
        yield from self._retention()
        yield from self._ingress()
        yield from self._egress()
        yield from self._endpoints()
        yield from self._secrets()

    def _buckets(self) -> Iterator[Issue]:
        policies = self.of("AWS::S3::BucketPolicy")
        log_targets: set[str] = set()
        for _id, props in self.of("AWS::S3::Bucket"):
            logging = props.get("LoggingConfiguration")
            if isinstance(logging, dict):
                log_targets |= refs(logging.get("DestinationBucketName"))
        for _id, props in self.of("AWS::CloudTrail::Trail"):
            log_targets |= refs(props.get("S3BucketName"))
        trail_s3_events = any(
            contains_text(props.get("EventSelectors"), "AWS::S3::Object")
            or contains_text(props.get("AdvancedEventSelectors"), "AWS::S3::Object")
            for _id, props in self.of("AWS::CloudTrail::Trail")
        )
        for logical_id, props in self.of("AWS::S3::Bucket"):
            name = expression_text(props.get("BucketName", ""))
            facts = StorageFacts(
                address=f"{logical_id} (AWS::S3::Bucket)",
                at=self.at(logical_id),
                tier=tier_from_tags(props.get("Tags")),
                configured_tier=self.configured_tier,
                braket=name.lower().startswith(BRAKET_BUCKET_PREFIX),
                check_public_access_block=True,
                check_tls_only=True,
                cmk_hint="a customer-managed KMS key (KMSMasterKeyID)",
                public_access_block_hint="PublicAccessBlockConfiguration",
            )
            self._encryption(logical_id, props, facts)
            acl = props.get("AccessControl")
            if isinstance(acl, str) and acl in _PUBLIC_ACLS:
                facts.public.append(
                    (self.at(logical_id, "Properties", "AccessControl"), f"AccessControl {acl}")
                )
            for policy_id, policy_props in policies:
                if logical_id not in refs(policy_props.get("Bucket")):
                    continue
                statements = self.statements(
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
                    facts.public_access_block_at = self.at(
                        logical_id, "Properties", "PublicAccessBlockConfiguration"
                    )
            versioning = props.get("VersioningConfiguration")
            if isinstance(versioning, dict):
                facts.versioning = versioning.get("Status") == "Enabled"
                if not facts.versioning:
                    facts.versioning_at = self.at(
                        logical_id, "Properties", "VersioningConfiguration", "Status"
                    )
            facts.logging = trail_s3_events or isinstance(props.get("LoggingConfiguration"), dict)
            facts.logging_exempt = logical_id in log_targets or acl == "LogDeliveryWrite"
            facts.lifecycle = isinstance(props.get("LifecycleConfiguration"), dict)
            yield from storage_issues(facts)

    def _encryption(self, logical_id: str, props: dict[str, Any], facts: StorageFacts) -> None:
        encryption = props.get("BucketEncryption")
        if not isinstance(encryption, dict):
            return
        facts.encryption = ""
        facts.encryption_at = self.at(logical_id, "Properties", "BucketEncryption")
        rules = encryption.get("ServerSideEncryptionConfiguration")
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            default = rule.get("ServerSideEncryptionByDefault") if isinstance(rule, dict) else None
            if not isinstance(default, dict):
                continue
            algorithm = expression_text(default.get("SSEAlgorithm", ""))
            key = default.get("KMSMasterKeyID")
            facts.encryption = algorithm
            facts.encryption_at = self.at(
                logical_id, "Properties", "BucketEncryption", "ServerSideEncryptionConfiguration",
                index, "ServerSideEncryptionByDefault", "SSEAlgorithm",
            )
            facts.customer_key = algorithm.startswith("aws:kms") and key not in (None, "") and (
                expression_text(key) != "alias/aws/s3"
            )
            return

    def _severity(self, props: dict[str, Any]) -> Severity | None:
        """High where the tier is regulated (tag, else the configured tier)."""
        tier = tier_from_tags(props.get("Tags")) or self.configured_tier
        return Severity.HIGH if tier is not None and tier.regulated else None

    def _data_stores(self) -> Iterator[Issue]:
        """Databases, volumes and search domains stored unencrypted (QG-IAC-001). These keep
        data in the clear unless told otherwise; a store restored from a snapshot or
        replicating another inherits its source's encryption and is not claimed."""
        for resource_type, what, flag, inherit in _UNENCRYPTED_BY_DEFAULT:
            for logical_id, props in self.of(resource_type):
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
                place = self.at(logical_id, "Properties", flag) if value is not None else (
                    self.at(logical_id))
                yield iac_issue(
                    "QG-IAC-001", place,
                    f"{what} {logical_id}: {flag} {state}, so its storage, backups and "
                    "snapshots are kept unencrypted",
                    f"{logical_id}:no-encryption", self._severity(props),
                )
        for resource_type in ("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain"):
            for logical_id, props in self.of(resource_type):
                options = props.get("EncryptionAtRestOptions")
                if policy.is_intrinsic(options):
                    continue
                if not isinstance(options, dict):
                    place = self.at(logical_id)
                    state = "has no EncryptionAtRestOptions (encryption at rest is off by default)"
                else:
                    enabled = options.get("Enabled")
                    if truthy(enabled) or policy.is_intrinsic(enabled):
                        continue
                    place = self.at(logical_id, "Properties", "EncryptionAtRestOptions",
                                    "Enabled")
                    state = "does not enable EncryptionAtRestOptions"
                yield iac_issue(
                    "QG-IAC-001", place,
                    f"Search domain {logical_id} {state}, so its indices, logs and automated "
                    "snapshots are kept unencrypted",
                    f"{logical_id}:no-encryption", self._severity(props),
                )

    def _resource_policies(self) -> Iterator[Issue]:
        """Resource policies beyond buckets and keys allowing ``Principal "*"`` with no
        narrowing condition, and Lambda permissions for ``*`` with no source (QG-IAC-003)."""
        for resource_type, (key, consequence) in _POLICY_PROPERTIES.items():
            for logical_id, props in self.of(resource_type):
                document = props.get(key)
                if isinstance(document, str):
                    document = policy.parse_json_policy(document)
                line = self.locate.line(logical_id, "Properties", key)
                for statement in policy.statements_from_document(document, line):
                    if not policy.is_public(statement):
                        continue
                    actions = ", ".join(statement.actions[:3]) or "NotAction"
                    in_vpc = "VPCOptions" in props
                    yield iac_issue(
                        "QG-IAC-003", Located("", statement.line),
                        f"{logical_id} ({resource_type}): its {key} allows Principal \"*\" "
                        f"({actions}) with no condition, so any AWS account or anonymous caller "
                        f"can {consequence}"
                        + (" (the domain sits in a VPC, which limits who reaches it)"
                           if in_vpc else ""),
                        f"{logical_id}:public-policy", Severity.LOW if in_vpc else None,
                    )
                    break
        for logical_id, props in self.of("AWS::Lambda::Permission"):
            if expression_text(props.get("Principal", "")).strip() != "*":
                continue
            if any(key in props for key in ("SourceArn", "SourceAccount", "PrincipalOrgID")):
                continue
            function = ref(props.get("FunctionName")) or expression_text(
                props.get("FunctionName", "?"))
            yield iac_issue(
                "QG-IAC-003", self.at(logical_id, "Properties", "Principal"),
                f"Lambda permission {logical_id} lets principal \"*\" invoke {function} with no "
                "SourceArn, SourceAccount or PrincipalOrgID, so anyone can run the function",
                f"{logical_id}:public-permission",
            )

    def _keys(self) -> Iterator[Issue]:
        for logical_id, props in self.of("AWS::KMS::Key"):
            spec = expression_text(props.get("KeySpec", "SYMMETRIC_DEFAULT"))
            rotation = props.get("EnableKeyRotation")
            decided_later = policy.is_intrinsic(rotation)  # !If / !Ref: no claim
            if spec == "SYMMETRIC_DEFAULT" and not truthy(rotation) and not decided_later:
                state = "is false" if rotation is not None else "is not set (default false)"
                yield iac_issue(
                    "QG-IAC-007", self.at(logical_id, "Properties", "EnableKeyRotation"),
                    f"KMS key {logical_id}: EnableKeyRotation {state}",
                    f"{logical_id}:rotation",
                )
            statements = self.statements(props.get("KeyPolicy"), logical_id, "Properties",
                                         "KeyPolicy")
            for principal, line in policy.admin_and_user(statements):
                yield iac_issue(
                    "QG-IAC-008", Located("", line),
                    f"KMS key {logical_id}: key policy lets {principal} both administer and use "
                    "the key",
                    f"{logical_id}:admin-user:{principal}", evidence=principal[:120],
                )
            for statement in statements:
                if policy.is_public(statement):
                    yield iac_issue(
                        "QG-IAC-003", Located("", statement.line),
                        f"KMS key {logical_id}: key policy allows Principal \"*\" with no "
                        "condition",
                        f"{logical_id}:public-key-policy",
                    )
                    break

    def _policy_documents(self) -> Iterator[tuple[str, str, Any, tuple[str | int, ...]]]:
        """(logical id, type, document, path) for every identity policy in the template."""
        for resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for logical_id, props in self.of(resource_type):
                yield logical_id, resource_type, props.get("PolicyDocument"), (
                    "Properties", "PolicyDocument")
        for resource_type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            for logical_id, props in self.of(resource_type):
                inline = props.get("Policies")
                for index, entry in enumerate(inline if isinstance(inline, list) else []):
                    for item in policy.branches(entry):
                        if isinstance(item, dict):
                            yield logical_id, resource_type, item.get("PolicyDocument"), (
                                "Properties", "Policies", index, "PolicyDocument")

    def _identity(self) -> Iterator[Issue]:
        for logical_id, _type, document, path in self._policy_documents():
            for statement in self.statements(document, logical_id, *path):
                grant = policy.wildcard_grant(statement)
                if grant is not None:
                    sid = f" (Sid {statement.sid})" if statement.sid else ""
                    yield iac_issue(
                        "QG-IAC-009", Located("", statement.line),
                        f"{logical_id}{sid} grants {grant.text}",
                        f"{logical_id}:{grant.text}", grant.severity, evidence=grant.text,
                    )
        for resource_type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            for logical_id, props in self.of(resource_type):
                arns = props.get("ManagedPolicyArns")
                for index, arn in enumerate(arns if isinstance(arns, list) else []):
                    name = policy.managed_policy_name(expression_text(arn))
                    if name in policy.ADMIN_MANAGED_POLICIES:
                        yield iac_issue(
                            "QG-IAC-009",
                            self.at(logical_id, "Properties", "ManagedPolicyArns", index),
                            f"{logical_id} attaches the AWS managed policy "
                            f"{expression_text(arn).rsplit('/', 1)[-1]}",
                            f"{logical_id}:{name}",
                        )

    def _roles(self) -> Iterator[Issue]:
        for logical_id, props in self.of("AWS::IAM::Role"):
            trust = self.statements(props.get("AssumeRolePolicyDocument"), logical_id,
                                    "Properties", "AssumeRolePolicyDocument")
            for statement in trust:
                grant = policy.trust_issue(statement)
                if grant is not None:
                    yield iac_issue(
                        "QG-IAC-011",
                        self.at(logical_id, "Properties", "AssumeRolePolicyDocument"),
                        f"Role {logical_id}: trust policy is open: {grant.text}",
                        f"{logical_id}:trust:{grant.text}", grant.severity,
                    )
                    break
            if "braket.amazonaws.com" in policy.trusted_services(trust):
                yield from self._braket_role(logical_id, props)

    def _braket_role(self, logical_id: str, props: dict[str, Any]) -> Iterator[Issue]:
        broad: list[str] = []
        documents: list[tuple[str, Any]] = []
        inline = props.get("Policies")
        documents.extend(
            (f"{logical_id} inline policy", item.get("PolicyDocument"))
            for item in policy.expand(inline)
            if isinstance(item, dict)
        )
        for resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for policy_id, policy_props in self.of(resource_type):
                if logical_id in refs(policy_props.get("Roles")):
                    documents.append((policy_id, policy_props.get("PolicyDocument")))
        arns = props.get("ManagedPolicyArns")
        for arn in arns if isinstance(arns, list) else []:
            target = ref(arn)
            if target and target in self.resources:
                documents.append(
                    (target, properties(self.resources[target]).get("PolicyDocument"))
                )
            name = policy.managed_policy_name(expression_text(arn))
            if name in policy.ADMIN_MANAGED_POLICIES:
                broad.append(f"AWS managed {expression_text(arn).rsplit('/', 1)[-1]}")
        for origin, document in documents:
            for statement in policy.statements_from_document(document, 0):
                grant = policy.wildcard_grant(statement)
                if grant is not None:
                    broad.append(f"{grant.text} via {origin}")
        if broad:
            detail = "; ".join(broad[:3])
            yield iac_issue(
                "QG-IAC-012", self.at(logical_id),
                f"Amazon Braket job role {logical_id} (trusted by braket.amazonaws.com) has "
                f"broad permissions: {detail}",
                f"{logical_id}:braket-role:{detail}",
            )

    def _access_keys(self) -> Iterator[Issue]:
        for logical_id, props in self.of("AWS::IAM::AccessKey"):
            user = props.get("UserName")
            shown = ref(user) or expression_text(user) if user is not None else ""
            yield iac_issue(
                "QG-IAC-010", self.at(logical_id),
                f"{logical_id} (AWS::IAM::AccessKey) creates a long-lived access key"
                + (f" for {shown}" if shown else "")
                + "; use a role assumed through OIDC federation or IAM Identity Center",
                f"{logical_id}:long-lived-key",
            )

    def _braket_marker(self) -> tuple[int, str] | None:
        markers: list[tuple[int, str]] = []
        for logical_id, props in self.of("AWS::S3::Bucket"):
            if expression_text(props.get("BucketName", "")).lower().startswith(
                BRAKET_BUCKET_PREFIX
            ):
                markers.append((self.locate.line(logical_id), f"Braket result bucket {logical_id}"))
        for logical_id, props in self.of("AWS::IAM::Role"):
            trust = policy.statements_from_document(props.get("AssumeRolePolicyDocument"), 0)
            if "braket.amazonaws.com" in policy.trusted_services(trust):
                markers.append((self.locate.line(logical_id), f"Braket job role {logical_id}"))
        for logical_id, _type, document, _path in self._policy_documents():
            statements = policy.statements_from_document(document, 0)
            if any(a.startswith("braket:") for s in statements for a in s.actions):
                markers.append(
                    (self.locate.line(logical_id), f"Braket permissions in {logical_id}")
                )
        return min(markers) if markers else None

    def _trail(self) -> Iterator[Issue]:
        if self.of("AWS::CloudTrail::Trail"):
            return
        marker = self._braket_marker()
        if marker is not None:
            line, what = marker
            yield iac_issue(
                "QG-IAC-013", Located("", line),
                f"{what} is defined but the template has no AWS::CloudTrail::Trail: Braket API "
                "calls are only kept 90 days in event history",
                "template:no-cloudtrail",
            )

    def _tamper_evidence(self) -> Iterator[Issue]:
        """LOG-02: trails with log file validation, writing to buckets with object lock and a
        default retention (CloudTrail sets no retention on what it writes)."""
        audit_buckets: dict[str, str] = {}
        for logical_id, props in self.of("AWS::CloudTrail::Trail"):
            validation = props.get("EnableLogFileValidation")
            if not truthy(validation) and not policy.is_intrinsic(validation):
                state = "is false" if validation is not None else "is not set (default false)"
                place = self.at(logical_id, "Properties", "EnableLogFileValidation") if (
                    validation is not None) else self.at(logical_id)
                yield iac_issue(
                    "QG-IAC-022", place,
                    f"Trail {logical_id}: EnableLogFileValidation {state}, so a log file "
                    "changed or deleted after delivery goes unnoticed",
                    f"{logical_id}:log-file-validation",
                )
            for bucket in sorted(refs(props.get("S3BucketName"))):
                if self.resources.get(bucket, {}).get("Type") == "AWS::S3::Bucket":
                    audit_buckets.setdefault(bucket, logical_id)
        for bucket, trail in audit_buckets.items():
            props = properties(self.resources[bucket])
            enabled = props.get("ObjectLockEnabled")
            if policy.is_intrinsic(enabled):
                continue
            config = props.get("ObjectLockConfiguration")
            rule = config.get("Rule") if isinstance(config, dict) else None
            retention = isinstance(rule, dict) and "DefaultRetention" in rule
            if not truthy(enabled):
                yield iac_issue(
                    "QG-IAC-023", self.at(bucket),
                    f"{bucket} (AWS::S3::Bucket) receives the audit trail of {trail} but has no "
                    "object lock, so anyone allowed to delete or overwrite objects can erase "
                    "the record",
                    f"{bucket}:object-lock",
                )
            elif not retention:
                yield iac_issue(
                    "QG-IAC-023", self.at(bucket, "Properties", "ObjectLockEnabled"),
                    f"{bucket} (AWS::S3::Bucket) receives the audit trail of {trail} and has "
                    "object lock on, but no default retention rule, so the log files "
                    "CloudTrail writes are not locked",
                    f"{bucket}:object-lock-retention", Severity.LOW,
                )

    def _retention(self) -> Iterator[Issue]:
        for logical_id, props in self.of("AWS::Logs::LogGroup"):
            days = as_int(props.get("RetentionInDays"))
            if "RetentionInDays" not in props:
                yield iac_issue(
                    "QG-IAC-014", self.at(logical_id),
                    f"Log group {logical_id} declares no RetentionInDays (kept forever, outside "
                    "any stated retention policy)",
                    f"{logical_id}:retention:unset", Severity.LOW,
                )
            elif days is not None and 0 < days < 90:
                yield iac_issue(
                    "QG-IAC-014", self.at(logical_id, "Properties", "RetentionInDays"),
                    f"Log group {logical_id} keeps logs only {days} days (policy minimum 90)",
                    f"{logical_id}:retention:{days}",
                )

    def _ingress(self) -> Iterator[Issue]:
        for logical_id, props in self.of("AWS::EC2::SecurityGroup"):
            rules = props.get("SecurityGroupIngress")
            for index, entry in enumerate(rules if isinstance(rules, list) else []):
                for rule in policy.branches(entry):
                    if isinstance(rule, dict):
                        yield from self._rule(logical_id, rule,
                                              ("Properties", "SecurityGroupIngress", index))
        for logical_id, props in self.of("AWS::EC2::SecurityGroupIngress"):
            yield from self._rule(logical_id, props, ("Properties",))

    def _rule(
        self, logical_id: str, rule: dict[str, Any], path: tuple[str | int, ...]
    ) -> Iterator[Issue]:
        sources = [
            (key, rule.get(key)) for key in ("CidrIp", "CidrIpv6")
            if isinstance(rule.get(key), str) and rule.get(key) in _OPEN_CIDRS
        ]
        if not sources:
            return
        key, source = sources[0]
        protocol = str(rule.get("IpProtocol", "tcp")).lower()
        low, high = as_int(rule.get("FromPort")), as_int(rule.get("ToPort"))
        if protocol in {"-1", "all"} or low is None or high is None or low < 0:
            low, high = 0, 65535
        everything = low <= 1 and high >= 65535
        admin = any(low <= port <= high for port in _ADMIN_PORTS)
        web_only = low == high and low in {80, 443}
        ports = f"{low}" if low == high else f"{low}-{high}"
        yield iac_issue(
            "QG-IAC-015", self.at(logical_id, *path, key),
            f"Security group {logical_id} allows inbound traffic from {source} to port(s) {ports}",
            f"{logical_id}:ingress:{source}:{ports}",
            Severity.MEDIUM if web_only and not (everything or admin) else None,
            evidence=f"{source} -> {ports}",
        )

    def _egress(self) -> Iterator[Issue]:
        """Allow-all egress (0.0.0.0/0 or ::/0, every protocol), once per security group. A
        group without SecurityGroupEgress gets AWS's default allow-all rule (separate
        AWS::EC2::SecurityGroupEgress resources do not remove it). Medium in a template that
        defines Amazon Braket resources, info elsewhere (see the Terraform ``network``)."""
        marker = self._braket_marker()
        context = marker[1] if marker else None
        found: dict[str, tuple[Located, str, str]] = {}
        for logical_id, props in self.of("AWS::EC2::SecurityGroup"):
            rules = props.get("SecurityGroupEgress")
            if rules is None:
                found[logical_id] = (self.at(logical_id), "0.0.0.0/0",
                                     "declares no SecurityGroupEgress, so AWS's default rule ")
                continue
            for index, entry in enumerate(rules if isinstance(rules, list) else []):
                for rule in policy.branches(entry):
                    key = _open_egress(rule)
                    if key is not None and logical_id not in found:
                        found[logical_id] = (
                            self.at(logical_id, "Properties", "SecurityGroupEgress", index, key),
                            str(rule[key]), "")
        for logical_id, props in self.of("AWS::EC2::SecurityGroupEgress"):
            key = _open_egress(props)
            group = ref(props.get("GroupId")) or logical_id
            if key is not None and group not in found:
                found[group] = (self.at(logical_id, "Properties", key), str(props[key]), "")
        for group, (place, destination, default) in found.items():
            if context is not None:
                why = (f"this template runs quantum workloads ({context}), so a compromised job, "
                       "notebook or dependency could send job data or credentials anywhere")
            else:
                why = "nothing in this template says it handles quantum job data"
            yield iac_issue(
                "QG-IAC-024", place,
                f"Security group {group} {default}allows all outbound traffic to "
                f"{destination}; {why}",
                f"{group}:egress-all", Severity.MEDIUM if context is not None else Severity.INFO,
                evidence=f"egress {destination} all ports",
            )

    def _endpoints(self) -> Iterator[Issue]:
        for logical_id, props in self.of("AWS::SageMaker::NotebookInstance"):
            # Both default to Enabled; a value chosen by a condition or parameter is no claim.
            access = props.get("DirectInternetAccess")
            if expression_text(access) != "Disabled" and not policy.is_intrinsic(access):
                state = f"is {access}" if access is not None else "is not set (default Enabled)"
                yield iac_issue(
                    "QG-IAC-016", self.at(logical_id, "Properties", "DirectInternetAccess"),
                    f"Notebook instance {logical_id}: DirectInternetAccess {state}; notebooks "
                    "(including Braket notebooks) should reach AWS through VPC endpoints",
                    f"{logical_id}:direct-internet",
                )
            root = props.get("RootAccess")
            if expression_text(root) != "Disabled" and not policy.is_intrinsic(root):
                state = f"is {root}" if root is not None else "is not set (default Enabled)"
                place = self.at(logical_id, "Properties", "RootAccess") if root is not None else (
                    self.at(logical_id))
                yield iac_issue(
                    "QG-IAC-025", place,
                    f"Notebook instance {logical_id}: RootAccess {state}, so anyone using the "
                    "notebook can become root, change its environment and reach everything its "
                    "role and network can",
                    f"{logical_id}:root-access",
                )
        for logical_id, props in self.of("AWS::EKS::Cluster"):
            config = props.get("ResourcesVpcConfig")
            if not isinstance(config, dict) or policy.is_intrinsic(config):
                continue
            public = config.get("EndpointPublicAccess")
            cidrs = config.get("PublicAccessCidrs")
            if public is not None and not truthy(public):
                continue  # false, or decided by a condition: no claim
            if cidrs is not None and (not isinstance(cidrs, list) or not (
                set(policy.strings(cidrs)) & _OPEN_CIDRS
            )):
                continue
            state = "is true" if public is not None else "is not set (default true)"
            limit = ("PublicAccessCidrs is not set (default 0.0.0.0/0)" if cidrs is None
                     else "PublicAccessCidrs includes 0.0.0.0/0")
            key = "PublicAccessCidrs" if cidrs is not None else "EndpointPublicAccess"
            yield iac_issue(
                "QG-IAC-016", self.at(logical_id, "Properties", "ResourcesVpcConfig", key),
                f"EKS cluster {logical_id}: the API endpoint is open to the internet "
                f"(EndpointPublicAccess {state}, {limit}); turn the public endpoint off or "
                "limit it to known ranges",
                f"{logical_id}:public-api",
            )
        for logical_id, props in self.of("AWS::RDS::DBInstance"):
            if truthy(props.get("PubliclyAccessible")):
                yield iac_issue(
                    "QG-IAC-016", self.at(logical_id, "Properties", "PubliclyAccessible"),
                    f"Database {logical_id} is PubliclyAccessible",
                    f"{logical_id}:public-db", Severity.HIGH,
                )

    # literal secrets -----------------------------------------------------------------------------

    def _secrets(self) -> Iterator[Issue]:
        """Credential-named properties (anywhere in a resource's properties, including
        ``Environment.Variables`` maps and ``Name``/``Value`` pairs) and parameter defaults
        holding a literal: the template keeps them in plain text in the repository and in
        CloudFormation, where anyone who can read the stack's template sees them. Dynamic
        references (``{{resolve:secretsmanager:…}}``) and intrinsics are not literals."""
        parameters = self.locate.template.get("Parameters")
        for name, body in parameters.items() if isinstance(parameters, dict) else []:
            if isinstance(body, dict) and _secret_key(str(name)) and _literal(body.get("Default")):
                yield self._secret_issue(
                    f"parameter {name}", self._parameter_line(str(name)), "Default",
                    body["Default"],
                )
        for logical_id, body in self.resources.items():
            yield from self._secret_values(logical_id, body.get("Properties"), ("Properties",))

    def _secret_values(
        self, logical_id: str, node: Any, path: tuple[str | int, ...]
    ) -> Iterator[Issue]:
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from self._secret_values(logical_id, item, (*path, index))
            return
        if not isinstance(node, dict) or policy.is_intrinsic(node):
            return
        pair_name = node.get("Name", node.get("name"))
        pair_key = "Value" if "Value" in node else "value"
        if isinstance(pair_name, str) and _secret_key(pair_name) and _literal(node.get(pair_key)):
            yield self._secret_issue(
                f"{logical_id} {_dotted(path[1:])} {pair_name}",
                self.locate.line(logical_id, *path, pair_key), pair_name, node[pair_key],
            )
        for key, value in node.items():
            key = str(key)
            if _secret_key(key) and _literal(value):
                yield self._secret_issue(
                    f"{logical_id} {_dotted((*path[1:], key))}",
                    self.locate.line(logical_id, *path, key), key, value,
                )
            elif not _NOT_SECRET_CONTAINER.search(key):
                yield from self._secret_values(logical_id, value, (*path, key))

    def _parameter_line(self, name: str) -> int:
        parameters = self.locate.template.get("Parameters")
        if isinstance(parameters, LineDict):
            body = parameters.get(name)
            if isinstance(body, LineDict) and "Default" in body:
                return body.line_of("Default")
            return parameters.line_of(name)
        match = re.search(r'"' + re.escape(name) + r'"\s*:', self.locate.document.text)
        return self.locate.document.line_of(match.start()) if match else 1

    @staticmethod
    def _secret_issue(what: str, line: int, key: str, value: Any) -> Issue:
        masked = mask(str(value))
        return iac_issue(
            "QG-IAC-021", Located("", line),
            f"{what} holds a literal secret; it is stored in plain text in the repository and "
            "in the stack's template, which anyone allowed to read the stack can see",
            f"secret:{what}:{masked}", evidence=f"{key} = {masked}",
        )


def _open_egress(rule: Any) -> str | None:
    """The key (CidrIp / CidrIpv6) of an egress rule open to everywhere on every port."""
    if not isinstance(rule, dict):
        return None
    key = next((k for k in ("CidrIp", "CidrIpv6") if rule.get(k) in _OPEN_CIDRS), None)
    if key is None:
        return None
    protocol = str(rule.get("IpProtocol", "tcp")).lower()
    low, high = as_int(rule.get("FromPort")), as_int(rule.get("ToPort"))
    every_port = low is not None and high is not None and low <= 1 and high >= 65535
    return key if protocol in {"-1", "all"} or every_port else None


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# Property names that mention a credential but hold something else.
_NOT_SECRET_PROPERTY = re.compile(r"_(template|characters|length|validity|units?)$", re.I)
# Maps whose keys name credentials but whose values are settings (Cognito token validity).
_NOT_SECRET_CONTAINER = re.compile(r"Validity|Units", re.I)


def _secret_key(name: str) -> bool:
    """A credential-like property or variable name (CamelCase read as snake_case)."""
    snake = _CAMEL_BOUNDARY.sub("_", name).lower()
    return secret_name(snake) and not _NOT_SECRET_PROPERTY.search(snake)


def _literal(value: Any) -> bool:
    return literal_secret(value) and len(str(value).strip()) >= 6


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


class CloudFormationDetector(Detector):
    name = "cloudformation"
    kinds = frozenset({FileKind.CLOUDFORMATION})
    rules = frozenset[str]()
    # The IaC rules are the Terraform detector's; CloudFormation reports those that apply
    # to its resources (no shared-key or module-source checks).
    shared_rules = IAC_RULES - {"QG-IAC-018", "QG-IAC-020"}

    def __init__(self, tier: Tier | None = None) -> None:
        #: The scan's tier: the requirements of resources that carry no tier tag.
        self.tier = tier

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        template = load_template(source)
        if template is not None:
            yield from _Template(source, template, self.tier).issues()
