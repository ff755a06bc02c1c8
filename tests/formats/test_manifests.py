"""Dependency manifests read into one shape: conda match specs, requirements includes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scanner.formats.manifests import Pin, Role, parse_manifest
from scanner.formats.manifests.project_files import conda_pin
from scanner.fs import ScanRoot
from scanner.model import FileKind
from tests.helpers import DATA, source, source_at, write_tree

DEPS = DATA / "deps"


@pytest.mark.parametrize(
    ("spec", "pin"),
    [
        ("numpy", Pin.NONE),
        ("numpy=1.26", Pin.RANGE),
        ("numpy=1.26.4", Pin.EXACT),
        ("numpy=1.26.4=py311h_0", Pin.EXACT),
        ("numpy==1.26.4", Pin.EXACT),
        ("numpy>=1.26", Pin.RANGE),
        ("conda-forge::numpy=1.26.*", Pin.RANGE),
    ],
)
def test_conda_match_specs(spec: str, pin: Pin) -> None:
    assert conda_pin(spec)[1] is pin


def test_include_cycle_is_read_once(tmp_path: Path) -> None:
    shutil.copytree(DEPS / "cycle", tmp_path / "c")
    manifest = source_at(tmp_path / "c", "requirements.txt").manifest
    assert manifest is not None
    assert sorted(d.name for d in manifest.dependencies) == ["pytest", "requests"]
    assert manifest.included_paths == ["requirements-dev.txt"]


@pytest.mark.parametrize(
    ("name", "role"),
    [("requirements.txt", Role.INSTALL), ("requirements.in", Role.DECLARE),
     ("constraints.txt", Role.CONSTRAINT)],
)
def test_requirements_role_follows_the_file_name(name: str, role: Role) -> None:
    manifest = parse_manifest(source("qiskit==2.1.0\n", name), FileKind.REQUIREMENTS)
    assert manifest is not None
    assert [(d.name, d.pin, d.line) for d in manifest.dependencies] == [("qiskit", Pin.EXACT, 1)]
    assert manifest.role is role


def test_files_that_hold_no_manifest() -> None:
    assert parse_manifest(source("print(1)\n", "a.py"), FileKind.PYTHON) is None


def test_includes_are_not_followed_without_a_reader() -> None:
    document = source("-r base.txt\nqiskit==2.1.0\n", "requirements.txt")
    manifest = parse_manifest(document, FileKind.REQUIREMENTS)
    assert manifest is not None
    assert [d.name for d in manifest.dependencies] == ["qiskit"]
    assert manifest.included_paths == []


def test_includes_are_read_through_the_scan_root(tmp_path: Path) -> None:
    write_tree(tmp_path, {"base.txt": "numpy==2.1.0\n", "../outside.txt": "x==1\n"})
    document = source("-r base.txt\n-r ../outside.txt\nqiskit==2.1.0\n", "requirements.txt",
                      root=ScanRoot.open(tmp_path))
    manifest = document.manifest
    assert manifest is not None
    assert sorted((d.name, d.path, d.line) for d in manifest.dependencies) == [
        ("numpy", "base.txt", 1), ("qiskit", "requirements.txt", 3)
    ]
    assert manifest.included_paths == ["base.txt"]
    assert [(path, line) for path, line, _message in manifest.problems] == [
        ("requirements.txt", 2)
    ]
    assert "outside the scanned root" in manifest.problems[0][2]


def test_a_kind_decides_the_reader() -> None:
    text = '[[package]]\nname = "qiskit"\nversion = "2.1.0"\n'  # as poetry writes it
    lock = source(text, "locks/poetry.lock", kind=FileKind.DEPENDENCY_MANIFEST)
    manifest = lock.manifest
    assert manifest is not None
    assert [(d.name, d.version, d.line) for d in manifest.dependencies] == [("qiskit", "2.1.0", 2)]
    assert source(text, "notes.txt", kind=FileKind.OTHER_TEXT).manifest is None


CONDA_WITH_INCLUDES = """\
name: qml
dependencies:
  - python=3.11
  - pip
  - pip:
      - -r requirements.txt
      - --requirement=ci/extra.txt
      - -c constraints.txt
      - qiskit==2.1.0
      - -r missing.txt
"""


def test_conda_pip_includes_are_followed_relative_to_the_environment_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "env/environment.yml": CONDA_WITH_INCLUDES,
        "env/requirements.txt": "# runtime\nnumpy\npennylane\n",
        "env/ci/extra.txt": "--extra-index-url https://pkgs.example/simple\npytest>=8\n",
        "env/constraints.txt": "pennylane==0.38.0\n",
        "requirements.txt": "wrong==1.0\n",  # next to the scan root, not to the file
    })
    manifest = source_at(tmp_path, "env/environment.yml").manifest
    assert manifest is not None
    assert sorted((d.name, d.path, d.line, d.pin) for d in manifest.dependencies) == [
        ("numpy", "env/requirements.txt", 2, Pin.NONE),
        ("pennylane", "env/constraints.txt", 1, Pin.EXACT),
        ("pennylane", "env/requirements.txt", 3, Pin.NONE),
        ("pytest", "env/ci/extra.txt", 2, Pin.RANGE),
        ("qiskit", "env/environment.yml", 9, Pin.EXACT),
    ]
    assert manifest.included_paths == [
        "env/requirements.txt", "env/ci/extra.txt", "env/constraints.txt"
    ]
    assert manifest.constraints == {"pennylane": "0.38.0"}
    assert [(i.option, i.path, i.line) for i in manifest.indexes] == [
        ("--extra-index-url", "env/ci/extra.txt", 1)
    ]
    # only the include that cannot be read is a problem, at its own line
    assert [(path, line) for path, line, _message in manifest.problems] == [
        ("env/environment.yml", 10)
    ]
    assert "missing.txt" in manifest.problems[0][2]
    assert manifest.errors == []
