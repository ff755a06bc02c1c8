"""Each control's status in a scan of small real trees: a control no rule could fail is not
assessed (never passing), findings fail it, suppressed ones make it accepted risk, and
attestations and self-test evidence count only when they are current and complete."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from scanner.catalog import Catalog
from scanner.model import ScanResult
from scanner.status.controls import compute_status
from scanner.status.statuses import ControlStatus
from tests.conftest import IBM_KEY
from tests.detectors.test_governance_policy import VENDORS as SHARED_SERVICE_IDENTITY
from tests.helpers import write_tree
from tests.status.helpers import scan_statuses, selftest_report

IAC_CONTROLS = ["ENC-01", "ENC-03", "NET-01", "NET-02", "LOG-05", "LOG-06", "PRV-04", "IAM-09"]
EMPTY_TF = 'terraform {\n  required_version = ">= 1.6"\n}\n'


def python_only(root: Path) -> Path:
    return write_tree(root, {"src/app.py": "def add(a: int, b: int) -> int:\n    return a + b\n"})


def test_without_iac_the_iac_controls_are_not_assessed_never_passing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = scan_statuses(capsys, str(python_only(tmp_path)))
    for control_id in IAC_CONTROLS:
        status, reason = found[control_id]
        assert status == "not-assessed", control_id
        assert "no terraform files in the scan" in reason, control_id
    assert found["SEC-01"][0] == "passing"  # the secrets detector read src/app.py


def test_iac_controls_pass_once_their_rules_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {"infra/main.tf": EMPTY_TF})
    found = scan_statuses(capsys, str(tmp_path))
    for control_id in IAC_CONTROLS:
        assert found[control_id][0] == "passing", control_id
    assert "terraform 1 file" in found["NET-01"][1]


def test_a_control_above_the_scan_tier_does_not_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ENC-02 (customer-managed keys) starts at regulated-pilot; its rule is silent below it,
    # so that silence is no evidence.
    write_tree(tmp_path, {"main.tf": EMPTY_TF})
    status, reason = scan_statuses(capsys, str(tmp_path))["ENC-02"]
    assert status == "not-applicable" and "regulated-pilot" in reason and "internal-pilot" in reason
    assert scan_statuses(capsys, str(tmp_path), "--tier", "regulated-pilot")["ENC-02"][0] == "passing"


def test_an_engine_turned_off_leaves_its_controls_not_assessed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    off = scan_statuses(capsys, str(python_only(tmp_path)))
    for control_id in ("SDL-01", "SDL-05", "SCM-03"):
        status, reason = off[control_id]
        assert status == "not-assessed" and "turned off" in reason, control_id
    on = scan_statuses(capsys, str(tmp_path), engines=True)
    assert on["SDL-01"][0] == "passing" and "bandit 1 file" in on["SDL-01"][1]
    # The vulnerability engine is on but has no database: it checked nothing.
    assert on["SCM-03"] == ("not-assessed",
                            "none of its rules ran: no vulnerability database was given "
                            "(--osv-db, osv_db:)")


def test_a_disabled_rule_checks_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    write_tree(tmp_path, {"nb.ipynb": json.dumps(notebook),
                          ".qgov.yaml": "disable_rules: [QG-NBK-001]\n"})
    status, reason = scan_statuses(capsys, str(tmp_path))["NBK-01"]
    assert status == "not-assessed" and "QG-NBK-001 disabled" in reason


def test_a_finding_fails_its_controls_and_an_exception_makes_it_accepted_risk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {"src/run.py": f'TOKEN = "{IBM_KEY}"\n'})
    status, reason = scan_statuses(capsys, str(tmp_path))["SEC-01"]
    assert status == "failing" and "1 active finding" in reason
    write_tree(tmp_path, {".qgov-exceptions.yaml": (
        "exceptions:\n  - id: EXC-7\n    control: SEC-01\n    risk_owner: ciso@example.org\n"
        "    reason: sandbox key, revoked\n    compensating_controls: [key revoked]\n"
        "    expires: 2099-12-31\n")})
    status, reason = scan_statuses(capsys, str(tmp_path))["SEC-01"]
    assert status == "accepted-risk" and "exception" in reason and "EXC-7" in reason


def test_a_baselined_finding_is_accepted_risk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scanner.cli import main

    project = write_tree(tmp_path / "p", {"src/run.py": f'TOKEN = "{IBM_KEY}"\n'})
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "create", str(project), "-o", str(baseline), "--no-engines"]) == 0
    capsys.readouterr()
    status, reason = scan_statuses(capsys, str(project), "--baseline", str(baseline))["SEC-01"]
    assert status == "accepted-risk" and "baseline" in reason


def test_control_tests_need_self_test_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python_only(tmp_path / "p")
    without = scan_statuses(capsys, str(tmp_path / "p"))
    assert without["LOG-01"] == ("not-assessed", "no self-test evidence supplied (--selftest)")
    evidence = tmp_path / "selftest.json"
    evidence.write_text(json.dumps(selftest_report()))
    found = scan_statuses(capsys, str(tmp_path / "p"), "--selftest", str(evidence),
                          "--tier", "production-critical")
    assert found["LOG-01"][0] == "control-test-passed"
    assert "allowed-job-runs" in found["LOG-01"][1]
    status, reason = found["LOG-02"]
    assert status == "control-test-failed" and "verification missed an altered line" in reason
    # A check the evidence does not hold proves nothing.
    assert found["PRV-02"] == ("not-assessed", "the self-test evidence holds no check for it")


def test_a_failing_finding_beats_a_passed_control_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # IAM-01 is automated with a control test beside it; the self-test passing does not
    # hide a policy that shares one service identity between vendors.
    write_tree(tmp_path / "p", {"policy.yaml": SHARED_SERVICE_IDENTITY})
    evidence = tmp_path / "selftest.json"
    evidence.write_text(json.dumps(selftest_report()))
    found = scan_statuses(capsys, str(tmp_path / "p"), "--selftest", str(evidence))
    assert found["IAM-01"][0] == "failing", found["IAM-01"]


def test_a_result_that_does_not_say_what_ran_assesses_nothing(catalog: Catalog) -> None:
    status = compute_status(ScanResult(roots=(".",), findings=()), catalog, today=date(2026, 6, 1))
    assert {r.status for r in status.controls} == {ControlStatus.NOT_ASSESSED}


def test_every_count_adds_up_in_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import scan_json

    _, doc = scan_json(capsys, str(python_only(tmp_path)))
    counts = doc["summary"]["controls"]
    assert sum(counts.values()) == len(doc["controls"]) == 73
    assert counts["not-assessed"] == sum(1 for c in doc["controls"] if c["status"] == "not-assessed")
