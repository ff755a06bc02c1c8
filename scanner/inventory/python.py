"""Provider uses in Python, read with ``ast`` (the scanned code is parsed, never imported or
run): SDK imports, client constructors with their region, device ARNs and other strings,
backend names where code picks a backend, Braket's ``Devices`` enum and Azure Quantum
targets.

A name counts as a provider's client only when the file imports that provider: resolved
through the file's imports (``from azure.quantum import Workspace``), or through a star
import of a provider module. Backend names and Azure targets likewise need the provider (or
Azure Quantum) imported, so ``backend = "ibm_brisbane"`` in a file that never touches IBM
Quantum says nothing.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from scanner.inventory.table import (
    BACKENDS,
    CLIENTS,
    IMPORTED_NAMES,
    module_provider,
)
from scanner.inventory.text import import_uses, string_uses
from scanner.model import ProviderUse, UseKind

# Keyword arguments that carry a region or location for a client.
REGION_KWARGS = frozenset({"location", "region", "region_name"})
# Where code picks a backend or device by name.
BACKEND_CALLS = frozenset({"backend", "get_backend", "get_qc", "get_device", "get_processor",
                           "get_sampler", "get_engine_sampler"})
BACKEND_KWARGS = frozenset({"backend", "backend_name", "device_name", "device", "processor_id",
                            "target", "machine"})
_BACKEND_NAME = re.compile(r"backend|device|processor|target|qpu", re.I)
# Azure Quantum target ids: <vendor>.<product>[.<device>] (ionq.qpu.aria-1, rigetti.sim.qvm).
AZURE_TARGET = re.compile(
    r"^(?P<vendor>ionq|quantinuum|rigetti|pasqal|microsoft|qci|quera)\.[a-z0-9][a-z0-9.-]{0,60}$"
)
_BRAKET_DEVICES = "braket.devices.Devices"


# CPython's parser takes seconds on a dotted name of tens of thousands of parts; no real code
# has a line with this many dots, so such a file is read line by line instead.
MAX_DOTS_PER_LINE = 2000


def python_uses(code: str) -> list[ProviderUse]:
    """Every provider use in ``code`` (lines are lines of ``code``); raises ``SyntaxError``
    when it does not parse (``RecursionError`` for absurd nesting)."""
    if code.count(".") > MAX_DOTS_PER_LINE and any(
        line.count(".") > MAX_DOTS_PER_LINE for line in code.split("\n")
    ):
        raise SyntaxError("a line too deeply dotted to parse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes in scanned code
        try:
            tree = ast.parse(code)
        except MemoryError as exc:
            # CPython's parser reports some absurd inputs (an import of a 50,000-part dotted
            # name) as out of memory; the caller then reads the lines instead. A real memory
            # shortage fails again there and is reported as such.
            raise SyntaxError("too large for the parser") from exc
    return _Reader(tree).uses


@dataclass
class _Reader:
    tree: ast.Module
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    imported: set[str] = field(default_factory=set)  # providers the file imports
    star: set[str] = field(default_factory=set)  # providers star-imported
    uses: list[ProviderUse] = field(default_factory=list)

    def __post_init__(self) -> None:
        nodes = list(ast.walk(self.tree))
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                self._import(node)
        for node in nodes:
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                self._assign(node)
            elif isinstance(node, ast.Attribute):
                self._devices_enum(node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self._string(node.value, node.lineno)

    # --- imports ---------------------------------------------------------------------------

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                self.aliases[local] = alias.name if alias.asname else local
                self._module(alias.name, node.lineno)
            return
        if node.level or not node.module:
            return  # relative imports are the project's own code
        module = node.module
        whole = module_provider(module)
        if whole is not None:
            self._imported(whole, node.lineno)
        for alias in node.names:
            if alias.name == "*":
                if whole is not None:
                    self.star.add(whole[1])
                continue
            qualified = f"{module}.{alias.name}"
            self.aliases[alias.asname or alias.name] = qualified
            named = IMPORTED_NAMES.get((module, alias.name))
            if named is not None:
                self.imported.add(named)
                self._add(ProviderUse(named, UseKind.SDK_IMPORT, qualified, line=node.lineno))
            elif whole is None:
                self._module(qualified, node.lineno)  # from braket import aws

    def _module(self, module: str, line: int) -> None:
        found = module_provider(module)
        if found is not None:
            self._imported(found, line)

    def _imported(self, found: tuple[str, str], line: int) -> None:
        prefix, provider = found
        self.imported.add(provider)
        self._add(ProviderUse(provider, UseKind.SDK_IMPORT, prefix, line=line))

    # --- calls, assignments, attributes, strings ---------------------------------------------

    def _qualified(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):  # Service().backend(...): keep the method name
            parts.append("()")
            return ".".join(reversed(parts))
        if not isinstance(node, ast.Name):
            return ".".join(reversed(parts)) if parts else None
        parts.append(self.aliases.get(node.id, node.id))
        return ".".join(reversed(parts))

    def _call(self, node: ast.Call) -> None:
        qualified = self._qualified(node.func)
        if qualified is None:
            return
        terminal = qualified.rsplit(".", 1)[-1]
        region = _region(node)
        client = self._client(qualified)
        if client is not None:
            provider, name = client
            self._add(ProviderUse(provider, UseKind.CLIENT, name, region=region,
                                  line=node.lineno))
        elif terminal in {"client", "resource"} and _first_string(node) == "braket":
            self._add(ProviderUse("amazon-braket", UseKind.CLIENT, "boto3 braket client",
                                  region=region, line=node.lineno))
        elif region is not None and "amazon-braket" in self.imported and (
            qualified.startswith("boto3.") or terminal == "Session"
        ):
            # The boto3 session Braket runs in decides the region its tasks go to.
            self._add(ProviderUse("amazon-braket", UseKind.CLIENT, "boto3 session",
                                  region=region, line=node.lineno))
        if terminal in BACKEND_CALLS:
            chosen = _first_string(node)
            if chosen is not None:
                self._backend(chosen, node.lineno)
        for keyword in node.keywords:
            if keyword.arg in BACKEND_KWARGS and isinstance(keyword.value, ast.Constant):
                if isinstance(keyword.value.value, str):
                    self._backend(keyword.value.value, node.lineno)

    def _client(self, qualified: str) -> tuple[str, str] | None:
        parts = qualified.split(".")
        for index in range(1, len(parts)):  # qiskit.IBMQ.load_account: a provider's name
            named = IMPORTED_NAMES.get((".".join(parts[:index]), parts[index]))
            if named is not None:
                name = next((p for p in parts[index:] if p in CLIENTS[named]), None)
                return (named, name) if name else None
        found = module_provider(qualified)
        if found is not None:
            prefix, provider = found
            rest = parts[len(prefix.split(".")):]
            name = next((p for p in rest if p in CLIENTS[provider]), None)
            return (provider, name) if name else None
        if len(parts) == 1:
            for provider in sorted(self.star):
                if parts[0] in CLIENTS[provider]:
                    return provider, parts[0]
        return None

    def _assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        value = node.value
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            name = ""
            if isinstance(target, ast.Name):
                name = target.id
            elif isinstance(target, ast.Attribute):
                name = target.attr
            if _BACKEND_NAME.search(name):
                self._backend(value.value, node.lineno)
                return

    def _devices_enum(self, node: ast.Attribute) -> None:
        """``Devices.IonQ.Aria1`` (braket.devices): a device by name, its region implied."""
        middle = node.value
        if not (isinstance(middle, ast.Attribute) and isinstance(middle.value, ast.Name)):
            return
        if self.aliases.get(middle.value.id) != _BRAKET_DEVICES:
            return
        vendor = middle.attr.lower()
        self._add(ProviderUse("amazon-braket", UseKind.DEVICE, f"{vendor} {node.attr}",
                              vendor=vendor, line=node.lineno))

    def _string(self, value: str, line: int) -> None:
        for offset, use in string_uses(value, UseKind.CLIENT):
            self._add(replace(use, line=line + value.count("\n", 0, offset)))
        if "azure-quantum" in self.imported and len(value) <= 80:
            target = AZURE_TARGET.match(value)
            if target is not None:
                self._add(ProviderUse("azure-quantum", UseKind.DEVICE, value,
                                      vendor=target.group("vendor"), line=line))

    def _backend(self, name: str, line: int) -> None:
        if len(name) > 80 or name.endswith("qvm"):
            return
        for backend in BACKENDS:
            wanted = backend.provider in self.imported or backend.provider in self.star
            if wanted and name not in backend.excluded and backend.regex.match(name):
                self._add(ProviderUse(backend.provider, UseKind.BACKEND, name, line=line))
                return

    def _add(self, use: ProviderUse) -> None:
        self.uses.append(use)


def _region(node: ast.Call) -> str | None:
    for keyword in node.keywords:
        value = keyword.value
        if keyword.arg in REGION_KWARGS and isinstance(value, ast.Constant):
            if isinstance(value.value, str) and 0 < len(value.value) <= 40:
                return value.value
    return None


def _first_string(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def fallback_uses(lines: list[str]) -> Iterator[ProviderUse]:
    """For code that does not parse: import lines and strings, line by line (1-based)."""
    for number, line in enumerate(lines, start=1):
        for _offset, use in import_uses(line):
            yield replace(use, line=number)
        for _offset, use in string_uses(line, UseKind.CLIENT):
            yield replace(use, line=number)
