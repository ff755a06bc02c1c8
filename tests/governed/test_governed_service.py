"""The governed path end to end: samples, records, determinism, replay, failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scanner.governed.errors import SpecError
from scanner.governed.ledger import verify_ledger
from scanner.governed.policy import load_policy
from scanner.governed.record import read_record
from scanner.governed.replay import replay
from scanner.governed.runtime import Context
from scanner.governed.service import run_job
from scanner.governed.tokens import demo_private_key, mint_token
from tests.governed.helpers import NOW, SAMPLES, World


def demo_token(subject: str = "alice@example.org", kind: str = "human") -> str:
    from datetime import UTC, datetime

    return mint_token(
        demo_private_key(),
        issuer="https://demo.qgov.invalid/issuer",
        audience="qgov-governed-jobs",
        subject=subject,
        kind=kind,
        now=datetime.now(UTC),
        kid="demo-1",
    )


@pytest.fixture
def samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(SAMPLES / "jobs", tmp_path / "samples" / "jobs")
    shutil.copytree(SAMPLES / "policy", tmp_path / "samples" / "policy")
    shutil.copytree(SAMPLES / "datasets", tmp_path / "samples" / "datasets")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_sample_job_runs_and_appends_to_one_ledger(samples: Path) -> None:
    policy = load_policy(Path("samples/policy/org-policy.yaml"))
    ledger = Path(".qgov/ledger.jsonl")
    outcomes = [
        run_job(
            Path("samples/jobs/bell.yaml"),
            Context(policy=policy, ledger_path=ledger),
            token=demo_token(),
        )
        for _ in range(2)
    ]
    assert [o.status for o in outcomes] == ["completed", "completed"]
    assert outcomes[0].counts_sha256 == outcomes[1].counts_sha256  # fixed seed
    report = verify_ledger(ledger)
    assert report.intact
    executed = [json.loads(x) for x in ledger.read_text().splitlines() if '"job.executed"' in x]
    assert len(executed) == 2
    record = read_record(outcomes[0].record_path)  # type: ignore[arg-type]
    assert record.circuit.path == "samples/jobs/bell.qasm"
    assert record.dataset.path == "samples/datasets/bell-calibration.csv"
    assert record.backend.effective_method and record.environment["qiskit_aer"]
    assert record.timings.total_ms >= record.timings.run_ms


def test_sample_refused_job_gives_reasons(samples: Path) -> None:
    policy = load_policy(Path("samples/policy/org-policy.yaml"))
    outcome = run_job(
        Path("samples/jobs/regulated-data-in-dev.yaml"),
        Context(policy=policy, ledger_path=Path(".qgov/ledger.jsonl")),
        token=demo_token(),
    )
    assert outcome.status == "refused"
    assert set(outcome.decision.codes) == {
        "DATA_CLASS_NOT_ALLOWED_FOR_TIER",
        "DATA_CLASS_NOT_ALLOWED_FOR_ROLE",
        "DATASET_NOT_ALLOWED",  # the registry releases it to risk-pilot only
    }


def test_execution_record_contents(world: World) -> None:
    outcome = world.run(shots=512)
    assert outcome.record_path is not None
    record = read_record(outcome.record_path)
    assert record.status == "completed" and record.shots == 512
    assert record.seeds.simulator == 7 and record.seeds.transpiler == 7
    assert record.circuit.hash_format == "openqasm3-text" and "QPY" in record.circuit.hash_note
    assert record.decision_id == outcome.decision.decision_id
    assert record.policy is not None and record.policy["id"] == "tests"
    assert record.result.total_shots == 512 and record.result.counts_sha256 == outcome.counts_sha256
    text = outcome.record_path.read_text(encoding="utf-8")
    assert '"counts":' not in text  # results leave only through an authorised export
    for key in ("python", "qiskit", "qiskit_aer", "platform"):
        assert record.environment[key]
    assert record.timings.submitted_at.startswith("2026-11-25T10:00:00")


def test_different_seeds_give_different_counts(world: World) -> None:
    assert world.run("a", seed=1).counts_sha256 != world.run("b", seed=2).counts_sha256


def test_replay_matches_and_catches_changes(world: World) -> None:
    outcome = world.run()
    assert outcome.record_path is not None
    ctx = world.context()
    result = replay(outcome.record_path, ctx)
    assert result.matched and result.replay_counts_sha256 == outcome.counts_sha256

    edited = world.root / "edited.json"
    data = json.loads(outcome.record_path.read_text())
    data["seeds"]["simulator"] = 8
    edited.write_text(json.dumps(data))
    mismatch = replay(edited, ctx)
    assert not mismatch.matched
    assert any("counts hash differs" in p for p in mismatch.problems)
    assert any("differs from the one the ledger logged" in p for p in mismatch.problems)

    circuit = world.root / "jobs" / "bell.qasm"
    circuit.write_text(circuit.read_text().replace("cx", "cz"))
    changed = replay(outcome.record_path, ctx)
    assert not changed.matched and any("circuit" in p for p in changed.problems)
    replays = [x for x in world.ledger.read_text().splitlines() if '"job.replayed"' in x]
    assert [json.loads(x)["decision"] for x in replays] == ["match", "mismatch", "mismatch"]
    assert verify_ledger(world.ledger).intact


def test_replay_without_policy_and_malformed_record(world: World) -> None:
    outcome = world.run()
    assert outcome.record_path is not None
    ctx = Context(policy=None, ledger_path=world.ledger)
    assert replay(outcome.record_path, ctx).matched
    bad = world.root / "bad.json"
    data = json.loads(outcome.record_path.read_text())
    data["shots"] = "many"
    bad.write_text(json.dumps(data))
    with pytest.raises(SpecError, match="field 'shots'"):
        replay(bad, ctx)


def test_simulator_failure_is_recorded_not_dropped(world: World) -> None:
    world.policy["backends"].append(
        {"name": "aer_clifford", "method": "stabilizer", "environments": ["dev"]}
    )
    world.policy["roles"][0]["backends"] = ["aer_sim", "aer_clifford"]
    (world.root / "jobs" / "t.qasm").write_text(
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nh q[0];\nt q[0];\n'
        "measure q -> c;\n"
    )
    outcome = world.run(backend="aer_clifford", circuit={"path": "t.qasm"})
    assert outcome.status == "failed" and outcome.error
    assert outcome.record_path is not None
    record = read_record(outcome.record_path)
    assert record.status == "failed" and record.failure is not None
    assert record.result.counts_sha256 is None
    failed = [json.loads(x) for x in world.ledger.read_text().splitlines() if '"job.failed"' in x]
    assert len(failed) == 1 and failed[0]["data"]["error"]["type"]
    assert verify_ledger(world.ledger).intact


def test_malformed_spec_leaves_the_ledger_untouched(world: World) -> None:
    world.run()
    before = world.ledger.read_bytes()
    with pytest.raises(SpecError, match="field 'shots'"):
        world.run("bad", shots=-5)
    assert world.ledger.read_bytes() == before


def test_policy_decision_uses_the_injected_clock(world: World) -> None:
    world.policy["roles"][0]["expires"] = NOW.date().isoformat()  # valid through today
    assert world.run().status == "completed"
    from datetime import timedelta

    world.now = NOW + timedelta(days=1)
    outcome = world.run("late", token=world.token(issued=world.now))
    assert outcome.decision.codes == ["ROLE_EXPIRED"]


def test_sample_mislabelled_regulated_data_is_refused(samples: Path) -> None:
    policy = load_policy(Path("samples/policy/org-policy.yaml"))
    outcome = run_job(
        Path("samples/jobs/regulated-mislabelled.yaml"),
        Context(policy=policy, ledger_path=Path(".qgov/ledger.jsonl")),
        token=demo_token(),
    )
    assert outcome.status == "refused"
    assert {"DATASET_REGISTRY_MISMATCH", "DATA_CLASS_NOT_ALLOWED_FOR_TIER"} <= set(
        outcome.decision.codes
    )
