"""Literal secrets: passwords and tokens written into the configuration (variable defaults,
provider blocks, resource and data-source attributes, module arguments, and the keys of map
values such as a Lambda function's ``environment { variables = { DB_PASSWORD = "…" } }``).
They land in the repository and, in plain text, in every plan and state file. Rule metadata:
``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.detectors.iac_common import Located, iac_issue, literal_secret
from scanner.detectors.secret_names import secret_name
from scanner.detectors.terraform.module import Module, at
from scanner.formats.hcl import Block, HclMap
from scanner.masking import mask
from scanner.model import Issue

# Maps that describe a resource rather than configure it.
_METADATA_MAPS = frozenset({"tags", "tags_all", "labels", "annotations"})


# Attribute and variable names that hold credentials in Terraform (narrower than for env
# variables: `key` alone is an S3 object key, `kms_key_id` an identifier).
def issues(m: Module) -> Iterator[Issue]:
    for variable in m.variables:
        name = variable.labels[0] if variable.labels else ""
        default = variable.get("default")
        if secret_name(name) and _literal(default):
            yield _secret_issue(f"variable \"{name}\"", at(variable, "default"), "default",
                                default)
    owners: list[Block] = [*m.providers, *m.module_calls]
    owners += [block for blocks in m.resources.values() for block in blocks]
    owners += [block for blocks in m.data.values() for block in blocks]
    for owner in owners:
        for block in owner.walk():
            for attribute, entry in block.attributes.items():
                if secret_name(attribute) and _literal(entry.value):
                    yield _secret_issue(f"{owner.address} {attribute}", at(block, attribute),
                                        attribute, entry.value)
                elif attribute not in _METADATA_MAPS:
                    yield from _in_map(owner, block, attribute, entry.value)


def _in_map(owner: Block, block: Block, path: str, value: Any) -> Iterator[Issue]:
    """Credential-named keys with literal values inside a map (or a list of maps)."""
    if isinstance(value, list):
        for item in value:
            yield from _in_map(owner, block, path, item)
        return
    if not isinstance(value, HclMap):
        return
    for key, inner in value.items():
        where = f"{path}.{key}"
        if secret_name(str(key)) and _literal(inner):
            line = value.line_of(key) or block.line_of(path.split(".", 1)[0])
            yield _secret_issue(f"{owner.address} {where}", Located(block.file, line),
                                str(key), inner)
        else:
            yield from _in_map(owner, block, where, inner)


def _literal(value: Any) -> bool:
    return literal_secret(value) and len(str(value)) >= 6


def _secret_issue(what: str, place: Located, attribute: str, value: Any) -> Issue:
    masked = mask(str(value))
    return iac_issue(
        "QG-IAC-021", place,
        f"{what} holds a literal secret; it is stored in plain text in the repository, "
        "plans and state",
        f"secret:{what}:{masked}", evidence=f"{attribute} = {masked}",
    )
