"""What the inventory checks read from the organisation policy, and nothing else.

``InventoryPolicy.from_policy`` takes anything shaped like the policy's ``providers``,
``data_classes`` and ``environments`` sections (the governed job's ``OrgPolicy`` does), so
the checks do not depend on how the file was read. Provider names are matched through the
provider table's ids and aliases (``braket`` means ``amazon-braket``); vendor profile paths
are resolved against the policy file's folder.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from scanner.inventory.table import canonical_id
from scanner.model import Tier

PolicyOrigin = Literal["given", "found"]

# The data class a scan assumes when the configuration names none: what each tier may hold.
TIER_DATA_CLASS: dict[Tier, str] = {
    Tier.EXPLORATORY: "synthetic",
    Tier.INTERNAL_PILOT: "internal",
    Tier.REGULATED_PILOT: "regulated",
    Tier.PRODUCTION_CRITICAL: "regulated",
}


class _ProviderEntry(Protocol):
    @property
    def name(self) -> str | None: ...
    @property
    def vendor_profile(self) -> str | None: ...
    @property
    def approved_tiers(self) -> Sequence[Tier] | None: ...
    @property
    def regions(self) -> Sequence[str] | None: ...


class _DataClassRule(Protocol):
    @property
    def regions(self) -> Sequence[str] | None: ...


class _EnvironmentEntry(Protocol):
    @property
    def name(self) -> str | None: ...
    @property
    def credentials(self) -> Sequence[str] | None: ...


class PolicySections(Protocol):
    @property
    def providers(self) -> Sequence[_ProviderEntry] | None: ...
    @property
    def data_classes(self) -> Mapping[Any, _DataClassRule] | None: ...
    @property
    def environments(self) -> Sequence[_EnvironmentEntry] | None: ...


@dataclass(frozen=True)
class ProviderRule:
    name: str  # as the policy writes it
    vendor_profile: str | None
    approved_tiers: tuple[Tier, ...]
    regions: tuple[str, ...] | None  # None: any region


@dataclass(frozen=True)
class InventoryPolicy:
    label: str  # the policy file as the user sees it
    folder: Path  # vendor_profile paths are relative to this
    origin: PolicyOrigin
    providers: Mapping[str, ProviderRule] = field(default_factory=dict)
    unknown_providers: tuple[str, ...] = ()  # names the provider table does not know
    data_class_regions: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    # (credential reference, environment) for references that may name files
    environment_refs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_policy(
        cls, policy: PolicySections, path: Path, label: str, origin: PolicyOrigin
    ) -> InventoryPolicy:
        providers: dict[str, ProviderRule] = {}
        unknown: list[str] = []
        for entry in policy.providers or ():
            if not entry.name:
                continue
            provider = canonical_id(entry.name)
            if provider is None:
                unknown.append(entry.name)
                continue
            providers.setdefault(provider, ProviderRule(
                name=entry.name,
                vendor_profile=entry.vendor_profile,
                approved_tiers=tuple(entry.approved_tiers or ()),
                regions=None if entry.regions is None else tuple(entry.regions),
            ))
        regions = {
            str(name): None if rule.regions is None else tuple(rule.regions)
            for name, rule in (policy.data_classes or {}).items()
        }
        refs = tuple(
            (reference, str(env.name))
            for env in policy.environments or ()
            if env.name
            for reference in env.credentials or ()
        )
        return cls(label, path.parent, origin, providers, tuple(unknown), regions, refs)

    def profile_path(self, rule: ProviderRule) -> Path | None:
        if not rule.vendor_profile:
            return None
        path = Path(rule.vendor_profile).expanduser()
        return path if path.is_absolute() else self.folder / path


def region_key(region: str) -> str:
    """Regions compared as written by either side: ``West Europe`` is ``westeurope``."""
    return region.strip().lower().replace(" ", "").replace("_", "")


def region_allowed(region: str, allowed: Iterable[str]) -> bool:
    """Whether ``region`` is one of ``allowed`` (shell-style patterns: ``eu-*``)."""
    key = region_key(region)
    return any(fnmatch.fnmatchcase(key, region_key(pattern)) for pattern in allowed)
