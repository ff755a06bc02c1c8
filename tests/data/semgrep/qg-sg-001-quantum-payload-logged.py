import hashlib
import logging

from qiskit import QuantumCircuit, qasm2, qasm3

log = logging.getLogger(__name__)


def submit(qc: QuantumCircuit, backend, theta):
    # ruleid: QG-SG-001
    log.info("submitting %s", qasm3.dumps(qc))
    text = qasm2.dumps(qc)
    # ruleid: QG-SG-001
    logging.debug(text)
    # ruleid: QG-SG-001
    print(qc.draw())
    bound = qc.assign_parameters({"theta": theta})
    # ruleid: QG-SG-001
    log.warning("bound circuit: %s", bound)
    job = backend.run(qc)
    # ruleid: QG-SG-001
    print(job.result().get_counts())
    counts = job.result().get_counts()
    logger = logging.getLogger("audit")
    # ruleid: QG-SG-001
    logger.info("counts: %s", counts)
    # ok: QG-SG-001
    log.info("circuit sha256=%s", hashlib.sha256(qasm3.dumps(qc).encode()).hexdigest())
    # ok: QG-SG-001
    log.info("qubits=%d job=%s", qc.num_qubits, job.job_id())
    # ok: QG-SG-001
    progress.info(counts)
    # ok: QG-SG-001
    print("done")
    return counts
