"""Literal secrets: passwords and tokens written into the configuration (variable defaults,
resource attributes). They land in the repository and, in plain text, in every plan and
state file. Rule metadata: ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scanner.detectors.iac_common import iac_issue, literal_secret
from scanner.detectors.terraform.module import Module, at
from scanner.formats.hcl import Block
from scanner.masking import mask
from scanner.model import Issue

# Attribute and variable names that hold credentials in Terraform (narrower than for env
# variables: `key` alone is an S3 object key, `kms_key_id` an identifier).
_TF_SECRET_NAME = re.compile(
    r"(password|passwd|passphrase|secret|token|api_?key|access_?key|private_?key|"
    r"connection_?string|auth_?key|sas_?key)",
    re.I,
)
_TF_NOT_SECRET = re.compile(
    r"(_arn|_id|_ids|_name|_version|_enabled|_rotation|_length|_lifetime|_ttl|_type|_path|"
    r"_file|_count|_policy|_wo_version|_prefix|_url|_uri|_location|_key_vault)$|^(enable|use)_",
    re.I,
)


def issues(m: Module) -> Iterator[Issue]:
    for variable in m.variables:
        name = variable.labels[0] if variable.labels else ""
        default = variable.get("default")
        if _secret_name(name) and _literal(default):
            yield _secret_issue(f"variable \"{name}\"", variable, "default", default)
    for blocks in m.resources.values():
        for resource in blocks:
            for block in resource.walk():
                for attribute, entry in block.attributes.items():
                    if _secret_name(attribute) and _literal(entry.value):
                        yield _secret_issue(
                            f"{resource.address} {attribute}", block, attribute, entry.value
                        )


def _secret_name(name: str) -> bool:
    return bool(_TF_SECRET_NAME.search(name)) and not _TF_NOT_SECRET.search(name)


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
