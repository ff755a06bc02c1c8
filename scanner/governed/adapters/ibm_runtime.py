"""qiskit-ibm-runtime in local testing mode: a fake IBM backend run through ``SamplerV2``.

The fake backends (``qiskit_ibm_runtime.fake_provider``) carry a snapshot of a real device's
configuration, calibration and noise model; local mode runs them on Aer, offline, with the
simulator seed from the record, so a run repeats bit for bit. The record keeps the device's
name and version, the properties' ``last_update_date`` (the calibration snapshot the noise
model was built from) and a hash of the whole properties document.

``SamplerV2`` is marked deprecated in qiskit-ibm-runtime 0.50 in favour of a client-side
sampler; it is still the primitive local testing mode documents, so it is used here with the
warning silenced.
"""

from __future__ import annotations

import time
from typing import Any

from scanner.governed.adapters.common import (
    clbit_counts,
    complete,
    fail,
    fingerprint,
    ms_since,
    quiet_sdk,
    text_or_none,
)
from scanner.governed.execute import ExecutionResult
from scanner.governed.extra import require_job_extra

PROVIDER = "ibm-runtime-local"


def calibration(backend: Any) -> dict[str, Any]:
    properties = backend.properties()
    if properties is None:
        return {"kind": "ibm-backend-properties", "last_update_date": None, "sha256": None}
    return {
        "kind": "ibm-backend-properties",
        "backend_name": str(backend.name),
        "backend_version": text_or_none(getattr(backend, "backend_version", None)),
        "last_update_date": text_or_none(properties.last_update_date),
        "sha256": fingerprint(properties.to_dict()),
    }


def run_fake_backend(
    circuit: Any, *, device: str, shots: int, seed: int, optimization_level: int
) -> ExecutionResult:
    require_job_extra("qiskit", "qiskit_ibm_runtime", "qiskit_aer")
    result = ExecutionResult(status="failed", backend_name=device, provider=PROVIDER, device=device)
    started = time.perf_counter()
    try:
        with quiet_sdk("qiskit_ibm_runtime", "qiskit_aer"):
            from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
            from qiskit_ibm_runtime import SamplerV2, fake_provider

            factory = getattr(fake_provider, device, None)
            if not device.startswith("Fake") or not isinstance(factory, type):
                raise ValueError(f"{device!r} is not a fake backend of qiskit_ibm_runtime")
            backend = factory()
            result.backend_name = str(backend.name)
            result.backend_version = text_or_none(getattr(backend, "backend_version", None))
            result.calibration = calibration(backend)
            result.effective_method = "SamplerV2 local testing mode (Aer with the device model)"
            result.options = {"num_qubits": int(backend.num_qubits)}
            if circuit.num_qubits > backend.num_qubits:
                raise ValueError(
                    f"the circuit needs {circuit.num_qubits} qubits; {backend.name} has "
                    f"{backend.num_qubits}"
                )
            manager = generate_preset_pass_manager(
                backend=backend, optimization_level=optimization_level, seed_transpiler=seed
            )
            isa = manager.run(circuit)
            result.transpile_ms = ms_since(started)
            ran = time.perf_counter()
            sampler = SamplerV2(mode=backend)
            sampler.options.simulator.seed_simulator = seed
            job = sampler.run([isa], shots=shots)
            result.provider_job_id = str(job.job_id())
            pub = job.result()[0]
            registers = [getattr(pub.data, creg.name).get_bitstrings() for creg in isa.cregs]
            result.run_ms = ms_since(ran)
    except Exception as exc:  # any SDK failure is recorded, never raised
        return fail(result, exc, started)
    return complete(result, clbit_counts(registers))
