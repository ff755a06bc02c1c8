"""`qgov access review`: rights per project/environment/backend, items to act on, ledger
activity, the sign-off event, the three output formats and bad input."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.governed.ledger import Ledger, verify_ledger
from tests.detectors.test_governance_policy import CLEAN
from tests.helpers import SAMPLES

ALICE, RUNNER = "alice@example.org", "svc:runner"


def review(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["access", "review", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def policy(tmp_path: Path, text: str = CLEAN) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return str(path)


def ledger(tmp_path: Path, *acts: tuple[str, datetime]) -> str:
    """A ledger begun on 2026-01-05 with a job decision per (subject, time)."""
    path = tmp_path / "ledger.jsonl"
    now = [datetime(2026, 1, 5, tzinfo=UTC)]
    book = Ledger(path, clock=lambda: now[0])
    with book.session() as session:
        session.append("test.setup")  # after the genesis event, both on 2026-01-05
        for subject, when in acts:
            now[0] = when
            session.append("job.decision", actor={"subject": subject, "kind": "human"},
                           decision="allow", subject={"job_id": "j"})
    return str(path)


def recent(*subjects: str) -> tuple[tuple[str, datetime], ...]:
    return tuple((s, datetime(2026, 5, 20, tzinfo=UTC)) for s in subjects)


def test_rights_per_project_environment_and_backend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = ledger(tmp_path, *recent(ALICE, RUNNER))
    code, out, _ = review(capsys, "--policy", policy(tmp_path), "--ledger", log,
                          "--today", "2026-06-01", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {(r["identity"], r["role"], r["project"], r["environment"], r["backend"],
             r["right"]) for r in rows} == {
        (ALICE, "researcher", "lab", "dev", "sim", "submit"),
        (ALICE, "researcher", "lab", "test", "sim", "submit"),
        (RUNNER, "runner", "lab", "dev", "sim", "submit"),
    }
    code, out, _ = review(capsys, "--policy", policy(tmp_path), "--ledger", log,
                          "--today", "2026-06-01")
    assert "project lab\n  submit:\n    alice@example.org (human, role researcher): dev, test on " \
           "sim\n" in out
    assert "TO ACT ON (0)\n  nothing" in out and "(intact, 4 events since 2026-01-05)" in out


def test_what_needs_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = CLEAN.replace("expires: 2027-01-31", "expires: 2026-05-01", 1).replace(
        "    owner: lead@example.org\n    purpose: Nightly", "    purpose: Nightly").replace(
        "roles:\n  - name: researcher",
        "  - subject: bob@example.org\n    kind: human\n    issuer: idp\n"
        "roles:\n  - name: researcher").replace(
        "    projects: [lab]\n    max_shots: 1000\ntiers", "    max_shots: 1000\ntiers").replace(
        "backends:\n", "  - name: ops\n    owner: o\n    tier: exploratory\n    environments: [dev]\n"
        "    quota: {shots: 1}\n    burst: {max_jobs: 1, window_seconds: 1}\nbackends:\n")
    log = ledger(tmp_path, (RUNNER, datetime(2026, 1, 10, tzinfo=UTC)))
    code, out, _ = review(capsys, "--policy", policy(tmp_path, text), "--ledger", log,
                          "--today", "2026-06-01", "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert sorted((i["kind"], i["subject"]) for i in document["items"]) == [
        ("expired-role-granted", ALICE),
        ("identity-without-roles", "bob@example.org"),
        ("inactive", ALICE),
        ("inactive", RUNNER),
        ("role-without-owner", "runner"),
        ("service-in-several-projects", RUNNER),
    ]
    assert all(g["identity"] != ALICE for g in document["grants"])  # the expired role grants nothing
    assert document["summary"]["action_items"] == 6


def test_inactivity_needs_a_ledger_long_enough(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = ledger(tmp_path, *recent(ALICE))
    _, out, _ = review(capsys, "--policy", policy(tmp_path), "--ledger", log,
                       "--today", "2026-06-01", "--inactive-days", "30")
    assert "[inactive] svc:runner has no activity in the ledger, which goes back to 2026-01-05" in out
    assert "alice" not in out.split("TO ACT ON")[1]
    code, out, _ = review(capsys, "--policy", policy(tmp_path), "--ledger", log,
                          "--today", "2026-02-01")  # the ledger is 27 days old: too early to say
    assert code == 0
    code, out, _ = review(capsys, "--policy", policy(tmp_path), "--today", "2026-06-01",
                          "--ledger", str(tmp_path / "missing.jsonl"))
    assert code == 2


def test_sign_off_records_the_review_in_the_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = ledger(tmp_path, *recent(ALICE, RUNNER))
    code, out, err = review(capsys, "--policy", policy(tmp_path), "--ledger", log, "--today",
                            "2026-06-01", "--format", "json", "--sign-off", "dana@example.org")
    assert code == 0
    document = json.loads(out)
    signed = document["signed_off"]
    assert f"event seq {signed['seq']}, hash {signed['hash']}" in err
    events = [json.loads(line) for line in Path(log).read_text().splitlines()]
    event = next(e for e in events if e["type"] == "access.review")
    assert (event["seq"], event["hash"]) == (signed["seq"], signed["hash"])
    assert event["data"]["report_sha256"] == document["report_sha256"]
    assert event["data"]["reviewer"] == "dana@example.org"
    assert event["data"]["decisions"]["action_items"] == 0
    assert event["policy"]["id"] == "test-policy" and event["decision"] == "no-action"
    assert events[-1]["type"] == "ledger.checkpoint"  # the review is signed at once
    report = verify_ledger(Path(log))
    assert report.intact and report.signed_head_seq == events[-1]["seq"]
    # the ledger grew, the review's findings did not: a sign-off is nobody's QPU activity
    _, out, _ = review(capsys, "--policy", policy(tmp_path), "--ledger", log, "--today",
                       "2026-06-01", "--format", "json")
    again = json.loads(out)
    assert again["items"] == document["items"] == []
    assert again["ledger"]["events"] > document["ledger"]["events"]


def test_a_tampered_ledger_is_reported_and_not_signed_into(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = Path(ledger(tmp_path, *recent(ALICE, RUNNER)))
    lines = log.read_text().splitlines(keepends=True)
    assert ALICE in lines[2]
    lines[2] = lines[2].replace(ALICE, "mallory@example.org")
    log.write_text("".join(lines))
    code, out, _ = review(capsys, "--policy", policy(tmp_path), "--ledger", str(log),
                          "--today", "2026-06-01")
    assert code == 1 and "NOT INTACT" in out and "[ledger-not-intact]" in out
    code, _, err = review(capsys, "--policy", policy(tmp_path), "--ledger", str(log),
                          "--sign-off", "dana@example.org")
    assert code == 2 and "failed verification" in err


def test_csv_cells_never_start_a_formula(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = CLEAN.replace("alice@example.org", "=HYPERLINK(evil)")
    _, out, _ = review(capsys, "--policy", policy(tmp_path, text), "--format", "csv",
                       "--ledger", str(tmp_path / "none.jsonl"), "--sign-off", "x")
    assert "'=HYPERLINK(evil)" in out and "\n=" not in out


def test_the_sample_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QGOV_LEDGER", str(tmp_path / "none.jsonl"))
    _, out, _ = review(capsys, "--policy", str(SAMPLES / "policy" / "org-policy.yaml"),
                       "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {"identity": ALICE, "kind": "human", "role": "researcher-synthetic",
            "project": "qgov-demo", "environment": "dev", "backend": "aer_simulator",
            "right": "export"} in rows
    assert not (tmp_path / "none.jsonl").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("roles:\n  - name: r\n    expires: 2026-13-01\n", "line 3: field 'roles.0.expires'"),
     ("identities:\n  - subject: a\n    kind: robot\n", "line 3: policy field 'identities.0.kind'"),
     ("roles: [\n", "invalid YAML")],
)
def test_bad_policy_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    code, out, err = review(capsys, "--policy", policy(tmp_path, text))
    assert code == 2 and out == "" and expected in err


def test_an_exceptions_file_is_not_a_policy_to_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ".qgov-exceptions.yaml"
    path.write_text("exceptions: []\n")
    code, _, err = review(capsys, "--policy", str(path))
    assert code == 2 and "holds no roles" in err
