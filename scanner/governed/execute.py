"""Running a circuit on the Aer simulator with fixed seeds, and hashing what came out.

:class:`ExecutionResult` is what every provider adapter returns (see
:mod:`scanner.governed.adapters`); Aer is the default provider and lives here.

Both the transpiler and the simulator get a seed, and the optimisation level is fixed, so the
same circuit, shots and seeds give the same counts on the same library versions (checked for
qiskit 2.6 / qiskit-aer 0.18). Any exception from transpiling or simulating becomes a
``failed`` result with the error's type and a scrubbed message -- never a lost job.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scanner.governed.canonical import canonical_json, sha256_hex
from scanner.governed.extra import require_job_extra

COUNTS_HASH_NOTE = (
    "SHA-256 of canonical JSON of the counts: keys are the measured bitstrings as qiskit "
    "prints them (clbit 0 rightmost), values integers, keys sorted"
)


@dataclass
class ExecutionResult:
    status: str  # "completed" | "failed"
    counts: dict[str, int] | None = None
    counts_sha256: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    effective_method: str | None = None
    backend_name: str = "aer_simulator"
    options: dict[str, Any] = field(default_factory=dict)
    transpile_ms: int = 0
    run_ms: int = 0
    provider: str = "aer"
    device: str | None = None  # the provider's device, for adapters other than Aer
    provider_job_id: str | None = None  # the id the provider's SDK gave the job
    backend_version: str | None = None
    # The calibration/properties reference the backend exposes (canonical JSON: no floats).
    calibration: dict[str, Any] | None = None


def counts_hash(counts: dict[str, int]) -> str:
    return sha256_hex(canonical_json({str(k): int(v) for k, v in counts.items()}))


# Passed per run and recorded on their own; the simulator's defaults for them would mislead.
_PER_RUN_OPTIONS = frozenset({"shots", "seed_simulator"})


def backend_options(simulator: Any) -> dict[str, Any]:
    """The simulator's option values as JSON-safe text (floats kept as their repr)."""
    options: dict[str, Any] = {}
    for name, value in sorted(dict(simulator.options.__dict__).items()):
        if name.startswith("_") or name in _PER_RUN_OPTIONS:
            continue
        if value is None or isinstance(value, bool | int | str):
            options[name] = value
        elif isinstance(value, float):
            options[name] = repr(value)
        else:
            options[name] = type(value).__name__
    return options


@contextlib.contextmanager
def _quiet_simulator_logs() -> Iterator[None]:
    """qiskit-aer logs simulation errors itself; we record them, so keep them off stderr.

    A NullHandler on its logger stops Python's last-resort handler for the duration of the run
    and is removed afterwards, leaving any logging the application configured untouched.
    """
    aer_logger = logging.getLogger("qiskit_aer")
    handler = logging.NullHandler()
    aer_logger.addHandler(handler)
    try:
        yield
    finally:
        aer_logger.removeHandler(handler)


def run_on_aer(
    circuit: Any,
    *,
    method: str,
    shots: int,
    seed_simulator: int,
    seed_transpiler: int,
    optimization_level: int,
) -> ExecutionResult:
    require_job_extra("qiskit", "qiskit_aer")
    from qiskit import transpile
    from qiskit_aer import AerSimulator

    simulator = AerSimulator(method=method)
    result = ExecutionResult(status="failed", backend_name=simulator.name)
    result.options = backend_options(simulator)
    result.backend_version = _aer_version()
    result.calibration = aer_calibration(simulator.name, result.backend_version, result.options)
    started = time.perf_counter()
    try:
        with _quiet_simulator_logs():
            # Passing the target (not the backend) builds it once instead of per pass:
            # ~10 ms instead of ~200 ms for a small circuit, with the same compiled result.
            compiled = transpile(
                circuit,
                target=simulator.target,
                seed_transpiler=seed_transpiler,
                optimization_level=optimization_level,
            )
            transpiled = time.perf_counter()
            result.transpile_ms = _ms(transpiled - started)
            outcome = simulator.run(compiled, shots=shots, seed_simulator=seed_simulator).result()
        result.run_ms = _ms(time.perf_counter() - transpiled)
        if not outcome.success:
            result.error_type = "SimulationFailed"
            result.error_message = str(getattr(outcome, "status", "simulation failed"))[:500]
            return result
        counts = {str(k): int(v) for k, v in outcome.get_counts().items()}
        metadata = outcome.results[0].metadata if outcome.results else {}
        result.effective_method = str(metadata.get("method", method))
    except Exception as exc:  # any simulator failure is recorded, never raised
        result.error_type = type(exc).__name__
        result.error_message = str(exc)[:500]
        if not result.run_ms:
            result.run_ms = max(0, _ms(time.perf_counter() - started) - result.transpile_ms)
        return result
    result.status = "completed"
    result.counts = counts
    result.counts_sha256 = counts_hash(counts)
    return result


def _aer_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("qiskit-aer")
    except Exception:  # metadata missing: the record says so with None
        return None


def aer_calibration(name: str, version: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """A simulator has no calibration; its configuration (name, version, options) stands in."""
    configuration = {"name": name, "version": version, "options": options}
    return {
        "kind": "aer-configuration",
        "sha256": sha256_hex(canonical_json(configuration)),
        "note": "SHA-256 of canonical JSON of the simulator's name, qiskit-aer version and "
        "options; an ideal simulator has no device calibration",
    }


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
