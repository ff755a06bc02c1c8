"""Running an allowed job on its backend and recording it: the execution record and its
ledger event. The backend's provider adapter (:mod:`.adapters`) does the run: Aer, a fake IBM
device in qiskit-ibm-runtime's local mode, or Braket's local simulator.

The record is written before the ``job.executed``/``job.failed`` event, because the event
carries the record's hash; a record that cannot be written still leaves a ``job.failed``
event, so the ledger accounts for every run that happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner.governed.adapters import run_backend
from scanner.governed.canonical import sha256_file
from scanner.governed.circuits import HASH_NOTE, LoadedCircuit
from scanner.governed.environment import capture, provenance
from scanner.governed.errors import GovernedError
from scanner.governed.execute import COUNTS_HASH_NOTE, ExecutionResult
from scanner.governed.journal import Journal
from scanner.governed.policy_sections import Backend
from scanner.governed.record import (
    BackendInfo,
    CircuitInfo,
    DatasetInfo,
    ExecutionRecord,
    Failure,
    Provenance,
    ResultInfo,
    Seeds,
    Timings,
    display_path,
    write_record,
)
from scanner.governed.runtime import Context, Runtime
from scanner.governed.spec import LoadedSpec
from scanner.governed.timeutil import iso_z

# The actor fields a record keeps about its submitter (no token hashes or expiry).
_SUBMITTER_FIELDS = ("subject", "kind", "issuer", "demo_issuer")


@dataclass
class Execution:
    """What running an allowed job left behind."""

    result: ExecutionResult
    record: ExecutionRecord
    record_path: Path
    error: str | None  # "<type>: <scrubbed message>" when the simulator failed


@dataclass
class _Run:
    """One run with the settings and clock readings the record needs."""

    result: ExecutionResult
    backend: Backend
    seed: int
    optimization_level: int
    started: datetime
    finished: datetime
    total_ms: int


def execute_job(
    rt: Runtime,
    ctx: Context,
    journal: Journal,
    loaded: LoadedSpec,
    circuit: LoadedCircuit,
    *,
    decision_id: str,
    submitted: datetime,
) -> Execution:
    spec = loaded.spec
    run = _run(ctx, loaded, circuit)
    result = run.result
    error_message = rt.scrubber.scrub(result.error_message or "") if result.error_type else None
    record = _record(ctx, journal, loaded, circuit, run, decision_id, submitted, error_message)
    names = {"job_name": spec.name, "project": spec.project}
    try:
        record_path = write_record(record, ctx.records)
    except OSError as exc:
        # The run happened; the ledger must say so even if its record cannot be stored.
        journal.write(
            "job.failed",
            "failed",
            {
                "decision_id": decision_id,
                "record_id": record.record_id,
                "counts_sha256": result.counts_sha256,
                "error": {"type": "RecordWriteError", "message": exc.strerror or str(exc)},
            },
            **names,
        )
        journal.checkpoint()
        raise GovernedError(
            f"execution record could not be written to {ctx.records}: {exc.strerror or exc}"
        ) from exc
    journal.write(
        "job.executed" if record.status == "completed" else "job.failed",
        record.status,
        {
            "decision_id": decision_id,
            "record_id": record.record_id,
            "record_path": display_path(record_path),
            "record_sha256": record.sha256,
            "circuit_sha256": circuit.circuit_sha256,
            "counts_sha256": result.counts_sha256,
            "backend": run.backend.name,
            "provider": result.provider,
            "device": result.backend_name,
            "provider_job_id": result.provider_job_id,
            "effective_method": result.effective_method,
            "seed": run.seed,
            "shots": spec.shots,
            "timings_ms": {
                "transpile": result.transpile_ms,
                "run": result.run_ms,
                "total": run.total_ms,
            },
            "error": {"type": result.error_type, "message": error_message}
            if result.error_type
            else None,
        },
        **names,
    )
    rt.log.info(
        "job %s %s record=%s counts_sha256=%s total_ms=%d",
        spec.name,
        record.status,
        record.record_id,
        result.counts_sha256 or "-",
        run.total_ms,
    )
    error = f"{result.error_type}: {error_message}" if result.error_type else None
    return Execution(result=result, record=record, record_path=record_path, error=error)


def _run(ctx: Context, loaded: LoadedSpec, circuit: LoadedCircuit) -> _Run:
    spec = loaded.spec
    policy = ctx.require_policy().policy
    backend = policy.backend(spec.backend)
    assert backend is not None  # authorisation refused unknown backends
    seed = spec.seed if spec.seed is not None else policy.execution.default_seed
    opt_level = policy.execution.optimization_level
    started = ctx.clock()
    t0 = time.perf_counter()
    result = run_backend(
        circuit.circuit,
        provider=backend.provider,
        device=backend.device,
        method=backend.method,
        shots=spec.shots,
        seed=seed,
        optimization_level=opt_level,
    )
    total_ms = round((time.perf_counter() - t0) * 1000)
    return _Run(result, backend, seed, opt_level, started, ctx.clock(), total_ms)


def _record(
    ctx: Context,
    journal: Journal,
    loaded: LoadedSpec,
    circuit: LoadedCircuit,
    run: _Run,
    decision_id: str,
    submitted: datetime,
    error_message: str | None,
) -> ExecutionRecord:
    spec = loaded.spec
    result = run.result
    dataset_path = loaded.resolve(spec.dataset.path)
    try:
        _, dataset_size = sha256_file(dataset_path)
    except OSError:
        dataset_size = None
    actor: dict[str, Any] = journal.actor or {}
    return ExecutionRecord(
        record_id=journal.job_id,
        status="completed" if result.status == "completed" else "failed",
        job={
            "job_id": journal.job_id,
            "name": spec.name,
            "project": spec.project,
            "environment": spec.environment,
            "spec_sha256": loaded.sha256,
            "spec_path": display_path(loaded.path),
        },
        submitter={k: v for k, v in actor.items() if k in _SUBMITTER_FIELDS},
        policy=ctx.policy_ref,
        decision_id=decision_id,
        circuit=CircuitInfo(
            path=display_path(circuit.source_path), hash_note=HASH_NOTE, **circuit.summary()
        ),
        dataset=DatasetInfo(
            name=spec.dataset.name,
            version=spec.dataset.version,
            classification=spec.dataset.classification,
            sha256=spec.dataset.sha256,
            path=display_path(dataset_path),
            size_bytes=dataset_size,
        ),
        backend=BackendInfo(
            policy_name=run.backend.name,
            simulator=result.backend_name,
            # Aer's simulation method; the SDK adapters choose their own (effective_method).
            method=run.backend.method if run.backend.provider == "aer" else "provider-default",
            effective_method=result.effective_method,
            regulated=run.backend.regulated,
            options=result.options,
            provider=result.provider,
            device=run.backend.device,
            provider_job_id=result.provider_job_id,
            backend_version=result.backend_version,
            calibration=result.calibration,
        ),
        shots=spec.shots,
        seeds=Seeds(
            simulator=run.seed, transpiler=run.seed, optimization_level=run.optimization_level
        ),
        environment=capture(),
        timings=Timings(
            submitted_at=iso_z(submitted),
            started_at=iso_z(run.started),
            finished_at=iso_z(run.finished),
            transpile_ms=result.transpile_ms,
            run_ms=result.run_ms,
            total_ms=run.total_ms,
        ),
        result=ResultInfo(
            counts_sha256=result.counts_sha256,
            counts_hash_note=COUNTS_HASH_NOTE,
            total_shots=sum(result.counts.values()) if result.counts else None,
            distinct_outcomes=len(result.counts) if result.counts else None,
        ),
        failure=Failure(type=result.error_type, message=error_message or "")
        if result.error_type
        else None,
        provenance=Provenance.model_validate(provenance(loaded.base_dir)),
    )
