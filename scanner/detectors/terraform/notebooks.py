"""Managed notebook instances (SageMaker, which Amazon Braket notebooks are): direct internet
access (QG-IAC-016) and root access (QG-IAC-025). Both default to Enabled, so an unset
attribute is reported; a value Terraform computes is not. Rule metadata:
``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.detectors.iac_common import iac_issue
from scanner.detectors.terraform.module import Module, at, unknown
from scanner.formats.hcl import Block, text_of
from scanner.model import Issue


def issues(m: Module) -> Iterator[Issue]:
    for notebook in m.of("aws_sagemaker_notebook_instance"):
        yield from _direct_internet(notebook)
        yield from _root_access(notebook)


def _state(value: object) -> str:
    return f"= \"{text_of(value)}\"" if value is not None else "is not set (default Enabled)"


def _direct_internet(notebook: Block) -> Iterator[Issue]:
    access = notebook.get("direct_internet_access")
    if unknown(access) or text_of(access) == "Disabled":
        return
    yield iac_issue(
        "QG-IAC-016", at(notebook, "direct_internet_access"),
        f"{notebook.address}: direct_internet_access {_state(access)}; notebooks (including "
        "Braket notebooks) should reach AWS through VPC endpoints",
        f"{notebook.address}:direct-internet",
    )


def _root_access(notebook: Block) -> Iterator[Issue]:
    root = notebook.get("root_access")
    if unknown(root) or text_of(root) == "Disabled":
        return
    yield iac_issue(
        "QG-IAC-025", at(notebook, "root_access"),
        f"{notebook.address}: root_access {_state(root)}, so anyone using the notebook can "
        "become root, change its environment and reach everything its role and network can",
        f"{notebook.address}:root-access",
    )
