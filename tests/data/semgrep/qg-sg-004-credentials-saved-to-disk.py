import os

from qiskit_ibm_runtime import QiskitRuntimeService


def bootstrap():
    # ruleid: QG-SG-004
    QiskitRuntimeService.save_account(channel="ibm_quantum_platform", token=os.environ["T"], overwrite=True)
    # ruleid: QG-SG-004
    IBMQ.save_account(os.environ["QE_TOKEN"])
    # ok: QG-SG-004
    return QiskitRuntimeService(channel="ibm_quantum_platform", name="default")


# ok: QG-SG-004
note = "call QiskitRuntimeService.save_account(...) once on your own machine"
