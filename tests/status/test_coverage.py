"""What a scan records as having run: files per detector (and kind), engines that ran or why
they did not, custom rules by their own kinds. This is what "passing" rests on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.detection import detect_unit
from scanner.detectors.governance_policy import GovernancePolicyDetector
from scanner.detectors.terraform import TerraformDetector
from scanner.engines import semgrep_engine
from scanner.engines.osv import VulnerabilityEngine
from scanner.engines.semgrep_engine import SemgrepEngine
from scanner.model import FileKind
from tests.helpers import scan_json, source, write_tree


def test_detection_counts_files_each_detector_examined() -> None:
    good = source('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n', "infra/main.tf")
    broken = source('resource "aws_s3_bucket" "b" {\n', "other/broken.tf")
    outcome = detect_unit([good], [TerraformDetector()])
    assert outcome.examined == {"terraform": {"terraform": 1}}
    # A file the detector could not parse was not examined.
    outcome = detect_unit([broken], [TerraformDetector()])
    assert outcome.errors and outcome.examined == {}


def test_plain_yaml_is_not_counted_as_a_governance_policy() -> None:
    plain = source("name: ci\nsteps: []\n", "config/app.yaml", kind=FileKind.YAML)
    assert detect_unit([plain], [GovernancePolicyDetector()]).examined == {}


def test_an_engine_says_why_it_did_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    python = [source("print('x')\n", "a.py")]
    monkeypatch.setattr(semgrep_engine, "find_semgrep", lambda: None)
    assert SemgrepEngine().run(python).not_run == {"semgrep": "semgrep is not installed"}
    failed = SemgrepEngine(executable="/bin/false").run(python)
    assert failed.not_run == {"semgrep": "semgrep did not complete (see the scan errors)"}
    assert VulnerabilityEngine().run([]).not_run == {
        "vulnerabilities": "no vulnerability database was given (--osv-db, osv_db:)"}


def checks(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc["coverage"]["checks"]}


def test_the_json_report_says_what_ran(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"a.py": "x = 1\n", "main.tf": "terraform {}\n"})
    _, doc = scan_json(capsys, str(tmp_path))
    ran = checks(doc)
    assert ran["terraform"]["files"] == 1 and ran["secrets"]["files"] == 2
    assert ran["cloudformation"]["files"] == 0
    assert ran["bandit"]["files"] == 0 and "turned off" in ran["bandit"]["skipped"]
    assert ran["inventory"]["skipped"].startswith("no governance policy")
    assert doc["coverage"]["tier"] == "internal-pilot"


def test_custom_rules_run_only_on_their_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli.test_controls import write_custom

    write_custom(tmp_path)  # ORG-HOST-001, python files only, the only rule of ORG-01
    project = write_tree(tmp_path / "project", {
        "notes.md": "nothing here\n", ".qgov.yaml": "custom_catalog: [../extra]\n"})
    _, doc = scan_json(capsys, str(project), "--tier", "exploratory")
    assert checks(doc)["custom-rules:ORG-HOST-001"]["files"] == 0
    org = next(c for c in doc["controls"] if c["id"] == "ORG-01")
    assert org["status"] == "not-assessed" and "no python files" in org["reason"]
    write_tree(project, {"app.py": "HOST = 'gateway'\n"})
    _, doc = scan_json(capsys, str(project), "--tier", "exploratory")
    org = next(c for c in doc["controls"] if c["id"] == "ORG-01")
    assert org["status"] == "passing"
