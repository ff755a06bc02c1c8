"""Provider adapters behind the unchanged gate, OpenQASM 3 input, and the execution record's
provenance: code commit, image digest, environment hash and calibration reference."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from scanner.governed import environment
from scanner.governed.adapters import run_backend
from scanner.governed.canonical import canonical_json, sha256_hex
from scanner.governed.errors import SpecError
from scanner.governed.record import ExecutionRecord, read_record
from scanner.governed.replay import replay
from tests.governed.helpers import World, qgov

POLICY = "samples/policy/org-policy.yaml"
MULTI_REGISTER = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[2];\ncreg d[1];\n'
    "x q[0];\nx q[2];\nmeasure q[0] -> c[0];\nmeasure q[1] -> c[1];\nmeasure q[2] -> d[0];\n"
)
BELL3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n'



def with_providers(world: World, *extra: dict[str, Any]) -> None:
    backends = [
        {
            "name": "ibm_fake",
            "provider": "ibm-runtime-local",
            "device": "FakeManilaV2",
            "environments": ["dev", "test"],
            "max_qubits": 5,
        },
        {
            "name": "braket_sv",
            "provider": "braket-local",
            "device": "braket_sv",
            "environments": ["dev", "test"],
        },
        *extra,
    ]

    def mutate(policy: dict[str, Any]) -> None:
        policy["backends"] += backends
        for role in policy["roles"]:
            if role["name"] == "researcher":
                role["backends"] = [*role["backends"], *(b["name"] for b in backends)]

    world.edit(mutate)


def executed(world: World) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in world.ledger.read_text().splitlines()]
    return [e for e in events if e["type"] in ("job.executed", "job.failed")]


# -- the sample jobs through each adapter ----------------------------------------------------


def test_sample_job_on_a_fake_ibm_device(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = "samples/jobs/bell-ibm-fake.yaml"
    assert qgov("job", "run", spec, "--policy", POLICY, "--format", "json") == 0
    payload = json.loads(capsys.readouterr().out)
    record = read_record(Path(payload["record"]))
    backend = record.backend
    assert (backend.provider, backend.device, backend.simulator) == (
        "ibm-runtime-local",
        "FakeManilaV2",
        "fake_manila",
    )
    assert backend.provider_job_id and backend.backend_version
    assert backend.calibration is not None
    assert backend.calibration["kind"] == "ibm-backend-properties"
    assert backend.calibration["last_update_date"].startswith("20")
    logged = [
        e
        for e in (json.loads(x) for x in (demo / ".qgov/ledger.jsonl").read_text().splitlines())
        if e["type"] == "job.executed"
    ]
    assert logged[0]["data"]["provider_job_id"] == backend.provider_job_id
    assert logged[0]["data"]["provider"] == "ibm-runtime-local"
    assert qgov("job", "replay", payload["record"]) == 0  # seeded: the same counts hash
    assert capsys.readouterr().out.startswith("MATCH: record")


def test_sample_job_on_braket_local_from_openqasm3(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = "samples/jobs/bell-braket-local.yaml"
    export = demo / "counts.json"
    assert qgov("job", "run", spec, "--policy", POLICY, "--format", "json") == 0
    payload = json.loads(capsys.readouterr().out)
    record = read_record(Path(payload["record"]))
    assert record.circuit.source_format == "openqasm3"
    assert record.backend.provider == "braket-local" and record.backend.provider_job_id
    assert record.backend.calibration is not None
    assert record.backend.calibration["kind"] == "braket-device-properties"
    assert record.result.total_shots == 1024 and record.result.distinct_outcomes == 2
    assert not export.exists()
    assert qgov("job", "replay", payload["record"]) == 0  # unseeded: inputs only, said so
    out = capsys.readouterr().out
    assert out.startswith("MATCH (inputs only; result not comparable)") and "takes no seed" in out


def test_counts_mean_the_same_on_every_provider(tmp_path: Path) -> None:
    """Register order and bit order are qiskit's whatever SDK ran the circuit."""
    from qiskit import qasm2

    circuit = qasm2.loads(MULTI_REGISTER)
    outcomes = {
        provider: run_backend(
            circuit,
            provider=provider,
            device=device,
            method="automatic",
            shots=64,
            seed=3,
            optimization_level=1,
        )
        for provider, device in (
            ("aer", None),
            ("braket-local", "braket_sv"),
            ("ibm-runtime-local", "FakeManilaV2"),
        )
    }
    assert outcomes["aer"].counts == {"1 01": 64}
    assert outcomes["braket-local"].counts == {"1 01": 64}
    ibm = outcomes["ibm-runtime-local"].counts or {}
    assert max(ibm, key=ibm.__getitem__) == "1 01"  # a noisy device, same most likely outcome


