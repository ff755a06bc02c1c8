"""Baselines through the CLI: create one, and it suppresses exactly what it recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import IBM_KEY, IONQ_KEY
from tests.helpers import scan_json, small_project


def test_baseline_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = small_project(tmp_path / "p")
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "create", str(project), "-o", str(baseline), "--no-engines"]) == 0
    content = baseline.read_text()
    assert IBM_KEY not in content and IONQ_KEY not in content
    code, doc = scan_json(capsys, str(project), "--baseline", str(baseline))
    assert code == 0 and all(f["suppressed"] for f in doc["findings"])
    (project / "src/new.py").write_text(f'API_TOKEN = "{IONQ_KEY}x9"\n')
    code, doc = scan_json(capsys, str(project), "--baseline", str(baseline))
    assert code == 1
    assert [f["path"] for f in doc["findings"] if not f["suppressed"]] == ["src/new.py"]
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["scan", str(project), "--baseline", str(bad)]) == 2
