"""Dependency manifests read into one shape (``Manifest`` of ``Dependency``).

``parse_manifest`` picks the reader by file name and kind: requirements files and the
``pip:`` list of conda environment files (both following ``-r``/``-c`` includes through a
reader the caller supplies), ``pyproject.toml``, ``poetry.lock``, ``Pipfile`` and
``Pipfile.lock``. ``SourceFile`` caches the result, so the dependency detector and the
vulnerability engine parse each manifest once.
"""

from __future__ import annotations

from scanner.formats.document import Document
from scanner.formats.manifests.model import (
    Dependency,
    IndexOption,
    Manifest,
    Pin,
    Role,
    normalise,
)
from scanner.formats.manifests.project_files import (
    parse_conda_environment,
    parse_pipfile,
    parse_pipfile_lock,
    parse_poetry_lock,
    parse_pyproject,
)
from scanner.formats.manifests.requirements import (
    IncludeReader,
    parse_pip_install_args,
    parse_requirements,
)
from scanner.model import FileKind

__all__ = [
    "MANIFEST_KINDS",
    "Dependency",
    "IndexOption",
    "Manifest",
    "Pin",
    "Role",
    "normalise",
    "parse_manifest",
    "parse_pip_install_args",
]

MANIFEST_KINDS = frozenset(
    {FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.DEPENDENCY_MANIFEST}
)


def parse_manifest(
    document: Document, kind: FileKind, reader: IncludeReader | None = None
) -> Manifest | None:
    """The manifest in ``document``, or None for a file that holds none.

    Raises ``ParseError`` when the file as a whole cannot be read (broken TOML/JSON/YAML);
    single bad entries are listed in ``Manifest.errors`` instead.
    """
    name = document.path.rsplit("/", 1)[-1].lower()
    if kind is FileKind.REQUIREMENTS:
        role = Role.DECLARE if name.endswith(".in") else Role.INSTALL
        if name.startswith("constraint"):
            role = Role.CONSTRAINT
        return parse_requirements(document.text, document.path, role=role, reader=reader)
    if kind is FileKind.PYPROJECT:
        return parse_pyproject(document)
    if kind is FileKind.DEPENDENCY_MANIFEST:
        if name == "poetry.lock":
            return parse_poetry_lock(document)
        if name == "pipfile":
            return parse_pipfile(document)
        if name == "pipfile.lock":
            return parse_pipfile_lock(document)
        return parse_conda_environment(document, reader)
    return None