def test_braket_local_refuses_mid_circuit_measurement() -> None:
    from qiskit import qasm2

    circuit = qasm2.loads(
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\n'
        "h q[0];\nmeasure q[0] -> c[0];\nh q[0];\nmeasure q[0] -> c[0];\n"
    )
    result = run_backend(
        circuit,
        provider="braket-local",
        device="braket_sv",
        method="automatic",
        shots=8,
        seed=1,
        optimization_level=0,
    )
    assert result.status == "failed" and result.error_type == "UnsupportedCircuit"
    assert "end only" in (result.error_message or "")


# -- the gate stays in front -----------------------------------------------------------------


def test_a_refused_job_never_reaches_the_adapter(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_providers(world)
    calls: list[str] = []
    import scanner.governed.adapters.braket_local as braket

    monkeypatch.setattr(braket, "run_local_simulator", lambda *a, **k: calls.append("ran"))
    outcome = world.run("too-many-shots", backend="braket_sv", shots=100_000)
    assert outcome.status == "refused" and "SHOTS_OVER_LIMIT" in outcome.decision.codes
    assert calls == [] and outcome.record_path is None


def test_a_cloud_provider_is_refused_not_faked(world: World) -> None:
    with_providers(
        world,
        {
            "name": "ibm_cloud",
            "provider": "ibm-quantum",
            "device": "ibm_brisbane",
            "environments": ["dev", "test"],
            "max_qubits": 40,
        },
    )
    outcome = world.run("cloud", backend="ibm_cloud")
    assert outcome.status == "failed" and outcome.counts_sha256 is None
    assert "needs network access and credentials; not run here" in (outcome.error or "")
    assert outcome.record_path is not None
    record = read_record(outcome.record_path)
    assert record.failure is not None and record.failure.type == "ProviderNotRunHere"
    assert executed(world)[-1]["type"] == "job.failed"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"provider": "ibm-runtime-local"}, "fake backend class name"),
        ({"provider": "ibm-runtime-local", "device": "__import__"}, "fake backend class name"),
        ({"provider": "braket-local", "device": "arn:aws:braket:::device/qpu/x"}, "braket_sv"),
        ({"provider": "aer", "device": "FakeManilaV2"}, "no device"),
        ({"provider": "dwave"}, "provider"),
    ],
)
def test_backend_entries_name_a_known_provider_and_device(
    world: World, entry: dict[str, Any], message: str
) -> None:
    with_providers(world, {"name": "bad", "environments": ["dev"], **entry})
    with pytest.raises(SpecError, match=message):
        world.load()


# -- OpenQASM 3 end to end -------------------------------------------------------------------


def test_openqasm3_runs_end_to_end_and_replays(world: World) -> None:
    (world.root / "jobs" / "bell3.qasm").write_text(BELL3, encoding="utf-8")
    outcome = world.run("qasm3", circuit={"path": "bell3.qasm"})
    assert outcome.status == "completed" and outcome.record_path is not None
    record = read_record(outcome.record_path)
    assert record.circuit.source_format == "openqasm3" and record.circuit.num_qubits == 2
    result = replay(outcome.record_path, world.context())
    assert result.matched and result.result_compared


# -- the execution record's provenance --------------------------------------------------------


