"""Provider adapters: the same governed path in front of different quantum SDKs.

Identity, policy, data gate, quota and scrubbing happen before any adapter is called; an
adapter only runs an allowed circuit and reports an :class:`ExecutionResult` with the
provider's backend identity, job id and calibration/version reference. Every adapter turns
failures into a ``failed`` result (never an exception), so the ledger accounts for each run.

- ``aer``                Qiskit Aer (default), seeded: bit-for-bit reproducible
- ``ibm-runtime-local``  qiskit-ibm-runtime's local testing mode: a fake IBM backend
  (``qiskit_ibm_runtime.fake_provider``, with its recorded calibration and noise model)
  run through ``SamplerV2`` on Aer, offline, seeded: reproducible
- ``braket-local``       amazon-braket-sdk's ``LocalSimulator`` (``braket_sv``/``braket_dm``),
  offline; it takes no seed, so a replay compares inputs, not the result hash
- ``ibm-quantum``, ``amazon-braket``, ``azure-quantum``: the real services. A policy may name
  them, but this build does not submit to them: they need network access and credentials,
  and a run is refused with a clear reason instead of being faked (see the README).
"""

from __future__ import annotations

from typing import Any

from scanner.governed.execute import ExecutionResult, run_on_aer

# Providers whose runs repeat bit for bit with the recorded seeds.
SEEDED = frozenset({"aer", "ibm-runtime-local"})
CLOUD = frozenset({"ibm-quantum", "amazon-braket", "azure-quantum"})


def run_backend(
    circuit: Any,
    *,
    provider: str,
    device: str | None,
    method: str,
    shots: int,
    seed: int,
    optimization_level: int,
) -> ExecutionResult:
    """Run ``circuit`` on the named provider's backend; SDKs are imported only when used."""
    if provider == "aer":
        return run_on_aer(
            circuit,
            method=method,
            shots=shots,
            seed_simulator=seed,
            seed_transpiler=seed,
            optimization_level=optimization_level,
        )
    if provider == "ibm-runtime-local":
        from scanner.governed.adapters.ibm_runtime import run_fake_backend

        return run_fake_backend(
            circuit,
            device=device or "",
            shots=shots,
            seed=seed,
            optimization_level=optimization_level,
        )
    if provider == "braket-local":
        from scanner.governed.adapters.braket_local import run_local_simulator

        return run_local_simulator(
            circuit,
            device=device or "braket_sv",
            shots=shots,
            seed=seed,
            optimization_level=optimization_level,
        )
    return not_run_here(provider, device)


def not_run_here(provider: str, device: str | None) -> ExecutionResult:
    """A cloud provider: documented, refused, never faked."""
    result = ExecutionResult(
        status="failed", backend_name=device or provider, provider=provider, device=device
    )
    result.error_type = "ProviderNotRunHere"
    result.error_message = (
        f"provider {provider!r} needs network access and credentials; not run here. This "
        "build runs 'ibm-runtime-local' and 'braket-local' offline; a submission to the real "
        "service is documented in the README, not performed or simulated"
        if provider in CLOUD
        else f"unknown provider {provider!r}"
    )
    return result
