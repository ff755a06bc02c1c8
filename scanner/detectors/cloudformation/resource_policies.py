"""Resource policies of queues, topics, repositories, search domains, secrets, file systems
and backup vaults open to ``Principal "*"``, and Lambda permissions for anyone (QG-IAC-003)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import expression_text
from scanner.detectors.cloudformation.template import Template
from scanner.detectors.iac_common import Located, iac_issue
from scanner.formats.cloudformation import ref
from scanner.model import Issue, Severity

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


def issues(t: Template) -> Iterator[Issue]:
    """Resource policies beyond buckets and keys allowing ``Principal "*"`` with no
    narrowing condition, and Lambda permissions for ``*`` with no source (QG-IAC-003)."""
    for resource_type, (key, consequence) in _POLICY_PROPERTIES.items():
        for logical_id, props in t.of(resource_type):
            document = props.get(key)
            if isinstance(document, str):
                document = policy.parse_json_policy(document)
            line = t.locate.line(logical_id, "Properties", key)
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
    for logical_id, props in t.of("AWS::Lambda::Permission"):
        if expression_text(props.get("Principal", "")).strip() != "*":
            continue
        if any(key in props for key in ("SourceArn", "SourceAccount", "PrincipalOrgID")):
            continue
        function = ref(props.get("FunctionName")) or expression_text(
            props.get("FunctionName", "?"))
        yield iac_issue(
            "QG-IAC-003", t.at(logical_id, "Properties", "Principal"),
            f"Lambda permission {logical_id} lets principal \"*\" invoke {function} with no "
            "SourceArn, SourceAccount or PrincipalOrgID, so anyone can run the function",
            f"{logical_id}:public-permission",
        )
