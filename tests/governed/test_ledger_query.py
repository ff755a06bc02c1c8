"""`qgov ledger query` and `qgov ledger metrics`: answers from a ledger the governed path wrote,
verified first, streamed, and honest about what verification does not vouch for."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scanner.evidence import (
    FAILED_PREFIX,
    Filters,
    TimeRange,
    metrics,
    parse_moment,
    query,
    verify,
)
from scanner.evidence.render import csv_cell, query_csv, query_text
from scanner.governed.canonical import canonical_json
from scanner.governed.ledger import Ledger, event_hash
from scanner.governed.policy import load_policy
from scanner.governed.replay import replay
from scanner.governed.service import RunOutcome
from tests.governed.bulk import job_events, write_ledger
from tests.governed.helpers import ALICE, BOB, NOW, PIPELINE, World, qgov

T_GATE = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nh q[0];\nt q[0];\n' + (
    "measure q -> c;\n"
)
OTHER_DATA = "id,x\nother-1,0.5\n"


class Ticking:
    """A clock that moves 100 ms per reading, so every event has its own time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=100)
        return self.now

    def jump(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Story:
    root: Path
    ledger: Path
    public_key: Path
    policy: Path
    outcomes: dict[str, RunOutcome]
    clock: Ticking


def _tell(root: Path) -> Story:
    """Ten jobs over four days through the real governed path (see each step)."""
    world = World(root)
    clock = Ticking(NOW)
    world.clock = clock  # type: ignore[method-assign]
    world.policy["backends"].append(
        {"name": "aer_stab", "method": "stabilizer", "environments": ["dev", "test"]}
    )
    world.policy["roles"][0]["backends"] = ["aer_sim", "aer_stab"]
    (root / "jobs" / "t.qasm").write_text(T_GATE, encoding="utf-8")
    (root / "other.csv").write_text(OTHER_DATA, encoding="utf-8")
    exports = root / "exports"
    out: dict[str, RunOutcome] = {}
    # Day 0: a plain job; an export asked for before its approval existed (refused), the
    # approval, the export with it; a refusal.
    out["plain"] = world.run("plain")
    out["early"] = world.run("exp", export=exports / "early.json", export_approval="APR-E1")
    clock.jump(timedelta(minutes=5))
    assert world.grant("exp", "export", export_approval="APR-E1").granted
    clock.jump(timedelta(minutes=1))
    out["exported"] = world.run("exp", export=exports / "ok.json", export_approval="APR-E1")
    out["too-many-shots"] = world.run("big", shots=100_000)
    # Day 1: the workload's job; a token used twice; another dataset.
    clock.jump(timedelta(days=1))
    out["batch"] = world.run("batch", token=world.token(PIPELINE, "workload"), role="batch")
    token = world.token()
    out["first-use"] = world.run("once", token=token)
    out["replayed-token"] = world.run("twice", token=token)
    sha = hashlib.sha256(OTHER_DATA.encode()).hexdigest()
    out["other-data"] = world.run(
        "other",
        dataset={"name": "other-set", "version": "2", "path": "../other.csv", "sha256": sha},
    )
    # Day 3: a replay of the first job, a revoked identity, a failed run, an access review.
    clock.jump(timedelta(days=2))
    assert out["plain"].record_path is not None
    replay(out["plain"].record_path, world.context())
    revoked_at = clock.now.isoformat()
    world.policy["revocations"] = [
        {"subject": ALICE, "reason": "tests: laptop lost", "revoked_at": revoked_at}
    ]
    out["revoked"] = world.run("revoked")
    world.policy.pop("revocations")
    out["failed"] = world.run("fails", backend="aer_stab", circuit={"path": "t.qasm"})
    with Ledger(world.ledger, clock=clock).session() as session:
        session.append(
            "access.review",
            actor={"subject": "reviewer@tests.invalid", "role": "access-reviewer",
                   "verified": False},
            decision="no-action",
            subject={"review": "access", "as_of": clock.now.date().isoformat()},
            data={"reviewer": "reviewer@tests.invalid", "report_sha256": "ab" * 32},
        )
        session.checkpoint()
    ledger_id = json.loads(world.ledger.read_text().splitlines()[0])["id"]
    public = Path(os.environ["XDG_CONFIG_HOME"]) / "qgov" / "keys" / f"{ledger_id}.pub"
    return Story(root, world.ledger, public, world.write_policy(), out, clock)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("story-config")))
        yield _tell(tmp_path_factory.mktemp("story"))



