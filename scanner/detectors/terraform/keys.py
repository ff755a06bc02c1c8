"""Encryption keys: rotation of AWS KMS and Azure Key Vault keys, and AWS key policies (who
administers and uses a key, whether anyone may). Rule metadata: ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.detectors import aws_policy as policy
from scanner.detectors.iac_common import iac_issue, truthy
from scanner.detectors.terraform.module import Module, at, unknown
from scanner.detectors.terraform.policies import resolve_policy
from scanner.formats.hcl import Block, text_of
from scanner.model import Issue


def issues(m: Module) -> Iterator[Issue]:
    for key in m.of("aws_kms_key"):
        spec = text_of(key.get("customer_master_key_spec") or key.get("key_spec") or
                       "SYMMETRIC_DEFAULT")
        rotation = key.get("enable_key_rotation")
        if unknown(rotation):
            pass  # set from a variable or expression: not knowable here, so no claim
        elif spec == "SYMMETRIC_DEFAULT" and not truthy(rotation):
            state = "is false" if rotation is not None else "is not set (default false)"
            yield iac_issue(
                "QG-IAC-007", at(key, "enable_key_rotation"),
                f"{key.address}: enable_key_rotation {state}",
                f"{key.address}:rotation",
            )
        owners: list[Block] = [key] if key.get("policy") is not None else []
        owners += m.linked("aws_kms_key_policy", "key_id", key)
        for owner in owners:
            yield from _key_policy(m, key, owner)
    for key in m.of("azurerm_key_vault_key"):
        if not key.children("rotation_policy"):
            yield iac_issue(
                "QG-IAC-007", at(key),
                f"{key.address} has no rotation_policy, so the key is never rotated",
                f"{key.address}:rotation",
            )


def _key_policy(m: Module, key: Block, owner: Block) -> Iterator[Issue]:
    """The policy of ``key``, written on the key itself or in an ``aws_kms_key_policy``."""
    statements = resolve_policy(m, owner.get("policy"), owner.line_of("policy"))
    if statements is None:
        return
    place = at(owner, "policy")
    for principal, _line in policy.admin_and_user(statements):
        yield iac_issue(
            "QG-IAC-008", place,
            f"{key.address}: key policy lets {principal} both administer and use the key "
            "(for example kms:* or key-policy changes together with Decrypt)",
            f"{key.address}:admin-user:{principal}",
            evidence=principal[:120],
        )
    for statement in statements:
        if policy.is_public(statement):
            yield iac_issue(
                "QG-IAC-003", place,
                f"{key.address}: key policy allows Principal \"*\" with no condition",
                f"{key.address}:public-key-policy",
            )
            break
