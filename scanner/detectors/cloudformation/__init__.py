"""CloudFormation templates (YAML or JSON): the same cloud rules as Terraform (QG-IAC-*).

A template is self-contained, so every check runs on one file. YAML templates keep exact
lines (short-form tags such as ``!Ref`` arrive as their long form, unknown tags keep their
data); JSON templates have no line information, so a line is found by searching for the
resource's logical id and then each property name after it.

Covered: S3 buckets with their bucket policies, databases, volumes and search domains stored
unencrypted, resource policies and Lambda permissions open to everyone, KMS keys, IAM
policies, roles, users and groups, Braket job roles, CloudTrail for Braket resources, log
file validation and object lock on trail buckets, log retention, security-group ingress and
egress, public endpoints (notebooks, databases, EKS), notebook root access and literal
secrets. Resources without a tier tag take the scan's configured tier. Which QG-IAC rule
each problem becomes, and why it matters: ``scanner/rules/iac.yaml``.

- ``template``: the ``Template`` model (resources by logical id and type, locating a logical
  id and property path, policy documents, Braket markers) the checks share;
- one module per concern, each with ``issues(template)``: ``storage``, ``data_stores``,
  ``resource_policies``, ``keys``, ``identity``, ``logging``, ``network``, ``secrets``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from scanner.detectors.cloudformation import (
    data_stores,
    identity,
    keys,
    logging,
    network,
    resource_policies,
    secrets,
    storage,
)
from scanner.detectors.cloudformation.template import Template
from scanner.detectors.iac_common import IAC_RULES
from scanner.detectors.interface import Detector
from scanner.formats.cloudformation import load_template
from scanner.model import FileKind, Issue, Tier
from scanner.source import SourceFile

__all__ = ["CloudFormationDetector"]

# In this order (the output is sorted later; a fixed order keeps runs comparable).
_CHECKS: tuple[Callable[[Template], Iterator[Issue]], ...] = (
    storage.issues,
    data_stores.issues,
    resource_policies.issues,
    keys.issues,
    identity.issues,
    logging.issues,
    network.issues,
    secrets.issues,
)


class CloudFormationDetector(Detector):
    name = "cloudformation"
    kinds = frozenset({FileKind.CLOUDFORMATION})
    rules = frozenset[str]()
    # The IaC rules are the Terraform detector's; CloudFormation reports those that apply
    # to its resources (no shared-key or module-source checks).
    shared_rules = IAC_RULES - {"QG-IAC-018", "QG-IAC-020"}

    def __init__(self, tier: Tier | None = None) -> None:
        #: The scan's tier: the requirements of resources that carry no tier tag.
        self.tier = tier

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        template = load_template(source)
        if template is not None:
            checked = Template(source, template, self.tier)
            for check in _CHECKS:
                yield from check(checked)