def _copy(story: Story, folder: Path) -> Path:
    target = folder / "ledger.jsonl"
    for suffix in ("", ".head", ".pub"):
        shutil.copy(f"{story.ledger}{suffix}", f"{target}{suffix}")
    return target


def _row(result: Any, outcome: RunOutcome) -> Any:
    return next(r for r in result.jobs if r.job_id == outcome.job_id)


# -- the answers -----------------------------------------------------------------------------


def test_one_row_per_job_answers_who_what_data_and_compliance(story: Story) -> None:
    verification = verify(story.ledger, public_key=story.public_key)
    assert verification.report.strict_ok
    result = query(verification)
    assert result.intact and result.warning() is None
    assert len(result.jobs) == len(story.outcomes)
    assert all(r.verified for r in result.jobs)

    exported = _row(result, story.outcomes["exported"])
    assert (exported.subject, exported.actor_kind, exported.identity_verified) == (
        ALICE, "human", True,
    )
    assert (exported.project, exported.environment, exported.backend) == ("lab", "dev", "aer_sim")
    assert exported.dataset["name"] == "tests-data" and exported.dataset["version"] == "1"
    assert exported.dataset["actual_sha256"] == exported.dataset["sha256"]
    assert exported.decision == "allow" and exported.status == "completed"
    assert exported.record_sha256 == story.outcomes["exported"].record_sha256
    assert exported.policy["id"] == "tests" and exported.source["channel"] == "tests"
    assert exported.time_to_result_ms is not None and exported.time_to_result_ms > 0
    (export,) = exported.exports
    assert export["decision"] == "allow"
    assert export["approval"]["id"] == "APR-E1" and export["approval"]["approver"] == BOB
    assert exported.compliance == "complied"

    early = _row(result, story.outcomes["early"])
    assert early.compliance == "partly refused"
    assert early.exports[0]["reasons"] == ["APPROVAL_UNKNOWN"]
    refused = _row(result, story.outcomes["too-many-shots"])
    assert refused.status == "refused" and "SHOTS_OVER_LIMIT" in refused.reason_codes
    assert refused.compliance == "refused"
    replayed = _row(result, story.outcomes["replayed-token"])
    assert replayed.identity_verified is False and "TOKEN_REPLAYED" in replayed.reason_codes
    assert _row(result, story.outcomes["plain"]).replays[0]["result"] == "match"
    assert _row(result, story.outcomes["failed"]).status == "failed"

    lines = query_text(result)
    assert lines[0].startswith(f"ledger {story.ledger}: INTACT")
    assert any("APR-E1 (export, bob@tests.invalid)" in line for line in lines)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(subject=PIPELINE), {"batch"}),
        (Filters(decision="deny"), {"too-many-shots", "replayed-token", "revoked"}),
        (Filters(backend="aer_stab"), {"failed"}),
        (Filters(project="nowhere"), set()),
        (Filters(dataset="other-set"), {"other-data"}),
        (Filters(dataset="other-set@2"), {"other-data"}),
        (Filters(dataset="other-set@1"), set()),
        (Filters(types=("result.export",)), {"early", "exported"}),
        (Filters(types=("job.replayed",)), {"plain"}),
        (
            Filters(time=TimeRange(NOW + timedelta(days=1), NOW + timedelta(days=2))),
            {"batch", "first-use", "replayed-token", "other-data"},
        ),
        (
            Filters(
                subject=ALICE, decision="allow", time=TimeRange(until=NOW + timedelta(hours=1))
            ),
            {"plain", "early", "exported"},
        ),
    ],
)
def test_filters(story: Story, filters: Filters, expected: set[str]) -> None:
    result = query(verify(story.ledger), filters)
    by_id = {o.job_id: name for name, o in story.outcomes.items()}
    assert {by_id[r.job_id] for r in result.jobs} == expected


def test_dataset_by_hash_prefix(story: Story) -> None:
    sha = str(_row(query(verify(story.ledger)), story.outcomes["other-data"]).dataset["sha256"])
    result = query(verify(story.ledger), Filters(dataset=sha[:10]))
    assert [r.job_id for r in result.jobs] == [story.outcomes["other-data"].job_id]
    assert not query(verify(story.ledger), Filters(dataset=sha[:7])).jobs  # too short to be one


