"""Literal secrets: passwords and tokens written into the configuration (variable defaults,
resource attributes). They land in the repository and, in plain text, in every plan and
state file. Rule metadata: ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.detectors.iac_common import iac_issue, literal_secret
from scanner.detectors.secret_names import secret_name
from scanner.detectors.terraform.module import Module, at
from scanner.formats.hcl import Block
from scanner.masking import mask
from scanner.model import Issue


# Attribute and variable names that hold credentials in Terraform (narrower than for env
# variables: `key` alone is an S3 object key, `kms_key_id` an identifier).
def issues(m: Module) -> Iterator[Issue]:
    for variable in m.variables:
        name = variable.labels[0] if variable.labels else ""
        default = variable.get("default")
        if secret_name(name) and _literal(default):
            yield _secret_issue(f"variable \"{name}\"", variable, "default", default)
    for blocks in m.resources.values():
        for resource in blocks:
            for block in resource.walk():
                for attribute, entry in block.attributes.items():
                    if secret_name(attribute) and _literal(entry.value):
                        yield _secret_issue(
                            f"{resource.address} {attribute}", block, attribute, entry.value
                        )


def _literal(value: Any) -> bool:
    return literal_secret(value) and len(str(value)) >= 6


def _secret_issue(what: str, block: Block, attribute: str, value: Any) -> Issue:
    masked = mask(str(value))
    return iac_issue(
        "QG-IAC-021", at(block, attribute),
        f"{what} holds a literal secret; it is stored in plain text in the repository, "
        "plans and state",
        f"secret:{what}:{masked}", evidence=f"{attribute} = {masked}",
    )
