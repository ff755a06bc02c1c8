"""Resource policies beyond buckets and keys that let anyone in: queues, topics, container
registries, search domains, secrets, file systems, vaults and Lambda permissions whose
policy allows ``Principal "*"`` with no condition narrowing the caller (QG-IAC-003).
Bucket policies are read with their bucket in ``storage``, key policies in ``keys``.
Rule metadata: ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.detectors import aws_policy as policy
from scanner.detectors.iac_common import iac_issue
from scanner.detectors.terraform.module import Module, at
from scanner.detectors.terraform.policies import resolve_policy
from scanner.formats.hcl import Block, text_of
from scanner.model import Issue, Severity

# Resource type -> (the policy attribute, what anyone could then do).
_POLICY_RESOURCES: dict[str, tuple[str, str]] = {
    "aws_sqs_queue": ("policy", "send, read or delete the queue's messages"),
    "aws_sqs_queue_policy": ("policy", "send, read or delete the queue's messages"),
    "aws_sns_topic": ("policy", "publish to the topic or subscribe to what it carries"),
    "aws_sns_topic_policy": ("policy", "publish to the topic or subscribe to what it carries"),
    "aws_ecr_repository_policy": ("policy", "pull (or push) the repository's images"),
    "aws_opensearch_domain": ("access_policies", "query and change the domain's indices"),
    "aws_opensearch_domain_policy": ("access_policies", "query and change the domain's indices"),
    "aws_elasticsearch_domain": ("access_policies", "query and change the domain's indices"),
    "aws_elasticsearch_domain_policy": ("access_policies",
                                        "query and change the domain's indices"),
    "aws_secretsmanager_secret": ("policy", "read the secret"),
    "aws_secretsmanager_secret_policy": ("policy", "read the secret"),
    "aws_efs_file_system_policy": ("policy", "mount the file system"),
    "aws_glacier_vault": ("access_policy", "read or delete the vault's archives"),
    "aws_backup_vault_policy": ("policy", "use the vault's recovery points"),
}
_DOMAIN_POLICIES = {"aws_opensearch_domain_policy": "aws_opensearch_domain",
                    "aws_elasticsearch_domain_policy": "aws_elasticsearch_domain"}
# A Lambda permission is narrowed to one caller by any of these.
_LAMBDA_NARROWING = ("source_arn", "source_account", "principal_org_id")


def issues(m: Module) -> Iterator[Issue]:
    for resource_type, (attribute, consequence) in _POLICY_RESOURCES.items():
        for block in m.of(resource_type):
            yield from _policy(m, block, attribute, consequence)
    yield from _lambda_permissions(m)


def _policy(m: Module, block: Block, attribute: str, consequence: str) -> Iterator[Issue]:
    value = block.get(attribute)
    if value is None:
        return
    statements = resolve_policy(m, value, block.line_of(attribute))
    for statement in statements or []:
        if not policy.is_public(statement):
            continue
        actions = ", ".join(statement.actions[:3]) or "NotAction"
        severity, where = None, ""
        if _in_vpc(m, block):
            # Only what reaches the VPC can call the domain; the policy still trusts all of it.
            severity = Severity.LOW
            where = " (the domain sits in a VPC, which limits who reaches it)"
        yield iac_issue(
            "QG-IAC-003", at(block, attribute),
            f"{block.address}: its {attribute} allows Principal \"*\" ({actions}) with no "
            f"condition, so any AWS account or anonymous caller can {consequence}{where}",
            f"{block.address}:public-policy", severity,
        )
        return


def _in_vpc(m: Module, block: Block) -> bool:
    """A search domain (or the domain a domain policy is for) placed in a VPC."""
    domain: Block | None = block
    domain_type = _DOMAIN_POLICIES.get(block.labels[0])
    if domain_type is not None:
        domain = next(
            (d for d in m.of(domain_type) if block in m.linked(block.labels[0], "domain_name", d)),
            None,
        )
    return domain is not None and bool(domain.children("vpc_options"))


def _lambda_permissions(m: Module) -> Iterator[Issue]:
    for permission in m.of("aws_lambda_permission"):
        principal = permission.get("principal")
        if not isinstance(principal, str) or principal.strip() != "*":
            continue
        if any(permission.get(key) is not None for key in _LAMBDA_NARROWING):
            continue
        function = text_of(permission.get("function_name", "?"))
        yield iac_issue(
            "QG-IAC-003", at(permission, "principal"),
            f"{permission.address} lets principal \"*\" invoke {function} with no source_arn, "
            "source_account or principal_org_id, so anyone can run the function",
            f"{permission.address}:public-permission",
        )
