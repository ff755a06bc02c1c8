"""`qgov pack diff OLD NEW`: what changed between two audits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.pack.helpers import EPOCH_JAN_2027, EPOCH_NOV_2026, OTHER_TOKEN, project, qgov


def _pack(capsys: pytest.CaptureFixture[str], root: Path, out: Path, *extra: str) -> None:
    code, _, err = qgov(capsys, "report", str(root), "--out", str(out), "--no-engines", *extra)
    assert code == 0, err


def test_new_and_resolved_findings_status_changes_and_an_expired_exception(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "repo")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_NOV_2026)
    _pack(capsys, root, tmp_path / "november", "--zip")
    # Between the audits: the leaked key is removed, another appears, and EXC-1 runs out.
    (root / "src" / "leak.py").write_text("import os\nKEY = os.environ['IONQ_API_KEY']\n")
    (root / "src" / "batch.py").write_text(f'IONQ_API_KEY = "{OTHER_TOKEN}"\n')
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_JAN_2027)
    _pack(capsys, root, tmp_path / "january")

    old, new = str(tmp_path / "november.zip"), str(tmp_path / "january")
    code, out, _ = qgov(capsys, "pack", "diff", old, new, "--format", "json")
    assert code == 1
    diff = json.loads(out)
    findings = diff["findings"]["repo"]
    assert [(f["rule_id"], f["path"]) for f in findings["new"] if f["path"].startswith("src")] \
        == [("QG-SEC-008", "src/batch.py")]
    assert [(f["rule_id"], f["path"]) for f in findings["resolved"]] == [
        ("QG-SEC-008", "src/leak.py")]
    assert [(f["rule_id"], f["path"]) for f in findings["unsuppressed"]] == [
        ("QG-DEP-001", "requirements.txt")]
    assert {"control": "SCM-01", "old": "accepted-risk", "new": "failing"} in diff["controls"]
    assert any(r["framework"] == "iso27001" and r["new"] == "failing"
               for r in diff["requirements"])
    assert [(e["id"], e["old_state"], e["state"]) for e in diff["exceptions"]["changed"]] == [
        ("EXC-1", "honoured", "expired")]
    assert diff["catalog"]["controls"] == {"added": [], "removed": [], "changed": []}

    code, text, _ = qgov(capsys, "pack", "diff", old, new)
    assert code == 1
    assert "resolved         critical QG-SEC-008   src/leak.py:1" in text
    assert "exception changed: EXC-1 for SCM-01, expires 2026-12-31 (honoured -> expired)" in text
    assert "SCM-01   accepted-risk -> failing" in text

    code, text, _ = qgov(capsys, "pack", "diff", new, new)
    assert (code, text.splitlines()[-1]) == (0, "no changes")


def test_an_altered_pack_is_not_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "repo")
    _pack(capsys, root, tmp_path / "one")
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    summary = tmp_path / "two" / "pack.json"
    summary.write_text(summary.read_text().replace('"honoured"', '"expired"'))
    code, out, err = qgov(capsys, "pack", "diff", str(tmp_path / "one"), str(tmp_path / "two"))
    assert code == 2
    assert "ALTERED" in err and "changed: pack.json" in err
    assert "NEW pack" in err and "not compared" in err
    assert out == ""
