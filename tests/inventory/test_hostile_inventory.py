"""The hostile cases the inventory added to ``tests/hostile/generator.py`` (huge and odd ARNs,
100,000-character import lines, a notebook with thousands of imports): besides finishing
in time (``tests/hostile``), each gives a small, bounded inventory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import scan_json
from tests.hostile.generator import CASES, build

MAX_SECONDS = 20  # in process, on a loaded machine; each takes about a second


def inventory(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    case = next(c for c in CASES if c.name == name)
    started = time.monotonic()
    _, document = scan_json(capsys, str(build(case, tmp_path)), "--fail-on", "none")
    assert time.monotonic() - started < MAX_SECONDS
    assert document["scan_errors"] == []
    return {p["id"]: p for p in document["inventory"]["providers"]}


def test_odd_arns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = inventory("odd-arns", tmp_path, capsys)
    braket = found["amazon-braket"]
    assert "ionq Aria-1 us-east-1" in braket["devices"]
    assert all(len(device) <= 100 for device in braket["devices"])
    assert braket["uses_total"] <= 10


def test_long_import_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = inventory("long-import-lines", tmp_path, capsys)
    assert set(found) == {"amazon-braket", "ibm-quantum", "ionq"}
    assert [u["detail"] for u in found["amazon-braket"]["uses"]] == ["amazon-braket-sdk"]


def test_notebook_with_thousands_of_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = inventory("notebook-many-imports", tmp_path, capsys)
    assert set(found) == {"amazon-braket", "dwave", "ibm-quantum"}
    assert found["ibm-quantum"]["uses_total"] == 1  # each distinct use once per file
    braket = found["amazon-braket"]
    # capped at MAX_FACTS_PER_FILE distinct uses per file, the other providers' two included
    assert braket["uses_total"] == 500 - 2
    assert len(braket["uses"]) == 200  # and listed up to MAX_USES_PER_PROVIDER
