"""The scan's inventory: every fact the fact finders reported, folded per provider."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from scanner.inventory.table import display_name
from scanner.model import Inventory, InventoryUse, ProviderInventory, ProviderUse, UseKind

# The JSON report lists each provider's distinct uses; past this many it says how many more.
MAX_USES_PER_PROVIDER = 200
_KIND_ORDER = {kind: index for index, kind in enumerate(UseKind)}


def use_order(use: ProviderUse) -> tuple[str, int, int, str, str]:
    return (use.path or "", use.line or 0, _KIND_ORDER[use.kind], use.detail, use.region or "")


def build_inventory(facts: Iterable[ProviderUse]) -> Inventory:
    grouped: dict[str, list[ProviderUse]] = defaultdict(list)
    for fact in facts:
        grouped[fact.provider].append(fact)
    return Inventory(
        providers=tuple(_provider(pid, sorted(uses, key=use_order))
                        for pid, uses in sorted(grouped.items()))
    )


def _provider(provider: str, uses: list[ProviderUse]) -> ProviderInventory:
    shown = [_shown(use) for use in uses]
    devices = [
        " ".join(part for part in (use.detail, use.region) if part)
        for use in uses
        if use.kind is UseKind.DEVICE
    ]
    return ProviderInventory(
        id=provider,
        name=display_name(provider),
        kinds=tuple(sorted({u.kind for u in uses}, key=_KIND_ORDER.__getitem__)),
        files=tuple(sorted({u.path or "" for u in uses})),
        devices=tuple(sorted(set(devices))),
        backends=tuple(sorted({u.detail for u in uses if u.kind is UseKind.BACKEND})),
        regions=tuple(sorted({u.region for u in uses if u.region})),
        vendors=tuple(sorted({u.vendor for u in uses if u.vendor})),
        first_use=shown[0],
        uses=tuple(shown[:MAX_USES_PER_PROVIDER]),
        uses_total=len(shown),
    )


def _shown(use: ProviderUse) -> InventoryUse:
    return InventoryUse(
        kind=use.kind,
        detail=use.detail,
        path=use.path or "",
        line=use.line,
        cell=use.cell,
        region=use.region,
        vendor=use.vendor,
    )
