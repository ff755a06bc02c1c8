"""Fact finders: what each kind of file says about the quantum providers it uses, as
(provider, kind, detail, region, line) facts; never a finding, never a scan error."""

from __future__ import annotations

import pytest

from scanner.inventory.table import (
    PACKAGES,
    PROVIDERS,
    canonical_id,
    env_provider,
    module_provider,
    table,
)
from scanner.model import FileKind
from tests.helpers import source
from tests.inventory.common import Fact, brief, facts, facts_of, line_of, notebook, providers

# --- Python -----------------------------------------------------------------------------------

PYTHON_CASES: list[tuple[str, str, set[Fact]]] = [
    (
        "ibm-runtime",
        "from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2\n"
        'service = QiskitRuntimeService(channel="ibm_quantum_platform")\n'
        'backend = service.backend("ibm_brisbane")\n',
        {("ibm-quantum", "sdk-import", "qiskit_ibm_runtime", None, 1),
         ("ibm-quantum", "client", "QiskitRuntimeService", None, 2),
         ("ibm-quantum", "backend", "ibm_brisbane", None, 3)},
    ),
    (
        "ibm-backend-kwarg-and-constant",
        "import qiskit_ibm_runtime as rt\n"
        'BACKEND = "ibm_torino"\n'
        'svc = rt.QiskitRuntimeService(instance="crn:v1:bluemix:public:quantum-computing:eu-de:a/1::")\n'
        'job = run(backend_name="ibm_fez")\n',
        {("ibm-quantum", "sdk-import", "qiskit_ibm_runtime", None, 1),
         ("ibm-quantum", "backend", "ibm_torino", None, 2),
         ("ibm-quantum", "client", "QiskitRuntimeService", None, 3),
         ("ibm-quantum", "resource", "IBM Cloud quantum-computing instance", "eu-de", 3),
         ("ibm-quantum", "backend", "ibm_fez", None, 4)},
    ),
    (
        "ibm-legacy-ibmq",
        "from qiskit import IBMQ, QuantumCircuit\nIBMQ.load_account()\n",
        {("ibm-quantum", "sdk-import", "qiskit.IBMQ", None, 1),
         ("ibm-quantum", "client", "IBMQ", None, 2)},
    ),
    (
        "braket-device-arn",
        "from braket.aws import AwsDevice\n"
        'device = AwsDevice("arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1")\n'
        'sv1 = AwsDevice("arn:aws:braket:::device/quantum-simulator/amazon/sv1")\n',
        {("amazon-braket", "sdk-import", "braket.aws", None, 1),
         ("amazon-braket", "client", "AwsDevice", None, 2),
         ("amazon-braket", "device", "ionq Aria-1", "us-east-1", 2),
         ("amazon-braket", "device", "amazon sv1 (managed simulator)", None, 3)},
    ),
    (
        "braket-devices-enum-and-boto3",
        "import boto3\nfrom braket.aws import AwsSession\nfrom braket.devices import Devices\n"
        'session = AwsSession(boto_session=boto3.Session(region_name="eu-north-1"))\n'
        "device = Devices.IQM.Garnet\n",
        {("amazon-braket", "sdk-import", "braket.aws", None, 2),
         ("amazon-braket", "client", "AwsSession", None, 4),
         ("amazon-braket", "client", "boto3 session", "eu-north-1", 4),
         ("amazon-braket", "device", "iqm Garnet", None, 5)},
    ),
    (
        "braket-local-simulator-is-no-provider",
        "from braket.circuits import Circuit\nfrom braket.devices import LocalSimulator\n"
        "result = LocalSimulator().run(Circuit().h(0), shots=10).result()\n",
        set(),
    ),
    (
        "boto3-braket-client",
        'import boto3\nbraket = boto3.client("braket", region_name="us-west-1")\n',
        {("amazon-braket", "client", "boto3 braket client", "us-west-1", 2)},
    ),
    (
        "azure-workspace-and-targets",
        "from azure.quantum import Workspace\n"
        'ws = Workspace(resource_id="/subscriptions/x/resourceGroups/rg/providers/'
        'Microsoft.Quantum/Workspaces/w", location="westeurope")\n'
        'target = ws.get_targets("ionq.qpu.aria-1")\n'
        'other = "rigetti.sim.qvm"\n',
        {("azure-quantum", "sdk-import", "azure.quantum", None, 1),
         ("azure-quantum", "client", "Workspace", "westeurope", 2),
         ("azure-quantum", "device", "ionq.qpu.aria-1", None, 3),
         ("azure-quantum", "device", "rigetti.sim.qvm", None, 4)},
    ),
    (
        "azure-targets-need-azure",
        'target = "ionq.qpu"\n',
        set(),
    ),
    (
        "ionq",
        "from qiskit_ionq import IonQProvider\nimport os\n"
        'provider = IonQProvider(os.environ["IONQ_API_KEY"])\n'
        'backend = provider.get_backend("qpu.aria-1")\n',
        {("ionq", "sdk-import", "qiskit_ionq", None, 1),
         ("ionq", "client", "IonQProvider", None, 3),
         ("ionq", "config", "IONQ_API_KEY", None, 3),
         ("ionq", "backend", "qpu.aria-1", None, 4)},
    ),
    (
        "dwave",
        "from dwave.system import DWaveSampler, EmbeddingComposite, LeapHybridSampler\n"
        'sampler = EmbeddingComposite(DWaveSampler(region="eu-central-1"))\n'
        "hybrid = LeapHybridSampler()\n",
        {("dwave", "sdk-import", "dwave.system", None, 1),
         ("dwave", "client", "DWaveSampler", "eu-central-1", 2),
         ("dwave", "client", "LeapHybridSampler", None, 3)},
    ),
    (
        "dwave-local-samplers-are-no-provider",
        "import dimod\nfrom dwave.samplers import SimulatedAnnealingSampler\n",
        set(),
    ),
    (
        "pasqal",
        "from pasqal_cloud import SDK\nsdk = SDK(project_id='p', username='u')\n",
        {("pasqal", "sdk-import", "pasqal_cloud", None, 1),
         ("pasqal", "client", "SDK", None, 2)},
    ),
    (
        "quantinuum",
        "import qnexus as qnx\nfrom pytket.extensions.quantinuum import QuantinuumBackend\n"
        "qnx.login()\nbackend = QuantinuumBackend(device_name=\"H1-1E\")\n",
        {("quantinuum", "sdk-import", "qnexus", None, 1),
         ("quantinuum", "sdk-import", "pytket.extensions.quantinuum", None, 2),
         ("quantinuum", "client", "login", None, 3),
         ("quantinuum", "client", "QuantinuumBackend", None, 4),
         ("quantinuum", "backend", "H1-1E", None, 4)},
    ),
    (
        "rigetti-qvm-is-local",
        'from pyquil import get_qc\nqpu = get_qc("Ankaa-3")\nqvm = get_qc("9q-square-qvm")\n',
        {("rigetti", "sdk-import", "pyquil", None, 1),
         ("rigetti", "client", "get_qc", None, 2),
         ("rigetti", "backend", "Ankaa-3", None, 2)},
    ),
    (
        "google-xanadu-oqc-iqm",
        "import cirq_google\nimport strawberryfields as sf\nfrom qcaas_client.client import OQCClient\n"
        "from iqm.qiskit_iqm import IQMProvider\n"
        'engine = cirq_google.Engine(project_id="p")\n'
        'eng = sf.RemoteEngine("X8")\n'
        'iqm = IQMProvider("https://cocos.resonance.meetiqm.com/garnet")\n',
        {("google-quantum-ai", "sdk-import", "cirq_google", None, 1),
         ("xanadu", "sdk-import", "strawberryfields", None, 2),
         ("oqc", "sdk-import", "qcaas_client", None, 3),
         ("iqm", "sdk-import", "iqm.qiskit_iqm", None, 4),
         ("google-quantum-ai", "client", "Engine", None, 5),
         ("xanadu", "client", "RemoteEngine", None, 6),
         ("iqm", "client", "IQMProvider", None, 7),
         ("iqm", "device", "iqm garnet", None, 7)},
    ),
    (
        "names-without-the-provider-say-nothing",
        'BACKEND = "ibm_brisbane"\nclass Workspace: ...\nws = Workspace(location="eastus")\n'
        'channel = "ibm_quantum_platform"\n',
        set(),
    ),
    (
        "ibm-channel-is-no-backend",
        'from qiskit_ibm_runtime import QiskitRuntimeService\nbackend_channel = "ibm_quantum"\n',
        {("ibm-quantum", "sdk-import", "qiskit_ibm_runtime", None, 1)},
    ),
    (
        "star-import",
        "from braket.aws import *\ndevice = AwsDevice(ARN)\n",
        {("amazon-braket", "sdk-import", "braket.aws", None, 1),
         ("amazon-braket", "client", "AwsDevice", None, 2)},
    ),
    (
        "relative-imports-are-the-project",
        "from .braket.aws import AwsDevice\n",
        set(),
    ),
]


