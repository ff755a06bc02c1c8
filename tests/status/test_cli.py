"""`qgov controls status PATH…`: a scan, then every control's status and every framework
requirement's, as text, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest

from scanner.catalog import Catalog
from scanner.cli import main
from tests.helpers import GOVERNED


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["controls", "status", str(GOVERNED), "--no-engines", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out


def test_text_lists_controls_then_requirements(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--framework", "gdpr")
    assert code == 0
    assert out.startswith("CONTROLS (73): ")
    assert "  ATTESTED (4)" in out  # the sample's attestations.yaml, named in its .qgov.yaml
    assert "General Data Protection Regulation" in out and "(iso27001)" not in out
    (art30,) = [line for line in out.splitlines() if line.startswith("  Art. 30 ")]
    assert "not covered" in art30 and art30.rstrip().endswith("-")


def test_csv_has_a_row_for_every_requirement(
    capsys: pytest.CaptureFixture[str], catalog: Catalog
) -> None:
    code, out = run(capsys, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    seen = {(row["framework"], row["requirement"]) for row in rows}
    assert seen == {(key, r.id) for key, fw in catalog.frameworks.items() for r in fw.requirements}
    uncovered = [r for r in rows if (r["framework"], r["requirement"]) == ("hipaa", "164.310(d)(2)(iv)")]
    assert [(r["requirement_status"], r["control"]) for r in uncovered] == [("not-covered", "")]
    iam02 = next(r for r in rows if r["control"] == "IAM-02")
    assert iam02["control_status"] == "attested"
    assert iam02["evidence"].startswith("evidence/idp-quantum-applications.md sha256:")


def test_json_matches_the_scan_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--format", "json", "--framework", "soc2")
    doc = json.loads(out)
    assert code == 0 and [f["framework"] for f in doc["frameworks"]] == ["soc2"]
    assert sum(doc["summary"]["controls"].values()) == len(doc["controls"]) == 73
    assert doc["evidence"]["attestations"]["file"].endswith("compliance/attestations.yaml")
    main(["scan", str(GOVERNED), "--no-engines", "--format", "json"])
    scan = json.loads(capsys.readouterr().out)
    assert [(c["id"], c["status"]) for c in scan["controls"]] == [
        (c["id"], c["status"]) for c in doc["controls"]]


def test_unknown_framework_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["controls", "status", str(GOVERNED), "--framework", "pci"])
    assert code == 2 and "unknown framework pci" in capsys.readouterr().err
