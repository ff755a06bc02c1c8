"""Submit a Bell benchmark through the organisation's governed path."""
import hashlib
import logging
import os

from qiskit import QuantumCircuit, qasm3
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

log = logging.getLogger(__name__)
ALLOWED_BACKENDS = frozenset({"ibm_torino", "ibm_fez"})


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


def main() -> None:
    # Token from the environment (injected by the CI's OIDC-backed secret broker).
    service = QiskitRuntimeService(channel="ibm_quantum_platform")
    backend_name = os.environ["QGOV_BACKEND"]
    if backend_name not in ALLOWED_BACKENDS:
        raise SystemExit(f"backend {backend_name} is not approved")
    circuit = bell()
    digest = hashlib.sha256(qasm3.dumps(circuit).encode()).hexdigest()
    log.info("submitting circuit sha256=%s qubits=%d", digest, circuit.num_qubits)
    SamplerV2(service.backend(backend_name)).run([circuit])


if __name__ == "__main__":
    main()