@pytest.mark.parametrize(("name", "code", "expected"), PYTHON_CASES,
                         ids=[case[0] for case in PYTHON_CASES])
def test_python(name: str, code: str, expected: set[Fact]) -> None:
    assert facts(code, "src/run.py") == expected


def test_each_use_once_per_file_at_its_first_line() -> None:
    code = "\n".join(["from braket.aws import AwsDevice"] * 3 + ['AwsDevice("a")'] * 2) + "\n"
    assert facts(code, "a.py") == {("amazon-braket", "sdk-import", "braket.aws", None, 1),
                                   ("amazon-braket", "client", "AwsDevice", None, 4)}


def test_python_that_does_not_parse_falls_back_to_lines() -> None:
    code = ("import braket.aws\nprint 'python 2'\n"
            'DEVICE = "arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy"\n')
    assert facts(code, "old.py") == {
        ("amazon-braket", "sdk-import", "braket.aws", None, 1),
        ("amazon-braket", "device", "oqc Lucy", "eu-west-2", 3),
    }


def test_facts_carry_their_path() -> None:
    found = facts_of(source("import qiskit_ionq\n", "src/q.py"))
    assert [(f.path, f.provider) for f in found] == [("src/q.py", "ionq")]


# --- notebooks ----------------------------------------------------------------------------------