def test_raw_events(story: Story) -> None:
    result = query(verify(story.ledger), Filters(types=("approval.granted",)), events=True)
    (grant,) = result.events
    assert grant.data["approval"]["id"] == "APR-E1" and grant.verified
    everything = query(verify(story.ledger), events=True)
    assert not {e.type for e in everything.events} & {"ledger.checkpoint", "ledger.genesis"}
    assert "access.review" in {e.type for e in everything.events}
    reviews = query(verify(story.ledger), Filters(types=("access.review",)), events=True)
    assert reviews.events[0].actor["subject"] == "reviewer@tests.invalid"


def test_metrics(story: Story) -> None:
    loaded = load_policy(story.policy)
    result = metrics(
        verify(story.ledger), policy=loaded.policy, policy_ref=loaded.ref, as_of=story.clock.now
    )
    doc = result.to_json()
    jobs = doc["jobs"]
    assert jobs == {
        "submitted": 10, "allowed": 7, "refused": 3, "completed": 6, "failed": 1,
        "not_run": 0, "success_rate": round(6 / 7, 4),
    }
    assert doc["time_to_result"]["count"] == 6 and doc["time_to_result"]["p95_ms"] > 0
    approvals = doc["approvals"]
    assert (approvals["granted"], approvals["used"], approvals["unused"]) == (1, 1, 0)
    # Requested (the refused export naming APR-E1) about five minutes before it was granted.
    waited = approvals["latency"]["request_to_grant"]
    assert waited["count"] == 1 and 300_000 <= waited["median_ms"] < 310_000
    assert approvals["latency"]["grant_to_use"]["count"] == 1
    job_denials = {d["code"]: d["count"] for d in doc["denials"]["job"]["by_reason"]}
    assert job_denials["TOKEN_REPLAYED"] == 1 and job_denials["IDENTITY_REVOKED"] == 1
    assert job_denials["SHOTS_OVER_LIMIT"] == 1
    assert doc["denials"]["export"]["by_reason"][0]["code"] == "APPROVAL_UNKNOWN"
    assert doc["token_replays_refused"] == 1
    assert doc["revocations_hit"] == {"IDENTITY_REVOKED": 1}
    assert doc["exports"] == {"allowed": 1, "refused": 1}
    assert doc["replays"] == {"match": 1}
    assert doc["access_reviews"]["recorded"] == 1
    (lab,) = doc["quota"]["projects"]
    assert lab["project"] == "lab" and lab["quota"]["shots"] == 100_000
    assert lab["shots"] == 7 * 256 and lab["jobs"] == 7
    assert doc["exceptions"] == {
        "in_force": 0, "expired": 0, "open_ended": 0, "entries": {"in_force": [], "expired": []}
    }


def test_metrics_window_counts_jobs_by_submission(story: Story) -> None:
    day1 = TimeRange(NOW + timedelta(days=1), NOW + timedelta(days=2))
    doc = metrics(verify(story.ledger), window=day1).to_json()
    assert doc["jobs"]["submitted"] == 4 and doc["jobs"]["completed"] == 3
    assert doc["token_replays_refused"] == 1 and doc["approvals"]["granted"] == 0
    assert doc["quota"]["basis"].startswith("reserved by allowed jobs submitted from")
    assert {p["project"]: p["shots"] for p in doc["quota"]["projects"]} == {"lab": 3 * 256}


