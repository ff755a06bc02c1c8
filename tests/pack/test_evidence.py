"""The governed job's evidence in the pack: the ledger with its verification (a damaged one
shown as such, never skipped), self-test results, and attestations that lapsed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.governed.helpers import World
from tests.pack.helpers import EPOCH_JAN_2027, pack_bytes, project, qgov


@pytest.fixture(autouse=True)
def key_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Ledger signing keys go to a fresh key store, never ~/.config."""
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


def _governed_ledger(root: Path) -> tuple[Path, Path]:
    """Three jobs through the real governed path (two completed, one refused: too many
    shots for the role): its ledger and the policy it ran under."""
    world = World(root)
    assert world.run("bell").status == "completed"
    assert world.run("again", seed=11).status == "completed"
    assert world.run("greedy", shots=100_000).status == "refused"
    return world.ledger, world.write_policy()


def test_an_intact_ledger_is_copied_with_its_verification_metrics_and_jobs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_JAN_2027)
    ledger, policy = _governed_ledger(tmp_path / "world")
    out = tmp_path / "pack"
    code, _, err = qgov(capsys, "report", str(project(tmp_path / "repo")), "--out", str(out),
                        "--no-engines", "--ledger", str(ledger), "--policy", str(policy))
    assert code == 0, err
    files = pack_bytes(out)
    assert files["evidence/ledger/ledger.jsonl"] == ledger.read_bytes()
    assert "evidence/ledger/ledger.jsonl.head" in files
    verification = json.loads(files["evidence/ledger/verification.json"])
    assert verification["intact"] is True
    assert verification["events"] == len(ledger.read_text().splitlines())
    summary = json.loads(files["pack.json"])
    assert summary["ledger"]["verdict"].startswith("INTACT")
    assert summary["ledger"]["answers_withheld"] is None
    assert summary["problems"] == []
    # The answers `qgov ledger metrics --format json` and `query --format csv` give, at the
    # pack's time, with the policy's quotas; the ledger's path as shown, not the machine's.
    metrics = json.loads(files["evidence/ledger/metrics.json"])
    assert metrics["warning"] is None
    assert metrics["jobs"] == {"submitted": 3, "allowed": 2, "refused": 1, "completed": 2,
                               "failed": 0, "not_run": 0, "success_rate": 1.0}
    assert metrics["window"]["as_of"].startswith("2027-01-15T12:00:00")
    assert metrics["policy"]["id"] == "tests"
    assert [p["project"] for p in metrics["quota"]["projects"]] == ["lab"]
    assert metrics["ledger"] == summary["ledger"]["origin"]
    jobs = list(csv.DictReader(io.StringIO(files["evidence/ledger/jobs.csv"].decode())))
    assert sorted(j["job_name"] for j in jobs) == ["again", "bell", "greedy"]
    assert {j["ledger_verdict"] for j in jobs} == {summary["ledger"]["verdict"]}
    assert {j["decision"] for j in jobs if j["job_name"] == "greedy"} == {"deny"}
    manifest = {f["path"] for f in json.loads(files["manifest.json"])["files"]}
    assert {"evidence/ledger/metrics.json", "evidence/ledger/jobs.csv"} <= manifest
    # The report shows them, and lists the files.
    html = files["report.html"].decode()
    assert "evidence/ledger/jobs.csv" in html and "success rate" in html
    assert "no metrics and no jobs" not in html
    # The copy in the pack verifies on its own too.
    code, out_text, _ = qgov(capsys, "ledger", "verify", str(out / "evidence/ledger/ledger.jsonl"))
    assert code == 0, out_text