def test_notebook_code_cells_magics_and_ipython_syntax() -> None:
    text = notebook(
        "%pip install amazon-braket-sdk qiskit-ionq==0.5",
        "from braket.aws import AwsDevice\n"
        'device = AwsDevice("arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3")',
        # IPython syntax that neutralising does not fix: the cell is read line by line.
        "await something()\nfrom dwave.system import DWaveSampler\nx = !ls",
    )
    found = facts_of(source(text, "nb/run.ipynb"))
    located = {(f.provider, f.kind.value, f.detail, f.region, f.line, f.cell) for f in found}
    assert located == {
        ("amazon-braket", "dependency", "amazon-braket-sdk", None,
         line_of(text, "%pip install"), 0),
        ("ionq", "dependency", "qiskit-ionq", None, line_of(text, "%pip install"), 0),
        ("amazon-braket", "sdk-import", "braket.aws", None, line_of(text, "from braket"), 1),
        ("amazon-braket", "client", "AwsDevice", None, line_of(text, "device = "), 1),
        ("amazon-braket", "device", "rigetti Ankaa-3", "us-west-1", line_of(text, "device = "), 1),
        ("dwave", "sdk-import", "dwave.system", None, line_of(text, "from dwave"), 2),
    }


def test_a_broken_notebook_gives_no_facts_and_no_error_of_its_own() -> None:
    assert facts('{"cells": [', "nb/broken.ipynb") == set()


def test_a_notebook_with_thousands_of_imports_keeps_each_use_once() -> None:
    text = notebook(*(["import qiskit_ibm_runtime\nimport braket.aws"] * 2000))
    found = facts(text, "nb/many.ipynb")
    assert {(p, k, d) for p, k, d, _r, _l in found} == {
        ("ibm-quantum", "sdk-import", "qiskit_ibm_runtime"),
        ("amazon-braket", "sdk-import", "braket.aws"),
    }


