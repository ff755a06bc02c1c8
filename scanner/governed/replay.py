"""Replaying a recorded execution: same circuit, seeds and shots; is the result hash the same?

The replay runs on the recorded provider and device (:mod:`.adapters`), rechecks the circuit
and dataset hashes, and cross-checks the record against the hash the ledger logged for it, so
an edited record is reported as a mismatch. Drift is reported as notes, not failures: library
and platform versions, the installed-distributions hash, the code commit of the spec's work
tree, the container image digest and the backend's calibration reference. A provider that
takes no seed (``braket-local``) cannot repeat a result bit for bit: its replay compares the
inputs and says that the result was not compared. The replay itself is a ``job.replayed``
event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.governed.adapters import SEEDED, run_backend
from scanner.governed.canonical import sha256_file
from scanner.governed.circuits import load_circuit
from scanner.governed.environment import capture, provenance
from scanner.governed.execute import ExecutionResult
from scanner.governed.journal import Journal
from scanner.governed.record import ExecutionRecord, read_record
from scanner.governed.runtime import Context, Runtime

# Environment keys whose change is worth a note: they can change the result or its hash.
_ENVIRONMENT_KEYS = ("python", "qiskit", "qiskit_aer", "numpy", "platform")


@dataclass
class ReplayOutcome:
    record_path: Path
    record_id: str
    matched: bool
    recorded_counts_sha256: str | None
    replay_counts_sha256: str | None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ledger_path: Path | None = None
    result_compared: bool = True  # False: the provider takes no seed; inputs only

    def to_json(self) -> dict[str, Any]:
        return {
            "record": str(self.record_path),
            "record_id": self.record_id,
            "matched": self.matched,
            "result_compared": self.result_compared,
            "recorded_counts_sha256": self.recorded_counts_sha256,
            "replay_counts_sha256": self.replay_counts_sha256,
            "problems": self.problems,
            "notes": self.notes,
            "ledger": str(self.ledger_path) if self.ledger_path else None,
        }


def replay(record_path: Path, ctx: Context, *, circuit_path: Path | None = None) -> ReplayOutcome:
    record = read_record(record_path)
    circuit_file = circuit_path or _find_file(record.circuit.path, record_path)
    circuit = load_circuit(circuit_file, "auto", field="record circuit.path")
    outcome = ReplayOutcome(
        record_path=record_path,
        record_id=record.record_id,
        matched=False,
        recorded_counts_sha256=record.result.counts_sha256,
        replay_counts_sha256=None,
        ledger_path=ctx.ledger_path,
    )
    if circuit.circuit_sha256 != record.circuit.sha256:
        outcome.problems.append(
            f"circuit {circuit_file} hashes to {circuit.circuit_sha256[:16]}..., the record says "
            f"{record.circuit.sha256[:16]}..."
        )
    _check_inputs(record, record_path, outcome)
    provider = record.backend.provider or "aer"
    result = run_backend(
        circuit.circuit,
        provider=provider,
        device=record.backend.device,
        method=record.backend.method,
        shots=record.shots,
        seed=record.seeds.simulator,
        optimization_level=record.seeds.optimization_level,
    )
    outcome.replay_counts_sha256 = result.counts_sha256
    replay_status = "completed" if result.status == "completed" else "failed"
    if replay_status != record.status:
        outcome.problems.append(
            f"the run {replay_status} on replay; the record says {record.status}"
        )
    elif provider not in SEEDED and record.status == "completed":
        outcome.result_compared = False
        outcome.notes.append(
            f"provider {provider} takes no seed: the result cannot repeat bit for bit, so its "
            "counts hash was not compared (inputs, record and ledger were)"
        )
    elif result.counts_sha256 != record.result.counts_sha256:
        outcome.problems.append("the result counts hash differs from the recorded one")
    _check_backend(record, result, outcome)
    with Runtime(ctx) as rt:
        rt.scrubber.register("circuit", circuit.canonical_text, by_line=True)
        journal = Journal(
            rt.ledger, job_id=record.record_id, actor=None, source=ctx.source, policy=record.policy
        )
        with journal.locked():
            _cross_check(record, journal.events(), outcome)
            outcome.matched = not outcome.problems
            journal.write(
                "job.replayed",
                "match" if outcome.matched else "mismatch",
                {
                    "record_sha256": record.sha256,
                    "circuit_sha256": circuit.circuit_sha256,
                    "recorded_counts_sha256": record.result.counts_sha256,
                    "replay_counts_sha256": result.counts_sha256,
                    "problems": outcome.problems,
                },
                job_name=record.job.get("name"),
            )
            journal.checkpoint()
        rt.log.info(
            "replay of record %s: %s", record.record_id, "match" if outcome.matched else "mismatch"
        )
    return outcome


def _check_backend(
    record: ExecutionRecord, result: ExecutionResult, outcome: ReplayOutcome
) -> None:
    """Backend identity and calibration drift: notes, since a device may be recalibrated."""
    recorded = record.backend.calibration
    if recorded is None:
        return
    now = result.calibration or {}
    for key in ("sha256", "last_update_date", "updated_at"):
        if key in recorded and recorded.get(key) != now.get(key):
            outcome.notes.append(
                f"backend calibration reference differs: {key} {recorded.get(key)} -> "
                f"{now.get(key)}"
            )
    if record.backend.backend_version and record.backend.backend_version != (
        result.backend_version
    ):
        outcome.notes.append(
            f"backend version differs: {record.backend.backend_version} -> {result.backend_version}"
        )


def _find_file(stored: str, record_path: Path) -> Path:
    candidate = Path(stored)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    beside = record_path.parent / candidate
    return beside if beside.exists() else candidate


def _check_inputs(record: ExecutionRecord, record_path: Path, outcome: ReplayOutcome) -> None:
    """The dataset still hashes as recorded; the software and platform are noted if changed."""
    dataset_file = _find_file(record.dataset.path, record_path)
    if dataset_file.exists():
        actual, _ = sha256_file(dataset_file)
        if actual != record.dataset.sha256:
            outcome.problems.append(
                f"dataset {dataset_file} no longer matches the recorded SHA-256"
            )
    else:
        outcome.notes.append(
            f"dataset file {record.dataset.path} not found; its hash was not rechecked"
        )
    now_env = capture()
    for key in _ENVIRONMENT_KEYS:
        if now_env.get(key) != record.environment.get(key):
            outcome.notes.append(
                f"environment differs: {key} {record.environment.get(key)} -> {now_env.get(key)}"
            )
    _check_provenance(record, outcome)


def _check_provenance(record: ExecutionRecord, outcome: ReplayOutcome) -> None:
    """Code commit, image digest and installed distributions now vs. then (notes only)."""
    then = record.provenance
    if then is None:
        outcome.notes.append(
            "the record predates schema 2: no code commit, image digest, environment hash or "
            "calibration reference to compare"
        )
        return
    spec_folder = Path(record.job.get("spec_path", ".")).parent
    now = provenance(spec_folder)
    env_now = now["environment"]
    if env_now["sha256"] != then.environment.sha256:
        outcome.notes.append(
            "environment hash differs (installed distributions changed): "
            f"{then.environment.sha256[:16]}... ({then.environment.distributions}) -> "
            f"{env_now['sha256'][:16]}... ({env_now['distributions']})"
        )
    if now["code"]["commit"] != then.code.commit:
        outcome.notes.append(
            f"code commit differs: {then.code.commit or 'none'} -> "
            f"{now['code']['commit'] or 'none'}"
        )
    if now["container"]["image_digest"] != then.container.image_digest:
        outcome.notes.append(
            f"container image differs: {then.container.image_digest or 'none'} -> "
            f"{now['container']['image_digest'] or 'none'}"
        )


def _cross_check(
    record: ExecutionRecord, events: list[dict[str, Any]], outcome: ReplayOutcome
) -> None:
    """The record must be the one the ledger logged when the job ran."""
    logged = [
        e
        for e in events
        if e.get("type") in ("job.executed", "job.failed")
        and (e.get("data") or {}).get("record_id") == record.record_id
    ]
    if not logged:
        outcome.notes.append(
            "this record is not in the ledger; its integrity was not cross-checked"
        )
    elif all((e.get("data") or {}).get("record_sha256") != record.sha256 for e in logged):
        outcome.problems.append("the record differs from the one the ledger logged (edited)")
