"""The real case the inventory was built for, in miniature: a tree shaped like
amazon-braket-examples, which submits to several hardware vendors' devices (IonQ, Rigetti,
OQC, QuEra, IQM) in three regions, next to notebooks that only simulate locally. The files
are written here, in the examples' style; nothing is fetched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import scan_json, write_tree
from tests.inventory.common import PROFILE, line_of, notebook, policy_file

GETTING_STARTED = notebook(
    "# Use Braket SDK Cost Tracking to estimate the cost to run this example\n"
    "from braket.tracking import Tracker\nt = Tracker().start()",
    "from braket.circuits import Circuit\nfrom braket.devices import LocalSimulator\n"
    "bell = Circuit().h(0).cnot(0, 1)",
    "device = LocalSimulator()\nresult = device.run(bell, shots=1000).result()",
    'from braket.aws import AwsDevice\n'
    'sv1 = AwsDevice("arn:aws:braket:::device/quantum-simulator/amazon/sv1")',
)
QPU_DEVICES = notebook(
    "%pip install amazon-braket-sdk --quiet",
    "from braket.aws import AwsDevice\nfrom braket.circuits import Circuit",
    'ionq = AwsDevice("arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1")',
    'rigetti = AwsDevice("arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3")',
    'oqc = AwsDevice("arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy")',
)
AQUILA = notebook(
    "from braket.aws import AwsDevice\n"
    'aquila_qpu = AwsDevice("arn:aws:braket:us-east-1::device/qpu/quera/Aquila")\n'
    "capabilities = aquila_qpu.properties.paradigm",
)
GARNET = notebook(
    "from braket.aws import AwsDevice\nfrom braket.devices import Devices\n"
    "device = AwsDevice(Devices.IQM.Garnet)",
)
LOCAL_ONLY = notebook(
    "from braket.circuits import Circuit, noises\nfrom braket.devices import LocalSimulator",
    'device = LocalSimulator("braket_dm")',
)
HYBRID_JOB = (
    "import os\n\nfrom braket.aws import AwsDevice\nfrom braket.jobs import save_job_result\n\n\n"
    "def start_here():\n"
    '    device = AwsDevice(os.environ["AMZN_BRAKET_DEVICE_ARN"])\n'
    '    save_job_result({"done": True})\n'
)

FILES = {
    "examples/getting_started/0_Getting_started/0_Getting_started.ipynb": GETTING_STARTED,
    "examples/getting_started/2_Running_quantum_circuits_on_QPU_devices/"
    "2_Running_quantum_circuits_on_QPU_devices.ipynb": QPU_DEVICES,
    "examples/analog_hamiltonian_simulation/01_Introduction_to_Aquila.ipynb": AQUILA,
    "examples/braket_features/IQM_Garnet_Native_Gates.ipynb": GARNET,
    "examples/braket_features/Simulating_Noise_On_Amazon_Braket.ipynb": LOCAL_ONLY,
    "examples/hybrid_jobs/0_Creating_your_first_Hybrid_Job/algorithm_script.py": HYBRID_JOB,
    "requirements.txt": "amazon-braket-sdk==1.88.0\nmatplotlib==3.9.2\n",
}
QPU = "examples/getting_started/2_Running_quantum_circuits_on_QPU_devices/" \
      "2_Running_quantum_circuits_on_QPU_devices.ipynb"
AQUILA_PATH = "examples/analog_hamiltonian_simulation/01_Introduction_to_Aquila.ipynb"


@pytest.fixture()
def examples(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "amazon-braket-examples", FILES)


def _inventory(document: dict[str, Any]) -> dict[str, Any]:
    return {p["id"]: p for p in document["inventory"]["providers"]}


def test_the_inventory_of_a_braket_examples_tree(
    examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document = scan_json(capsys, str(examples))
    found = _inventory(document)
    assert list(found) == ["amazon-braket"]  # LocalSimulator alone is no provider
    braket = found["amazon-braket"]
    assert braket["devices"] == [
        "amazon sv1 (managed simulator)", "ionq Aria-1 us-east-1", "iqm Garnet",
        "oqc Lucy eu-west-2", "quera Aquila us-east-1", "rigetti Ankaa-3 us-west-1",
    ]
    assert braket["regions"] == ["eu-west-2", "us-east-1", "us-west-1"]
    assert braket["vendors"] == ["amazon", "ionq", "iqm", "oqc", "quera", "rigetti"]
    assert "examples/braket_features/Simulating_Noise_On_Amazon_Braket.ipynb" not in braket["files"]
    assert len(braket["files"]) == 6
    assert braket["kinds"] == ["sdk-import", "client", "device", "dependency", "config"]
    assert braket["first_use"] == {  # the first file in path order, its first use
        "kind": "sdk-import", "detail": "braket.aws", "cell": 0, "region": None,
        "vendor": None, "line": line_of(AQUILA, "from braket.aws"), "path": AQUILA_PATH,
    }
    assert braket["problems"] == []  # no policy: nothing checked
    assert document["inventory"]["policy"] is None
    assert not any(f["rule_id"].startswith("QG-INV-") for f in document["findings"])


def test_regions_outside_the_provider_entry_and_the_data_class(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policy" / "vendors").mkdir(parents=True)
    (tmp_path / "policy" / "vendors" / "braket.yaml").write_text(PROFILE)
    policy = policy_file(
        tmp_path / "policy",
        providers=[{"name": "braket", "vendor_profile": "vendors/braket.yaml",
                    "approved_tiers": ["internal-pilot"], "regions": ["us-*", "eu-west-2"]}],
        data_classes={"confidential": {"regions": ["eu-west-2", "eu-north-1"]}},
    )
    _, document = scan_json(capsys, str(examples), "--policy", str(policy),
                            "--tier", "internal-pilot", "--data-class", "confidential")
    inventory = [(f["rule_id"], f["path"], f["line"], f["cell"], f["severity"])
                 for f in document["findings"] if f["rule_id"].startswith("QG-INV-")]
    assert sorted(inventory) == [
        ("QG-INV-002", AQUILA_PATH, line_of(AQUILA, "aquila_qpu = "), 0, "medium"),
        ("QG-INV-002", QPU, line_of(QPU_DEVICES, "ionq = "), 2, "medium"),
    ]
    message = next(f["message"] for f in document["findings"]
                   if f["path"] == QPU and f["rule_id"] == "QG-INV-002")
    assert "us-east-1, us-west-1" in message  # one finding for both regions of the file
    assert "eu-west-2" not in message.split("outside")[0]
    assert "allowed for confidential data (eu-west-2, eu-north-1)" in message
    assert "also used in " in message
    assert document["inventory"]["data_class"] == "confidential"
    assert _inventory(document)["amazon-braket"]["problems"] == ["QG-INV-002"]
