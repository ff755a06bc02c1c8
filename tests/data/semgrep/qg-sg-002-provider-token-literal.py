import os
import sys

from dwave.system import DWaveSampler
from qiskit_ibm_runtime import QiskitRuntimeService
from qiskit_ionq import IonQProvider

IBM_TOKEN = "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA-2O76"

# ruleid: QG-SG-002
service = QiskitRuntimeService(channel="ibm_quantum_platform", token="a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2")
# ruleid: QG-SG-002
service = QiskitRuntimeService(channel="ibm_quantum_platform", token=IBM_TOKEN)
# ruleid: QG-SG-002
provider = IonQProvider("k3y-f0r-i0nq-d3m0-0nly-n0t-r3al")
# ruleid: QG-SG-002
sampler = DWaveSampler(token=sys.argv[1])
# ruleid: QG-SG-002
service = QiskitRuntimeService(token=input("token: "))
# ok: QG-SG-002
service = QiskitRuntimeService(channel="ibm_quantum_platform", token=os.environ["QISKIT_IBM_TOKEN"])
# ok: QG-SG-002
service = QiskitRuntimeService(channel="ibm_quantum_platform")
# ok: QG-SG-002
service = QiskitRuntimeService(token="<your-ibm-cloud-api-key>")
# ok: QG-SG-002
provider = IonQProvider(os.getenv("IONQ_API_KEY"))
