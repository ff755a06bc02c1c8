"""Terraform: AWS, Azure and IBM Cloud resources that hold, protect or reach quantum job data.

The pipeline groups the ``.tf``/``.tf.json`` files of one folder into a module
(``module_of``) and calls ``scan_module`` once with all of them; ``.tfvars`` files are values
only and are scanned on their own. Each issue names the file it is located in.

- ``module``: the ``Module`` model (blocks by type and address, ``linked`` companions, tiers,
  quantum workspaces) and the helpers the checks share;
- ``policies``: IAM policy documents read into statements;
- one module per concern, each with ``issues(module)``: ``storage``, ``data_stores``,
  ``resource_policies``, ``keys``, ``identity``, ``logging``, ``network``, ``notebooks``,
  ``supply_chain``, ``secrets``.

Which rule says what (QG-IAC ids, shared with CloudFormation) is in ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Sequence

from scanner.detectors.iac_common import IAC_RULES
from scanner.detectors.interface import ModuleDetector
from scanner.detectors.terraform import (
    data_stores,
    identity,
    keys,
    logging,
    network,
    notebooks,
    resource_policies,
    secrets,
    storage,
    supply_chain,
)
from scanner.detectors.terraform.module import Module
from scanner.model import FileKind, Issue, Tier
from scanner.source import SourceFile

__all__ = ["TerraformDetector"]

_MODULE_SUFFIXES = (".tf", ".tf.json")

# In this order (the output is sorted later; a fixed order keeps runs comparable).
_CHECKS: tuple[Callable[[Module], Iterator[Issue]], ...] = (
    storage.issues,
    data_stores.issues,
    resource_policies.issues,
    keys.issues,
    identity.issues,
    logging.issues,
    network.issues,
    notebooks.issues,
    supply_chain.issues,
    secrets.issues,
)


class TerraformDetector(ModuleDetector):
    name = "terraform"
    kinds = frozenset({FileKind.TERRAFORM})
    rules = IAC_RULES

    def __init__(self, tier: Tier | None = None) -> None:
        #: The scan's tier: the requirements of resources that carry no tier tag.
        self.tier = tier

    def module_of(self, source: SourceFile) -> str | None:
        if not source.name.lower().endswith(_MODULE_SUFFIXES):
            return None  # .tfvars / .tfvars.json: values only, checked on their own
        return posixpath.dirname(source.path)

    def admit(self, source: SourceFile) -> None:
        source.hcl  # noqa: B018 - parsing is the admission check: garbage is reported

    def scan_module(self, sources: Sequence[SourceFile]) -> Iterator[Issue]:
        files = {s.path: s.hcl for s in sources if s.name.lower().endswith(_MODULE_SUFFIXES)}
        if files:
            module = Module(files, self.tier)
            for check in _CHECKS:
                yield from check(module)
