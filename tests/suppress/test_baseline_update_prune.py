"""`qgov baseline update` adds new findings and drops nothing; `qgov baseline prune` drops
entries whose finding is gone and adds nothing. Both keep owner, reason and expires."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import AWS_KEY_ID
from tests.helpers import scan_json, small_project


def _baseline(capsys: pytest.CaptureFixture[str], root: Path, path: Path) -> None:
    assert main(["baseline", "create", str(root), "-o", str(path), "--no-engines"]) == 0
    document = json.loads(path.read_text())
    for entry in document["findings"]:
        if entry["rule_id"] == "QG-SEC-008":
            entry.update(owner="dev@example.org", reason="test key", expires="2099-12-31")
    path.write_text(json.dumps(document, indent=2))
    capsys.readouterr()


def _entries(path: Path) -> dict[str, dict[str, str]]:
    return {e["rule_id"]: e for e in json.loads(path.read_text())["findings"]}


def test_update_adds_new_findings_and_keeps_every_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "p")
    baseline = tmp_path / "baseline.json"
    _baseline(capsys, root, baseline)
    (root / "src" / "run.py").unlink()  # QG-SEC-003's finding is gone
    (root / "aws.py").write_text(f'KEY_ID = "{AWS_KEY_ID}"\n')  # a new finding
    code = main(["baseline", "update", str(root), "--baseline", str(baseline), "--no-engines"])
    err = capsys.readouterr().err
    assert code == 0
    assert "1 added, 2 kept (1 no longer found: `qgov baseline prune` drops them)" in err
    entries = _entries(baseline)
    assert set(entries) == {"QG-SEC-003", "QG-SEC-008", "QG-SEC-004"}
    assert entries["QG-SEC-008"]["owner"] == "dev@example.org"
    assert entries["QG-SEC-008"]["expires"] == "2099-12-31"
    assert "owner" not in entries["QG-SEC-004"]
    code, doc = scan_json(capsys, str(root), "--baseline", str(baseline))
    assert code == 0 and all(f["suppressed"] for f in doc["findings"])


def test_prune_drops_what_is_gone_and_keeps_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "p")
    baseline = tmp_path / "baseline.json"
    _baseline(capsys, root, baseline)
    (root / "src" / "run.py").unlink()
    (root / "aws.py").write_text(f'KEY_ID = "{AWS_KEY_ID}"\n')  # new: prune does not add it
    (root / ".qgov.yaml").write_text(f"baseline: {baseline}\n")  # the file from the config
    assert main(["baseline", "prune", str(root), "--no-engines"]) == 0
    assert "1 dropped, 1 kept" in capsys.readouterr().err
    entries = _entries(baseline)
    assert set(entries) == {"QG-SEC-008"}
    assert (entries["QG-SEC-008"]["owner"], entries["QG-SEC-008"]["reason"]) == (
        "dev@example.org", "test key")


def test_prune_keeps_entries_this_scan_could_not_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "p")
    baseline = tmp_path / "baseline.json"
    _baseline(capsys, root, baseline)
    document = json.loads(baseline.read_text())
    document["findings"] += [
        # An engine finding, with the engines off: not looked for, so not gone.
        {"fingerprint": "a" * 16, "rule_id": "QG-PY-001", "path": "src/run.py"},
        # A file that could not be parsed this time.
        {"fingerprint": "b" * 16, "rule_id": "QG-NBK-001", "path": "nb.ipynb"},
        # A rule switched off for this run.
        {"fingerprint": "c" * 16, "rule_id": "QG-SEC-013", "path": "x.py"},
        # Really gone.
        {"fingerprint": "d" * 16, "rule_id": "QG-SEC-001", "path": "old.py"},
    ]
    baseline.write_text(json.dumps(document))
    (root / "nb.ipynb").write_text('{"cells": [')
    code = main(["baseline", "prune", str(root), "-b", str(baseline), "--no-engines",
                 "--skip-rule", "QG-SEC-013"])
    assert code == 0
    assert "1 dropped, 5 kept (3 this scan could not check)" in capsys.readouterr().err
    assert "QG-SEC-001" not in _entries(baseline)


def test_update_and_prune_refuse_what_is_not_a_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "p")
    other = tmp_path / "notes.json"
    other.write_text('{"hello": 1}')
    assert main(["baseline", "update", str(root), "-b", str(other), "--no-engines"]) == 2
    assert main(["baseline", "prune", str(root), "--no-engines"]) == 2  # which file?
    err = capsys.readouterr().err
    assert "not a qgov baseline file" in err and "pass --baseline FILE" in err
    assert other.read_text() == '{"hello": 1}'
