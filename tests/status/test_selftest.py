"""Self-test evidence: the selftest.json that qgov job selftest writes gives control-test
controls their status; a file that is not such a report is exit 2 with a clear message."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scanner.catalog import Catalog, Verification
from scanner.cli import main
from scanner.status.selftest import SelftestError, load_selftest
from tests.helpers import write_tree
from tests.status.helpers import scan_statuses, selftest_report


def test_real_selftest_evidence_passes_every_control_test_control(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], catalog: Catalog
) -> None:
    # End to end: what `qgov job selftest` writes is what `qgov scan --selftest` reads.
    assert main(["job", "selftest", "--out", str(tmp_path / "evidence")]) == 0
    capsys.readouterr()
    project = write_tree(tmp_path / "p", {"src/app.py": "print('hi')\n"})
    found = scan_statuses(capsys, str(project), "--selftest",
                          str(tmp_path / "evidence/selftest.json"))
    primary = [cid for cid, c in catalog.controls.items()
               if c.verification is Verification.CONTROL_TEST]
    assert primary
    assert {cid: found[cid][0] for cid in primary} == dict.fromkeys(primary, "control-test-passed")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a JSON document"),
        (json.dumps({"tool": {"name": "qgov", "component": "governed-job drill"},
                     "generated_at": "x", "checks": []}), "not the report of qgov job selftest"),
        (json.dumps({**selftest_report(), "checks": [{"id": "x", "status": "pass"}]}),
         "field 'checks.0.control_ids'"),
        (json.dumps({**selftest_report(), "checks": [
            {"id": "x", "control_ids": ["LOG-01"], "status": "maybe"}]}), "field 'checks.0.status'"),
    ],
)
def test_a_file_that_is_not_selftest_evidence_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    evidence = tmp_path / "selftest.json"
    evidence.write_text(content)
    project = write_tree(tmp_path / "p", {"a.py": "x = 1\n"})
    assert main(["scan", str(project), "--no-engines", "--selftest", str(evidence)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "selftest.json")
    with pytest.raises(SelftestError, match="cannot read"):
        load_selftest(tmp_path / "selftest.json")


def test_check_text_is_made_printable(tmp_path: Path) -> None:
    report = selftest_report([("odd\x1bcheck", ["LOG-01"], "fail", "bad\x07news")])
    (tmp_path / "s.json").write_text(json.dumps(report))
    (check,) = load_selftest(tmp_path / "s.json").checks
    assert "\x1b" not in check.id and "\x07" not in check.detail
