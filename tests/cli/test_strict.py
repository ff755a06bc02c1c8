"""The gate cannot pass without checking: counts of scanned, excluded and skipped files, a
loud empty scan, --strict, a missing OSV database (exit 2) and a stale one."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import IBM_KEY
from tests.helpers import DATA, scan_json

OSV = DATA / "osv" / "PyPI"


def _text(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["scan", *args, "--no-engines"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out


def test_summary_counts_scanned_excluded_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.py").write_text("x = 1\n")
    (tmp_path / "notes.log").write_text("nothing\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / ".gitignore").write_text("vendor/\n*.log\n")
    code, out = _text(capsys, str(tmp_path))
    assert code == 0
    assert "2 files scanned, 2 excluded, 1 skipped (1 binary)" in out
    _, doc = scan_json(capsys, str(tmp_path))
    summary = doc["summary"]
    assert (summary["files_scanned"], summary["files_excluded"], summary["files_skipped"]) == (
        2, 2, 1
    )


@pytest.mark.parametrize(
    ("ignore", "config"),
    [("*\n", None), (None, "exclude: ['**']\n")],
    ids=["gitignore-star", "exclude-all"],
)
def test_a_scan_of_nothing_is_loud_and_fails_under_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ignore: str | None, config: str | None
) -> None:
    (tmp_path / "run.py").write_text(f'token = "{IBM_KEY}"\n')
    if ignore:
        (tmp_path / ".gitignore").write_text(ignore)
    if config:
        (tmp_path / ".qgov.yaml").write_text(config)
    code, out = _text(capsys, str(tmp_path))
    assert code == 0  # without --strict it is a warning
    assert "warning: no files were scanned" in out and "0 files scanned" in out
    code, out = _text(capsys, str(tmp_path), "--strict")
    assert code == 1
    assert "gate: FAIL" in out and "no files scanned (--strict)" in out
    # strict: in the config works the same way.
    (tmp_path / ".qgov.yaml").write_text((config or "") + "strict: true\n")
    assert _text(capsys, str(tmp_path))[0] == 1


def test_strict_fails_on_scan_errors_but_not_on_files_skipped_by_design(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert _text(capsys, str(tmp_path), "--strict")[0] == 0  # a binary file is no error
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    code, out = _text(capsys, str(tmp_path))
    assert code == 0 and "gate: PASS" in out
    code, out = _text(capsys, str(tmp_path), "--strict")
    assert code == 1 and "1 scan error(s) (--strict)" in out
    _, doc = scan_json(capsys, str(tmp_path), "--strict")
    assert doc["summary"]["strict"] is True and doc["summary"]["failed"] is True


def test_missing_or_unusable_osv_database_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.28.1\n")
    assert main(["scan", str(tmp_path), "--osv-db", str(tmp_path / "typo.zip")]) == 2
    not_zip = tmp_path / "db.zip"
    not_zip.write_text("not a zip")
    assert main(["scan", str(tmp_path), "--osv-db", str(not_zip)]) == 2
    (tmp_path / ".qgov.yaml").write_text("osv_db: nowhere/\n")
    assert main(["scan", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "OSV database" in err and "no such file or directory" in err
    assert "not a folder of OSV JSON files nor an OSV zip" in err and "Traceback" not in err
    # With the vulnerability engine off, the path is not used and not checked.
    assert main(["scan", str(tmp_path), "--no-engines"]) == 0
    capsys.readouterr()


def _database(folder: Path, modified: datetime) -> Path:
    """A one-advisory OSV folder whose newest advisory was modified at ``modified``."""
    folder.mkdir()
    advisory = json.loads((OSV / "PYSEC-2023-74.json").read_text())
    advisory["modified"] = modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    (folder / "PYSEC-2023-74.json").write_text(json.dumps(advisory))
    return folder


def test_stale_osv_database_warns_and_fails_under_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("requests==2.28.1\n")
    now = datetime.now(UTC)
    fresh = _database(tmp_path / "fresh", now - timedelta(days=2))
    old = _database(tmp_path / "old", now - timedelta(days=30))
    engines = ("--fail-on", "none", "--format", "json")
    only_vulns = project / ".qgov.yaml"
    only_vulns.write_text("engines: {bandit: false, semgrep: false}\n")

    def scan(db: Path, *extra: str) -> tuple[int, dict]:
        code = main(["scan", str(project), "--osv-db", str(db), *engines, *extra])
        return code, json.loads(capsys.readouterr().out)

    code, doc = scan(fresh)
    assert code == 0 and doc["scan_errors"] == []
    assert [f["rule_id"] for f in doc["findings"]] == ["QG-DEP-007"]
    code, doc = scan(old)
    assert code == 0
    [stale] = doc["scan_errors"]
    assert stale["reason"] == "stale-database" and "30 days old" in stale["message"]
    assert "vuln_db_max_age is 7" in stale["message"]
    assert [f["rule_id"] for f in doc["findings"]] == ["QG-DEP-007"]  # still used
    assert scan(old, "--strict")[0] == 1
    only_vulns.write_text("engines: {bandit: false, semgrep: false}\nvuln_db_max_age: 60\n")
    code, doc = scan(old, "--strict")
    assert code == 0 and doc["scan_errors"] == []
    # The same as a zip: the age still comes from the advisories, not the file's mtime.
    archive = tmp_path / "old.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(old / "PYSEC-2023-74.json", "PYSEC-2023-74.json")
    only_vulns.write_text("engines: {bandit: false, semgrep: false}\n")
    code, doc = scan(archive, "--strict")
    assert code == 1 and doc["scan_errors"][0]["reason"] == "stale-database"