# --- manifests, configuration, CI --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("requirements.txt", "qiskit==1.2\nqiskit-ibm-runtime==0.30\nAmazon_Braket_SDK==1.80\n",
         {("ibm-quantum", "dependency", "qiskit-ibm-runtime", None, 2),
          ("amazon-braket", "dependency", "amazon-braket-sdk", None, 3)}),
        ("pyproject.toml",
         '[project]\nname = "x"\nversion = "1"\ndependencies = [\n  "azure-quantum>=2",\n'
         '  "dwave-ocean-sdk",\n]\n',
         {("azure-quantum", "dependency", "azure-quantum", None, 5),
          ("dwave", "dependency", "dwave-ocean-sdk", None, 6)}),
        (".env",
         "IONQ_API_KEY=x\nPASSWORD=y\nAZURE_QUANTUM_CONNECTION_STRING=Endpoint="
         "https://uksouth.quantum.azure.com/\n",
         {("ionq", "config", "IONQ_API_KEY", None, 1),
          ("azure-quantum", "config", "AZURE_QUANTUM_CONNECTION_STRING", None, 3),
          ("azure-quantum", "config", "endpoint uksouth.quantum.azure.com", "uksouth", 3)}),
        (".github/workflows/run.yml",
         "on: push\njobs:\n  run:\n    runs-on: ubuntu-latest\n    steps:\n"
         "      - run: pip install qiskit-ibm-runtime && python run.py --backend ibm_kyiv\n"
         "        env:\n          DWAVE_API_TOKEN: ${{ secrets.DWAVE }}\n",
         {("ibm-quantum", "dependency", "qiskit-ibm-runtime", None, 6),
          ("ibm-quantum", "backend", "ibm_kyiv", None, 6),
          ("dwave", "config", "DWAVE_API_TOKEN", None, 8)}),
        ("Dockerfile",
         'FROM python:3.12\nRUN pip install --no-cache-dir "pasqal-cloud>=0.12" pulser\n',
         {("pasqal", "dependency", "pasqal-cloud", None, 2),
          ("pasqal", "dependency", "pulser", None, 2)}),
        ("config/qiskit-ibm.json",
         '{"default": {"channel": "ibm_quantum_platform",\n'
         ' "instance": "crn:v1:bluemix:public:quantum-computing:us-east:a/1::"}}\n',
         {("ibm-quantum", "config", "saved Qiskit account", None, 1),
          ("ibm-quantum", "resource", "IBM Cloud quantum-computing instance", "us-east", 2)}),
        ("README.md", "We submit to arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1.\n",
         set()),  # prose is not a use
    ],
)
def test_manifests_and_configuration(path: str, text: str, expected: set[Fact]) -> None:
    assert facts(text, path) == expected


# --- infrastructure -----------------------------------------------------------------------------


def test_terraform_resources() -> None:
    text = (
        'provider "aws" {\n  region = "eu-west-2"\n}\n'                                  # 1-3
        'resource "aws_s3_bucket" "results" {\n  bucket = "amazon-braket-results-x"\n}\n'  # 4-6
        'resource "aws_s3_bucket" "logs" {\n  bucket = "logs-x"\n}\n'                     # 7-9
        'resource "azurerm_quantum_workspace" "ws" {\n  name = "ws"\n'                     # 10-11
        '  location = "northeurope"\n}\n'                                                  # 12-13
        'resource "ibm_resource_instance" "qc" {\n  service = "quantum-computing"\n'       # 14-15
        '  location = "us-east"\n}\n'                                                      # 16-17
        'resource "ibm_resource_instance" "cos" {\n  service = "cloud-object-storage"\n}\n'  # 18-20
        'resource "azapi_resource" "q" {\n  type = "Microsoft.Quantum/workspaces@2023"\n'   # 21-22
        '  location = "eastus"\n  body = jsonencode({ providers = [{ providerId = "ionq" }] })\n'
        "}\n"
    )
    assert facts(text, "infra/main.tf") == {
        ("amazon-braket", "resource", "aws_s3_bucket.results", "eu-west-2", 4),
        ("azure-quantum", "resource", "azurerm_quantum_workspace.ws", "northeurope", 10),
        ("ibm-quantum", "resource", "ibm_resource_instance.qc", "us-east", 14),
        ("azure-quantum", "resource", "azapi_resource.q", "eastus", 21),
        ("azure-quantum", "resource", "azapi_resource.q provider ionq", "eastus", 21),
    }


