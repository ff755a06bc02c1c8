"""Discovery: which files a scan reads (ignore files, a file gone before it is read) and
their kind, which decides the detector that sees them: names and content shapes users
commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.classify import classify
from scanner.discover import read_source, walk
from scanner.fs import ScanRoot
from scanner.model import FileKind, ScanError
from tests.conftest import IBM_KEY
from tests.helpers import scan_json, small_project, sources_under, write_tree

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


def test_file_vanishing_between_walk_and_read_is_unreadable(tmp_path: Path) -> None:
    # Root (CI) can read a chmod-000 file, so exercise the race a real scan can hit instead.
    (tmp_path / "gone.py").write_text("x = 1\n")
    candidates = walk(tmp_path).candidates
    (tmp_path / "gone.py").unlink()
    error = read_source(candidates[0], ScanRoot.open(tmp_path))
    assert isinstance(error, ScanError) and error.reason == "unreadable"
    assert "cannot read" in error.message


def test_gitignore_and_qgovignore_are_honoured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small_project(tmp_path)
    (tmp_path / ".gitignore").write_text(".env\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build/.qgovignore").write_text("*.py\n")
    (tmp_path / "build/gen.py").write_text(f'TOKEN = "{IBM_KEY}"\n')
    _, doc = scan_json(capsys, str(tmp_path))
    assert {f["path"] for f in doc["findings"]} == {"src/run.py"}


def test_read_sources_are_classified_and_know_their_root(tmp_path: Path) -> None:
    write_tree(tmp_path, {"infra/main.tf": "", "requirements.txt": "qiskit==2.1.0\n"})
    found = {s.path: s for s in sources_under(tmp_path)}
    assert {path: s.kind for path, s in found.items()} == {
        "infra/main.tf": FileKind.TERRAFORM, "requirements.txt": FileKind.REQUIREMENTS,
    }
    root = found["requirements.txt"].root
    assert root is not None and root.real == tmp_path.resolve()
    assert found["infra/main.tf"].abs_path.resolve() == (tmp_path / "infra/main.tf").resolve()
