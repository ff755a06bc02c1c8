"""Capture of the software and platform a run used, for the execution record."""

from __future__ import annotations

import platform
import sys
from importlib import metadata


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def capture() -> dict[str, str | None]:
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "qiskit": _version("qiskit"),
        "qiskit_aer": _version("qiskit-aer"),
        "numpy": _version("numpy"),
        "qgov": _version("qgov"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "byteorder": sys.byteorder,
    }
