"""The JSON report: the contract fields every finding carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import scan_json, small_project

DOMAINS = {"identity", "secrets", "supply-chain", "sdlc", "notebook", "data", "encryption",
           "logging", "provenance", "vendor", "network", "cicd", "cost", "governance"}


def test_json_contract_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = scan_json(capsys, str(small_project(tmp_path)))
    assert code == 1
    assert set(doc) >= {"tool", "findings", "summary"}
    assert doc["tool"]["name"] == "qgov"
    by_path = {f["path"]: f for f in doc["findings"]}
    assert set(by_path) == {"src/run.py", ".env"}
    finding = by_path["src/run.py"]
    assert finding["rule_id"] == "QG-SEC-003" and finding["line"] == 2 and finding["cell"] is None
    assert finding["severity"] in {"critical", "high", "medium", "low", "info"}
    assert finding["domain"] in DOMAINS
    assert finding["control_ids"] and isinstance(finding["control_ids"], list)
    assert finding["frameworks"]["iso27001"] and finding["frameworks"]["soc2"]
    assert len(finding["fingerprint"]) == 32 and finding["message"]


def test_json_carries_control_status_and_the_framework_matrix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, doc = scan_json(capsys, str(small_project(tmp_path)))
    controls = {c["id"]: c for c in doc["controls"]}
    sec01 = controls["SEC-01"]
    assert sec01["status"] == "failing" and sec01["findings"] >= 1
    assert sec01["verification"] == "automated" and "QG-SEC-003" in sec01["rules_ran"]
    assert controls["LOG-01"]["status"] == "not-assessed"
    counts = doc["summary"]["controls"]
    assert counts["failing"] == sum(1 for c in controls.values() if c["status"] == "failing")
    frameworks = {f["framework"]: f for f in doc["frameworks"]}
    art30 = next(r for r in frameworks["gdpr"]["requirements"] if r["id"] == "Art. 30")
    assert art30 == {"id": "Art. 30", "title": "Records of processing activities",
                     "status": "not-covered", "controls": []}
    assert doc["evidence"] == {"attestations": None, "selftest": None, "problems": []}
    assert doc["coverage"]["checks"]
