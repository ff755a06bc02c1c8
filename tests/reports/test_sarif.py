"""The SARIF report validates against the official 2.1.0 schema and carries rule metadata."""

from __future__ import annotations

import json

import jsonschema
import pytest

from scanner.cli import main
from tests.helpers import DATA, LEAKY

SARIF_SCHEMA = json.loads((DATA / "schemas/sarif-schema-2.1.0.json").read_text())


def test_sarif_validates_against_official_schema(capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", str(LEAKY), "--format", "sarif", "--no-engines"])
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, SARIF_SCHEMA)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for rule in rules.values():
        assert rule["help"]["text"] and rule["fullDescription"]["text"]
        assert float(rule["properties"]["security-severity"]) > 0
        assert any(tag.startswith("iso27001:") for tag in rule["properties"]["tags"])
    notebook_results = [r for r in run["results"] if r["properties"].get("notebookCell") is not None]
    assert notebook_results and all("cell" in r["message"]["text"] for r in notebook_results)
    assert all(r["ruleId"] in rules for r in run["results"])
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert all(not u.startswith("/") and "\\" not in u for u in uris)


def test_sarif_carries_control_status_in_run_properties(
    capsys: pytest.CaptureFixture[str]
) -> None:
    main(["scan", str(LEAKY), "--format", "sarif", "--no-engines"])
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, SARIF_SCHEMA)
    run = doc["runs"][0]
    controls = run["properties"]["qgovControls"]
    statuses = {c["id"]: c["status"] for c in controls["controls"]}
    assert statuses["SEC-01"] == "failing"
    assert statuses["SDL-01"] == "not-assessed"  # bandit was off
    assert sum(controls["summary"].values()) == len(statuses)
    assert set(controls["frameworks"]) == {"gdpr", "hipaa", "iso27001", "soc2"}
    # Results stay one per finding; status lives beside them, not in them.
    assert all(set(r) <= {"ruleId", "ruleIndex", "level", "message", "locations",
                          "partialFingerprints", "properties", "suppressions"}
               for r in run["results"])
