"""amazon-braket-sdk's ``LocalSimulator``: the Braket programming model, offline.

The circuit is transpiled (seeded) to a small gate set Braket shares with qiskit and built as
a ``braket.circuits.Circuit`` gate by gate. OpenQASM text is deliberately not handed to
Braket: its interpreter opens ``include`` files from the working directory. Measurements must
come last (the local simulator has no mid-circuit measurement); results are mapped back to
the circuit's classical bits and keyed as qiskit prints them, so the counts hash means the
same thing for every provider.

The local simulator takes no seed, so a run does not repeat bit for bit: a replay compares
inputs, not the result hash. It has no calibration either (``updatedAt`` is null); the record
keeps the device properties' schema, ``updatedAt`` as reported, a hash of the properties
document and the simulator package version.
"""

from __future__ import annotations

import time
from importlib import metadata
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

PROVIDER = "braket-local"
# qiskit gate -> braket.circuits.Circuit method
GATES = {
    "id": "i",
    "h": "h",
    "x": "x",
    "y": "y",
    "z": "z",
    "s": "s",
    "sdg": "si",
    "t": "t",
    "tdg": "ti",
    "rx": "rx",
    "ry": "ry",
    "rz": "rz",
    "cx": "cnot",
    "cz": "cz",
    "swap": "swap",
    "ccx": "ccnot",
}
BASIS = [name for name in GATES if name != "id"]


class UnsupportedCircuit(ValueError):
    """A circuit the local simulator cannot run as written (mid-circuit measurement, resets,
    classical control)."""


def calibration(device: Any) -> dict[str, Any]:
    properties = device.properties
    header = getattr(properties, "braketSchemaHeader", None)
    service = getattr(properties, "service", None)
    try:
        simulator_version: str | None = metadata.version("amazon-braket-default-simulator")
    except metadata.PackageNotFoundError:
        simulator_version = None
    return {
        "kind": "braket-device-properties",
        "schema": f"{header.name}/{header.version}" if header is not None else None,
        "updated_at": text_or_none(getattr(service, "updatedAt", None)),
        "sha256": fingerprint(properties.dict()),
        "simulator_version": simulator_version,
        "note": "a local simulator has no device calibration; updatedAt is what it reports",
    }


def to_braket(compiled: Any) -> tuple[Any, dict[int, list[int]]]:
    """The Braket circuit and, per measured qubit, the classical bits it was measured into."""
    require_job_extra("braket")
    from braket.circuits import Circuit

    out = Circuit()
    measured: dict[int, list[int]] = {}
    for instruction in compiled.data:
        name = instruction.operation.name
        qubits = [compiled.find_bit(q).index for q in instruction.qubits]
        if name == "barrier":
            continue
        if name == "measure":
            clbit = compiled.find_bit(instruction.clbits[0]).index
            measured.setdefault(qubits[0], []).append(clbit)
            continue
        if name not in GATES:
            raise UnsupportedCircuit(f"operation {name!r} is not supported by braket-local")
        if any(q in measured for q in qubits):
            raise UnsupportedCircuit("braket-local supports measurements at the end only")
        params = [float(p) for p in instruction.operation.params]
        getattr(out, GATES[name])(*qubits, *params)
    if not measured:
        raise UnsupportedCircuit("the circuit measures nothing")
    out.measure(sorted(measured))
    return out, measured


def run_local_simulator(
    circuit: Any, *, device: str, shots: int, seed: int, optimization_level: int
) -> ExecutionResult:
    require_job_extra("braket", "qiskit")
    result = ExecutionResult(status="failed", backend_name=device, provider=PROVIDER, device=device)
    started = time.perf_counter()
    try:
        with quiet_sdk("braket"):
            from braket.devices import LocalSimulator
            from qiskit import transpile

            simulator = LocalSimulator(device)
            result.backend_name = str(simulator.name)
            result.backend_version = metadata.version("amazon-braket-sdk")
            result.calibration = calibration(simulator)
            result.effective_method = device
            compiled = transpile(
                circuit,
                basis_gates=BASIS,
                seed_transpiler=seed,
                optimization_level=optimization_level,
            )
            program, measured = to_braket(compiled)
            result.transpile_ms = ms_since(started)
            ran = time.perf_counter()
            task = simulator.run(program, shots=shots)
            result.provider_job_id = str(task.id)
            outcome = task.result()
            result.run_ms = ms_since(ran)
            order = [int(q) for q in outcome.measured_qubits]
            registers = _by_register(compiled, measured, order, outcome.measurements)
    except Exception as exc:  # any SDK failure is recorded, never raised
        return fail(result, exc, started)
    return complete(result, clbit_counts(registers))


def _by_register(
    compiled: Any,
    measured: dict[int, list[int]],
    order: list[int],
    measurements: Any,
) -> list[list[str]]:
    """Per classical register, one bitstring per shot (clbit 0 rightmost)."""
    clbit_of: dict[int, int] = {}
    for qubit, clbits in measured.items():
        for clbit in clbits:
            clbit_of[clbit] = qubit
    registers: list[list[str]] = []
    for creg in compiled.cregs:
        indexes = [compiled.find_bit(bit).index for bit in creg]
        shots = []
        for row in measurements:
            values = {order[i]: int(bit) for i, bit in enumerate(row)}
            bits = [
                str(values.get(clbit_of[index], 0)) if index in clbit_of else "0"
                for index in indexes
            ]
            shots.append("".join(reversed(bits)))
        registers.append(shots)
    return registers
