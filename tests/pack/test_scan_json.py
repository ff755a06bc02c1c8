"""The scan JSON's `scan` section, and reading a scan JSON back (scanner.reports.json_load)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scanner.catalog import load_catalog
from scanner.reports.json_load import ScanJsonError, StoredFinding, load_scan_json
from scanner.reports.json_report import render_json
from scanner.reports.report import ScanReport
from tests.pack.helpers import EPOCH_NOV_2026, project, qgov


def _scan_json(capsys: pytest.CaptureFixture[str], root: Path, out: Path) -> dict:
    code, _, err = qgov(capsys, "scan", str(root), "--no-engines", "--format", "json",
                        "--output", str(out), "--fail-on", "none")
    assert code == 0, err
    return json.loads(out.read_text())


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   cwd=root, check=True, capture_output=True)


def test_scan_section_names_commit_time_catalog_and_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "repo")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                          text=True, check=True).stdout.strip()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_NOV_2026)
    document = _scan_json(capsys, root, tmp_path / "a.json")
    scan = document["scan"]
    assert document["format_version"] == "1.0"
    assert scan["targets"][0]["git"] == {"commit": head, "dirty": False}
    assert scan["scanned_at"] == "2026-11-01T12:00:00Z"
    assert scan["catalog"]["controls"] == len(load_catalog().controls)
    assert len(scan["catalog"]["digest"]) == 64
    config = scan["config"]
    assert config["tier"] == "internal-pilot"
    assert config["engines"] == {"bandit": False, "semgrep": False, "vulnerabilities": False}
    assert config["osv"] is None  # the check was off

    (root / "src" / "new.py").write_text("x = 1\n")  # untracked: the scan saw more than HEAD
    again = _scan_json(capsys, root, tmp_path / "b.json")
    assert again["scan"]["targets"][0]["git"] == {"commit": head, "dirty": True}


def test_outside_git_and_osv_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "plain")
    (root / ".qgov.yaml").write_text("engines: {bandit: false, semgrep: false}\n")
    osv = Path(__file__).resolve().parents[2] / "samples" / "osv-db"
    code, out, _ = qgov(capsys, "scan", str(root), "--format", "json", "--fail-on", "none",
                        "--osv-db", str(osv))
    document = json.loads(out)
    assert document["scan"]["targets"][0]["git"] is None
    assert document["scan"]["config"]["osv"]["snapshot"] == "2024-05-20T22:07:29Z"
    assert document["scan"]["config"]["osv"]["age_days"] > 900


def test_round_trip_keeps_findings_fingerprints_and_suppressions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = _scan_json(capsys, project(tmp_path / "repo"), tmp_path / "scan.json")
    loaded = load_scan_json(tmp_path / "scan.json")
    assert all(isinstance(f, StoredFinding) for f in loaded.result.findings)
    suppressed = [f for f in loaded.result.findings if f.suppression is not None]
    assert [(s.suppression.kind.value, s.suppression.id, s.suppression.owner,
             s.suppression.until) for s in suppressed if s.suppression] == [
        ("exception", "EXC-1", "platform-lead@example.org", "2026-12-31")]
    again = json.loads(render_json(ScanReport(result=loaded.result, catalog=load_catalog(),
                                              fail_on=None, scan=loaded.scan)))
    for key in ("findings", "scan_errors", "notices", "inventory", "coverage", "scan", "roots",
                "controls", "frameworks"):
        assert again[key] == original[key], key


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"version": "2.1.0", "runs": []}', "not a qgov scan report"),
        ('[1, 2]', "not a qgov scan report"),
        ('{"tool": {"name": "qgov"}, "findings": [', "ends early (truncated?)"),
        ('{"tool": {"name": "qgov", "version": "9.0"}, "format_version": "2.0", '
         '"findings": [], "roots": [], "summary": {}}', "written by a newer qgov (format 2.0)"),
        ('{"tool": {"name": "qgov"}, "format_version": "1.3", "roots": ["."], "summary": {}, '
         '"findings": [{"rule_id": "QG-SEC-008", "severity": "fatal", "path": "a", '
         '"message": "m", "fingerprint": "00000000000000000000000000000000"}]}',
         "field 'findings.0.severity'"),
        ('{"tool": {"name": "qgov"}, "roots": ["."], "summary": {}, "findings": '
         '[{"rule_id": "R", "severity": "high", "path": "a", "message": "m", '
         '"fingerprint": "../../etc"}]}', "field 'findings.0.fingerprint'"),
    ],
    ids=["sarif", "not-object", "truncated", "newer-major", "bad-severity", "bad-fingerprint"],
)
def test_bad_scan_json_is_one_clear_line(
    content: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "ci-scan.json"
    bad.write_text(content)
    with pytest.raises(ScanJsonError) as caught:
        load_scan_json(bad)
    assert expected in str(caught.value)
    assert str(bad) in str(caught.value)
    code, _, err = qgov(capsys, "report", str(bad), "--out", str(tmp_path / "pack"))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("qgov: error: scan JSON ")
    assert expected in err
    assert not (tmp_path / "pack").exists()


def test_a_newer_minor_version_still_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = _scan_json(capsys, project(tmp_path / "repo"), tmp_path / "scan.json")
    document["format_version"] = "1.7"
    document["something_new"] = {"x": 1}
    document["findings"][0]["new_field"] = True
    document["scan"]["new_field"] = "later"
    (tmp_path / "scan.json").write_text(json.dumps(document))
    loaded = load_scan_json(tmp_path / "scan.json")
    assert len(loaded.result.findings) == len(document["findings"])


def test_reading_the_commit_runs_nothing_the_checkout_configures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "repo")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    marker = tmp_path / "ran"
    hook = tmp_path / "monitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    _git(root, "config", "core.fsmonitor", str(hook))
    (root / "src" / "leak.py").write_text("changed = True\n")  # status must look at files
    document = _scan_json(capsys, root, tmp_path / "scan.json")
    assert document["scan"]["targets"][0]["git"]["dirty"] is True
    assert not marker.exists()
