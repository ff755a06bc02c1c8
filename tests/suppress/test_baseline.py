"""Baselines through the CLI: create one, and it suppresses exactly what it recorded."""

from __future__ import annotations

import os
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


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x00\x01\x02binary", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8 JSON text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"qgov_baseline": 1, "findings": "x"}', "'findings' must be a list"),
    ],
)
def test_unusable_baseline_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    root = small_project(tmp_path / "p")
    baseline = tmp_path / "baseline.json"
    baseline.write_bytes(content)
    assert main(["scan", str(root), "--baseline", str(baseline), "--no-engines"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qgov: error: ") and expected in err and "internal error" not in err


def test_baseline_that_is_a_fifo_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "p")
    fifo = tmp_path / "baseline.json"
    os.mkfifo(fifo)
    assert main(["scan", str(root), "--baseline", str(fifo), "--no-engines"]) == 2
    assert "not a regular file" in capsys.readouterr().err