def test_exceptions_in_force(story: Story, tmp_path: Path) -> None:
    document = load_policy(story.policy)
    raw = story.policy.read_text()
    extra = (
        "exceptions:\n"
        "  - {id: EXC-1, control: LOG-06, expires: 2026-11-30, risk_owner: a@tests.invalid}\n"
        "  - {id: EXC-2, control: SCM-01, expires: 2026-11-01}\n"
        "  - {id: EXC-3, control: IAM-02}\n"
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text(raw + extra)
    loaded = load_policy(policy)
    assert loaded.sha256 != document.sha256
    doc = metrics(verify(story.ledger), policy=loaded.policy, as_of=NOW).to_json()
    assert (doc["exceptions"]["in_force"], doc["exceptions"]["expired"]) == (2, 1)
    assert doc["exceptions"]["open_ended"] == 1
    last_day = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    assert metrics(verify(story.ledger), policy=loaded.policy, as_of=last_day).to_json()[
        "exceptions"
    ]["in_force"] == 2


def test_metrics_csv_on_the_cli_holds_the_json_numbers(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        story.policy.read_text()
        + "exceptions:\n  - {id: EXC-1, control: LOG-06, expires: 2026-11-30}\n"
    )
    common = ("ledger", "metrics", str(story.ledger), "--policy", str(policy), "--as-of",
              "2026-11-28")
    assert qgov(*common, "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(r["ledger_verdict"], r["verified"]) for r in rows} == {("INTACT, unanchored", "True")}
    cells = {(r["metric"], r["item"]): r["value"] for r in rows}
    assert cells[("jobs.success_rate", "")] == str(round(6 / 7, 4))
    assert cells[("denials.job.by_reason.count", "SHOTS_OVER_LIMIT")] == "1"
    assert int(cells[("quota.projects.shots", "lab")]) > 0
    assert cells[("quota.projects.quota.shots", "lab")] == "100000"
    assert cells[("exceptions.in_force", "")] == "1"
    assert cells[("exceptions.entries.in_force.control", "EXC-1")] == "LOG-06"
    assert int(cells[("approvals.latency.request_to_grant.median_ms", "")]) >= 300_000
    assert int(cells[("time_to_result.median_ms", "")]) > 0
    # Nothing the JSON form reports is missing from the CSV.
    assert qgov(*common, "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["jobs"]["submitted"] == int(cells[("jobs.submitted", "")])
    (lab,) = document["quota"]["projects"]
    assert str(lab["shots"]) == cells[("quota.projects.shots", "lab")]
    assert str(lab["shots_used_percent"]) == cells[("quota.projects.shots_used_percent", "lab")]
    assert {m.split(".")[0] for m, _ in cells} == set(document) - {
        "warning", "ledger", "verification", "reading"
    }


# -- damage --------------------------------------------------------------------------------


def _decision_line(path: Path, job_id: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        event = json.loads(line)
        if event["type"] == "job.decision" and event["subject"].get("job_id") == job_id:
            return number
    raise AssertionError(job_id)


def test_tampered_ledger_is_answered_flagged(story: Story, tmp_path: Path) -> None:
    target = _copy(story, tmp_path)
    refused = story.outcomes["too-many-shots"]
    number = _decision_line(target, refused.job_id)
    lines = target.read_text().splitlines(keepends=True)
    event = json.loads(lines[number - 1])
    event["decision"] = "allow"  # canonical bytes, stale hash: an edit
    lines[number - 1] = canonical_json(event).decode() + "\n"
    target.write_text("".join(lines))

    result = query(verify(target))
    assert not result.intact
    warning = result.warning()
    assert warning is not None and warning.startswith(FAILED_PREFIX)
    row = _row(result, refused)
    assert row.decision == "allow" and not row.verified  # what it says, and that it is unproven
    assert _row(result, story.outcomes["exported"]).verified  # before the edit: vouched for
    text = query_text(result)
    assert text[0].startswith(FAILED_PREFIX) and "hash-mismatch" in text[1]
    assert query(verify(target), verified_only=True).jobs == [
        r for r in result.jobs if r.verified
    ]
    document = result.to_json()
    assert document["warning"].startswith(FAILED_PREFIX)
    assert document["verification"]["intact"] is False


def test_cli_exit_codes_and_formats(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = str(story.ledger)
    assert qgov("ledger", "query", ledger, "--public-key", str(story.public_key)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ledger {ledger}: INTACT") and "10 job(s)" in out
    assert qgov("ledger", "query", ledger, "--decision", "deny", "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["warning"] is None and document["summary"]["jobs"] == 3
    assert qgov("ledger", "query", ledger, "--format", "csv", "--subject", PIPELINE) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 1 and rows[0]["subject"] == PIPELINE
    assert rows[0]["ledger_verdict"] == "INTACT, unanchored"  # no key passed: the copy beside it
    policy = str(story.policy)
    assert qgov("ledger", "metrics", ledger, "--policy", policy, "--as-of", "2026-11-28") == 0
    out = capsys.readouterr().out
    assert "job success rate:    85.7 % (6 completed / 7 allowed" in out
    assert "lab (month since 2026-11-01T00:00:00" in out
    assert qgov("ledger", "query", ledger, "--strict") == 1  # unanchored
    capsys.readouterr()

    assert qgov("ledger", "query", ledger, "--since", "last tuesday") == 2
    assert "is not a time" in capsys.readouterr().err
    assert qgov("ledger", "query", ledger, "--since", "2026-11-28", "--until", "2026-11-27") == 2
    assert qgov("ledger", "query", ledger, "--type", "approval.granted") == 2
    assert "add --events" in capsys.readouterr().err
    assert qgov("ledger", "query", str(tmp_path / "missing.jsonl")) == 2
    assert qgov("ledger", "metrics", str(tmp_path)) == 2
    assert "Traceback" not in capsys.readouterr().err

    target = _copy(story, tmp_path)
    with target.open("ab") as handle:
        handle.write(b'{"seq":')  # a torn write
    # Refused by default: no answer in any format, the verdict on stderr, exit 1.
    for command in ("query", "metrics"):
        for form in ("text", "json", "csv"):
            assert qgov("ledger", command, str(target), "--format", form) == 1
            captured = capsys.readouterr()
            assert captured.err.startswith(
                f"qgov: refused: ledger {target} failed verification (TAMPERED)"
            ), (command, form)
            assert "torn-write" in captured.err and "Traceback" not in captured.err
            if form == "json":
                refusal = json.loads(captured.out)
                assert set(refusal) == {"refused", "verification"}
                assert refusal["verification"]["intact"] is False
            else:
                assert captured.out == ""
    # Asked for (forensics), the answer comes flagged, and still exits 1.
    assert qgov("ledger", "query", str(target), "--unverified") == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{FAILED_PREFIX}: TAMPERED (torn-write)")
    assert qgov("ledger", "metrics", str(target), "--unverified", "--format", "json") == 1
    assert json.loads(capsys.readouterr().out)["warning"].startswith(FAILED_PREFIX)
    assert qgov("ledger", "query", str(target), "--verified-only", "--format", "json") == 1
    assert json.loads(capsys.readouterr().out)["summary"]["jobs"] == 10  # all before the tear
    assert qgov("ledger", "query", str(target), "--format", "csv", "--unverified") == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"qgov: {FAILED_PREFIX}")
    assert all(row["ledger_verdict"] == "TAMPERED" for row in csv.DictReader(io.StringIO(
        captured.out)))


def test_relative_times_on_the_cli(story: Story, capsys: pytest.CaptureFixture[str]) -> None:
    as_of = (NOW + timedelta(days=3, hours=1)).isoformat()
    ledger = str(story.ledger)
    assert qgov("ledger", "query", ledger, "--as-of", as_of, "--since", "2d", "--format",
                "json") == 0
    names = {j["job_name"] for j in json.loads(capsys.readouterr().out)["jobs"]}
    assert names == {"revoked", "fails"}
    assert qgov("ledger", "query", ledger, "--until", "2026-11-25", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["summary"]["jobs"] == 4  # day 0, through its end


# -- what a spreadsheet or a terminal would run ---------------------------------------------


def test_csv_and_text_neutralise_what_the_ledger_holds(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    hostile = "=HYPERLINK(\"http://evil.invalid\",\"x\")"
    Ledger(ledger).append(
        "job.decision",
        actor={"subject": hostile, "kind": "human"},
        decision="deny",
        subject={"job_id": "j-1", "project": "lab", "backend": "\x1b[2Jaer"},
        data={"reasons": [{"code": "@SUM(1)", "message": "m"}]},
    )
    result = query(verify(ledger))
    rows = list(csv.reader(io.StringIO(query_csv(result))))
    cells = rows[1]
    assert "'" + hostile in cells and "'@SUM(1)" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    text = "\n".join(query_text(result))
    assert "\x1b" not in text and "\\u001b[2Jaer" in text
    assert csv_cell("-1+2") == "'-1+2" and csv_cell("+x") == "'+x"
    assert csv_cell("\tx") == "\\u0009x"  # control characters are escaped before the check
    assert csv_cell("alice") == "alice"


# -- hostile lines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "kind"),
    [
        ("spaces", "non-canonical"),
        ("duplicate", "duplicate-key"),
        ("deep", "unparseable"),
        ("oversized", "oversized"),
    ],
)
def test_hostile_lines_are_reported_and_never_used(
    story: Story, tmp_path: Path, damage: str, kind: str
) -> None:
    target = _copy(story, tmp_path)
    refused = story.outcomes["too-many-shots"]
    number = _decision_line(target, refused.job_id)
    lines = target.read_text().splitlines(keepends=True)
    original = lines[number - 1]
    lines[number - 1] = {
        "spaces": json.dumps(json.loads(original), sort_keys=True) + "\n",
        "duplicate": original.replace('{"actor"', '{"decision":"allow","actor"', 1),
        "deep": "[" * 50_000 + "]" * 50_000 + "\n",
        "oversized": '"' + "x" * (1024 * 1024 + 10) + '"\n',
    }[damage]
    target.write_text("".join(lines))

    verification = verify(target)
    assert kind in {p.kind for p in verification.report.problems}
    result = query(verification)
    assert result.stats.skipped == {kind: 1}
    assert refused.job_id not in {r.job_id for r in result.jobs}  # the damaged decision
    assert _row(result, story.outcomes["exported"]).verified
    later = _row(result, story.outcomes["batch"])
    assert later.decision == "allow" and not later.verified
    assert not metrics(verification).intact


@pytest.mark.parametrize("rechain", [False, True])
def test_changed_after_verification_is_caught(
    story: Story, tmp_path: Path, rechain: bool
) -> None:
    target = _copy(story, tmp_path)
    verification = verify(target)
    assert verification.intact
    # Between verifying and reading: edit line 5 -- in place, or with every later hash and
    # link recomputed (only the head verification saw can tell then).
    events = [json.loads(line) for line in target.read_text().splitlines()]
    events[4]["ts"] = events[4]["ts"].replace("2026-", "2025-")  # same length, other content
    prev = events[4]["prev"]
    for event in events[4:] if rechain else []:
        event["prev"] = prev
        event["hash"] = prev = event_hash(event)
    target.write_text("".join(canonical_json(e).decode() + "\n" for e in events))
    result = query(verification)
    assert not result.intact
    assert result.stats.changed_at_line == (None if rechain else 5)
    assert result.stats.rewritten is rechain
    assert result.stats.unverified > 0
    assert not any(r.verified for r in result.jobs) or not rechain
    warning = result.warning()
    assert warning is not None and warning.startswith(FAILED_PREFIX) and "changed" in warning
    assert not metrics(verification).intact


def test_appends_after_verification_are_left_out(
    story: Story, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(story.public_key.parents[2]))  # its key store
    target = _copy(story, tmp_path)
    verification = verify(target)
    before = len(query(verification, events=True).events)
    Ledger(target).append("job.decision", decision="deny", subject={"job_id": "late"})
    result = query(verification, events=True)
    assert len(result.events) == before and result.intact


# -- big ledgers -----------------------------------------------------------------------------


def test_big_ledger_is_streamed(tmp_path: Path) -> None:
    """Memory follows the answer, not the ledger: a narrow question about a ledger of ten
    thousand events holds the read buffer (1 MB), one line and a few rows. Reading the file
    whole would hold its bytes and several times that in parsed events."""
    path = tmp_path / "big.jsonl"
    write_ledger(path, job_events(4000))
    size = path.stat().st_size
    verification = verify(path)
    assert verification.intact and verification.report.events > 10_000
    window = TimeRange(since=parse_moment("2026-10-01T02:00:00Z", now=NOW))
    tracemalloc.start()
    try:
        result = query(verification, Filters(subject="carol@bulk.invalid", time=window))
        _, query_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        telemetry = metrics(verification)
        _, metrics_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 0 < len(result.jobs) < 200
    assert telemetry.submitted == 4000 and telemetry.completed == 2000
    assert size > 12_000_000
    for peak in (query_peak, metrics_peak):
        assert peak < 5_000_000 and peak < size / 2.5, (peak, size)


# -- time forms ------------------------------------------------------------------------------


def test_time_forms() -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert parse_moment("7d", now=now) == now - timedelta(days=7)
    assert parse_moment("24h", now=now) == now - timedelta(hours=24)
    assert parse_moment("30m", now=now) == now - timedelta(minutes=30)
    assert parse_moment("2w", now=now) == now - timedelta(weeks=2)
    assert parse_moment("2026-11-01", now=now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_moment("2026-11-01", now=now, end=True) == datetime(2026, 11, 2, tzinfo=UTC)
    assert parse_moment("2026-11-01T09:30", now=now) == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    assert parse_moment("2026-11-01T10:30:00+01:00", now=now) == datetime(
        2026, 11, 1, 9, 30, tzinfo=UTC
    )
    assert parse_moment("2026-11-01T09:30:00Z", now=now) == datetime(
        2026, 11, 1, 9, 30, tzinfo=UTC
    )
    for bad in ("yesterday", "7 days", "-3d", "2026-13-01", ""):
        with pytest.raises(ValueError, match="is not a time"):
            parse_moment(bad, now=now)
    window = TimeRange.parse("2026-11-01", "2026-11-01", now=now)
    assert window.contains(datetime(2026, 11, 1, 23, 59, tzinfo=UTC))
    assert not window.contains(datetime(2026, 11, 2, tzinfo=UTC))
    assert not window.contains(None) and TimeRange().contains(None)
    with pytest.raises(ValueError, match="is not after"):
        TimeRange.parse("2026-11-02", "2026-11-01T12:00", now=now)
