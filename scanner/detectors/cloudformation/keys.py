"""KMS keys: rotation, key policies that let one principal both administer and use a key,
and key policies open to everyone."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import expression_text
from scanner.detectors.cloudformation.template import Template
from scanner.detectors.iac_common import Located, iac_issue, truthy
from scanner.model import Issue


def issues(t: Template) -> Iterator[Issue]:
    for logical_id, props in t.of("AWS::KMS::Key"):
        spec = expression_text(props.get("KeySpec", "SYMMETRIC_DEFAULT"))
        rotation = props.get("EnableKeyRotation")
        decided_later = policy.is_intrinsic(rotation)  # !If / !Ref: no claim
        if spec == "SYMMETRIC_DEFAULT" and not truthy(rotation) and not decided_later:
            state = "is false" if rotation is not None else "is not set (default false)"
            yield iac_issue(
                "QG-IAC-007", t.at(logical_id, "Properties", "EnableKeyRotation"),
                f"KMS key {logical_id}: EnableKeyRotation {state}",
                f"{logical_id}:rotation",
            )
        statements = t.statements(props.get("KeyPolicy"), logical_id, "Properties",
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
