"""Several reports from one scan, where the console summary and gate line go, --quiet,
--severity, --skip-rule and --skip-path."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from scanner.cli import main
from tests.helpers import DATA, LEAKY, small_project

SARIF_SCHEMA = json.loads((DATA / "schemas/sarif-schema-2.1.0.json").read_text())


def test_one_scan_writes_every_report_and_the_console_keeps_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = {name: tmp_path / name for name in ("r.sarif", "r.xml", "r.json", "r.md", "cq.json")}
    code = main([
        "scan", str(LEAKY), "--no-engines", "--sarif", str(out["r.sarif"]),
        "--junit", str(out["r.xml"]), "--json", str(out["r.json"]),
        "--markdown", str(out["r.md"]), "--codequality", str(out["cq.json"]),
    ])
    captured = capsys.readouterr()
    assert code == 1
    # The text report is still the console's, ending with the summary and the gate.
    lines = captured.out.rstrip("\n").splitlines()
    assert lines[-1].startswith("gate: FAIL") and lines[-2].startswith("controls: ")
    assert "files scanned" in lines[-3]
    assert "CRITICAL (" in captured.out
    jsonschema.validate(json.loads(out["r.sarif"].read_text()), SARIF_SCHEMA)
    ET.fromstring(out["r.xml"].read_text())
    doc = json.loads(out["r.json"].read_text())
    assert doc["summary"]["failed"] is True
    assert out["r.md"].read_text().startswith("## qgov: ❌ gate failed")
    assert isinstance(json.loads(out["cq.json"].read_text()), list)
    for name in ("sarif", "junit", "json", "markdown", "codequality"):
        assert f"wrote the {name} report" in captured.err
    # The same findings in every report.
    active = [f for f in doc["findings"] if not f["suppressed"]]
    assert len(json.loads(out["cq.json"].read_text())) == len(active)


def test_machine_report_on_stdout_moves_the_summary_to_stderr(
    capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scan", str(LEAKY), "--no-engines", "--format", "sarif"])
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout is only the report
    assert code == 1
    err = captured.err.rstrip("\n").splitlines()
    assert err[-1].startswith("gate: FAIL") and err[-2].startswith("controls: ")
    assert "files scanned" in err[-3]


def test_report_to_a_file_keeps_summary_and_gate_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "qgov.sarif"
    assert main(["scan", str(LEAKY), "--no-engines", "--format", "sarif", "-o", str(target)]) == 1
    captured = capsys.readouterr()
    assert captured.out.rstrip("\n").splitlines()[-1].startswith("gate: FAIL")
    assert "CRITICAL (" not in captured.out  # the summary, not the whole text report
    json.loads(target.read_text())


def test_markdown_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(LEAKY), "--no-engines", "--markdown", "-"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("## qgov: ❌ gate failed")
    assert "gate: FAIL" in captured.err


def test_quiet_prints_only_the_gate_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sarif = tmp_path / "q.sarif"
    assert main(["scan", str(LEAKY), "--no-engines", "--quiet", "--sarif", str(sarif)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [captured.out.strip()]
    assert captured.out.startswith("gate: FAIL") and captured.err == ""
    assert sarif.exists()
    assert main(["scan", str(LEAKY), "--no-engines", "-q", "--format", "json"]) == 1
    captured = capsys.readouterr()
    json.loads(captured.out)
    assert captured.err.startswith("gate: FAIL") and len(captured.err.splitlines()) == 1


def test_usage_errors_for_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = main(["scan", str(LEAKY), "--no-engines", "--format", "json", "--sarif", "-"])
    same = main(["scan", str(LEAKY), "--no-engines", "--sarif", str(tmp_path / "x"),
                 "--json", str(tmp_path / "x")])
    unwritable = main(["scan", str(LEAKY), "--no-engines", "--sarif",
                       str(tmp_path / "missing" / "x.sarif")])
    err = capsys.readouterr().err
    assert (both, same, unwritable) == (2, 2, 2)
    assert "only one report can go to stdout" in err and "same file" in err
    assert "cannot write the sarif report" in err and "Traceback" not in err


def test_severity_filters_what_is_shown_not_what_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    as_json = tmp_path / "all.json"
    code = main(["scan", str(LEAKY), "--no-engines", "--severity", "critical",
                 "--fail-on", "high", "--json", str(as_json)])
    out = capsys.readouterr().out
    assert code == 1
    assert "CRITICAL (" in out and "HIGH (" not in out and "MEDIUM (" not in out
    assert "below critical not listed (--severity); the gate still counts them" in out
    doc = json.loads(as_json.read_text())
    assert {f["severity"] for f in doc["findings"]} >= {"high", "medium"}  # JSON has all
    blocking = doc["summary"]["by_severity"]["critical"] + doc["summary"]["by_severity"]["high"]
    assert f"gate: FAIL — {blocking} finding(s) at or above high" in out


def test_skip_rule_and_skip_path_beside_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = small_project(tmp_path)

    def scan(*extra: str) -> tuple[int, dict]:
        code = main(["scan", str(project), "--no-engines", "--format", "json", *extra])
        return code, json.loads(capsys.readouterr().out)

    _, full = scan()
    rules = {f["rule_id"] for f in full["findings"]}
    paths = {f["path"] for f in full["findings"]}
    assert {"src/run.py", ".env"} <= paths
    _, doc = scan("--skip-rule", "QG-SEC-*")
    assert {f["rule_id"] for f in doc["findings"]} == {r for r in rules if not r.startswith("QG-SEC-")}
    (project / ".qgov.yaml").write_text("disable_rules: [QG-INV-001]\nexclude: ['*.md']\n")
    _, doc = scan("--skip-path", "src/", "--skip-path", ".env")
    assert {f["path"] for f in doc["findings"]} & {"src/run.py", ".env"} == set()
    assert "QG-INV-001" not in {f["rule_id"] for f in doc["findings"]}  # config still applies
    assert doc["summary"]["files_excluded"] >= 2
    # A mistyped rule or pattern is a usage error, not a silent no-op.
    assert main(["scan", str(project), "--skip-rule", "QG-NOPE-001"]) == 2
    assert main(["scan", str(project), "--skip-path", "[z-a]"]) == 2
    err = capsys.readouterr().err
    assert "matches no rule" in err and "not a valid gitignore-style pattern" in err
