"""What the audit-pack tests share: qgov through its CLI, a small project with a leak, an
unpinned dependency and an exceptions register, and a pack's files as bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.cli import main
from tests.helpers import write_tree

# Built at run time so no literal credential sits in the repository.
TOKEN = "Q7fK2mZp9LwR4tYb8NcV" + "1sXd6HjE3uAo0Gi5"
OTHER_TOKEN = "Zr3Wq8Ly1Kp6Vn2Hs9Tb" + "4Mg7Jc0Xd5Ue8Af1"
# 2026-11-01 and 2027-01-15, 12:00 UTC.
EPOCH_NOV_2026 = "1793534400"
EPOCH_JAN_2027 = "1800014400"

EXCEPTIONS = """\
exceptions:
  - id: EXC-1
    control: SCM-01
    scope:
      paths: ["requirements.txt"]
    risk_owner: platform-lead@example.org
    reason: The SDK is pinned by the lock file the image build uses
    compensating_controls: [image build from the lock file]
    expires: 2026-12-31
"""


def project(root: Path) -> Path:
    """An IonQ key in src/leak.py (QG-SEC-008, SEC-01), an unpinned qiskit accepted as risk
    by EXC-1 until 2026-12-31 (QG-DEP-001, SCM-01 and PRV-03)."""
    return write_tree(root, {
        "src/leak.py": f'IONQ_API_KEY = "{TOKEN}"\n',
        "requirements.txt": "qiskit\n",
        ".qgov-exceptions.yaml": EXCEPTIONS,
    })


def qgov(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def pack_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of a pack folder, by its path inside the pack."""
    found = {}
    for directory, _, names in os.walk(folder):
        for name in names:
            path = Path(directory) / name
            found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def siblings(folder: Path) -> list[str]:
    """Names beside ``folder`` that a half-written pack would leave (temporary folders)."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}"))
