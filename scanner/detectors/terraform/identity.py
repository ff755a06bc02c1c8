"""Identity: wildcard grants in IAM policies and Azure custom role definitions, AWS
administrator managed policies, open role trust policies, Amazon Braket job roles with broad
permissions, and long-lived access keys (AWS, IBM Cloud, Entra ID, Google). Rule metadata:
``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import Statement
from scanner.detectors.iac_common import Located, iac_issue
from scanner.detectors.terraform.module import Module, as_list, at
from scanner.detectors.terraform.policies import (
    BRAKET_SERVICE,
    identity_policies,
    literal_statements,
    resolve_policy,
)
from scanner.formats.hcl import Block, references, text_of
from scanner.model import Issue, Severity

_ATTACHMENTS = ("aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment",
                "aws_iam_group_policy_attachment", "aws_iam_policy_attachment")
_LONG_LIVED_KEYS = {
    "aws_iam_access_key": "an IAM user access key",
    "ibm_iam_api_key": "an IBM Cloud user API key",
    "ibm_iam_service_api_key": "an IBM Cloud service ID API key",
    "azuread_application_password": "an Entra ID application client secret",
    "azuread_service_principal_password": "an Entra ID service principal client secret",
    "google_service_account_key": "a Google service account key",
}
_FEDERATION_HINT = {
    "aws_iam_access_key": "use an IAM role assumed through OIDC (GitHub Actions, GitLab) or IAM "
    "Identity Center",
    "ibm_iam_api_key": "use IBM Cloud trusted profiles with compute resource or OIDC federation",
    "ibm_iam_service_api_key": "use IBM Cloud trusted profiles with compute resource or OIDC "
    "federation",
    "azuread_application_password": "use a federated identity credential "
    "(azuread_application_federated_identity_credential)",
    "azuread_service_principal_password": "use a federated identity credential",
    "google_service_account_key": "use workload identity federation",
}
_CI_NAME_HINTS = ("ci", "cd", "deploy", "github", "gitlab", "pipeline", "runner", "actions",
                  "jenkins", "automation", "bot")


def issues(m: Module) -> Iterator[Issue]:
    yield from _identity_policies(m)
    yield from _azure_role_definitions(m)
    yield from _attachments(m)
    yield from _roles(m)
    yield from _long_lived_keys(m)


def _identity_policies(m: Module) -> Iterator[Issue]:
    for block, statements in identity_policies(m):
        for statement in statements:
            yield from _wildcard(block.address, block.file, statement)
    for role in m.of("aws_iam_role"):
        for inline in role.children("inline_policy"):
            written = literal_statements(inline.get("policy"), inline.line_of("policy"))
            for statement in written or []:
                yield from _wildcard(role.address, role.file, statement)


def _wildcard(address: str, file: str, statement: Statement) -> Iterator[Issue]:
    grant = policy.wildcard_grant(statement)
    if grant is None:
        return
    sid = f" (Sid {statement.sid})" if statement.sid else ""
    yield iac_issue(
        "QG-IAC-009", Located(file, statement.line),
        f"{address}{sid} grants {grant.text}",
        f"{address}:{grant.text}", grant.severity, evidence=grant.text,
    )


def _azure_role_definitions(m: Module) -> Iterator[Issue]:
    """Custom roles allowing every operation: ``actions = ["*"]`` is Owner (critical; high
    when some actions are excluded, like Contributor), ``data_actions = ["*"]`` reads and
    writes every blob, secret and queue message in scope (high)."""
    for role in m.of("azurerm_role_definition"):
        for permissions in role.children("permissions"):
            actions = [text_of(a) for a in as_list(permissions.get("actions"))]
            excluded = as_list(permissions.get("not_actions"))
            if "*" in actions:
                what = ("every management operation except those in not_actions" if excluded
                        else "every management operation, including granting roles (as Owner)")
                yield iac_issue(
                    "QG-IAC-009", at(permissions, "actions"),
                    f"{role.address}: custom role allows actions \"*\" - {what} - on its "
                    "assignable scopes; list the operations the role needs",
                    f"{role.address}:actions:*" + (":with-not-actions" if excluded else ""),
                    Severity.HIGH if excluded else Severity.CRITICAL, evidence='actions = ["*"]',
                )
            data = [text_of(a) for a in as_list(permissions.get("data_actions"))]
            if "*" in data:
                yield iac_issue(
                    "QG-IAC-009", at(permissions, "data_actions"),
                    f"{role.address}: custom role allows data_actions \"*\", so its holders "
                    "read and write every blob, secret and message in scope",
                    f"{role.address}:data_actions:*", Severity.HIGH,
                    evidence='data_actions = ["*"]',
                )


def _admin_policy(arn: Any) -> str | None:
    """The lower-cased name of the AWS administrator managed policy ``arn`` names, if any."""
    name = policy.managed_policy_name(arn) if isinstance(arn, str) else ""
    return name if name in policy.ADMIN_MANAGED_POLICIES else None


def _attachments(m: Module) -> Iterator[Issue]:
    attached: list[tuple[Block, str, Any]] = [
        (block, "policy_arn", block.get("policy_arn"))
        for resource_type in _ATTACHMENTS for block in m.of(resource_type)
    ]
    attached.extend(
        (role, "managed_policy_arns", arn)
        for role in m.of("aws_iam_role") for arn in as_list(role.get("managed_policy_arns"))
    )
    for block, attribute, arn in attached:
        name = _admin_policy(arn)
        if name is not None:
            yield iac_issue(
                "QG-IAC-009", at(block, attribute),
                f"{block.address} attaches the AWS managed policy {arn.rsplit('/', 1)[-1]}",
                f"{block.address}:{name}",
            )


def _roles(m: Module) -> Iterator[Issue]:
    for role in m.of("aws_iam_role"):
        trust = resolve_policy(m, role.get("assume_role_policy"),
                               role.line_of("assume_role_policy"))
        if trust is None:
            continue
        for statement in trust:
            grant = policy.trust_issue(statement)
            if grant is not None:
                yield iac_issue(
                    "QG-IAC-011", at(role, "assume_role_policy"),
                    f"{role.address}: trust policy is open: {grant.text}",
                    f"{role.address}:trust:{grant.text}", grant.severity,
                )
                break
        if BRAKET_SERVICE in policy.trusted_services(trust):
            yield from _braket_role(m, role)


def _braket_role(m: Module, role: Block) -> Iterator[Issue]:
    """A role Amazon Braket jobs assume, checked for broad permissions from any source."""
    sources: list[tuple[str, Any, int]] = [
        (f"{role.address} inline_policy", inline.get("policy"), inline.line_of("policy"))
        for inline in role.children("inline_policy")
    ]
    sources.extend(
        (block.address, block.get("policy"), block.line_of("policy"))
        for block in m.linked("aws_iam_role_policy", "role", role)
    )
    admin: list[str] = []
    arns: list[tuple[str, Any]] = [
        (role.address, arn) for arn in as_list(role.get("managed_policy_arns"))
    ]
    arns.extend(
        (block.address, block.get("policy_arn"))
        for block in m.linked("aws_iam_role_policy_attachment", "role", role)
    )
    for origin, arn in arns:
        if isinstance(arn, str):
            if _admin_policy(arn) is not None:
                admin.append(f"{arn.rsplit('/', 1)[-1]} via {origin}")
            continue
        for address in references(arn):
            target = m.by_address.get(address)
            if target is not None and target.labels[0] == "aws_iam_policy":
                sources.append((target.address, target.get("policy"),
                                target.line_of("policy")))
    broad: list[str] = []
    for origin, value, line in sources:
        for statement in resolve_policy(m, value, line) or []:
            grant = policy.wildcard_grant(statement)
            if grant is not None:
                broad.append(f"{grant.text} via {origin}")
    if admin or broad:
        detail = "; ".join([*admin, *broad][:3])
        yield iac_issue(
            "QG-IAC-012", at(role),
            f"Amazon Braket job role {role.address} (trusted by braket.amazonaws.com) has "
            f"broad permissions: {detail}",
            f"{role.address}:braket-role:{detail}",
        )


def _long_lived_keys(m: Module) -> Iterator[Issue]:
    for resource_type, what in _LONG_LIVED_KEYS.items():
        for block in m.of(resource_type):
            owner = block.get("user") or block.get("iam_service_id") or block.get(
                "application_id") or block.get("service_account_id")
            owner_text = text_of(owner) if owner is not None else ""
            ci = any(hint in owner_text.lower() or hint in block.labels[1].lower()
                     for hint in _CI_NAME_HINTS)
            who = f" for {owner_text}" if owner_text else ""
            ci_note = " (looks like a CI identity)" if ci else ""
            yield iac_issue(
                "QG-IAC-010", at(block),
                f"{block.address} creates {what}{who}{ci_note}: a long-lived credential; "
                f"{_FEDERATION_HINT[resource_type]}",
                f"{block.address}:long-lived-key",
            )
