"""The JUnit report: one suite per control, one case per finding (failed at or above the
threshold), a skipped case with the reason for a control nothing assessed, valid XML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scanner.catalog import Catalog
from scanner.cli import main
from scanner.model import Coverage, Finding, ScanResult, Severity, Tier
from scanner.reports import OutputFormat, ScanReport, render
from scanner.reports.junit import MAX_CASES_PER_CONTROL
from tests.conftest import IBM_KEY
from tests.helpers import LEAKY, scan_json, write_tree


def junit(capsys: pytest.CaptureFixture[str], *args: str) -> ET.Element:
    main(["scan", *args, "--format", "junit", "--no-engines"])
    return ET.fromstring(capsys.readouterr().out)


def suites(root: ET.Element) -> dict[str, ET.Element]:
    return {s.get("name", "").split()[0]: s for s in root.findall("testsuite")}


def test_one_suite_per_control_one_case_per_finding(
    capsys: pytest.CaptureFixture[str], catalog: Catalog
) -> None:
    _, doc = scan_json(capsys, str(LEAKY), "--fail-on", "high")
    root = junit(capsys, str(LEAKY), "--fail-on", "high")
    assert not root.attrib  # <testsuites> attribute-free for strict parsers
    by_control = suites(root)
    assert set(catalog.controls) <= set(by_control)
    for control_id, suite in by_control.items():
        cases = suite.findall("testcase")
        if control_id == "qgov":  # the scan-errors suite
            continue
        assert cases, control_id
        assert {c.get("classname") for c in cases} == {
            f"qgov.{catalog.controls[control_id].domain.value}.{control_id}"}
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("skipped", "-1")) == sum(c.find("skipped") is not None for c in cases)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", suite.get("timestamp", ""))
    sec01 = [f for f in doc["findings"] if "SEC-01" in f["control_ids"]]
    cases = by_control["SEC-01"].findall("testcase")
    assert len(cases) == len(sec01) > 1
    failing = {c.get("name") for c in cases if c.find("failure") is not None}
    expected = {f"{f['rule_id']} {f['path']}" + (f" cell {f['cell']}" if f["cell"] is not None
                else "") + f" [{f['fingerprint'][:8]}]"
                for f in sec01 if f["severity"] in {"critical", "high"} and not f["suppressed"]}
    assert failing == expected


def test_a_control_nothing_assessed_is_skipped_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {"app.py": "x = 1\n"})
    _, doc = scan_json(capsys, str(tmp_path))
    reasons = {c["id"]: (c["status"], c["reason"]) for c in doc["controls"]}
    by_control = suites(junit(capsys, str(tmp_path)))
    (case,) = by_control["NET-01"].findall("testcase")  # no Terraform here
    skipped = case.find("skipped")
    assert skipped is not None and case.get("name") == "not assessed"
    assert reasons["NET-01"] == ("not-assessed", skipped.get("message"))
    (case,) = by_control["SEC-01"].findall("testcase")  # the secrets detector read app.py
    assert case.get("name") == "no findings" and case.find("skipped") is None
    assert case.find("failure") is None and "1 file" in (case.findtext("system-out") or "")


def test_findings_below_the_threshold_pass_and_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {"run.py": f'TOKEN = "{IBM_KEY}"\n'})
    (case,) = suites(junit(capsys, str(tmp_path), "--fail-on", "none"))["SEC-01"].findall("testcase")
    assert case.find("failure") is None
    assert "below the fail-on threshold (none" in (case.findtext("system-out") or "")
    (case,) = suites(junit(capsys, str(tmp_path), "--fail-on", "low"))["SEC-01"].findall("testcase")
    assert case.find("failure") is not None


def test_self_test_checks_are_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.status.helpers import selftest_report

    write_tree(tmp_path / "p", {"app.py": "x = 1\n"})
    (tmp_path / "s.json").write_text(json.dumps(selftest_report()))
    by_control = suites(junit(capsys, str(tmp_path / "p"), "--selftest", str(tmp_path / "s.json"),
                              "--tier", "production-critical"))
    (case,) = by_control["LOG-02"].findall("testcase")
    assert case.get("name") == "control test ledger-tamper-detected"
    failure = case.find("failure")
    assert failure is not None and failure.text == "verification missed an altered line"
    (case,) = by_control["LOG-07"].findall("testcase")
    assert case.find("failure") is None and case.find("skipped") is None


def test_names_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = '<script>&"x\'.py'
    write_tree(tmp_path, {name: f'TOKEN = "{IBM_KEY}"\n'})
    root = junit(capsys, str(tmp_path))  # parses: the XML is well formed
    names = [c.get("name", "") for c in suites(root)["SEC-01"].findall("testcase")]
    assert any(n.startswith(f"QG-SEC-003 {name} [") or name in n for n in names), names


def test_huge_controls_are_capped_with_a_summary_case(catalog: Catalog) -> None:
    findings = tuple(
        Finding(rule_id="QG-SEC-003", message="token", path=f"src/m{i}.py", line=1,
                severity=Severity.CRITICAL if i < 5 else Severity.LOW,
                content_hash=f"{i:016x}", control_ids=("SEC-01",))
        for i in range(MAX_CASES_PER_CONTROL + 50)
    )
    result = ScanResult(roots=(".",), findings=findings, coverage=Coverage(tier=Tier.INTERNAL_PILOT))
    report = ScanReport(result=result, catalog=catalog, fail_on=Severity.HIGH)
    root = ET.fromstring(render(report, OutputFormat.JUNIT))
    cases = suites(root)["SEC-01"].findall("testcase")
    assert len(cases) == MAX_CASES_PER_CONTROL
    assert sum(c.find("failure") is not None for c in cases) == 5  # failures come first
    last = cases[-1]
    assert last.get("name") == "51 more findings" and last.find("failure") is None


def test_timestamp_follows_source_date_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    write_tree(tmp_path, {"app.py": "x = 1\n"})
    root = junit(capsys, str(tmp_path))
    assert {s.get("timestamp") for s in root.findall("testsuite")} == {"2026-01-01T00:00:00"}
