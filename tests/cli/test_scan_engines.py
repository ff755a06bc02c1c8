"""Engines wired into `qgov scan`: overlaps with our own rules, offline OSV database paths,
switches in config and flags."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IBM_KEY
from tests.helpers import DATA, REPO, scan_json

OSV_FIXTURE = DATA / "osv"


def scan_with_engines(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """The JSON report of a scan with the engines the config leaves on; never gated."""
    code, doc = scan_json(capsys, *args, "--fail-on", "none", engines=True)
    assert code == 0
    return doc


def rules_at(doc: dict[str, Any], path: str) -> dict[int, set[str]]:
    by_line: dict[int, set[str]] = {}
    for finding in doc["findings"]:
        if finding["path"] == path:
            by_line.setdefault(finding["line"], set()).add(finding["rule_id"])
    return by_line


def test_bandit_password_check_yields_to_the_specific_secret_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "run.py").write_text(
        "from qiskit_ibm_runtime import QiskitRuntimeService\n"
        f'service = QiskitRuntimeService(channel="ibm_quantum", token="{IBM_KEY}")\n'
        'db_password = "correct-horse-battery"\n'
    )
    doc = scan_with_engines(capsys, str(tmp_path), "--config", str(_empty_config(tmp_path)))
    lines = rules_at(doc, "run.py")
    # Line 2 is a provider token: our secret rule explains it; bandit's generic
    # "hard-coded password" on the same line would be noise.
    assert "QG-SEC-003" in lines[2]
    assert not {r for r in lines[2] if r.startswith(("QG-PY-", "QG-SG-"))}
    # Line 3 is a plain password no secret rule knows: bandit's finding stays.
    assert "QG-PY-003" in lines[3]


def test_no_engines_flag_switches_all_engines_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "run.py").write_text('db_password = "correct-horse-battery"\n')
    code, doc = scan_json(capsys, str(tmp_path), "--fail-on", "none")  # passes --no-engines
    assert code == 0
    assert not any(f["rule_id"].startswith("QG-PY-") for f in doc["findings"])


def test_engine_switch_in_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run.py").write_text('db_password = "correct-horse-battery"\n')
    (tmp_path / ".qgov.yaml").write_text(
        "engines: {bandit: false, semgrep: false, vulnerabilities: false}\n"
    )
    doc = scan_with_engines(capsys, str(tmp_path))
    assert not any(f["rule_id"].startswith("QG-PY-") for f in doc["findings"])


def _empty_config(tmp_path: Path) -> Path:
    config = tmp_path.parent / f"{tmp_path.name}-qgov.yaml"
    config.write_text("engines: {semgrep: false, vulnerabilities: false}\n")
    return config


def _vulnerable_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text("requests==2.28.1\n")
    return root


def test_relative_osv_db_in_config_resolves_against_the_config_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _vulnerable_project(tmp_path / "project")
    shutil.copytree(OSV_FIXTURE, tmp_path / "osv")
    (project / ".qgov.yaml").write_text(
        "osv_db: ../osv\nengines: {bandit: false, semgrep: false}\n"
    )
    monkeypatch.chdir(REPO)  # the working directory must not matter
    doc = scan_with_engines(capsys, str(project))
    advisories = [f for f in doc["findings"] if f["rule_id"] == "QG-DEP-007"]
    assert advisories, doc["scan_errors"]
    assert all(f["path"] == "requirements.txt" for f in advisories)


def test_relative_osv_db_flag_resolves_against_the_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _vulnerable_project(tmp_path / "project")
    (project / ".qgov.yaml").write_text("engines: {bandit: false, semgrep: false}\n")
    shutil.copytree(OSV_FIXTURE, tmp_path / "cwd" / "db")
    monkeypatch.chdir(tmp_path / "cwd")
    doc = scan_with_engines(capsys, os.path.relpath(project), "--osv-db", "db")
    assert any(f["rule_id"] == "QG-DEP-007" for f in doc["findings"]), doc["scan_errors"]


def test_without_a_database_the_scan_says_so_once_and_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _vulnerable_project(tmp_path / "project")
    (project / "more-requirements.txt").write_text("pyyaml==5.3.1\n")
    (project / ".qgov.yaml").write_text("engines: {bandit: false, semgrep: false}\n")
    doc = scan_with_engines(capsys, str(project))
    notices = [n for n in doc["notices"] if "vulnerab" in n.lower()]
    assert len(notices) == 1
    assert doc["scan_errors"] == []


def test_generic_secret_rule_yields_to_the_specific_iac_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: runner\ndata:\n"
        "  DB_PASSWORD: Qj0bs-Pr0d-x7Kp2\n"
    )
    (tmp_path / "Dockerfile").write_text(
        f"FROM python:3.12-slim@sha256:{'a' * 64}\nENV DB_PASSWORD=Qj0bs-Pr0d-x7Kp2\nUSER 1000\n"
    )
    doc = scan_with_engines(capsys, str(tmp_path), "--no-engines")
    assert rules_at(doc, "cm.yaml") == {6: {"QG-K8S-005"}}
    assert rules_at(doc, "Dockerfile") == {2: {"QG-DKR-002"}}


@pytest.mark.parametrize(("setting", "in_tests"), [("", set()), ("bandit_skip_in_tests: false\n",
                                                                  {"QG-PY-001", "QG-PY-017"})])
def test_bandit_test_file_setting_reaches_the_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, in_tests: set[str]
) -> None:
    code = "import random\n\n\ndef test_draw():\n    assert random.random() < 1\n"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_draw.py").write_text(code)
    (tmp_path / "draw.py").write_text(code)
    (tmp_path / ".qgov.yaml").write_text(
        "engines: {semgrep: false, vulnerabilities: false}\n" + setting
    )
    doc = scan_with_engines(capsys, str(tmp_path))
    assert set().union(*rules_at(doc, "draw.py").values()) == {"QG-PY-001", "QG-PY-017"}
    assert set().union(set(), *rules_at(doc, "tests/test_draw.py").values()) == in_tests


def test_token_set_into_the_environment_is_a_committed_credential(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # bandit alone calls this a low "possible hard-coded password"; it is a provider token.
    (tmp_path / "job.py").write_text(
        f'import os\n\nos.environ["QISKIT_IBM_TOKEN"] = "{IBM_KEY}"\n'
    )
    doc = scan_with_engines(capsys, str(tmp_path), "--config", str(_empty_config(tmp_path)))
    assert [(f["rule_id"], f["severity"], f["line"]) for f in doc["findings"]] == [
        ("QG-SEC-018", "high", 3)
    ]
    assert IBM_KEY not in str(doc)
