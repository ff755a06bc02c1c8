"""The governed job's optional dependencies (the ``job`` extra): qiskit and Aer for the
simulator, the IBM Runtime and Braket SDKs for the provider adapters, and the OpenQASM 3
importer. ``pip install qgov`` scans without them; every place that imports one checks
first, so a missing extra is a clear error (exit 2), never a traceback.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from scanner.governed.errors import GovernedError

INSTALL_HINT = "pip install 'qgov[job]'"
# Top-level module -> the distribution that brings it.
JOB_MODULES = {
    "qiskit": "qiskit",
    "qiskit_aer": "qiskit-aer",
    "qiskit_ibm_runtime": "qiskit-ibm-runtime",
    "braket": "amazon-braket-sdk",
    "qiskit_qasm3_import": "qiskit-qasm3-import",
}

R = TypeVar("R")


class MissingJobExtra(GovernedError):
    """A module of the ``job`` extra is not installed."""


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked package counts as missing
        return False


def require_job_extra(*modules: str) -> None:
    """Raise ``MissingJobExtra`` unless ``modules`` (default: the whole extra) import."""
    missing = [JOB_MODULES[m] for m in (modules or tuple(JOB_MODULES)) if not _installed(m)]
    if missing:
        raise MissingJobExtra(
            f"the governed job needs the job extra: {INSTALL_HINT} "
            f"(missing: {', '.join(missing)})"
        )


def needs_job_extra(handler: Callable[..., R]) -> Callable[..., R]:
    """Check the whole extra before a command starts, so nothing is half done."""

    @wraps(handler)
    def checked(*args: object, **kwargs: object) -> R:
        require_job_extra()
        return handler(*args, **kwargs)

    return checked