def _git(cwd: Path, *argv: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to make a work tree")
def test_record_names_the_code_commit_of_the_specs_work_tree(world: World) -> None:
    _git(world.root, "init", "-q", "-b", "main")
    _git(world.root, "add", "jobs")
    _git(world.root, "commit", "-q", "-m", "jobs")
    outcome = world.run()
    assert outcome.record_path is not None
    provenance = read_record(outcome.record_path).provenance
    assert provenance is not None
    assert provenance.code.commit == _git(world.root, "rev-parse", "HEAD")
    assert provenance.code.ref == "refs/heads/main"
    _git(world.root, "pack-refs", "--all")  # the commit now only in packed-refs
    assert environment.code_commit(world.root / "jobs")["commit"] == provenance.code.commit
    linked = world.root.parent / f"{world.root.name}-linked"
    _git(world.root, "worktree", "add", "-q", "-b", "side", str(linked))
    assert environment.code_commit(linked)["commit"] == provenance.code.commit


def test_hostile_git_files_are_read_safely(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    os.mkfifo(repo / ".git" / "HEAD")  # would block a plain open()
    assert environment.code_commit(repo)["commit"] is None
    other = tmp_path / "other"
    (other / ".git" / "refs" / "heads").mkdir(parents=True)
    (other / ".git" / "HEAD").write_text("ref: refs/heads/../../../../etc/passwd\n")
    assert environment.code_commit(other) == {
        "commit": None,
        "ref": None,
        "source": "HEAD names no usable ref",
    }
    (other / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (other / ".git" / "refs" / "heads" / "main").symlink_to("/etc/hostname")
    assert environment.code_commit(other)["commit"] is None
    assert environment.code_commit(tmp_path / "nowhere")["source"] in (
        "not in a git work tree",
        environment.code_commit(tmp_path)["source"],
    )


def test_environment_hash_covers_every_installed_distribution() -> None:
    digest = environment.environment_hash()
    names = sorted(
        {
            f"{dist.metadata['Name'].lower().replace('_', '-').replace('.', '-')}=={dist.version}"
            for dist in metadata.distributions()
            if dist.metadata["Name"]
        }
    )
    assert digest["distributions"] == len(names) > 10
    expected = hashlib.sha256("".join(f"{n}\n" for n in names).encode()).hexdigest()
    assert digest["sha256"] == expected
    assert any(n.startswith("qiskit==") for n in names)


def test_image_digest_only_from_what_is_reliable(monkeypatch: pytest.MonkeyPatch) -> None:
    digest = "registry.example.org/qgov@sha256:" + "a" * 64
    monkeypatch.setenv("QGOV_IMAGE_DIGEST", digest)
    assert environment.container_image() == {
        "in_container": True,
        "image_digest": digest,
        "source": "QGOV_IMAGE_DIGEST",
    }
    monkeypatch.setenv("QGOV_IMAGE_DIGEST", "latest")
    found = environment.container_image()
    assert found["image_digest"] is None and "ignored" in found["source"]
    monkeypatch.delenv("QGOV_IMAGE_DIGEST")
    found = environment.container_image()
    assert found["image_digest"] is None or found["source"].startswith("/run/.containerenv")


def test_record_carries_provenance_and_calibration(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QGOV_IMAGE_DIGEST", "sha256:" + "b" * 64)
    outcome = world.run()
    assert outcome.record_path is not None
    record = read_record(outcome.record_path)
    assert record.schema_ == "qgov.execution-record/2"
    assert record.provenance is not None
    assert record.provenance.container.image_digest == "sha256:" + "b" * 64
    assert record.provenance.environment.sha256 == environment.environment_hash()["sha256"]
    assert record.backend.calibration is not None
    assert record.backend.calibration["kind"] == "aer-configuration"
    assert record.backend.provider == "aer" and record.backend.backend_version


def test_replay_reports_drift_as_notes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = world.run()
    assert outcome.record_path is not None
    import scanner.governed.replay as replay_module

    real = replay_module.provenance

    def drifted(folder: Path) -> dict[str, Any]:
        now = real(folder)
        now["environment"] = {**now["environment"], "sha256": "c" * 64}
        now["container"] = {**now["container"], "image_digest": "sha256:" + "d" * 64}
        return now

    monkeypatch.setattr(replay_module, "provenance", drifted)
    result = replay(outcome.record_path, world.context())
    assert result.matched, result.problems  # drift is a note, not a failure
    assert any(n.startswith("environment hash differs") for n in result.notes)
    assert any(n.startswith("container image differs") for n in result.notes)


def test_a_schema_1_record_keeps_its_hash_and_replays(world: World) -> None:
    outcome = world.run()
    assert outcome.record_path is not None
    data = json.loads(outcome.record_path.read_text())
    data["schema"] = "qgov.execution-record/1"
    del data["provenance"]
    for key in ("provider", "device", "provider_job_id", "backend_version", "calibration"):
        data["backend"].pop(key, None)
    record = ExecutionRecord.model_validate(data)
    assert record.sha256 == sha256_hex(canonical_json(data))
    old = world.root / "old-record.json"
    old.write_text(json.dumps(data))
    result = replay(old, world.context(), circuit_path=world.root / "jobs" / "bell.qasm")
    assert any("predates schema 2" in n for n in result.notes)
