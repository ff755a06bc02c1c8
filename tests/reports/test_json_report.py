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
