"""Fact finders: what each kind of file says about the quantum providers it uses.

A fact finder is to the inventory what a detector is to findings: it gets a ``SourceFile``
in a worker process, never touches the file system, and yields ``ProviderUse`` facts. It
reports no rules and raises nothing for malformed content (a view that does not parse
gives no facts; reporting the parse error is the detectors' job), so a file's facts never
cost the scan a finding.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from scanner.formats.cloudformation import Locator, load_template
from scanner.formats.errors import ParseError
from scanner.formats.hcl import Block, text_of
from scanner.inventory.python import fallback_uses, python_uses
from scanner.inventory.table import PACKAGES, normalise_package
from scanner.inventory.text import backend_setting_uses, import_uses, pip_uses, string_uses
from scanner.model import FileKind, ProviderUse, UseKind
from scanner.source import SourceFile

# One file may name a provider thousands of times; the inventory needs each distinct use once.
MAX_FACTS_PER_FILE = 500
_REGION = "region"


class FactFinder(ABC):
    #: Short name shown in per-detector timings.
    name: ClassVar[str]
    #: File kinds it reads.
    kinds: ClassVar[frozenset[FileKind]]

    @abstractmethod
    def facts(self, source: SourceFile) -> Iterable[ProviderUse]:
        """Yield the provider uses in one file (``path`` may stay None: this file)."""


def distinct(uses: Iterable[ProviderUse], path: str) -> list[ProviderUse]:
    """Each distinct use once (the first line it appears on), with its path, capped."""
    first: dict[tuple[Any, ...], ProviderUse] = {}
    for use in uses:
        key = (use.provider, use.kind, use.detail, use.region, use.vendor)
        known = first.get(key)
        if known is None or (use.line or 0) < (known.line or 0):
            if known is None and len(first) >= MAX_FACTS_PER_FILE:
                continue
            first[key] = use
    return [u if u.path is not None else replace(u, path=path) for u in first.values()]


# --- Python and notebooks ---------------------------------------------------------------------


class PythonFacts(FactFinder):
    name = "inventory"
    kinds = frozenset({FileKind.PYTHON})

    def facts(self, source: SourceFile) -> Iterator[ProviderUse]:
        try:
            yield from python_uses(source.text)
        except (SyntaxError, ValueError, RecursionError):
            yield from fallback_uses(source.lines)


class NotebookFacts(FactFinder):
    """Code cells through ``ast`` (IPython syntax commented out by ``notebook_python``); the
    commented lines (``%pip install``, cells that do not parse) through the bounded regexes."""

    name = "inventory"
    kinds = frozenset({FileKind.NOTEBOOK})

    def facts(self, source: SourceFile) -> Iterator[ProviderUse]:
        try:
            notebook = source.notebook_python
        except ParseError:
            return
        lines = notebook.code.split("\n")
        try:
            found = python_uses(notebook.code)
        except (SyntaxError, ValueError, RecursionError):
            found = list(fallback_uses(lines))
        broken = {cell for cell, _line, _message in notebook.unparsable_cells}
        for number, line in enumerate(lines, start=1):
            if not line.startswith("#"):
                continue
            cell, _ = notebook.origin(number)
            plain = line[2:] if line.startswith("# ") else line[1:]
            hits = [use for _offset, use in pip_uses(plain)]
            if cell in broken:
                hits += [use for _o, use in import_uses(plain.removeprefix("# "))]
                hits += [use for _o, use in string_uses(plain, UseKind.CLIENT)]
            found.extend(replace(use, line=number) for use in hits)
        for use in found:
            cell, stored = notebook.origin(use.line or 0)
            yield replace(use, line=stored, cell=cell)


# --- manifests ------------------------------------------------------------------------------


class ManifestFacts(FactFinder):
    name = "inventory"
    kinds = frozenset({FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.DEPENDENCY_MANIFEST})

    def facts(self, source: SourceFile) -> Iterator[ProviderUse]:
        try:
            manifest = source.manifest
        except ParseError:
            return
        if manifest is None:
            return
        for dependency in manifest.dependencies:
            if dependency.path != source.path:
                continue  # an included file is inventoried as itself
            provider = PACKAGES.get(normalise_package(dependency.name))
            if provider is not None:
                yield ProviderUse(provider, UseKind.DEPENDENCY, dependency.name,
                                  line=dependency.line)


# --- configuration and other text -----------------------------------------------------------


def _line_uses(lines: Sequence[str], kind: UseKind) -> Iterator[ProviderUse]:
    for number, line in enumerate(lines, start=1):
        for _offset, use in string_uses(line, kind):
            yield replace(use, line=number)
        if "install" in line:
            for _offset, use in pip_uses(line):
                yield replace(use, line=number)
        if "ibm" in line:
            for _offset, use in backend_setting_uses(line):
                yield replace(use, line=number)


class TextFacts(FactFinder):
    """Env files, CI workflows, Kubernetes and other YAML/JSON, Dockerfiles and saved
    Qiskit accounts: provider variables, ARNs, CRNs, endpoints and pip installs, by line."""

    name = "inventory"
    kinds = frozenset({
        FileKind.ENV_FILE, FileKind.YAML, FileKind.JSON, FileKind.KUBERNETES,
        FileKind.GITHUB_WORKFLOW, FileKind.GITHUB_ACTION, FileKind.GITLAB_CI,
        FileKind.DOCKERFILE, FileKind.QISKIT_CREDENTIALS,
    })

    def facts(self, source: SourceFile) -> Iterator[ProviderUse]:
        if source.kind is FileKind.QISKIT_CREDENTIALS:
            yield ProviderUse("ibm-quantum", UseKind.CONFIG, "saved Qiskit account", line=1)
        yield from _line_uses(source.lines, UseKind.CONFIG)


# --- infrastructure -------------------------------------------------------------------------

# providerId = "ionq" in an Azure Quantum workspace's providers list (HCL or JSON).
AZURE_PROVIDER_ID = re.compile(
    r"providerId[\"']?[ \t]{0,5}[:=][ \t]{0,5}[\"'](?P<vendor>[A-Za-z]{1,30})"
)
# What marks an AWS resource as Braket's: its service principal, its actions, and the
# amazon-braket- prefix Braket requires of result buckets and notebook instances.
_BRAKET_MARKERS = ("braket.amazonaws.com", "braket:", "amazon-braket-")


def _literal(value: Any) -> str | None:
    """A plain literal string value (no interpolation), else None."""
    if isinstance(value, str) and value and "${" not in value and len(value) <= 60:
        return value
    return None


class TerraformFacts(FactFinder):
    name = "inventory"
    kinds = frozenset({FileKind.TERRAFORM})

    def facts(self, source: SourceFile) -> Iterator[ProviderUse]:
        yield from _line_uses(source.lines, UseKind.RESOURCE)
        try:
            hcl = source.hcl
        except ParseError:
            return
        aws_region = next(
            (_literal(b.get(_REGION)) for b in hcl.blocks
             if b.type == "provider" and b.labels[:1] == ["aws"] and _literal(b.get(_REGION))),
            None,
        )
        for block in hcl.blocks:
            if block.type in ("resource", "data") and block.labels:
                yield from self._block(source, block, aws_region)

    def _block(self, source: SourceFile, block: Block, aws_region: str | None
               ) -> Iterator[ProviderUse]:
        kind = block.labels[0]
        location = _literal(block.get("location"))
        if kind == "azurerm_quantum_workspace":
            yield ProviderUse("azure-quantum", UseKind.RESOURCE, block.address,
                              region=location, line=block.line)
        elif kind == "azapi_resource" and text_of(block.get("type", "")).lower().startswith(
            "microsoft.quantum/workspaces"
        ):
            yield ProviderUse("azure-quantum", UseKind.RESOURCE, block.address,
                              region=location, line=block.line)
            # The hardware providers the workspace enables (body.properties.providers).
            text = "\n".join(source.lines[block.line - 1:block.end_line])
            for match in AZURE_PROVIDER_ID.finditer(text):
                vendor = match.group("vendor").lower()
                yield ProviderUse("azure-quantum", UseKind.RESOURCE,
                                  f"{block.address} provider {vendor}", region=location,
                                  vendor=vendor, line=block.line)
        elif kind == "ibm_resource_instance" and block.get("service") == "quantum-computing":
            yield ProviderUse("ibm-quantum", UseKind.RESOURCE, block.address,
                              region=location, line=block.line)
        elif kind.startswith("aws_"):
            text = "\n".join(source.lines[block.line - 1:block.end_line])
            if any(marker in text for marker in _BRAKET_MARKERS):
                region = _literal(block.get(_REGION)) or aws_region
                yield ProviderUse("amazon-braket", UseKind.RESOURCE, block.address,
                                  region=region, line=block.line)


class CloudFormationFacts(FactFinder):
    name = "inventory"
    kinds = frozenset({FileKind.CLOUDFORMATION})

    def facts(self, source: SourceFile) -> Iterator[ProviderUse]:
        yield from _line_uses(source.lines, UseKind.RESOURCE)
        try:
            template = load_template(source)
        except (ParseError, RecursionError):
            return
        if template is None:
            return
        resources = template.get("Resources")
        if not isinstance(resources, dict):
            return
        locator = Locator(source, template)
        for logical_id, body in resources.items():
            if not isinstance(body, dict):
                continue
            try:
                text = json.dumps(body, default=str)
            except (ValueError, RecursionError):
                continue
            if any(marker in text for marker in _BRAKET_MARKERS):
                kind = body.get("Type")
                detail = f"{logical_id} ({kind})" if isinstance(kind, str) else str(logical_id)
                yield ProviderUse("amazon-braket", UseKind.RESOURCE, detail[:120],
                                  line=locator.line(str(logical_id)))


def build_fact_finders() -> list[FactFinder]:
    return [PythonFacts(), NotebookFacts(), ManifestFacts(), TextFacts(), TerraformFacts(),
            CloudFormationFacts()]
