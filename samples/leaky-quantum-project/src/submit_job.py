"""Submit the nightly Bell benchmark to IBM Quantum and Amazon Braket."""
import logging
import os

import boto3
from braket.aws import AwsDevice, AwsSession
from qiskit import QuantumCircuit, qasm3
from qiskit_braket_provider import to_braket
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

log = logging.getLogger(__name__)

# TODO move to vault before the audit
IBM_TOKEN = "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA-2O76"
LEGACY_QE_TOKEN = "b975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc74254770f58904dba41ecccc3fc1626e53a13043b026c48bbf33feff9243a8f506"
BRAKET_SESSION = boto3.Session(
    aws_access_key_id="AKIA7XJ8B7TFQ7XKWO88",
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "QCyEZDz+TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3Ql"),
)


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


# The cross-vendor comparison runs on Rigetti's QPU through Braket (it sits in us-west-1).
RIGETTI_ANKAA = "arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3"


def run_on_braket(circuit: QuantumCircuit) -> None:
    device = AwsDevice(RIGETTI_ANKAA, aws_session=AwsSession(boto_session=BRAKET_SESSION))
    task = device.run(to_braket(circuit), shots=1000)
    log.info("braket task %s", task.id)


def main() -> None:
    service = QiskitRuntimeService(channel="ibm_quantum_platform", token=IBM_TOKEN)
    backend = service.least_busy(operational=True, simulator=False)
    circuit = bell()
    log.info("submitting %s", qasm3.dumps(circuit))
    job = SamplerV2(backend).run([circuit])
    print(job.result()[0].data.meas.get_counts())
    run_on_braket(circuit)


if __name__ == "__main__":
    main()
