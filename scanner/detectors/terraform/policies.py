"""IAM policy documents as Terraform writes them, read into ``aws_policy.Statement`` records.

A policy is written in place (a JSON string or heredoc, ``jsonencode({...})``) or referenced:
an ``aws_iam_policy_document`` data source or an ``aws_iam_policy`` resource of the module.
Storage (bucket policies), keys (key policies), identity (grants, trust policies) and logging
(where Braket is used) all read policies through here; the analyses are in ``aws_policy``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import Statement
from scanner.detectors.terraform.module import Module, nested
from scanner.formats.hcl import Block, Call, references, text_of

#: Resources holding an identity policy written in place.
IDENTITY_POLICY_RESOURCES = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy",
                             "aws_iam_group_policy")
#: The principal Amazon Braket jobs assume their execution role as.
BRAKET_SERVICE = "braket.amazonaws.com"


def document_statements(block: Block) -> list[Statement]:
    """Statements of a ``data "aws_iam_policy_document"`` block."""
    result = []
    for statement in nested(block, "statement"):
        principals: list[tuple[str, tuple[str, ...]]] = []
        has_principal = False
        for kind in ("principals", "not_principals"):
            for principal in nested(statement, kind):
                has_principal = True
                principal_type = text_of(principal.get("type", "AWS"))
                principals.append(
                    (principal_type, policy.strings(principal.get("identifiers")))
                )
        keys = tuple(
            text_of(condition.get("variable", "?")).lower()
            for condition in nested(statement, "condition")
        )
        actions_line = statement.line_of("actions") if "actions" in statement.attributes else (
            statement.line_of("not_actions")
        )
        result.append(
            Statement(
                effect=text_of(statement.get("effect", "Allow")),
                actions=tuple(a.lower() for a in policy.strings(statement.get("actions"))),
                not_actions=tuple(a.lower() for a in policy.strings(statement.get("not_actions"))),
                resources=policy.strings(statement.get("resources")),
                not_resources="not_resources" in statement.attributes,
                principals=tuple(principals),
                has_principal=has_principal,
                condition_keys=keys,
                line=actions_line,
                sid=text_of(statement.get("sid", "")),
            )
        )
    return result


def literal_statements(value: Any, line: int) -> list[Statement] | None:
    """Statements of a policy written in place (JSON string, heredoc or ``jsonencode``);
    None when ``value`` is not one."""
    if isinstance(value, Call) and value.name == "jsonencode" and value.args:
        return policy.statements_from_document(value.args[0], line)
    if isinstance(value, str) and value.lstrip().startswith("{"):
        document = policy.parse_json_policy(value)
        if document is not None:
            # JSON strings carry no lines of their own: point at the attribute.
            return [
                replace(s, line=line) for s in policy.statements_from_document(document, line)
            ]
    return None


def resolve_policy(m: Module, value: Any, line: int) -> list[Statement] | None:
    """The statements of a ``policy``-like attribute, written in place or referenced; None
    when they cannot be read here (built elsewhere, templated, from a file)."""
    literal = literal_statements(value, line)
    if literal is not None:
        return literal
    for address in references(value):
        block = m.by_address.get(address)
        if block is not None and block.type == "data" and (
            block.labels[0] == "aws_iam_policy_document"
        ):
            return document_statements(block)
        if block is not None and block.type == "resource" and (
            block.labels[0] == "aws_iam_policy"
        ):
            inner = literal_statements(block.get("policy"), block.line_of("policy"))
            if inner is not None:
                return inner
    return None


def identity_policies(m: Module) -> Iterator[tuple[Block, list[Statement]]]:
    """Every identity policy the module writes out: ``aws_iam_policy_document`` data sources,
    then the policy resources (a policy that is not literal has no statements here)."""
    for document in m.data.get("aws_iam_policy_document", []):
        yield document, document_statements(document)
    for resource_type in IDENTITY_POLICY_RESOURCES:
        for block in m.of(resource_type):
            yield block, literal_statements(block.get("policy"), block.line_of("policy")) or []


def trusts_braket(m: Module, role: Block) -> bool:
    """``role`` (an ``aws_iam_role``) is one Amazon Braket jobs assume."""
    trust = resolve_policy(m, role.get("assume_role_policy"), role.line_of("assume_role_policy"))
    return BRAKET_SERVICE in policy.trusted_services(trust or [])
