"""Where the shipped data folders live, in a checkout and in an installed wheel.

In a source checkout ``controls/``, ``mappings/`` and ``report_templates/`` sit at the
repository root beside ``scanner/``. The wheel installs them under ``scanner/_data/``
(see ``[tool.setuptools.data-files]``-free layout in pyproject), so we look there first.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name
