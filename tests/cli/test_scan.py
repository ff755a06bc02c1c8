"""`qgov scan` end to end through ``main([...])``: contract fields, formats, gate, bad input."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from scanner.cli import main
from tests.conftest import ALL_SECRETS, IBM_KEY, IONQ_KEY, REPO, SAMPLES

LEAKY = SAMPLES / "leaky-quantum-project"
GOVERNED = SAMPLES / "governed-quantum-project"
SARIF_SCHEMA = json.loads((REPO / "tests/data/schemas/sarif-schema-2.1.0.json").read_text())
DOMAINS = {"identity", "secrets", "supply-chain", "sdlc", "notebook", "data", "encryption",
           "logging", "provenance", "vendor", "network", "cicd", "cost", "governance"}


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["scan", *args, "--format", "json", "--no-engines"])
    return code, json.loads(capsys.readouterr().out)


def make_project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir(parents=True)
    (tmp_path / "src/run.py").write_text(
        "from qiskit_ibm_runtime import QiskitRuntimeService\n"
        f'svc = QiskitRuntimeService(token="{IBM_KEY}")\n'
    )
    (tmp_path / ".env").write_text(f"IONQ_API_KEY={IONQ_KEY}\n")
    return tmp_path


def test_json_contract_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, str(make_project(tmp_path)))
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


def test_fingerprints_stable_across_runs_and_line_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path)
    _, first = run_json(capsys, str(project))
    run_py = project / "src/run.py"
    run_py.write_text("# a new header comment\n\n" + run_py.read_text())
    _, second = run_json(capsys, str(project))
    fp = lambda doc: {(f["rule_id"], f["fingerprint"]) for f in doc["findings"]}  # noqa: E731
    assert fp(first) == fp(second)
    assert {f["line"] for f in second["findings"] if f["path"] == "src/run.py"} == {4}


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit"])
def test_no_secret_in_any_output_format(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"report.{fmt}"
    code = main(["scan", str(LEAKY), "--format", fmt, "--output", str(out), "--no-engines"])
    captured = capsys.readouterr()
    assert code == 1
    text = out.read_text() + captured.out + captured.err
    leaked = [s[:6] for s in ALL_SECRETS if s in text]
    assert leaked == []
    sample_text = "".join(
        p.read_text(errors="replace") for p in LEAKY.rglob("*") if p.is_file()
    )
    # The samples' own secrets (different from the conftest ones) must not leak either.
    import re

    tokens = set(re.findall(r"[A-Za-z0-9_+/-]{40,}", sample_text))
    assert tokens, "samples should contain long tokens"
    assert [t[:6] for t in tokens if t in text] == []


def test_sarif_validates_against_official_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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


def test_junit_one_testcase_per_control(capsys: pytest.CaptureFixture[str], catalog) -> None:  # type: ignore[no-untyped-def]
    main(["scan", str(LEAKY), "--format", "junit", "--no-engines"])
    root = ET.fromstring(capsys.readouterr().out)
    cases = root.findall(".//testcase[@classname]")
    control_cases = [c for c in cases if not c.get("classname", "").endswith("scan-errors")]
    assert len(control_cases) == len(catalog.controls)
    failed = {c.get("name", "").split()[0] for c in control_cases if c.find("failure") is not None}
    assert "SEC-01" in failed and "SEC-02" in failed
    assert not root.attrib  # <testsuites> attribute-free for strict parsers


def test_fail_on_threshold_controls_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(LEAKY), "--fail-on", "critical", "--no-engines"]) == 1
    assert main(["scan", str(LEAKY), "--fail-on", "none", "--no-engines"]) == 0
    capsys.readouterr()


def test_governed_sample_is_clean_at_medium(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, str(GOVERNED), "--fail-on", "medium")
    assert [f["rule_id"] for f in doc["findings"] if f["severity"] in {"critical", "high", "medium"}] == []
    assert code == 0


def test_usage_errors_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(tmp_path / "missing")]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("fail_on: sometimes\n")
    assert main(["scan", str(tmp_path), "--config", str(bad)]) == 2
    typo = tmp_path / "typo.yaml"
    typo.write_text("exclde: [x]\n")
    assert main(["scan", str(tmp_path), "--config", str(typo)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "exclde" in err and "fail_on" in err


def test_bad_input_becomes_scan_errors_and_scan_continues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.ipynb").write_text('{"cells": [ {"cell_type": "code", "source": ')
    (tmp_path / "wrong.ipynb").write_text('{"cells": 3, "nbformat": 4, "nbformat_minor": 5}')
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    (tmp_path / "blob.dat").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "huge.txt").write_bytes(b"a" * (11 * 1024 * 1024))
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "escape").symlink_to("/etc")
    (tmp_path / "ok.py").write_text(f'TOKEN = "{IBM_KEY}"\n')
    code, doc = run_json(capsys, str(tmp_path))
    reasons = {e["path"]: e["reason"] for e in doc["scan_errors"]}
    assert reasons["broken.ipynb"] == "parse-error"
    assert reasons["wrong.ipynb"] == "parse-error"
    assert reasons["image.png"] == "binary" and reasons["blob.dat"] == "binary"
    assert reasons["huge.txt"] == "too-large"
    assert reasons["loop"] == "symlink-loop"
    assert reasons["escape"] == "symlink-outside-root"
    assert all(e["type"] == "scan-error" for e in doc["scan_errors"])
    assert [f["path"] for f in doc["findings"]] == ["ok.py"]
    assert code == 1


def test_file_vanishing_between_walk_and_read_is_unreadable(tmp_path: Path) -> None:
    # Root (CI) can read a chmod-000 file, so exercise the race a real scan can hit instead.
    from scanner.discover import read_source, walk

    (tmp_path / "gone.py").write_text("x = 1\n")
    candidates = walk(tmp_path).candidates
    (tmp_path / "gone.py").unlink()
    error = read_source(candidates[0])
    assert not hasattr(error, "text") and error.reason == "unreadable"  # type: ignore[union-attr]
    assert "cannot read" in error.message  # type: ignore[union-attr]


def test_gitignore_and_qgovignore_are_honoured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(tmp_path)
    (tmp_path / ".gitignore").write_text(".env\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build/.qgovignore").write_text("*.py\n")
    (tmp_path / "build/gen.py").write_text(f'TOKEN = "{IBM_KEY}"\n')
    _, doc = run_json(capsys, str(tmp_path))
    assert {f["path"] for f in doc["findings"]} == {"src/run.py"}


def test_config_file_and_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_project(tmp_path)
    (tmp_path / ".qgov.yaml").write_text("fail_on: none\nexclude: ['.env']\n")
    code, doc = run_json(capsys, str(tmp_path))
    assert code == 0 and {f["path"] for f in doc["findings"]} == {"src/run.py"}
    code, _ = run_json(capsys, str(tmp_path), "--fail-on", "high")  # flag beats config
    assert code == 1
    (tmp_path / ".qgov.yaml").unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.qgov]\ndisable_rules = ["QG-SEC-003"]\n')
    _, doc = run_json(capsys, str(tmp_path))
    assert "QG-SEC-003" not in {f["rule_id"] for f in doc["findings"]}


def test_baseline_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p")
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "create", str(project), "-o", str(baseline), "--no-engines"]) == 0
    content = baseline.read_text()
    assert IBM_KEY not in content and IONQ_KEY not in content
    code, doc = run_json(capsys, str(project), "--baseline", str(baseline))
    assert code == 0 and all(f["suppressed"] for f in doc["findings"])
    (project / "src/new.py").write_text(f'API_TOKEN = "{IONQ_KEY}x9"\n')
    code, doc = run_json(capsys, str(project), "--baseline", str(baseline))
    assert code == 1
    assert [f["path"] for f in doc["findings"] if not f["suppressed"]] == ["src/new.py"]
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["scan", str(project), "--baseline", str(bad)]) == 2


def test_text_output_has_no_color_when_not_a_tty(capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", str(LEAKY), "--no-engines"])
    out = capsys.readouterr().out
    assert "\033[" not in out and "CRITICAL" in out and "gate: FAIL" in out
