"""Digests of the catalog a run used: the whole, each part, each control, rule and framework.

An audit pack records them so a reader knows exactly which control definitions, rules and
mappings the statuses rest on, and ``qgov pack diff`` can say which of them changed between
two audits. A digest is the SHA-256 of the item's canonical JSON (sorted keys, no spaces),
so it changes when, and only when, the definition does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from scanner import __version__
from scanner.catalog import Catalog


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CatalogDigests(BaseModel):
    """Per-item digests (id -> SHA-256), what ``qgov pack diff`` compares."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    controls: dict[str, str]
    rules: dict[str, str]
    frameworks: dict[str, str]


class CatalogInfo(BaseModel):
    """What the scan section and a pack's manifest say about the catalog."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # The catalog ships with qgov, so its version is qgov's; ``custom`` says user catalog
    # folders were added (then only the digest identifies it).
    version: str
    custom: bool = False
    digest: str
    controls_digest: str
    rules_digest: str
    mappings_digest: str
    controls: int
    rules: int
    frameworks: dict[str, str | None]  # key -> the framework version mapped


def catalog_digests(catalog: Catalog) -> CatalogDigests:
    return CatalogDigests(
        controls={cid: _digest(c.model_dump(mode="json")) for cid, c in
                  sorted(catalog.controls.items())},
        rules={rid: _digest(r.model_dump(mode="json")) for rid, r in sorted(catalog.rules.items())},
        frameworks={key: _digest(f.model_dump(mode="json")) for key, f in
                    sorted(catalog.frameworks.items())},
    )


def catalog_info(catalog: Catalog, *, custom: bool = False) -> CatalogInfo:
    parts = catalog_digests(catalog)
    controls, rules, mappings = (_digest(parts.controls), _digest(parts.rules),
                                 _digest(parts.frameworks))
    return CatalogInfo(
        version=__version__,
        custom=custom,
        digest=_digest({"controls": controls, "rules": rules, "mappings": mappings}),
        controls_digest=controls,
        rules_digest=rules,
        mappings_digest=mappings,
        controls=len(catalog.controls),
        rules=len(catalog.rules),
        frameworks={key: f.version for key, f in sorted(catalog.frameworks.items())},
    )
