"""What kind of file a path holds (``FileKind``), from its name and, where the name does not
tell, a few markers in its text. Every pattern is linear-time on a long line."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from scanner.model import FileKind

# Indentation is spaces and tabs: `^\s*` would run across blank lines from every line start.
_CFN_MARKERS = re.compile(
    r"AWSTemplateFormatVersion|^[ \t]*Type:[ \t]*['\"]?AWS::|\"Type\"\s*:\s*\"AWS::", re.M
)
# qgov's own job specs also carry apiVersion/kind; they are not cluster manifests.
_K8S_MARKERS = re.compile(r"^apiVersion:\s*(?!['\"]?qgov/)\S+", re.M)
_JOB_SPEC_MARKER = re.compile(r"^apiVersion:\s*['\"]?qgov/", re.M)
_K8S_KIND = re.compile(r"^kind:\s*\S+", re.M)
# A manifest written as JSON ({"apiVersion": "v1", "kind": "Pod", ...}).
_K8S_JSON = re.compile(r'^\s*\{\s*"apiVersion"\s*:\s*"(?!qgov/)[^"]+"\s*,\s*"kind"\s*:')
# Dockerfile, Dockerfile.gpu, Dockerfile-dev, dockerfile_prod, Containerfile…, but not
# documents about them (Dockerfile.md).
_DOCKERFILE_NAME = re.compile(
    r"^(?!.*\.(md|txt|json|ya?ml|rst|sh|py)$)(docker|container)file([._-].+)?$"
)
_ACTION_RUNS = re.compile(r"^runs:", re.M)
_POLICY_MARKERS = re.compile(r"^(qgov_policy|governance|roles|exceptions):", re.M)
_VENDOR_MARKERS = re.compile(r"^(vendor|qgov_vendor_profile):", re.M)
_REQUIREMENTS_NAME = re.compile(r"^(.*requirements.*\.(txt|in)|constraints.*\.txt)$", re.I)
# Committed data and logs: tables, JSON lines, logs (rotated ones too: app.log.1), job
# output (slurm-123.out, nohup.out), dumps; plain text only where a data or log folder or
# the file's name says it holds data.
_DATASET_SUFFIXES = frozenset({".csv", ".tsv", ".jsonl", ".ndjson", ".log", ".out", ".dump"})
_ROTATED_LOG = re.compile(r"\.log\.\d{1,3}$")
_DATA_FOLDERS = frozenset(
    {"data", "dataset", "datasets", "log", "logs", "dump", "dumps", "export", "exports",
     "output", "outputs"}
)
_DATA_TEXT_NAME = re.compile(r"(?:^|[._-])(?:log|dump|export)$")


def classify(path: str, text: str) -> FileKind:
    """Decide a file's kind from its name first and a cheap look at its content second."""
    pure = PurePosixPath(path)
    name = pure.name
    lower = name.lower()
    suffix = pure.suffix.lower()
    parts = pure.parts
    if suffix == ".py" or suffix == ".pyw":
        return FileKind.PYTHON
    if suffix == ".ipynb":
        return FileKind.NOTEBOOK
    if suffix == ".tf" or lower.endswith(".tf.json") or suffix == ".tfvars":
        return FileKind.TERRAFORM
    if _DOCKERFILE_NAME.match(lower) or suffix in {".dockerfile", ".containerfile"}:
        return FileKind.DOCKERFILE
    if lower in {"qiskit-ibm.json", "qiskitrc"} or (lower == "token.json" and ".qnx" in parts):
        return FileKind.QISKIT_CREDENTIALS
    if lower == ".env" or lower.startswith(".env.") or suffix == ".env":
        return FileKind.ENV_FILE
    if _REQUIREMENTS_NAME.match(name) or (suffix in {".txt", ".in"} and "requirements" in parts):
        return FileKind.REQUIREMENTS
    if lower == "pyproject.toml":
        return FileKind.PYPROJECT
    if lower in {"poetry.lock", "pipfile", "pipfile.lock"} or (
        lower in {"environment.yml", "environment.yaml", "conda.yml", "conda.yaml"}
    ):
        return FileKind.DEPENDENCY_MANIFEST
    if suffix in _DATASET_SUFFIXES or _ROTATED_LOG.search(lower) or (
        suffix == ".txt" and (
            _DATA_TEXT_NAME.search(lower[:-4])
            or any(folder.lower() in _DATA_FOLDERS for folder in parts[:-1])
        )
    ):
        return FileKind.DATASET
    is_yaml = suffix in {".yml", ".yaml"}
    if is_yaml and len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows":
        return FileKind.GITHUB_WORKFLOW
    if lower in {"action.yml", "action.yaml"} and _ACTION_RUNS.search(text[:20000]):
        return FileKind.GITHUB_ACTION
    if lower in {".gitlab-ci.yml", ".gitlab-ci.yaml"}:
        return FileKind.GITLAB_CI
    if is_yaml or suffix in {".json", ".template"}:
        head = text[:20000]
        if _CFN_MARKERS.search(head):
            return FileKind.CLOUDFORMATION
        if is_yaml and _JOB_SPEC_MARKER.search(head):
            return FileKind.JOB_SPEC
        if is_yaml and _K8S_MARKERS.search(head) and _K8S_KIND.search(head):
            return FileKind.KUBERNETES
        if suffix == ".json" and _K8S_JSON.match(head):
            return FileKind.KUBERNETES
        if is_yaml and _VENDOR_MARKERS.search(head):
            return FileKind.VENDOR_PROFILE
        if is_yaml and _POLICY_MARKERS.search(head):
            return FileKind.GOVERNANCE_POLICY
        return FileKind.YAML if is_yaml else FileKind.JSON
    return FileKind.OTHER_TEXT
