"""What a scan reads under the repository root: folders walked, files named (on the command
line, by pre-commit, by ``--diff``), or the content git's index holds (``--staged``), plus
the rest of each module a module detector reads.

Every path is relative to the repository root (``scanner.repo``), so a file has one path
and one fingerprint however it was reached. A named file that belongs to a module (a
Terraform ``.tf``: the module is its folder's ``.tf`` files) brings the module's other
files with it, read the same way (from the index for ``--staged``): a module checked
without them would report a bucket's encryption, defined in a sibling file, as missing.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.config import Settings
from scanner.detectors.interface import Detector, ModuleDetector
from scanner.discover import (
    Candidate,
    Ignores,
    WalkResult,
    classify,
    read_source,
    refusal,
    walk_targets,
)
from scanner.fs import ScanRoot, decode, is_binary
from scanner.governance.names import EXCEPTIONS_FILE_NAMES
from scanner.model import ScanError, printable
from scanner.repo import Git, RepoRoot
from scanner.source import SourceFile


@dataclass(frozen=True)
class Selection:
    """What to scan: ``targets`` are files and folders relative to the root ("" is all of
    it); with ``staged`` they are index paths whose staged content is read."""

    targets: tuple[str, ...] = ("",)
    staged: bool = False
    # What the selection is, for the notice when it is empty ("staged files").
    label: str | None = None
    # Named files, --staged or --diff: a few files of the repository, so checks that need
    # all of it (the provider inventory held against the policy) wait for a full scan.
    partial: bool = False

    @classmethod
    def of(cls, root: RepoRoot, paths: Sequence[Path]) -> Selection:
        targets = tuple(root.relative(p) or "" for p in paths)
        return cls(targets, partial=any(t and not (root.path / t).is_dir() for t in targets))


def within(paths: Sequence[str], scopes: Sequence[str]) -> list[str]:
    """The ``paths`` under one of the folders or files ``scopes`` ("" holds everything)."""
    if "" in scopes:
        return list(paths)
    return [p for p in paths if any(p == s or p.startswith(s + "/") for s in scopes)]


def config_base(root: RepoRoot, settings: Settings) -> str:
    """The config's folder relative to the root: its ``exclude`` and ``regulated_paths``
    patterns are written for that folder ("" when it is the root or lies outside)."""
    if not settings.source_dir:
        return ""
    return root.relative(Path(settings.source_dir)) or ""


def discover_sources(
    root: RepoRoot,
    selection: Selection,
    settings: Settings,
    detectors: Sequence[Detector],
    errors: list[ScanError],
    notices: list[str],
) -> tuple[list[SourceFile], int]:
    """The files to scan, and how many files and folders the ignore rules left out."""
    scan_root = ScanRoot.open(root.path, settings.max_file_size)
    excluded = 0
    base = config_base(root, settings)
    git = Git(root) if selection.staged else None
    if git is not None:
        result = WalkResult()
        ignores = Ignores(root.path, result, exclude=settings.exclude, exclude_base=base,
                          use_gitignore=settings.use_gitignore)
        kept = [p for p in selection.targets if not ignores.named_excluded(p)]
        if len(kept) < len(selection.targets):
            notices.append(
                f"{len(selection.targets) - len(kept)} staged file(s) not scanned: excluded by "
                "exclude: or .qgovignore"
            )
        errors.extend(result.errors)
        excluded = len(selection.targets) - len(kept)
        sources = _read_index(git, kept, root, scan_root, settings.max_file_size, errors)
    else:
        walked = walk_targets(
            root.path, selection.targets, max_file_bytes=settings.max_file_size,
            exclude=settings.exclude, exclude_base=base, use_gitignore=settings.use_gitignore,
        )
        errors.extend(walked.errors)
        notices.extend(walked.notices)
        excluded = walked.excluded
        sources = _read_all(walked, scan_root, errors)
    if not selection.targets and selection.label:
        notices.append(f"no {selection.label} to scan")
    named = {t for t in selection.targets if t} if selection.partial else set()
    if named:
        sources += _module_siblings(sources, named, detectors, root, scan_root, settings, base,
                                    git)
    return sources, excluded


def _read_all(walked: WalkResult, scan_root: ScanRoot, errors: list[ScanError]) -> list[SourceFile]:
    sources = []
    for candidate in walked.candidates:
        read = read_source(candidate, scan_root)
        if isinstance(read, ScanError):
            errors.append(read)
        else:
            sources.append(read)
    return sources


def _read_index(
    git: Git,
    paths: Sequence[str],
    root: RepoRoot,
    scan_root: ScanRoot,
    max_bytes: int,
    errors: list[ScanError],
) -> list[SourceFile]:
    """The staged content of ``paths`` (never the working tree's: an unstaged edit is not
    what the commit will hold)."""
    index = git.index()
    entries = [index[p] for p in paths if p in index]  # symlinks and submodules aside
    blobs = git.read_blobs([e.blob for e in entries], max_bytes)
    sources = []
    for entry in entries:
        shown = printable(entry.path)
        blob = blobs.get(entry.blob)
        if blob is None:
            errors.append(ScanError(path=shown, reason="unreadable",
                                    message="cannot read: not in git's object store"))
            continue
        refused = refusal(shown, blob.size, max_bytes)
        if refused is not None:
            errors.append(refused)
            continue
        if blob.data is None or is_binary(blob.data):
            errors.append(ScanError(path=shown, reason="binary", message="skipped: binary file"))
            continue
        text = decode(blob.data)
        source = SourceFile(shown, root.path / entry.path, classify(shown, text), text,
                            root=scan_root)
        source.on_disk = False
        sources.append(source)
    return sources


def _module_siblings(
    sources: Sequence[SourceFile],
    named: set[str],
    detectors: Sequence[Detector],
    root: RepoRoot,
    scan_root: ScanRoot,
    settings: Settings,
    base: str,
    git: Git | None,
) -> list[SourceFile]:
    """The other files of every module a named file belongs to (a module lies within one
    folder, as a Terraform module does). A sibling that cannot be read is left to a scan
    that names it: it is not what this scan was asked about."""
    modular = [d for d in detectors if isinstance(d, ModuleDetector)]
    wanted: dict[str, set[tuple[str, str]]] = {}  # folder -> {(detector, module)}
    for source in sources:
        if source.path not in named:
            continue
        for detector in modular:
            module = detector.module_of(source) if source.kind in detector.kinds else None
            if module is not None:
                wanted.setdefault(posixpath.dirname(source.path), set()).add(
                    (detector.name, module)
                )
    if not wanted:
        return []
    present = {s.path for s in sources}
    extra: list[SourceFile] = []
    for folder, modules in sorted(wanted.items()):
        if git is not None:
            listing = [p for p in git.index() if posixpath.dirname(p) == folder]
        else:
            listing = _files_in(root.path / folder if folder else root.path, folder)
        fresh = [p for p in listing if printable(p) not in present]
        if not fresh:
            continue
        if git is not None:
            found = _read_index(git, fresh, root, scan_root, settings.max_file_size, [])
        else:
            walked = walk_targets(
                root.path, fresh, max_file_bytes=settings.max_file_size,
                exclude=settings.exclude, exclude_base=base,
                use_gitignore=settings.use_gitignore, named=False,
            )
            found = _read_all(walked, scan_root, [])
        for source in found:
            if any(
                d.name == name and source.kind in d.kinds and d.module_of(source) == module
                for d in modular
                for name, module in modules
            ):
                extra.append(source)
                present.add(source.path)
    return extra


def _files_in(folder: Path, rel: str) -> list[str]:
    """Regular files directly in ``folder``, as paths under the root (names as the OS gives
    them: they are walked next)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    found = []
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False):
                found.append(f"{rel}/{entry.name}" if rel else entry.name)
        except OSError:
            continue
    return found


def register_files(root: RepoRoot, sources: Sequence[SourceFile]) -> list[SourceFile]:
    """The exceptions register at the top of the root when the scan did not select it (a
    pre-commit run passes only the changed files): its accepted risks apply all the same,
    or a hook would call them new."""
    present = {s.path for s in sources}
    extra = []
    scan_root = ScanRoot.open(root.path)
    for name in sorted(EXCEPTIONS_FILE_NAMES):
        if name in present or not (root.path / name).is_file():
            continue
        read = read_source(Candidate(name, root.path / name, 0), scan_root)
        if isinstance(read, SourceFile):
            extra.append(read)
    return extra