def test_a_tampered_ledger_is_shown_as_such_never_skipped_nor_answered_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger, policy = _governed_ledger(tmp_path / "world")
    lines = ledger.read_text().splitlines(keepends=True)
    edited = next(n for n, line in enumerate(lines) if '"greedy"' in line)
    lines[edited] = lines[edited].replace('"deny"', '"allow"')
    ledger.write_text("".join(lines))
    out = tmp_path / "pack"
    code, _, err = qgov(capsys, "report", str(project(tmp_path / "repo")), "--out", str(out),
                        "--no-engines", "--ledger", str(ledger), "--policy", str(policy))
    assert code == 0, err  # the pack is written, and says what is wrong
    assert "problem(s) with the inputs" in err and "failed verification (TAMPERED)" in err
    files = pack_bytes(out)
    summary = json.loads(files["pack.json"])
    assert summary["ledger"]["verdict"] == "TAMPERED" and summary["ledger"]["intact"] is False
    assert any("failed verification (TAMPERED)" in p["message"] for p in summary["problems"])
    assert files["evidence/ledger/ledger.jsonl"] == ledger.read_bytes()
    assert b"failed verification (TAMPERED)" in files["report.html"]
    # No number from it is presented as fact: no metrics, no jobs, and the report says why.
    assert "evidence/ledger/metrics.json" not in files
    assert "evidence/ledger/jobs.csv" not in files
    assert summary["ledger"]["answers_withheld"].startswith(
        "no metrics and no jobs: the ledger failed verification (TAMPERED)")
    html = files["report.html"].decode()
    assert "no metrics and no jobs: the ledger failed verification (TAMPERED)" in html
    assert "success rate" not in html and "greedy" not in html


def test_self_test_evidence_counts_and_is_copied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "selftest.json"
    evidence.write_text(json.dumps({
        "tool": {"name": "qgov", "version": "0.1.0", "component": "governed-job selftest"},
        "generated_at": "2026-11-01T10:00:00Z",
        "checks": [
            {"id": "ledger-chain", "control_ids": ["LOG-01"], "status": "pass"},
            {"id": "approval-binding", "control_ids": ["IAM-06"], "status": "fail",
             "detail": "an approval for another job was accepted"},
        ],
    }))
    out = tmp_path / "pack"
    code, _, err = qgov(capsys, "report", str(project(tmp_path / "repo")), "--out", str(out),
                        "--no-engines", "--selftest", str(evidence))
    assert code == 0, err
    files = pack_bytes(out)
    assert files["evidence/selftest/selftest.json"] == evidence.read_bytes()
    controls = {c["id"]: c for c in json.loads(files["findings.json"])["controls"]}
    assert controls["LOG-01"]["status"] == "control-test-passed"
    assert controls["IAM-06"]["status"] == "control-test-failed"
    summary = json.loads(files["pack.json"])
    assert summary["selftest"]["checks"] == {"ledger-chain": "pass", "approval-binding": "fail"}
    matrix = files["control-matrix.csv"].decode()
    assert "evidence/selftest/selftest.json" in matrix


def test_lapsed_attestations_and_missing_evidence_are_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "att"
    folder.mkdir()
    (folder / "review.md").write_text("reviewed\n")
    (folder / "attestations.yaml").write_text(
        "- control: IAM-02\n  statement: SSO with MFA\n  owner: a@example.org\n"
        "  date: 2026-01-10\n  evidence: [review.md]\n  next_review: 2026-12-31\n"
        "- control: NBK-03\n  statement: Outputs cleared\n  owner: b@example.org\n"
        "  date: 2026-01-10\n  evidence: [gone.md]\n  next_review: 2027-12-31\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_JAN_2027)
    out = tmp_path / "pack"
    code, _, err = qgov(capsys, "report", str(project(tmp_path / "repo")), "--out", str(out),
                        "--no-engines", "--attestations", str(folder / "attestations.yaml"))
    assert code == 0, err
    summary = json.loads(pack_bytes(out)["pack.json"])
    records = {a["control"]: a for a in summary["attestations"][0]["attestations"]}
    assert records["IAM-02"]["lapsed"] is True and records["IAM-02"]["current"] is False
    assert records["NBK-03"]["evidence"][0]["problem"] == "missing"
    assert records["NBK-03"]["evidence"][0]["copy"] is None
    messages = [p["message"] for p in summary["problems"]]
    assert any("IAM-02 lapsed on 2026-12-31" in m for m in messages)
    assert any("evidence gone.md: missing" in m for m in messages)
    assert (out / "evidence/attestations/1/files/review.md").read_text() == "reviewed\n"
