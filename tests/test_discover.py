"""Which detector sees a file depends on its kind: names and content shapes users commit."""

from __future__ import annotations

import pytest

from scanner.discover import classify
from scanner.model import FileKind

K8S_JSON = '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "spec": {}\n}\n'
K8S_YAML = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: runner}\n"
CFN_YAML = "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n"
JOB_SPEC = "apiVersion: qgov/v1\nkind: QuantumJob\n"


@pytest.mark.parametrize(
    ("path", "text", "kind"),
    [
        ("src/run.py", "", FileKind.PYTHON),
        ("nb/bell.ipynb", "{}", FileKind.NOTEBOOK),
        ("infra/main.tf", "", FileKind.TERRAFORM),
        ("infra/main.tf.json", "{}", FileKind.TERRAFORM),
        ("Dockerfile", "", FileKind.DOCKERFILE),
        ("docker/Dockerfile.gpu", "", FileKind.DOCKERFILE),
        ("Dockerfile-dev", "", FileKind.DOCKERFILE),
        ("dockerfile_prod", "", FileKind.DOCKERFILE),
        ("Containerfile", "", FileKind.DOCKERFILE),
        ("images/worker.dockerfile", "", FileKind.DOCKERFILE),
        ("docs/Dockerfile.md", "", FileKind.OTHER_TEXT),
        ("k8s/pod.json", K8S_JSON, FileKind.KUBERNETES),
        ("k8s/runner.yaml", K8S_YAML, FileKind.KUBERNETES),
        ("stack.yaml", CFN_YAML, FileKind.CLOUDFORMATION),
        ("jobs/bell.yaml", JOB_SPEC, FileKind.JOB_SPEC),
        ("settings.json", '{"apiVersion": 3}', FileKind.JSON),
        (".github/workflows/ci.yml", "on: push\n", FileKind.GITHUB_WORKFLOW),
        (".gitlab-ci.yml", "", FileKind.GITLAB_CI),
        ("requirements-dev.txt", "", FileKind.REQUIREMENTS),
        ("poetry.lock", "", FileKind.DEPENDENCY_MANIFEST),
        ("config/qiskit-ibm.json", "{}", FileKind.QISKIT_CREDENTIALS),
        (".env.local", "", FileKind.ENV_FILE),
    ],
)
def test_classify(path: str, text: str, kind: FileKind) -> None:
    assert classify(path, text) is kind
