"""The Terraform module model every check reads, and the small helpers they share.

A module is every ``.tf``/``.tf.json`` file of one folder: Terraform splits one logical thing
over many resources (since AWS provider v4 an S3 bucket's encryption, public access block,
ACL, policy, versioning and logging are six resources, possibly in six files), so checks look
things up module-wide: by type (``of``), by address (``by_address``) and by what points at a
resource (``linked``). ``Module`` also holds the context several concerns need: the workload
tier (``qgov:tier`` tags, provider ``default_tags``, else the tier the scan is configured
with) and the Azure Quantum workspaces with the storage they use.
"""

from __future__ import annotations

from typing import Any

from scanner.detectors.iac_common import BRAKET_BUCKET_PREFIX, Located, tier_from_tags
from scanner.formats.hcl import Block, Call, Expr, HclFile, references, text_of
from scanner.model import Tier

_QUANTUM_WORKSPACE_TYPES = ("azurerm_quantum_workspace",)


class Module:
    def __init__(self, files: dict[str, HclFile], configured_tier: Tier | None = None) -> None:
        self.files = files
        #: The scan's tier (``--tier`` / ``tier:``): what a resource without a tag must meet.
        self.configured_tier = configured_tier
        self.resources: dict[str, list[Block]] = {}
        self.data: dict[str, list[Block]] = {}
        self.providers: list[Block] = []
        self.module_calls: list[Block] = []
        self.variables: list[Block] = []
        self.by_address: dict[str, Block] = {}
        for name in sorted(files):
            for block in files[name].blocks:
                if block.type == "resource" and len(block.labels) >= 2:
                    self.resources.setdefault(block.labels[0], []).append(block)
                    self.by_address[block.address] = block
                elif block.type == "data" and len(block.labels) >= 2:
                    self.data.setdefault(block.labels[0], []).append(block)
                    self.by_address[block.address] = block
                elif block.type == "provider":
                    self.providers.append(block)
                elif block.type == "module":
                    self.module_calls.append(block)
                elif block.type == "variable":
                    self.variables.append(block)
        self.default_tier = self._default_tier()
        #: (workspace block, its properties) for azapi and azurerm quantum workspaces.
        self.quantum_workspaces = self._quantum_workspaces()
        #: Addresses of the storage accounts a quantum workspace uses (they hold job data).
        self.quantum_storage = self._quantum_storage()

    def of(self, resource_type: str) -> list[Block]:
        return self.resources.get(resource_type, [])

    def linked(self, resource_type: str, attribute: str, target: Block) -> list[Block]:
        """Resources of ``resource_type`` whose ``attribute`` points at ``target``."""
        names = {n for n in (target.get("bucket"), target.get("name")) if isinstance(n, str)}
        found = []
        for block in self.of(resource_type):
            value = block.get(attribute)
            if target.address in references(value) or (isinstance(value, str) and value in names):
                found.append(block)
            elif "each." in text_of(value) and target.address in references(
                block.get("for_each")
            ):
                # for_each = aws_s3_bucket.results / bucket = each.value.id: one companion
                # per bucket of a for_each (or this one bucket).
                found.append(block)
        return found

    def tier(self, block: Block) -> Tier | None:
        """The block's own tier tag, else the providers' default tags (a tier the
        configuration states for this resource: it marks the resource as holding job data)."""
        return tier_from_tags(block.get("tags")) or self.default_tier

    def required_tier(self, block: Block) -> Tier | None:
        """The tier whose requirements apply to ``block``: its tags, else the scan's tier."""
        return self.tier(block) or self.configured_tier

    def _default_tier(self) -> Tier | None:
        for provider in self.providers:
            for default_tags in provider.children("default_tags"):
                tier = tier_from_tags(default_tags.get("tags"))
                if tier:
                    return tier
        return None

    def _quantum_workspaces(self) -> list[tuple[Block, Any]]:
        found: list[tuple[Block, Any]] = []
        for block in self.of("azapi_resource"):
            kind = block.get("type")
            if isinstance(kind, str) and kind.lower().startswith("microsoft.quantum/workspaces"):
                body = block.get("body")
                if isinstance(body, Call) and body.name == "jsonencode" and body.args:
                    body = body.args[0]
                properties = body.get("properties") if isinstance(body, dict) else None
                found.append((block, properties if isinstance(properties, dict) else {}))
        for resource_type in _QUANTUM_WORKSPACE_TYPES:
            found.extend((block, {}) for block in self.of(resource_type))
        return found

    def _quantum_storage(self) -> set[str]:
        addresses: set[str] = set()
        for block, properties in self.quantum_workspaces:
            addresses.update(references(properties.get("storageAccount")))
            addresses.update(references(block.get("storage_account")))
            addresses.update(references(block.get("storage_account_id")))
        return addresses


# --- helpers the checks share --------------------------------------------------------------------


def at(block: Block, attribute: str | None = None) -> Located:
    """Where an issue about ``block`` (or one of its attributes or child blocks) points."""
    return Located(block.file, block.line_of(attribute) if attribute else block.line)


def nested(block: Block, block_type: str) -> list[Block]:
    """Direct child blocks of a type, including ``dynamic "type" { content { ... } }``."""
    found = block.children(block_type)
    for dynamic in block.children("dynamic"):
        if dynamic.labels and dynamic.labels[0] == block_type:
            found.extend(dynamic.children("content"))
    return found


def unknown(value: Any) -> bool:
    """A value Terraform computes (variable, reference, function call, conditional)."""
    return isinstance(value, Expr | Call) or (isinstance(value, str) and "${" in value)


def falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def bucket_name(bucket: Block) -> str:
    """An ``aws_s3_bucket``'s literal name or prefix; "" when computed or unset."""
    name = bucket.get("bucket") or bucket.get("bucket_prefix")
    return name if isinstance(name, str) else ""


def braket_bucket(bucket: Block) -> bool:
    """An Amazon Braket result bucket (``amazon-braket-*``): it holds quantum job data."""
    return bucket_name(bucket).lower().startswith(BRAKET_BUCKET_PREFIX)
