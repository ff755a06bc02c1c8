"""Walk a scan root once: honour ignore files, refuse unsafe symlinks, classify files.

The walk only stats; reading happens later in ``read_source``, through ``scanner.fs`` (the
one safe reader). Every file the walk declines to scan for a reason a user would care about
(binary, too large, unreadable, symlink trouble) becomes a ``ScanError`` rather than
disappearing.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pathspec

from scanner.classify import classify
from scanner.fs import DEFAULT_MAX_FILE_BYTES, FileRefused, ScanRoot, os_message, read_text
from scanner.model import ScanError, printable
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

    path: str  # POSIX, relative to root, printable (see ``printable``)
    abs_path: Path  # the real name on disk, whatever bytes it holds
    size: int


@dataclass
class WalkResult:
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    excluded: int = 0  # files and folders an ignore file or exclude pattern left out
    notices: list[str] = field(default_factory=list)


# An ignore file is a short list of patterns; a huge one is refused, not parsed.
MAX_IGNORE_FILE_BYTES = 1024 * 1024


def compile_patterns(lines: list[str]) -> tuple[pathspec.PathSpec, list[tuple[int, str]]]:
    """gitignore-style patterns, each line on its own: a line pathspec cannot read is left
    out (and returned with its 1-based number) instead of making the whole list unusable."""
    good: list[str] = []
    bad: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except Exception:  # pathspec raises its own errors, re.error and ValueError
            bad.append((number, line))
        else:
            good.append(line)
    return pathspec.GitIgnoreSpec.from_lines(good), bad


def invalid_patterns(patterns: list[str]) -> list[str]:
    """The patterns in a config list that are not valid gitignore patterns."""
    return [pattern for _number, pattern in compile_patterns(patterns)[1]]


@dataclass(frozen=True)
class _IgnoreLayer:
    base: str  # POSIX path of the directory holding the ignore file, relative to root
    spec: pathspec.PathSpec
    git: bool = False  # from a .gitignore (which does not hide files named directly)
    lines: tuple[str, ...] = ()  # the valid patterns, to drop some for a named folder


def _load_ignore(
    directory: Path, rel_dir: str, name: str, result: WalkResult
) -> _IgnoreLayer | None:
    path = directory / name
    if not os.path.lexists(path):
        return None
    where = printable(f"{rel_dir}/{name}" if rel_dir else name)
    try:
        text = read_text(path, max_bytes=MAX_IGNORE_FILE_BYTES)
    except FileRefused as exc:
        result.errors.append(ScanError(path=where, reason=exc.reason, message=exc.message))
        return None
    spec, bad = compile_patterns(text.splitlines())
    result.errors.extend(
        ScanError(
            path=where,
            reason="parse-error",
            line=number,
            message="not a valid ignore pattern; this line was skipped",
        )
        for number, _line in bad
    )
    lines = text.splitlines()
    bad_numbers = {number for number, _line in bad}
    good = tuple(line for number, line in enumerate(lines, start=1) if number not in bad_numbers)
    return _IgnoreLayer(rel_dir, spec, git=name == ".gitignore", lines=good)


def _ignored(layers: list[_IgnoreLayer], rel: str, is_dir: bool) -> bool:
    for layer in layers:
        if layer.base and not rel.startswith(layer.base + "/"):
            continue  # a config's patterns apply below the config's folder only
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
        info = real_root.stat()
    except OSError as exc:
        result.errors.append(ScanError(path=".", reason="unreadable", message=os_message(exc)))
        return result
    if stat.S_ISREG(info.st_mode):
        _accept(result, Candidate(printable(root.name), real_root, info.st_size), max_file_bytes)
        return result
    if not stat.S_ISDIR(info.st_mode):
        result.errors.append(_not_a_file(printable(root.name)))
        return result
    user_spec, _bad = compile_patterns(exclude or [])  # the config refuses bad patterns
    for rel, entry in _walk_tree(real_root, [_IgnoreLayer("", user_spec)], result, use_gitignore):
        try:
            size = entry.stat(follow_symlinks=False).st_size
        except OSError as exc:
            result.errors.append(
                ScanError(path=printable(rel), reason="unreadable", message=os_message(exc))
            )
            continue
        _accept(result, Candidate(printable(rel), Path(entry.path), size), max_file_bytes)
    return result


# --- targets under a repository root ------------------------------------------------------


def rebase_patterns(patterns: Sequence[str], base: str) -> list[str]:
    """gitignore-style ``patterns`` written for the folder ``base`` (a config's folder,
    relative to the repository root) as patterns relative to the root."""
    if not base:
        return list(patterns)
    rebased = []
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        if not body.strip() or body.startswith("#"):
            rebased.append(pattern)
            continue
        if body.startswith("/"):
            body = f"{base}{body}"
        elif "/" in body.rstrip("/"):  # a slash inside anchors it to the config's folder
            body = f"{base}/{body}"
        else:  # a bare name matches at any depth below the config's folder
            body = f"{base}/**/{body}"
        rebased.append(("!" if negated else "") + body)
    return rebased


class Ignores:
    """The repository's ignore rules for any path under the root, without walking to it:
    the ignore files of every folder from the root down (read once each), the config's
    ``exclude`` (patterns relative to ``exclude_base``, the config's folder) and the folders
    never scanned.

    A file or folder *named* directly (on the command line, by pre-commit, by --staged or
    --diff) is not hidden by a ``.gitignore``: git applies .gitignore to untracked files
    only, and those hand-overs are tracked files or what the user asked for. ``.qgovignore``,
    ``exclude`` and the never-scanned folders (.venv, node_modules …) apply to it as to any
    file, so a hook and a whole-repository scan agree."""

    def __init__(
        self,
        real_root: Path,
        result: WalkResult,
        *,
        exclude: list[str] | None = None,
        exclude_base: str = "",
        use_gitignore: bool = True,
    ) -> None:
        self.real_root = real_root
        self.result = result
        self.use_gitignore = use_gitignore
        user_spec, _bad = compile_patterns(exclude or [])  # the config refuses bad patterns
        self.top = [_IgnoreLayer(exclude_base, user_spec)]
        # folder -> (layers that apply inside it, why the folder itself is excluded)
        self._inside: dict[str, tuple[list[_IgnoreLayer], str | None]] = {}

    def inside(self, rel_dir: str) -> tuple[list[_IgnoreLayer], str | None]:
        """The layers that apply to entries of ``rel_dir`` (its own ignore files included),
        and ``"qgov"``/``"git"`` when the folder itself is excluded (by qgov's own rules, or
        only by a .gitignore)."""
        known = self._inside.get(rel_dir)
        if known is not None:
            return known
        if not rel_dir:
            layers, why = list(self.top), None
        else:
            parent_layers, why = self.inside(posixpath.dirname(rel_dir))
            own = [layer for layer in parent_layers if not layer.git]
            if why == "qgov" or posixpath.basename(rel_dir) in DEFAULT_EXCLUDED_DIRS or (
                _ignored(own, rel_dir, True)
            ):
                why = "qgov"
            elif why is None and _ignored(parent_layers, rel_dir, True):
                why = "git"
            layers = list(parent_layers)
        directory = self.real_root / rel_dir if rel_dir else self.real_root
        for name in _ignore_names(self.use_gitignore):
            layer = _load_ignore(directory, rel_dir, name, self.result)
            if layer is not None:
                layers.append(layer)
        self._inside[rel_dir] = (layers, why)
        return layers, why

    def above(self, rel: str) -> list[_IgnoreLayer]:
        """The layers that apply to ``rel`` (the ones of its folder and every folder up)."""
        return self.inside(posixpath.dirname(rel))[0]

    def named_excluded(self, rel: str) -> bool:
        """Whether qgov's own rules exclude ``rel``, a file named directly."""
        layers, why = self.inside(posixpath.dirname(rel))
        return why == "qgov" or _ignored([layer for layer in layers if not layer.git], rel, False)

    def named_folder(self, rel_dir: str) -> list[_IgnoreLayer] | None:
        """The layers to walk ``rel_dir``, a folder named directly, with (None: qgov's own
        rules exclude it). Like a named file, it is not hidden by a .gitignore that lists it
        or a folder above it; .gitignore lines about what is inside still apply."""
        if not rel_dir:
            return list(self.top)
        layers, why = self.inside(posixpath.dirname(rel_dir))
        name = posixpath.basename(rel_dir)
        own = [layer for layer in layers if not layer.git]
        if why == "qgov" or name in DEFAULT_EXCLUDED_DIRS or _ignored(own, rel_dir, True):
            return None
        chain = [rel_dir]
        while "/" in chain[-1]:
            chain.append(posixpath.dirname(chain[-1]))
        return [_without(layer, chain) if layer.git else layer for layer in layers]

    def folder_excluded(self, rel_dir: str) -> bool:
        """Whether a whole-root walk would skip the folder ``rel_dir``."""
        if not rel_dir:
            return False
        layers, why = self.inside(posixpath.dirname(rel_dir))
        return (
            why is not None
            or posixpath.basename(rel_dir) in DEFAULT_EXCLUDED_DIRS
            or _ignored(layers, rel_dir, True)
        )


def _without(layer: _IgnoreLayer, folders: Sequence[str]) -> _IgnoreLayer:
    """``layer`` without the lines that hide one of ``folders``."""
    if not any(_ignored([layer], folder, True) for folder in folders):
        return layer
    kept = tuple(
        line for line in layer.lines
        if not any(
            _ignored([_IgnoreLayer(layer.base, pathspec.GitIgnoreSpec.from_lines([line]))],
                     folder, True)
            for folder in folders
        )
    )
    return _IgnoreLayer(layer.base, pathspec.GitIgnoreSpec.from_lines(kept), True, kept)


def walk_targets(
    root: Path,
    targets: Sequence[str],
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    exclude: list[str] | None = None,
    exclude_base: str = "",
    use_gitignore: bool = True,
    named: bool = True,
) -> WalkResult:
    """Walk ``targets`` (POSIX paths relative to the repository root ``root``; "" is all of
    it), every candidate's path relative to the root. A folder yields what a walk of the
    whole root yields under it, unless a .gitignore hides the folder itself; a file target
    is a file named directly (see ``Ignores``), unless ``named`` is false (then every ignore
    rule applies to it)."""
    result = WalkResult()
    try:
        real_root = Path(os.path.realpath(root, strict=True))
    except OSError as exc:
        result.errors.append(ScanError(path=".", reason="unreadable", message=os_message(exc)))
        return result
    ignores = Ignores(
        real_root, result, exclude=exclude, exclude_base=exclude_base, use_gitignore=use_gitignore
    )
    unique = list(dict.fromkeys(targets))
    folders = [t for t in unique if t == "" or (real_root / t).is_dir()]
    excluded: list[str] = []
    for target in unique:
        # A target inside a folder target is walked with it.
        if any(f != target and (f == "" or target.startswith(f + "/")) for f in folders):
            continue
        if target in folders:
            layers = ignores.named_folder(target)
            if layers is None:
                result.notices.append(
                    f"{printable(target)}: excluded by exclude:, .qgovignore or as a folder "
                    "never scanned; nothing under it was scanned"
                )
                continue
            for rel, entry in _walk_tree(real_root, layers, result, use_gitignore, target):
                _add_entry(result, rel, entry, max_file_bytes)
            continue
        if ignores.named_excluded(target) if named else (
            ignores.folder_excluded(posixpath.dirname(target))
            or _ignored(ignores.above(target), target, False)
        ):
            excluded.append(target)
            continue
        _add_file(result, real_root, target, max_file_bytes)
    if excluded and named:
        shown = ", ".join(printable(p) for p in excluded[:3])
        more = f" and {len(excluded) - 3} more" if len(excluded) > 3 else ""
        result.notices.append(
            f"{len(excluded)} named file(s) not scanned: excluded by exclude: or .qgovignore "
            f"({shown}{more})"
        )
    result.candidates = list({c.path: c for c in result.candidates}.values())
    result.errors = list(dict.fromkeys(result.errors))
    return result


def _add_entry(result: WalkResult, rel: str, entry: os.DirEntry[str], max_file_bytes: int) -> None:
    try:
        size = entry.stat(follow_symlinks=False).st_size
    except OSError as exc:
        result.errors.append(
            ScanError(path=printable(rel), reason="unreadable", message=os_message(exc))
        )
        return
    _accept(result, Candidate(printable(rel), Path(entry.path), size), max_file_bytes)


def _add_file(result: WalkResult, real_root: Path, rel: str, max_file_bytes: int) -> None:
    path = real_root / rel
    try:
        info = path.lstat()
    except OSError as exc:
        result.errors.append(
            ScanError(path=printable(rel), reason="unreadable", message=os_message(exc))
        )
        return
    if stat.S_ISLNK(info.st_mode):
        return  # its target is scanned where it lies (the caller resolved named links)
    if not stat.S_ISREG(info.st_mode):
        result.errors.append(_not_a_file(printable(rel)))
        return
    _accept(result, Candidate(printable(rel), path, info.st_size), max_file_bytes)


def _not_a_file(path: str) -> ScanError:
    return ScanError(
        path=path,
        reason="not-a-file",
        message="skipped: not a regular file (named pipe, socket or device)",
    )


def refusal(path: str, size: int, max_file_bytes: int) -> ScanError | None:
    """Why a file of this name and size is not read (too large, binary by its extension)."""
    if size > max_file_bytes:
        return ScanError(
            path=path,
            reason="too-large",
            message=(
                f"skipped: {size:,} bytes exceeds the "
                f"{max_file_bytes:,}-byte limit (max_file_size)"
            ),
        )
    if PurePosixPath(path).suffix.lower() in BINARY_EXTENSIONS:
        return ScanError(path=path, reason="binary", message="skipped: binary file")
    return None


def _accept(result: WalkResult, candidate: Candidate, max_file_bytes: int) -> None:
    refused = refusal(candidate.path, candidate.size, max_file_bytes)
    if refused is not None:
        result.errors.append(refused)
    else:
        result.candidates.append(candidate)


@dataclass
class _Folder:
    rel: str
    layers: list[_IgnoreLayer]
    entries: Iterator[os.DirEntry[str]]


def _ignore_names(use_gitignore: bool) -> tuple[str, ...]:
    return (".gitignore", ".qgovignore") if use_gitignore else (".qgovignore",)


def _walk_tree(
    real_root: Path,
    root_layers: list[_IgnoreLayer],
    result: WalkResult,
    use_gitignore: bool,
    start: str = "",
) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Files in name order, depth first, with an explicit stack (a tree can be deeper than
    Python's own), from the folder ``start`` (relative to the root; ``root_layers`` are the
    ignore layers that apply inside its parent). Names stay as the OS gives them (undecodable
    bytes as surrogates) for reading and ignore matching; they are made printable only for
    reports."""
    ignore_names = _ignore_names(use_gitignore)

    def enter(rel_dir: str, layers: list[_IgnoreLayer]) -> _Folder | None:
        directory = real_root / rel_dir if rel_dir else real_root
        own_layers = list(layers)
        for name in ignore_names:
            layer = _load_ignore(directory, rel_dir, name, result)
            if layer is not None:
                own_layers.append(layer)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            result.errors.append(
                ScanError(
                    path=printable(rel_dir) or ".", reason="unreadable", message=os_message(exc)
                )
            )
            return None
        return _Folder(rel_dir, own_layers, iter(entries))

    top = enter(start, root_layers)
    stack = [top] if top is not None else []
    while stack:
        folder = stack[-1]
        entry = next(folder.entries, None)
        if entry is None:
            stack.pop()
            continue
        rel = f"{folder.rel}/{entry.name}" if folder.rel else entry.name
        if entry.is_symlink():
            _report_symlink(real_root, rel, entry, result)
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file(follow_symlinks=False)
        except OSError:
            is_dir = is_file = False
        if is_dir and entry.name in DEFAULT_EXCLUDED_DIRS:
            continue
        if _ignored(folder.layers, rel, is_dir):
            result.excluded += 1
            continue
        if is_dir:
            child = enter(rel, folder.layers)
            if child is not None:
                stack.append(child)
        elif is_file:
            yield rel, entry
        else:
            result.errors.append(_not_a_file(printable(rel)))


def _report_symlink(real_root: Path, rel: str, entry: os.DirEntry[str], result: WalkResult) -> None:
    """Symlinks are never followed. Loops and links leaving the root are reported; links
    inside the root are skipped silently because their target is scanned in place."""
    shown = printable(rel)
    try:
        target = Path(os.path.realpath(entry.path, strict=True))
    except OSError as exc:
        if exc.errno == errno.ELOOP or "loop" in str(exc).lower():
            result.errors.append(
                ScanError(path=shown, reason="symlink-loop", message="skipped: symlink loop")
            )
        else:
            result.errors.append(
                ScanError(path=shown, reason="unreadable", message="skipped: dangling symlink")
            )
        return
    if target != real_root and real_root not in target.parents:
        result.errors.append(
            ScanError(
                path=shown,
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
