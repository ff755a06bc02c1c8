"""Walk a scan root once: honour ignore files, refuse unsafe symlinks, classify files.

The walk only stats; reading happens later in ``read_source``, through ``scanner.fs`` (the
one safe reader). Every file the walk declines to scan for a reason a user would care about
(binary, too large, unreadable, symlink trouble) becomes a ``ScanError`` rather than
disappearing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pathspec

from scanner.fs import DEFAULT_MAX_FILE_BYTES, FileRefused, ScanRoot, os_message, read_text
from scanner.model import FileKind, ScanError
from scanner.source import SourceFile

# Folders that are never project content. Users add more through config `exclude`.
DEFAULT_EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox",
     ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", ".terraform"}
)

# Extensions that are binary by definition; checked before reading a byte.
BINARY_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tiff", ".pdf", ".zip",
     ".gz", ".tgz", ".bz2", ".xz", ".7z", ".tar", ".whl", ".egg", ".so", ".dll", ".dylib",
     ".exe", ".bin", ".o", ".a", ".pyc", ".pyo", ".class", ".jar", ".npy", ".npz", ".h5",
     ".hdf5", ".parquet", ".pkl", ".pickle", ".qpy", ".woff", ".woff2", ".ttf", ".otf",
     ".mp3", ".mp4", ".mov", ".avi", ".wav", ".sqlite", ".db"}
)


@dataclass(frozen=True)
class Candidate:
    """A file the walk accepted; not yet read."""

    path: str  # POSIX, relative to root
    abs_path: Path
    size: int


@dataclass
class WalkResult:
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)


def _load_ignore(directory: Path, name: str) -> pathspec.PathSpec | None:
    ignore_file = directory / name
    try:
        lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


@dataclass(frozen=True)
class _IgnoreLayer:
    base: str  # POSIX path of the directory holding the ignore file, relative to root
    spec: pathspec.PathSpec


def _ignored(layers: list[_IgnoreLayer], rel: str, is_dir: bool) -> bool:
    for layer in layers:
        sub = rel if not layer.base else rel[len(layer.base) + 1 :]
        candidate = sub + "/" if is_dir else sub
        if layer.spec.match_file(candidate):
            return True
    return False


def walk(
    root: Path,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    exclude: list[str] | None = None,
    use_gitignore: bool = True,
) -> WalkResult:
    """One pass over ``root``. A single-file root yields just that file."""
    result = WalkResult()
    root = root.absolute()
    try:
        real_root = Path(os.path.realpath(root, strict=True))
    except OSError as exc:
        result.errors.append(ScanError(path=".", reason="unreadable", message=str(exc.strerror)))
        return result
    if real_root.is_file():
        stat = real_root.stat()
        _accept(result, Candidate(root.name, real_root, stat.st_size), max_file_bytes)
        return result

    user_spec = pathspec.GitIgnoreSpec.from_lines(exclude or [])
    layers: list[_IgnoreLayer] = [_IgnoreLayer("", user_spec)]
    for rel, entry in _walk_dir(real_root, "", layers, result, use_gitignore):
        try:
            size = entry.stat(follow_symlinks=False).st_size
        except OSError as exc:
            result.errors.append(ScanError(path=rel, reason="unreadable", message=os_message(exc)))
            continue
        _accept(result, Candidate(rel, Path(entry.path), size), max_file_bytes)
    return result


def _accept(result: WalkResult, candidate: Candidate, max_file_bytes: int) -> None:
    if candidate.size > max_file_bytes:
        result.errors.append(
            ScanError(
                path=candidate.path,
                reason="too-large",
                message=(
                    f"skipped: {candidate.size:,} bytes exceeds the "
                    f"{max_file_bytes:,}-byte limit (max_file_size)"
                ),
            )
        )
    elif PurePosixPath(candidate.path).suffix.lower() in BINARY_EXTENSIONS:
        result.errors.append(
            ScanError(path=candidate.path, reason="binary", message="skipped: binary file")
        )
    else:
        result.candidates.append(candidate)


def _walk_dir(
    real_root: Path,
    rel_dir: str,
    layers: list[_IgnoreLayer],
    result: WalkResult,
    use_gitignore: bool,
) -> Iterator[tuple[str, os.DirEntry[str]]]:
    directory = real_root / rel_dir if rel_dir else real_root
    own_layers = list(layers)
    for name in ((".gitignore", ".qgovignore") if use_gitignore else (".qgovignore",)):
        spec = _load_ignore(directory, name)
        if spec is not None:
            own_layers.append(_IgnoreLayer(rel_dir, spec))
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        result.errors.append(
            ScanError(path=rel_dir or ".", reason="unreadable", message=os_message(exc))
        )
        return
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        if entry.is_symlink():
            _report_symlink(real_root, rel, entry, result)
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir and entry.name in DEFAULT_EXCLUDED_DIRS:
            continue
        if _ignored(own_layers, rel, is_dir):
            continue
        if is_dir:
            yield from _walk_dir(real_root, rel, own_layers, result, use_gitignore)
        elif entry.is_file(follow_symlinks=False):
            yield rel, entry


def _report_symlink(real_root: Path, rel: str, entry: os.DirEntry[str], result: WalkResult) -> None:
    """Symlinks are never followed. Loops and links leaving the root are reported; links
    inside the root are skipped silently because their target is scanned in place."""
    try:
        target = Path(os.path.realpath(entry.path, strict=True))
    except OSError as exc:
        if exc.errno == 40 or "loop" in str(exc).lower():  # ELOOP
            result.errors.append(
                ScanError(path=rel, reason="symlink-loop", message="skipped: symlink loop")
            )
        else:
            result.errors.append(
                ScanError(path=rel, reason="unreadable", message="skipped: dangling symlink")
            )
        return
    if target != real_root and real_root not in target.parents:
        result.errors.append(
            ScanError(
                path=rel,
                reason="symlink-outside-root",
                message="skipped: symlink points outside the scanned root",
            )
        )


# --- reading and classification -------------------------------------------------------

def read_source(candidate: Candidate, root: ScanRoot) -> SourceFile | ScanError:
    """Read a candidate once (regular files only, size-capped, binary refused), classify it."""
    try:
        text = read_text(candidate.abs_path, max_bytes=root.max_bytes)
    except FileRefused as exc:
        return ScanError(path=candidate.path, reason=exc.reason, message=exc.message)
    return SourceFile(
        candidate.path, candidate.abs_path, classify(candidate.path, text), text, root=root
    )


_CFN_MARKERS = re.compile(
    r"AWSTemplateFormatVersion|^\s*Type:\s*['\"]?AWS::|\"Type\"\s*:\s*\"AWS::", re.M
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
