"""What the inventory tests share: facts as the workers report them, and a valid
organisation policy with test-chosen providers, data classes and environments."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from scanner.detection import detect_unit
from scanner.inventory.finders import build_fact_finders
from scanner.model import ProviderUse
from scanner.source import SourceFile
from tests.helpers import SAMPLES, source

# (provider, kind, detail, region, line)
Fact = tuple[str, str, str, str | None, int | None]


def facts_of(*sources: SourceFile) -> list[ProviderUse]:
    """The facts the workers report for ``sources`` (one unit); any scan error fails."""
    outcome = detect_unit(sources, [], build_fact_finders())
    assert outcome.errors == [], outcome.errors
    return outcome.facts


def facts(text: str, path: str) -> set[Fact]:
    return brief(facts_of(source(text, path)))


def brief(found: Iterable[ProviderUse]) -> set[Fact]:
    return {(f.provider, f.kind.value, f.detail, f.region, f.line) for f in found}


def providers(found: Iterable[ProviderUse]) -> set[str]:
    return {f.provider for f in found}


def notebook(*cells: str) -> str:
    """An nbformat 4 notebook of code cells, one source line per line of the file (as
    Jupyter writes it), so a fact's line is found with ``line_of``."""
    rendered = []
    for cell in cells:
        lines = cell.split("\n")
        body = ",\n".join(
            "    " + json.dumps(line + ("\n" if n < len(lines) - 1 else ""))
            for n, line in enumerate(lines)
        )
        rendered.append(
            '  {\n   "cell_type": "code",\n   "execution_count": null,\n   "metadata": {},\n'
            '   "outputs": [],\n   "source": [\n' + body + "\n   ]\n  }"
        )
    return ('{\n "cells": [\n' + ",\n".join(rendered) + '\n ],\n "metadata": {"kernelspec": '
            '{"language": "python", "name": "python3"}},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n')


def line_of(text: str, needle: str) -> int:
    """The 1-based line of ``text`` holding ``needle`` (first occurrence)."""
    return text[: text.index(needle)].count("\n") + 1


def policy_file(
    folder: Path,
    *,
    providers: list[dict[str, Any]] | None = None,
    data_classes: dict[str, Any] | None = None,
    environments: list[dict[str, Any]] | None = None,
    name: str = "org-policy.yaml",
) -> Path:
    """The sample organisation policy with these sections instead of its own."""
    document = yaml.safe_load((SAMPLES / "policy" / "org-policy.yaml").read_text("utf-8"))
    for key, value in (("providers", providers), ("data_classes", data_classes),
                       ("environments", environments)):
        document.pop(key, None)
        if value is not None:
            document[key] = value
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


PROFILE = """qgov_vendor_profile: 1
vendor:
  name: Test Vendor
  profile_date: 2026-10-01
  fictional: true
"""