def test_cloudformation_resources() -> None:
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  Results:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      BucketName: !Sub amazon-braket-chem-${AWS::AccountId}\n"
        "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n"
        "        Statement:\n          - Effect: Allow\n"
        "            Principal: {Service: braket.amazonaws.com}\n"
        "            Action: sts:AssumeRole\n"
        "  Other:\n    Type: AWS::SNS::Topic\n"
    )
    assert facts(text, "infra/stack.yaml") == {
        ("amazon-braket", "resource", "Results (AWS::S3::Bucket)", None, 3),
        ("amazon-braket", "resource", "Role (AWS::IAM::Role)", None, 7),
    }


def test_terraform_that_does_not_parse_still_gives_its_arns() -> None:
    text = 'variable "d" {\n  default = "arn:aws:braket:us-east-1::device/qpu/quera/Aquila"\n'
    assert facts(text, "infra/broken.tf") == {
        ("amazon-braket", "device", "quera Aquila", "us-east-1", 2)
    }


# --- hostile text ---------------------------------------------------------------------------


def test_odd_and_huge_arns_are_read_within_bounds() -> None:
    text = (
        "arn:aws:braket:" * 20_000 + "\n"
        + "arn:aws:braket:us-east-1::device/qpu/ionq/" + "A" * 100_000 + "\n"
        + "arn:aws:braket:" + "x" * 50 + "::device/qpu/ionq/Aria-1\n"
    )
    found = facts(text, "config/devices.yaml")
    assert {(p, k, r) for p, k, _d, r, _l in found} <= {("amazon-braket", "device", "us-east-1")}
    assert all(len(d) <= 80 for _p, _k, d, _r, _l in found)


def test_a_100k_character_import_line() -> None:
    code = "import " + ", ".join(f"mod{i}" for i in range(15_000)) + ", qiskit_ionq\n"
    assert len(code) > 100_000
    assert facts(code, "src/wide.py") == {("ionq", "sdk-import", "qiskit_ionq", None, 1)}


# --- the table --------------------------------------------------------------------------------


def test_the_table_is_consistent() -> None:
    ids = [p.id for p in PROVIDERS]
    assert len(ids) == len(set(ids))
    meanings: dict[str, set[str]] = {}
    for p in PROVIDERS:
        for name in (p.id, p.name, *p.aliases):
            meanings.setdefault(name.lower(), set()).add(p.id)
    assert {n: ids for n, ids in meanings.items() if len(ids) > 1} == {}
    packages = [n for p in PROVIDERS for n in p.packages]
    assert len(PACKAGES) == len(set(packages))
    assert {"ibm-quantum", "amazon-braket", "azure-quantum", "ionq", "dwave", "pasqal",
            "quantinuum", "rigetti", "google-quantum-ai", "xanadu", "oqc", "iqm"} <= set(ids)
    assert set(table().vendors) >= {"ionq", "rigetti", "oqc", "quera", "iqm", "amazon"}


@pytest.mark.parametrize(
    ("name", "provider"),
    [("braket", "amazon-braket"), ("Amazon Braket", "amazon-braket"), ("IBM", "ibm-quantum"),
     ("d-wave", "dwave"), ("nobody", None)],
)
def test_policy_names_by_id_or_alias(name: str, provider: str | None) -> None:
    assert canonical_id(name) == provider


def test_lookups() -> None:
    assert module_provider("braket.aws.aws_device") == ("braket.aws", "amazon-braket")
    assert module_provider("braket.circuits") is None
    assert module_provider("qiskit") is None
    assert env_provider("IONQ_API_KEY") == "ionq"
    assert env_provider("QE_TOKEN") == "ibm-quantum"
    assert env_provider("AWS_SECRET_ACCESS_KEY") is None  # any AWS workload, not Braket's own
    assert env_provider("IONQ_") is None


def test_file_kinds_without_a_finder_give_nothing() -> None:
    vendor = source("vendor:\n  name: IonQ\n  notes: IONQ_API_KEY\n", "vendors/ionq.yaml")
    assert vendor.kind is FileKind.VENDOR_PROFILE
    assert providers(facts_of(vendor)) == set()
    assert brief(facts_of(source("x = 1\n", "a.py"))) == set()


def test_a_deeply_dotted_line_is_read_line_by_line() -> None:
    # CPython's parser needs seconds for this; the line reader does not.
    code = "import " + "a." * 50_000 + "b\nimport braket.aws\n"
    assert facts(code, "src/dotted.py") == {("amazon-braket", "sdk-import", "braket.aws", None, 2)}
