"""The provider table (``providers.yaml``) as typed data, loaded once per process.

Everything the recognisers know about a provider is in the YAML file, so adding a provider,
an SDK module or a package is a data change. The patterns built from it are module-level, so
the linear-time test (``tests/hostile/test_regex_linear.py``) checks them like every other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

_TABLE = Path(__file__).with_name("providers.yaml")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_NAME_PREFIX = re.compile(r"^[A-Z][A-Z0-9_]{1,40}$")


class ProviderSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    imported_names: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    packages: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()
    backends: str | None = None
    not_backends: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"provider id {value!r} must be lower-case words joined by '-'")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _NAME_PREFIX.match(name):
                raise ValueError(f"environment variable name {name!r} is not upper-case")
        return value


class ProviderTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    providers: tuple[ProviderSpec, ...]
    vendors: dict[str, str]


def normalise_package(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def table() -> ProviderTable:
    data: Any = yaml.safe_load(_TABLE.read_text(encoding="utf-8"))
    return ProviderTable.model_validate(data)


def spec(provider_id: str) -> ProviderSpec | None:
    return _BY_ID.get(provider_id)


def display_name(provider_id: str) -> str:
    found = _BY_ID.get(provider_id)
    return found.name if found else provider_id


def canonical_id(name: str) -> str | None:
    """The provider id a policy or profile means by ``name`` (its id or an alias)."""
    return _ALIASES.get(name.strip().lower())


def vendor_name(vendor: str) -> str:
    return table().vendors.get(vendor, vendor)


@dataclass(frozen=True)
class Endpoint:
    """An API URL pattern of one provider (``regex`` is the attribute the linear-time test
    looks for in module-level lists)."""

    provider: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class BackendNames:
    provider: str
    regex: re.Pattern[str]
    excluded: frozenset[str]


PROVIDERS: tuple[ProviderSpec, ...] = table().providers
_BY_ID = {p.id: p for p in PROVIDERS}
_ALIASES = {
    alias.lower(): p.id for p in PROVIDERS for alias in (p.id, p.name, *p.aliases)
}

# Module -> provider, longest first, so `qiskit.providers.ibmq` wins over a shorter prefix.
MODULES: tuple[tuple[str, str], ...] = tuple(
    sorted(((m, p.id) for p in PROVIDERS for m in p.modules), key=lambda mp: -len(mp[0]))
)
IMPORTED_NAMES: dict[tuple[str, str], str] = {
    (module, name): p.id
    for p in PROVIDERS
    for module, names in p.imported_names.items()
    for name in names
}
PACKAGES: dict[str, str] = {normalise_package(n): p.id for p in PROVIDERS for n in p.packages}
CLIENTS: dict[str, frozenset[str]] = {p.id: frozenset(p.clients) for p in PROVIDERS}
ENDPOINTS: tuple[Endpoint, ...] = tuple(
    Endpoint(p.id, re.compile(pattern)) for p in PROVIDERS for pattern in p.endpoints
)
BACKENDS: tuple[BackendNames, ...] = tuple(
    BackendNames(p.id, re.compile(p.backends), frozenset(p.not_backends))
    for p in PROVIDERS
    if p.backends
)
# Exact names and prefixes (ending in _) of the variables that configure each provider.
_ENV_EXACT = {name: p.id for p in PROVIDERS for name in p.env if not name.endswith("_")}
_ENV_PREFIXES = tuple((name, p.id) for p in PROVIDERS for name in p.env if name.endswith("_"))
ENV_NAME = re.compile(
    r"(?<![A-Za-z0-9_])(?:"
    + "|".join(re.escape(name) for name in sorted({n for p in PROVIDERS for n in p.env}))
    + r")[A-Z0-9_]{0,60}(?![A-Za-z0-9_])"
)


def module_provider(module: str) -> tuple[str, str] | None:
    """``(table module, provider)`` for a module whose import reaches a provider's cloud
    (``braket.aws`` for ``braket.aws.aws_device``), None for any other module."""
    for prefix, provider in MODULES:
        if module == prefix or module.startswith(prefix + "."):
            return prefix, provider
    return None


def env_provider(name: str) -> str | None:
    """The provider an environment variable name configures, None for any other name."""
    if name in _ENV_EXACT:
        return _ENV_EXACT[name]
    for prefix, provider in _ENV_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return provider
    return None
