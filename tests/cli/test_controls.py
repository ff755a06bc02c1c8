"""`qgov controls list/show`, custom catalog folders and catalog errors through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.catalog import Catalog
from scanner.cli import main
from tests.conftest import IBM_KEY
from tests.helpers import scan_json, write_tree


def test_list_json_is_the_whole_catalog(
    capsys: pytest.CaptureFixture[str], catalog: Catalog
) -> None:
    assert main(["controls", "list", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ids = [c["id"] for c in doc["controls"]]
    assert sorted(ids) == sorted(catalog.controls)
    sec02 = next(c for c in doc["controls"] if c["id"] == "SEC-02")
    assert sec02["domain"] == "secrets" and "QG-NBK-002" in sec02["rules"]
    assert set(sec02["frameworks"]) >= {"iso27001", "soc2"}


def test_list_filters_by_framework_and_domain(capsys: pytest.CaptureFixture[str]) -> None:
    main(["controls", "list", "--framework", "hipaa", "--format", "json"])
    hipaa = json.loads(capsys.readouterr().out)["controls"]
    assert hipaa and all(c["frameworks"].get("hipaa") for c in hipaa)
    main(["controls", "list", "--domain", "notebook"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines and all(line.startswith("NBK-") for line in lines)


def test_show_one_control(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["controls", "show", "sec-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SEC-01") and "iso27001" in out and "QG-SEC-001" in out
    assert main(["controls", "show", "NOPE-01"]) == 2
    assert "unknown control id" in capsys.readouterr().err


def write_custom(tmp_path: Path, control_extra: str = "", mapping_control: str = "ORG-01") -> Path:
    return write_tree(tmp_path / "extra", {
        "controls/org.yaml":
            "domain: secrets\ncontrols:\n  - id: ORG-01\n    title: No internal hostnames in code\n"
            "    severity: low\n    objective: o\n    rationale: r\n    remediation: fix it\n"
            "    tiers: [exploratory]\n    evidence: e\n    verification: automated\n"
            + control_extra,
        "mappings/soc2.yaml":
            "framework: soc2\nname: SOC 2\nrequirements: []\nmappings:\n"
            f"  - requirement: CC6.1\n    controls: [{mapping_control}]\n",
        "rules/org.yaml":
            "rules:\n  - id: ORG-HOST-001\n    title: Internal hostname\n    controls: [ORG-01]\n"
            "    description: An internal hostname is written into the file.\n"
            "    pattern: '[a-z0-9-]+\\.corp\\.internal'\n    kinds: [python]\n",
    })


def test_custom_catalog_adds_controls_mappings_and_regex_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_custom(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text('HOST = "qpu-gw.corp.internal"\n')
    (project / "notes.md").write_text("qpu-gw.corp.internal\n")  # not a python file
    (project / ".qgov.yaml").write_text("custom_catalog: [../extra]\n")
    findings = scan_json(capsys, str(project))[1]["findings"]
    assert [(f["rule_id"], f["path"], f["control_ids"]) for f in findings] == [
        ("ORG-HOST-001", "a.py", ["ORG-01"])
    ]
    assert findings[0]["frameworks"] == {"soc2": ["CC6.1"]}


def test_broken_custom_catalog_is_exit_2_naming_file_and_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_custom(tmp_path, mapping_control="ORG-99")
    (tmp_path / "p").mkdir()
    (tmp_path / "p/.qgov.yaml").write_text("custom_catalog: [../extra]\n")
    assert main(["scan", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "soc2.yaml" in err and "ORG-99" in err and "Traceback" not in err


def test_parallel_scan_matches_serial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(80):  # above the process-pool threshold
        (tmp_path / f"m{i}.py").write_text(f'IBM_API_KEY_{i} = "{IBM_KEY[i % 10:] + IBM_KEY[:i % 10]}"\n')
    results = []
    for jobs in ("1", "2"):
        _, doc = scan_json(capsys, str(tmp_path), "--jobs", jobs)
        results.append(sorted((f["path"], f["line"], f["fingerprint"]) for f in doc["findings"]))
    assert len(results[0]) == 80 and results[0] == results[1]
