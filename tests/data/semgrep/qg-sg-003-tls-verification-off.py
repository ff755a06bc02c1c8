import os
import ssl

import requests
import urllib3
from qiskit_ibm_runtime import QiskitRuntimeService

# ruleid: QG-SG-003
service = QiskitRuntimeService(channel="ibm_quantum_platform", verify=False)
session = requests.Session()
# ruleid: QG-SG-003
session.verify = False
# ruleid: QG-SG-003
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
# ruleid: QG-SG-003
ssl._create_default_https_context = ssl._create_unverified_context
# ruleid: QG-SG-003
os.environ["CURL_CA_BUNDLE"] = ""
# ruleid: QG-SG-003
response = session.post("https://api.quantum.example/jobs", json={}, verify=False, timeout=5)
# ok: QG-SG-003
response = requests.get("https://api.quantum.example/jobs", verify=False, timeout=5)
# ok: QG-SG-003
response = session.get("https://api.quantum.example/jobs", timeout=5)
# ok: QG-SG-003
service = QiskitRuntimeService(channel="ibm_quantum_platform", verify=True)
