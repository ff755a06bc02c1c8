"""IAM: wildcard grants and administrator managed policies on policies, roles, users and
groups, open role trust policies, Amazon Braket job roles with broad permissions, and
long-lived access keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import expression_text
from scanner.detectors.cloudformation.template import Template
from scanner.detectors.iac_common import Located, iac_issue
from scanner.formats.cloudformation import properties, ref, refs
from scanner.model import Issue


def issues(t: Template) -> Iterator[Issue]:
    yield from _grants(t)
    yield from _roles(t)
    yield from _access_keys(t)


def _grants(t: Template) -> Iterator[Issue]:
    for logical_id, _type, document, path in t.policy_documents():
        for statement in t.statements(document, logical_id, *path):
            grant = policy.wildcard_grant(statement)
            if grant is not None:
                sid = f" (Sid {statement.sid})" if statement.sid else ""
                yield iac_issue(
                    "QG-IAC-009", Located("", statement.line),
                    f"{logical_id}{sid} grants {grant.text}",
                    f"{logical_id}:{grant.text}", grant.severity, evidence=grant.text,
                )
    for resource_type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for logical_id, props in t.of(resource_type):
            arns = props.get("ManagedPolicyArns")
            for index, arn in enumerate(arns if isinstance(arns, list) else []):
                name = policy.managed_policy_name(expression_text(arn))
                if name in policy.ADMIN_MANAGED_POLICIES:
                    yield iac_issue(
                        "QG-IAC-009",
                        t.at(logical_id, "Properties", "ManagedPolicyArns", index),
                        f"{logical_id} attaches the AWS managed policy "
                        f"{expression_text(arn).rsplit('/', 1)[-1]}",
                        f"{logical_id}:{name}",
                    )


def _roles(t: Template) -> Iterator[Issue]:
    for logical_id, props in t.of("AWS::IAM::Role"):
        trust = t.statements(props.get("AssumeRolePolicyDocument"), logical_id,
                             "Properties", "AssumeRolePolicyDocument")
        for statement in trust:
            grant = policy.trust_issue(statement)
            if grant is not None:
                yield iac_issue(
                    "QG-IAC-011",
                    t.at(logical_id, "Properties", "AssumeRolePolicyDocument"),
                    f"Role {logical_id}: trust policy is open: {grant.text}",
                    f"{logical_id}:trust:{grant.text}", grant.severity,
                )
                break
        if "braket.amazonaws.com" in policy.trusted_services(trust):
            yield from _braket_role(t, logical_id, props)


def _braket_role(t: Template, logical_id: str, props: dict[str, Any]) -> Iterator[Issue]:
    broad: list[str] = []
    documents: list[tuple[str, Any]] = []
    inline = props.get("Policies")
    documents.extend(
        (f"{logical_id} inline policy", item.get("PolicyDocument"))
        for item in policy.expand(inline)
        if isinstance(item, dict)
    )
    for resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy_id, policy_props in t.of(resource_type):
            if logical_id in refs(policy_props.get("Roles")):
                documents.append((policy_id, policy_props.get("PolicyDocument")))
    arns = props.get("ManagedPolicyArns")
    for arn in arns if isinstance(arns, list) else []:
        target = ref(arn)
        if target and target in t.resources:
            documents.append(
                (target, properties(t.resources[target]).get("PolicyDocument"))
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
            "QG-IAC-012", t.at(logical_id),
            f"Amazon Braket job role {logical_id} (trusted by braket.amazonaws.com) has "
            f"broad permissions: {detail}",
            f"{logical_id}:braket-role:{detail}",
        )


def _access_keys(t: Template) -> Iterator[Issue]:
    for logical_id, props in t.of("AWS::IAM::AccessKey"):
        user = props.get("UserName")
        shown = ref(user) or expression_text(user) if user is not None else ""
        yield iac_issue(
            "QG-IAC-010", t.at(logical_id),
            f"{logical_id} (AWS::IAM::AccessKey) creates a long-lived access key"
            + (f" for {shown}" if shown else "")
            + "; use a role assumed through OIDC federation or IAM Identity Center",
            f"{logical_id}:long-lived-key",
        )
