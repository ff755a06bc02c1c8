"""What the GitHub Actions and GitLab CI checks share: the secret-name vocabulary (quantum
provider tokens, cloud keys, anything that looks like a credential), commit-SHA pinning, and
``issue``, the one constructor of a CI/CD ``Issue``. Rule metadata: ``scanner/rules/cicd.yaml``.
"""

from __future__ import annotations

import re
from typing import Any

from scanner.formats.yaml import LineDict
from scanner.model import Issue, Severity

SHA40 = re.compile(r"^[0-9a-f]{40}$")

# Quantum provider credentials by name. As a variable name a Quantinuum entry must end in
# TOKEN or PASSWORD; inside ``secrets.…`` any QUANTINUUM_ name counts.
_QUANTUM_NAMES = (
    r"QISKIT_IBM_TOKEN|QE_TOKEN|IBMQ_TOKEN|IBM_QUANTUM_TOKEN|IBM_CLOUD_API_KEY|IONQ_API_KEY"
    r"|DWAVE_API_TOKEN|DWAVE_TOKEN|AZURE_QUANTUM_CONNECTION_STRING|PASQAL_\w*TOKEN"
    r"|QNEXUS_\w*TOKEN"
)
QUANTUM_SECRET_NAME = re.compile(
    rf"^(?:{_QUANTUM_NAMES}|QUANTINUUM_\w*(?:TOKEN|PASSWORD)|QCS_\w*TOKEN)$"
)
QUANTUM_SECRET_REF = re.compile(rf"secrets\.({_QUANTUM_NAMES}|QUANTINUUM_\w*|QCS_\w*TOKEN)\b")
CLOUD_SECRET_NAME = re.compile(
    r"^(?:AWS_SECRET_ACCESS_KEY|AZURE_CLIENT_SECRET|ARM_CLIENT_SECRET|GOOGLE_CREDENTIALS"
    r"|GOOGLE_APPLICATION_CREDENTIALS_JSON|GCP_SA_KEY|GCP_CREDENTIALS)$"
)
def empty() -> LineDict:
    """A mapping with no keys, for a block that is missing or not a mapping."""
    mapping = LineDict()
    mapping.key_lines = {}
    return mapping


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def issue(
    rule_id: str,
    message: str,
    line: int,
    material: str,
    *,
    severity: Severity | None = None,
    evidence: str | None = None,
) -> Issue:
    """A pipeline issue: ``material`` names the workflow, job or step and the problem."""
    return Issue(
        rule_id,
        message,
        line=line,
        material=f"{rule_id}\x00{material}",
        severity=severity,
        evidence=evidence,
    )
