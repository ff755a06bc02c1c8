"""`qgov job selftest --policy FILE`: the control tests in a copy of an organisation's world --
passing on the sample policy, failing where a weakened policy switches a control off, not
applicable where a policy has nothing to exercise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.cli import main
from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import SpecError
from scanner.governed.policy import load_policy
from scanner.governed.selftest import CHECKS, run_selftest
from scanner.governed.selftest.org_plan import Planner, _signers
from tests.governed.helpers import SAMPLES, qgov

SAMPLE = SAMPLES / "policy" / "org-policy.yaml"
# Their controls are switched off in the weak policy below: these checks must fail.
WEAKENED = {
    "regulated-data-refused",  # the exploratory tier admits regulated data
    "approval-required",  # exports need no approval
    "forged-approval-refused",  # ... so a forged one is as good as none
    "quota-exhausted-refused",  # no project has a quota
    "burst-alerted",  # no project raises burst alerts
}



def _sample() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SAMPLE.read_text())
    document["data_roots"] = [str(SAMPLES / "datasets")]  # the copy lives elsewhere
    return document


def _write(folder: Path, document: dict[str, Any]) -> Path:
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _weak(document: dict[str, Any]) -> dict[str, Any]:
    document["policy"]["id"] = "weak-org"
    document["elevation"]["export_requires_approval"] = False
    for project in document["projects"]:
        project["quota"] = {"period": "month"}
        project.pop("burst", None)
    document["tiers"]["exploratory"]["data_classes"] = ["synthetic", "regulated"]
    return document


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    out = tmp_path_factory.mktemp("sample-selftest")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        yield out, run_selftest(out, policy=SAMPLE)


def test_sample_policy_passes_every_applicable_check(
    sample_run: tuple[Path, dict[str, Any]],
) -> None:
    out, report = sample_run
    statuses = _statuses(report)
    assert set(statuses) == {c.id for c in CHECKS}  # same check ids as the built-in run
    assert "fail" not in statuses.values(), [c for c in report["checks"] if c["status"] == "fail"]
    # The sample forwards nothing to a SIEM: that check has nothing to exercise, and says so.
    assert {k for k, v in statuses.items() if v == "not-exercised"} == {"siem-forwarded"}
    siem = next(c for c in report["checks"] if c["id"] == "siem-forwarded")
    assert "siem.syslog" in siem["detail"]
    summary = report["summary"]
    assert (summary["failed"], summary["not_exercised"]) == (0, 1)
    # No SIEM and no witness file: LOG-07 is not evidenced for this organisation.
    assert summary["controls"]["LOG-07"] == "not-exercised"
    assert summary["controls"]["CST-01"] == "pass" and summary["controls"]["IAM-06"] == "pass"

    policy = report["policy"]
    loaded = load_policy(SAMPLE)
    assert policy["source"] == "organisation"
    assert (policy["id"], policy["version"], policy["sha256"]) == (
        "example-org-quantum-jobs",
        "2026.11",
        loaded.sha256,
    )
    assert policy["sha256"] == sha256_hex(SAMPLE.read_bytes())
    assert policy["seats"]["main"].startswith("alice@example.org (human) as researcher-synthetic")
    assert policy["seats"]["regulated"].startswith("svc:risk-pilot-scheduler (service)")
    assert policy["seats"]["regulated_approver"] is None  # bob's issuer is a demo issuer


def test_sample_run_adapts_to_the_organisation(sample_run: tuple[Path, dict[str, Any]]) -> None:
    out, report = sample_run
    checks = {c["id"]: c for c in report["checks"]}
    # Its own numbers where they are cheap, a scaled copy where they are not, and it says so.
    assert "30 jobs per 60 s" in checks["burst-alerted"]["detail"]
    assert "scaled from 1,000,000 shots and 5,000 cost units" in checks[
        "quota-exhausted-refused"
    ]["detail"]
    # Demo issuers are never valid for regulated-pilot: nobody can approve a regulated run.
    assert any("regulated run with an approval" in n for n in checks["approval-required"][
        "parts_not_exercised"
    ])
    assert "svc:risk-pilot-scheduler" in checks["wrong-environment-refused"]["detail"]
    assert "stabilizer backend added to role researcher-synthetic" in checks[
        "failed-job-recorded"
    ]["detail"]

    copy = yaml.safe_load((out / "policy.yaml").read_text())
    original = yaml.safe_load(SAMPLE.read_text())
    assert [r["name"] for r in copy["roles"]] == [r["name"] for r in original["roles"]]
    assert copy["elevation"] == original["elevation"] and copy["tiers"] == original["tiers"]
    for mine, theirs in zip(copy["issuers"], original["issuers"], strict=True):
        assert [k["kid"] for k in mine["keys"]] == [k["kid"] for k in theirs["keys"]]
        assert mine["keys"][0]["public_key_pem"] != theirs["keys"][0]["public_key_pem"]
        assert mine["demo"] if theirs.get("demo") else not mine.get("demo")
    assert "signing_key" not in copy["ledger"] and "witness" not in copy["ledger"]
    assert not any(
        "PRIVATE KEY" in p.read_text(errors="ignore") for p in out.rglob("*") if p.is_file()
    )


def test_sample_evidence_ledger_answers_the_auditor(
    sample_run: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = sample_run
    ledger = str(out / "ledger.jsonl")
    assert qgov("ledger", "verify", ledger) == 0
    capsys.readouterr()
    assert qgov("ledger", "query", ledger, "--subject", "svc:risk-pilot-scheduler",
                "--format", "json") == 0
    jobs = json.loads(capsys.readouterr().out)["jobs"]
    assert jobs and all(j["who"]["subject"] == "svc:risk-pilot-scheduler" for j in jobs)
    assert {j["decision"] for j in jobs} == {"deny"}
    assert qgov("ledger", "metrics", ledger, "--format", "json") == 0
    telemetry = json.loads(capsys.readouterr().out)
    assert telemetry["jobs"]["refused"] > 0 and telemetry["token_replays_refused"] >= 2
    assert telemetry["cost_anomalies"]  # the burst check's alert


def test_weak_policy_fails_the_checks_of_the_controls_it_switches_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = _write(tmp_path, _weak(_sample()))
    out = tmp_path / "evidence"
    assert qgov("job", "selftest", "--out", str(out), "--policy", str(policy)) == 1
    text = capsys.readouterr().out
    assert "policy: weak-org 2026.11" in text and "FAIL  quota-exhausted-refused" in text
    report = json.loads((out / "selftest.json").read_text())
    statuses = _statuses(report)
    assert {k for k, v in statuses.items() if v == "fail"} == WEAKENED
    details = {c["id"]: c["detail"] for c in report["checks"]}
    assert "elevation.export_requires_approval: false" in details["approval-required"]
    assert "no project has a quota" in details["quota-exhausted-refused"]
    assert "no project raises burst alerts" in details["burst-alerted"]
    assert "every tier in use admits it" in details["regulated-data-refused"]
    controls = report["summary"]["controls"]
    assert controls["CST-01"] == controls["CST-02"] == controls["IAM-06"] == "fail"
    assert report["policy"]["id"] == "weak-org"


def test_a_policy_without_a_simulator_is_not_exercised_not_failed(tmp_path: Path) -> None:
    document = _sample()
    document["policy"]["id"] = "cloud-only"
    document["backends"] = [
        {"name": "ibm_brisbane", "provider": "ibm-quantum", "device": "ibm_brisbane",
         "environments": ["dev", "test", "regulated-pilot"], "max_qubits": 40}
    ]
    for role in document["roles"]:
        role["backends"] = ["ibm_brisbane"]
    report = run_selftest(tmp_path / "evidence", policy=_write(tmp_path, document))
    statuses = _statuses(report)
    assert "fail" not in statuses.values()
    allowed = next(c for c in report["checks"] if c["id"] == "allowed-job-runs")
    assert allowed["status"] == "not-exercised"
    assert "local simulator backend" in allowed["detail"]
    # What needs no job of the organisation's still runs: the ledger's own mechanics.
    assert statuses["ledger-links-refused"] == statuses["ledger-rollback-witnessed"] == "pass"


def test_a_policy_where_no_role_may_submit_passes_nothing_it_cannot_exercise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _sample()
    document["policy"]["id"] = "all-lapsed"
    for role in document["roles"]:
        role["expires"] = "2026-01-01"  # every role has lapsed: nobody may submit
    policy = _write(tmp_path, document)
    out = tmp_path / "evidence"
    code = qgov("job", "selftest", "--out", str(out), "--policy", str(policy), "--format", "json")
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["summary"]["failed"] == 0
    checks = {c["id"]: c for c in report["checks"]}
    for check_id in ("allowed-job-runs", "quota-exhausted-refused", "burst-alerted",
                     "log-scrubbed", "replay-matches", "failed-job-recorded"):
        assert checks[check_id]["status"] == "not-exercised", check_id
        assert "no identity of the policy may run a job" in checks[check_id]["detail"]
    assert report["summary"]["not_exercised"] >= 6
    controls = report["summary"]["controls"]
    assert controls["CST-01"] == controls["CST-02"] == controls["PRV-02"] == "not-exercised"
    assert report["policy"]["sha256"] == sha256_hex(policy.read_bytes())
    assert report["policy"]["file"] == str(policy) and report["policy"]["seats"]["main"] is None


def test_unusable_policy_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: {id: x}\n")
    with pytest.raises(SpecError):
        run_selftest(tmp_path / "evidence", policy=bad)
    assert qgov("job", "selftest", "--out", str(tmp_path / "e"), "--policy", str(bad)) == 2
    assert qgov("job", "selftest", "--out", str(tmp_path / "e"), "--policy",
                str(tmp_path / "missing.yaml")) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "e" / "selftest.json").exists()


# -- choosing where the checks run --------------------------------------------------------


def _planner(folder: Path, document: dict[str, Any], at: datetime) -> Planner:
    path = folder / f"policy-{len(list(folder.glob('policy-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    policy = load_policy(path).policy
    return Planner(policy, _signers(policy, at), at)


NIGHT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 03:00 in Berlin: the benchmark window


def test_main_seat_prefers_a_human_on_aer_outside_protected_environments(tmp_path: Path) -> None:
    seat = _planner(tmp_path, _sample(), NIGHT).main()
    assert seat is not None
    assert (seat.subject, seat.role, seat.project, seat.environment, seat.backend) == (
        "alice@example.org", "researcher-synthetic", "qgov-demo", "dev", "aer_simulator"
    )
    assert seat.shots == 1024 and seat.can_export


def test_seats_follow_expiry_time_windows_revocations_and_demo_issuers(tmp_path: Path) -> None:
    document = _sample()
    document["roles"][0]["expires"] = "2026-01-01"  # alice's role has lapsed
    planner = _planner(tmp_path, document, NIGHT)
    seat = planner.main()
    assert seat is not None and seat.subject == "workload:nightly-benchmarks"  # in its window
    noon = NIGHT + timedelta(hours=10)
    assert _planner(tmp_path, document, noon).main() is None  # out of the window; svc is regulated only
    document["revocations"] = [
        {"subject": "workload:nightly-benchmarks", "reason": "tests", "revoked_at": "2026-11-01"}
    ]
    assert _planner(tmp_path, document, NIGHT).main() is None
    # A demo issuer is never used for the protected environments.
    sample = _planner(tmp_path, _sample(), NIGHT)
    regulated = list(sample.seats(regulated=True))
    assert {seat.subject for seat, _ in regulated} == {"svc:risk-pilot-scheduler"}
    assert sample.approver("svc:risk-pilot-scheduler", "regulated-pilot") is None
    assert sample.approver("alice@example.org", "dev") == "bob@example.org"


def test_signers_match_the_issuers_algorithms_and_unrevoked_kids(tmp_path: Path) -> None:
    document = _sample()
    corp = document["issuers"][1]
    corp["algorithms"] = ["RS256"]
    corp["keys"].append({"kid": "corp-2027", "public_key_pem": corp["keys"][0]["public_key_pem"]})
    document["revocations"] = [
        {"key_id": "corp-2026-11", "reason": "tests", "revoked_at": "2026-11-01"}
    ]
    demo = document["issuers"][0]
    demo["algorithms"] = ["PS256"]  # nothing the self-test can sign
    signers = _planner(tmp_path, document, NIGHT).signers
    assert set(signers) == {"corp-idp"}
    assert signers["corp-idp"].algorithm == "RS256" and signers["corp-idp"].kid == "corp-2027"


def test_a_scan_reading_the_organisation_s_selftest_does_not_pass_what_it_did_not_exercise(
    sample_run: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The evidence from the sample policy leaves LOG-07 (SIEM forwarding) unexercised: a scan
    # given that evidence must not report LOG-07 as control-test-passed, while CST-01 is.
    out, _report = sample_run
    project = tmp_path / "p"
    project.mkdir()
    (project / "app.py").write_text("print('hi')\n")
    assert main(["scan", str(project), "--no-engines", "--format", "json", "--fail-on", "none",
                 "--tier", "production-critical",
                 "--selftest", str(out / "selftest.json")]) == 0
    controls = {c["id"]: c for c in json.loads(capsys.readouterr().out)["controls"]}
    assert controls["CST-01"]["status"] == "control-test-passed"
    assert controls["LOG-07"]["status"] != "control-test-passed"
    assert "did not exercise" in controls["LOG-07"]["reason"]
