"""Dependency manifests read into one shape (``Manifest`` of ``Dependency``).

``parse_manifest(source)`` picks the reader by file name and kind and caches the result on
the ``SourceFile`` so the dependency detector and the vulnerability engine parse each
manifest once. Requirements files follow their ``-r`` / ``-c`` includes, read only from
inside the scan root.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from scanner.deps.manifests import (
    parse_conda_environment,
    parse_pipfile,
    parse_pipfile_lock,
    parse_poetry_lock,
    parse_pyproject,
)
from scanner.deps.model import Dependency, IndexOption, Manifest, Pin, Role, normalise
from scanner.deps.requirements import IncludeReader, parse_pip_install_args, parse_requirements
from scanner.model import FileKind
from scanner.source import SourceFile

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
    "scan_root_of",
]

MAX_INCLUDE_BYTES = 2 * 1024 * 1024
MANIFEST_KINDS = frozenset(
    {FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.DEPENDENCY_MANIFEST}
)


def scan_root_of(source: SourceFile) -> Path:
    """The scanned root: ``abs_path`` with ``path``'s components taken off the end."""
    depth = len(PurePosixPath(source.path).parts)
    root = source.abs_path
    for _ in range(depth):
        root = root.parent
    return root


def include_reader(source: SourceFile) -> IncludeReader:
    """Read ``-r``/``-c`` targets relative to the including file, never outside the root,
    never through a symlink that leaves it, never more than ``MAX_INCLUDE_BYTES``."""
    root = Path(os.path.realpath(scan_root_of(source)))

    def read(including: str, target: str) -> tuple[str, str] | str:
        base = PurePosixPath(including).parent
        candidate = PurePosixPath(target.replace("\\", "/"))
        if candidate.is_absolute():
            try:
                candidate = PurePosixPath(Path(candidate).resolve().relative_to(root).as_posix())
            except ValueError:
                return "outside the scanned root; not followed"
        else:
            candidate = base / candidate
        rel = os.path.normpath(candidate.as_posix())
        if rel == ".." or rel.startswith("../") or os.path.isabs(rel):
            return "outside the scanned root; not followed"
        absolute = Path(os.path.realpath(root / rel))
        if absolute != root and root not in absolute.parents:
            return "resolves outside the scanned root; not followed"
        try:
            if absolute.stat().st_size > MAX_INCLUDE_BYTES:
                return "too large to follow"
            text = absolute.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"cannot read ({exc.strerror or exc.__class__.__name__})"
        return PurePosixPath(rel).as_posix(), text

    return read


def parse_manifest(source: SourceFile) -> Manifest | None:
    """The manifest in ``source`` (cached per file), or None for a file that is none.

    Raises ``scanner.source.ParseError`` when the file as a whole cannot be read (broken
    TOML/JSON/YAML); single bad entries are listed in ``Manifest.errors`` instead.
    """
    if "deps_manifest" in source.cache:
        cached: Manifest | None = source.cache["deps_manifest"]
        return cached
    manifest = _parse(source)
    source.cache["deps_manifest"] = manifest
    return manifest


def _parse(source: SourceFile) -> Manifest | None:
    name = PurePosixPath(source.path).name.lower()
    if source.kind is FileKind.REQUIREMENTS:
        role = Role.DECLARE if name.endswith(".in") else Role.INSTALL
        if name.startswith("constraint"):
            role = Role.CONSTRAINT
        return parse_requirements(
            source.text, source.path, role=role, reader=include_reader(source)
        )
    if source.kind is FileKind.PYPROJECT:
        return parse_pyproject(source)
    if source.kind is FileKind.DEPENDENCY_MANIFEST:
        if name == "poetry.lock":
            return parse_poetry_lock(source)
        if name == "pipfile":
            return parse_pipfile(source)
        if name == "pipfile.lock":
            return parse_pipfile_lock(source)
        return parse_conda_environment(source)
    return None
