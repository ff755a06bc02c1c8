"""The leaky sample shows a realistic inventory, the shared IonQ key, and (with the sample
organisation policy) what in its inventory lacks an assessment or an approval."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import LEAKY, SAMPLES, scan_json

POLICY = SAMPLES / "policy" / "org-policy.yaml"


def located(document: dict[str, Any], prefix: str) -> list[tuple[str, str, int]]:
    return sorted((f["rule_id"], f["path"], f["line"]) for f in document["findings"]
                  if f["rule_id"].startswith(prefix))


def test_the_leaky_sample_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    _, document = scan_json(capsys, str(LEAKY))
    providers = {p["id"]: p for p in document["inventory"]["providers"]}
    assert list(providers) == ["amazon-braket", "azure-quantum", "dwave", "ibm-quantum", "ionq"]
    assert providers["amazon-braket"]["devices"] == ["ionq Aria-1 us-east-1",
                                                     "rigetti Ankaa-3 us-west-1"]
    assert providers["azure-quantum"]["regions"] == ["eastus", "westeurope"]
    assert providers["ibm-quantum"]["backends"] == ["ibm_torino"]
    assert "notebooks/regulated/patient_vqe.ipynb" in providers["dwave"]["files"]
    # The sample's config names its own (weak) policy, which assesses no provider at all.
    assert document["inventory"]["policy"] == "governance/policy.yaml"
    unassessed = located(document, "QG-INV-")
    assert {rule for rule, _, _ in unassessed} == {"QG-INV-001"}
    assert {".env", "src/submit_job.py", "infra/terraform/azure.tf"} <= {
        path for _, path, _ in unassessed
    }
    assert located(document, "QG-SEC-019") == [
        ("QG-SEC-019", "deploy/values-dev.yaml", 7), ("QG-SEC-019", "deploy/values-prod.yaml", 7),
    ]


def test_the_leaky_sample_against_the_sample_policy(capsys: pytest.CaptureFixture[str]) -> None:
    _, document = scan_json(capsys, str(LEAKY), "--policy", str(POLICY))
    # The sample policy keeps regulated data in eu-west-2 and approves Azure below
    # regulated-pilot only; IonQ and D-Wave are not listed at all.
    assert located(document, "QG-INV-") == [
        ("QG-INV-001", ".env", 2),
        ("QG-INV-001", ".env", 3),
        ("QG-INV-001", "Dockerfile", 7),
        ("QG-INV-001", "deploy/values-dev.yaml", 7),
        ("QG-INV-001", "deploy/values-prod.yaml", 7),
        ("QG-INV-001", "notebooks/regulated/patient_vqe.ipynb", 72),
        ("QG-INV-002", ".env", 4),
        ("QG-INV-002", ".env", 5),
        ("QG-INV-002", ".github/workflows/quantum-bench.yml", 43),
        ("QG-INV-002", "config/qiskit-ibm.json", 5),
        ("QG-INV-002", "infra/terraform/azure.tf", 15),
        ("QG-INV-002", "src/submit_job.py", 31),
        ("QG-INV-003", ".env", 5),
        ("QG-INV-003", "infra/terraform/azure.tf", 15),
    ]
    assert {f["severity"] for f in document["findings"] if f["rule_id"].startswith("QG-INV-")} \
        == {"high"}  # the sample runs at regulated-pilot
