"""`qgov scan` end to end through ``main([...])``: fingerprints, the gate, configuration,
usage errors and bad input. What each report format contains is in tests/reports/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import IBM_KEY
from tests.helpers import GOVERNED, LEAKY, scan_json, small_project


def test_fingerprints_stable_across_runs_and_line_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = small_project(tmp_path)
    _, first = scan_json(capsys, str(project))
    run_py = project / "src/run.py"
    run_py.write_text("# a new header comment\n\n" + run_py.read_text())
    _, second = scan_json(capsys, str(project))
    fp = lambda doc: {(f["rule_id"], f["fingerprint"]) for f in doc["findings"]}  # noqa: E731
    assert fp(first) == fp(second)
    assert {f["line"] for f in second["findings"] if f["path"] == "src/run.py"} == {4}


def test_fail_on_threshold_controls_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(LEAKY), "--fail-on", "critical", "--no-engines"]) == 1
    assert main(["scan", str(LEAKY), "--fail-on", "none", "--no-engines"]) == 0
    capsys.readouterr()


def test_governed_sample_is_clean_at_medium(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = scan_json(capsys, str(GOVERNED), "--fail-on", "medium")
    assert [f["rule_id"] for f in doc["findings"] if f["severity"] in {"critical", "high", "medium"}] == []
    assert code == 0


def test_usage_errors_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(tmp_path / "missing")]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("fail_on: sometimes\n")
    assert main(["scan", str(tmp_path), "--config", str(bad)]) == 2
    typo = tmp_path / "typo.yaml"
    typo.write_text("exclde: [x]\n")
    assert main(["scan", str(tmp_path), "--config", str(typo)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "exclde" in err and "fail_on" in err


def test_bad_input_becomes_scan_errors_and_scan_continues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.ipynb").write_text('{"cells": [ {"cell_type": "code", "source": ')
    (tmp_path / "wrong.ipynb").write_text('{"cells": 3, "nbformat": 4, "nbformat_minor": 5}')
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    (tmp_path / "blob.dat").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "huge.txt").write_bytes(b"a" * (11 * 1024 * 1024))
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "escape").symlink_to("/etc")
    (tmp_path / "ok.py").write_text(f'TOKEN = "{IBM_KEY}"\n')
    code, doc = scan_json(capsys, str(tmp_path))
    reasons = {e["path"]: e["reason"] for e in doc["scan_errors"]}
    assert reasons["broken.ipynb"] == "parse-error"
    assert reasons["wrong.ipynb"] == "parse-error"
    assert reasons["image.png"] == "binary" and reasons["blob.dat"] == "binary"
    assert reasons["huge.txt"] == "too-large"
    assert reasons["loop"] == "symlink-loop"
    assert reasons["escape"] == "symlink-outside-root"
    assert all(e["type"] == "scan-error" for e in doc["scan_errors"])
    assert [f["path"] for f in doc["findings"]] == ["ok.py"]
    assert code == 1


def test_config_file_and_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small_project(tmp_path)
    (tmp_path / ".qgov.yaml").write_text("fail_on: none\nexclude: ['.env']\n")
    code, doc = scan_json(capsys, str(tmp_path))
    assert code == 0 and {f["path"] for f in doc["findings"]} == {"src/run.py"}
    code, _ = scan_json(capsys, str(tmp_path), "--fail-on", "high")  # flag beats config
    assert code == 1
    (tmp_path / ".qgov.yaml").unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.qgov]\ndisable_rules = ["QG-SEC-003"]\n')
    _, doc = scan_json(capsys, str(tmp_path))
    assert "QG-SEC-003" not in {f["rule_id"] for f in doc["findings"]}
