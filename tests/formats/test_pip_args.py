"""Package lists of ``pip install`` command lines (notebook magics, Dockerfile RUN lines)."""

from __future__ import annotations

import pytest

from scanner.formats.manifests import parse_pip_install_args
from scanner.formats.pip_args import PIP_INSTALL_LINE, unpinned_requirements


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%pip install qiskit==2.1.0 numpy", ["qiskit==2.1.0", "numpy"]),
        ("!pip install -q -U 'qiskit[visualization]>=1.0' ./local.whl", ["qiskit[visualization]>=1.0"]),
        ("!python -m pip install --index-url https://x/simple qiskit=1.2.0", ["qiskit==1.2.0"]),
        ("print('no install here')", []),
    ],
)
def test_parse_pip_install_args(line: str, expected: list[str]) -> None:
    assert [str(r) for r in parse_pip_install_args(line)] == expected


@pytest.mark.parametrize(
    ("line", "loose"),
    [
        ("%pip install qiskit", ["qiskit"]),
        ("!pip install -q qiskit-ibm-runtime>=0.20 qiskit==2.1.0", ["qiskit-ibm-runtime>=0.20"]),
        ("%pip install qiskit==2.1.0 qiskit-aer==0.17.1", []),
        ("%pip install -r requirements.lock", []),
        ("pip install ./vendor/pkg https://example.org/pkg-1.0.tar.gz", []),
    ],
)
def test_unpinned_requirements(line: str, loose: list[str]) -> None:
    assert PIP_INSTALL_LINE.match(line)
    assert unpinned_requirements(line) == loose


@pytest.mark.parametrize("line", ["# %pip install qiskit", "pipenv install", "echo pip install"])
def test_only_install_command_lines_match(line: str) -> None:
    assert PIP_INSTALL_LINE.match(line) is None
