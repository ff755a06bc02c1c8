"""The repository a scan belongs to, and the git plumbing qgov asks of it.

Paths in findings, baselines and SARIF are relative to one *repository root*, whatever was
named on the command line, so a finding has the same path (and fingerprint) whether the
whole repository, a folder or the single file was scanned (pre-commit passes file names).
The root is, first to last: ``--root``; ``root:`` in the config in use (relative to the
config file); the git work tree holding the targets (found by walking up to a ``.git``
folder or file, without running git); the nearest folder above them holding a
``.qgov.yaml``; the folder holding every target. Every target must lie inside it, and
targets in two different git work trees are an error (their paths could not be told apart).

The config in use (``scanner.config.find_config``) is the nearest ``.qgov.yaml`` (or
pyproject.toml with ``[tool.qgov]``) from the folder holding every target up to the git
work tree, so scanning a file or a sub-folder uses the repository's config.

git is only ever asked to read: plumbing commands (``diff-index --cached``, ``diff-tree``,
``ls-files``, ``cat-file``, ``rev-list``, ``rev-parse``, ``merge-base``) with fixed argument
lists, never porcelain, so no alias, pager, external diff or textconv of the scanned
repository runs; hooks and fsmonitor are switched off and the system config is ignored.
Whether a working-tree file changed is decided by hashing it here: git would re-read a
racily clean file through the repository's clean filter, a command the repository names.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from scanner.model import printable

CONFIG_NAMES = (".qgov.yaml", ".qgov.yml")
RootKind = Literal["given", "config", "git", "qgov-config", "targets"]

# git's empty tree: what HEAD is compared with before the first commit.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
GIT_TIMEOUT = 300.0
_REGULAR_MODES = frozenset({"100644", "100755"})


class RootError(Exception):
    """The targets have no usable repository root; the message is safe to print."""


class GitError(Exception):
    """git could not answer (not a repository, unknown ref, git missing); safe to print."""


@dataclass(frozen=True)
class RepoRoot:
    path: Path  # absolute, symlinks resolved
    kind: RootKind
    git_top: Path | None  # the git work tree holding the root, if any

    def relative(self, target: Path) -> str | None:
        """``target`` (symlinks resolved) as a POSIX path relative to the root ("" for the
        root itself), or None when it lies outside."""
        real = Path(os.path.realpath(target))
        if real == self.path:
            return ""
        if self.path not in real.parents:
            return None
        return PurePosixPath(real.relative_to(self.path).as_posix()).as_posix()


def git_top(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git`` (a folder, or the file of a
    worktree or submodule): the work tree, found without running git."""
    folder = Path(os.path.realpath(start))
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return None


def common_folder(targets: Sequence[Path]) -> Path:
    """The deepest folder holding every target (a file target counts as its folder)."""
    folders = []
    for target in targets:
        real = Path(os.path.realpath(target))
        folders.append(real if real.is_dir() else real.parent)
    return Path(os.path.commonpath([str(f) for f in folders]))


def _qgov_folder(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding a ``.qgov.yaml``."""
    for candidate in (start, *start.parents):
        if any((candidate / name).is_file() for name in CONFIG_NAMES):
            return candidate
    return None


def find_root(
    targets: Sequence[Path],
    *,
    given: Path | None = None,
    config_dir: Path | None = None,
    config_root: str | None = None,
) -> RepoRoot:
    """The repository root of ``targets``. ``config_root`` is the ``root:`` setting of the
    config in use, relative to that config's folder ``config_dir``."""
    reals = [Path(os.path.realpath(t)) for t in targets]  # a link is where it points
    tops = {git_top(t if t.is_dir() else t.parent) for t in reals}
    if given is not None:
        real = Path(os.path.realpath(given))
        if not real.is_dir():
            raise RootError(f"--root {given}: not a folder")
        root = RepoRoot(real, "given", git_top(real))
    elif config_dir is not None and config_root is not None:
        real = Path(os.path.realpath(config_dir / config_root))
        if not real.is_dir():
            raise RootError(f"root: {config_root} (in the config in {config_dir}): not a folder")
        root = RepoRoot(real, "config", git_top(real))
    elif len(tops) > 1:
        shown = ", ".join(sorted(str(t) if t else "(no git repository)" for t in tops))
        raise RootError(
            f"the targets belong to different repositories ({shown}); scan each on its own "
            "or name a folder holding them all with --root"
        )
    elif (top := next(iter(tops))) is not None:
        root = RepoRoot(top, "git", top)
    else:
        start = common_folder(targets)
        found = _qgov_folder(start)
        root = RepoRoot(found, "qgov-config", None) if found else RepoRoot(start, "targets", None)
    for target in targets:
        if root.relative(target) is None:
            raise RootError(
                f"{target}: outside the repository root {root.path}; scan it on its own or "
                "name a folder holding every target with --root"
            )
    return root


# --- git -------------------------------------------------------------------------------------


def _os_path(raw: bytes) -> str:
    """A path as git stores it (bytes) in the form the OS and the walk give it (undecodable
    bytes as surrogates); ``printable`` makes it fit for a report."""
    return os.fsdecode(raw)


@dataclass(frozen=True)
class IndexEntry:
    path: str  # POSIX, relative to the repository root, as the OS names it
    blob: str
    mode: str
    top_path: str  # relative to the git work tree


@dataclass(frozen=True)
class Blob:
    sha: str
    size: int
    data: bytes | None  # None: missing, or not read (over the size limit)


class Git:
    """Read-only git plumbing for one repository root (which may be a sub-folder of the
    work tree, when ``root:``/``--root`` says so: paths are then made relative to it)."""

    def __init__(self, root: RepoRoot, timeout: float = GIT_TIMEOUT) -> None:
        executable = shutil.which("git")
        if executable is None:
            raise GitError("git is not installed (needed for --staged, --diff and --history)")
        self.executable = executable
        self.root = root
        self.timeout = timeout
        top = self.run("rev-parse", "--show-toplevel", cwd=root.path).decode().strip()
        if not top:
            raise GitError(f"{root.path}: not inside a git work tree")
        self.top = Path(os.path.realpath(top))
        # The root relative to the work tree ("" when they are the same), for path mapping.
        prefix = os.path.relpath(root.path, self.top)
        if prefix == ".." or prefix.startswith("../"):
            raise GitError(f"{root.path}: not inside the git work tree {self.top}")
        self.prefix = "" if prefix == "." else PurePosixPath(Path(prefix).as_posix()).as_posix()
        self._index: dict[str, IndexEntry] | None = None

    # -- running ----------------------------------------------------------------------------

    def argv(self, *args: str) -> list[str]:
        return [
            self.executable,
            "--no-pager",
            "-c", "core.hooksPath=/dev/null",
            "-c", "core.fsmonitor=false",
            "-c", "core.untrackedCache=false",
            "-c", "log.showSignature=false",
            *args,
        ]

    @staticmethod
    def env() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        env.update(
            GIT_CONFIG_NOSYSTEM="1",
            GIT_TERMINAL_PROMPT="0",
            GIT_OPTIONAL_LOCKS="0",  # read-only: never take index.lock to refresh stat data
            LC_ALL="C",
        )
        return env

    def run(self, *args: str, cwd: Path | None = None, stdin: bytes | None = None) -> bytes:
        try:
            completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
                self.argv(*args),
                input=stdin,
                capture_output=True,
                cwd=cwd or self.top,
                env=self.env(),
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GitError(f"git {args[0]} did not finish within {self.timeout:g} s") from exc
        except OSError as exc:
            raise GitError(f"git could not be started ({exc.strerror or exc})") from exc
        if completed.returncode != 0:
            raise GitError(_git_message(args[0], completed.stderr))
        return completed.stdout

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self.argv(*args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self.top,
            env=self.env(),
        )

    # -- paths ------------------------------------------------------------------------------

    def to_root(self, raw: bytes) -> str | None:
        """A work-tree path from git as a path relative to the root (None: outside it)."""
        path = _os_path(raw)
        if not self.prefix:
            return path
        if path.startswith(self.prefix + "/"):
            return path[len(self.prefix) + 1 :]
        return None

    # -- questions --------------------------------------------------------------------------

    def commit(self, ref: str) -> str:
        """The commit ``ref`` names; a ref that names none is a ``GitError``."""
        if not ref or ref.startswith("-") or "\x00" in ref:
            raise GitError(f"not a usable git ref: {printable(ref)!r}")
        try:
            out = self.run("rev-parse", "--verify", "--quiet", "--end-of-options",
                            f"{ref}^{{commit}}")
        except GitError as exc:
            raise GitError(f"unknown git ref {printable(ref)!r} (no such commit here)") from exc
        return out.decode().strip()

    def head(self) -> str | None:
        try:
            return self.commit("HEAD")
        except GitError:
            return None  # no commit yet

    def staged(self) -> list[IndexEntry]:
        """Files added, copied, modified or renamed in the index (what the next commit
        changes), with the blob the index holds for each; symlinks and submodules aside."""
        base = self.head() or EMPTY_TREE
        out = self.run("diff-index", "--cached", "--raw", "-z", "--no-renames",
                        "--diff-filter=ACMR", base, "--")
        entries = []
        for meta, raw_path in _raw_records(out):
            _old_mode, mode, _old, blob, _status = meta.split(" ")
            path = self.to_root(raw_path)
            if path is not None and mode in _REGULAR_MODES:
                entries.append(IndexEntry(path, blob, mode, _os_path(raw_path)))
        return entries

    def changed_since(self, ref: str) -> list[str]:
        """Files changed on this branch since it left ``ref`` (``ref...HEAD``), plus what
        the index, the working tree and untracked files (not ignored) change on top; files
        that are gone are left out."""
        target = self.commit(ref)
        head = self.head()
        if head is None:
            raise GitError("the repository has no commit yet; --diff needs one (try --staged)")
        try:
            base = self.run("merge-base", target, head).decode().strip() or target
        except GitError:
            base = target  # unrelated histories: everything that differs from the ref
        names: dict[str, None] = {}
        outputs = (
            self.run("diff-tree", "-r", "--name-only", "-z", "--no-renames",
                     "--diff-filter=ACMR", base, head, "--"),
            # The index against HEAD; the working tree is compared below, by us.
            self.run("diff-index", "--cached", "--name-only", "-z", "--no-renames",
                     "--diff-filter=ACMR", head, "--"),
            self.run("ls-files", "--others", "--exclude-standard", "-z", "--"),
        )
        for out in outputs:
            for raw in out.split(b"\x00"):
                if raw:
                    path = self.to_root(raw)
                    if path is not None:
                        names[path] = None
        names.update(dict.fromkeys(self.modified_in_worktree()))
        return list(names)

    def modified_in_worktree(self) -> list[str]:
        """Index entries whose file in the working tree holds other bytes. Hashed here, not
        by git: git re-reads a racily clean file through the repository's clean filter,
        which is a command of the repository's choosing. A file a filter or line-ending
        conversion rewrites counts as changed (scanned once more, nothing missed)."""
        changed = []
        for entry in self.index().values():
            path = self.top / entry.top_path
            try:
                info = path.lstat()
                if not stat.S_ISREG(info.st_mode):
                    continue  # gone, or replaced by a link or folder: nothing to scan
                data = path.read_bytes()
            except OSError:
                continue
            if _blob_id(data, len(entry.blob)) != entry.blob:
                changed.append(entry.path)
        return changed

    def index(self) -> dict[str, IndexEntry]:
        """Every regular file the index holds (merged entries only), by path under the root."""
        if self._index is None:
            out = self.run("ls-files", "--stage", "-z", "--")
            found = {}
            for record in out.split(b"\x00"):
                if not record:
                    continue
                meta, _tab, raw_path = record.partition(b"\t")
                mode, blob, stage = meta.decode().split(" ")
                path = self.to_root(raw_path)
                if path is not None and stage == "0" and mode in _REGULAR_MODES:
                    found[path] = IndexEntry(path, blob, mode, _os_path(raw_path))
            self._index = found
        return self._index

    def read_blobs(self, shas: Sequence[str], max_bytes: int) -> dict[str, Blob]:
        """Blobs by id; those over ``max_bytes`` come back with their size and no data."""
        if not shas:
            return {}
        unique = list(dict.fromkeys(shas))
        sizes: dict[str, int] = {}
        listing = self.run("cat-file", "--batch-check=%(objectname) %(objecttype) "
                            "%(objectsize)", stdin="".join(f"{s}\n" for s in unique).encode())
        for line in listing.decode().splitlines():
            parts = line.split(" ")
            if len(parts) == 3 and parts[1] == "blob":
                sizes[parts[0]] = int(parts[2])
        small = [s for s in unique if s in sizes and sizes[s] <= max_bytes]
        blobs = {s: Blob(s, n, None) for s, n in sizes.items()}
        if small:
            out = self.run("cat-file", "--batch", stdin="".join(f"{s}\n" for s in small).encode())
            for sha, data in _batch_records(out):
                blobs[sha] = Blob(sha, len(data), data)
        return blobs


# Variables that would point git at another repository, index or config than the one asked
# about are dropped, except the index a commit in progress uses (GIT_INDEX_FILE), which is
# exactly what `git commit` hands its hooks.
_DROPPED_ENV = frozenset({
    "GIT_DIR", "GIT_WORK_TREE", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
    "GIT_EXTERNAL_DIFF", "GIT_PAGER", "PAGER", "GIT_EXEC_PATH", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES",
})


def _git_message(command: str, stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    first = next((line for line in lines if line), "")
    if "not a git repository" in first.lower():
        return "not a git repository (--staged, --diff and --history need one)"
    if "dubious ownership" in first.lower():
        return ("git refuses this repository: it belongs to another user (dubious ownership); "
                "mark it safe with `git config --global --add safe.directory PATH`")
    detail = printable(first.removeprefix("fatal: ").removeprefix("error: "), path=False)[:200]
    return f"git {command} failed: {detail or 'no message'}"


def _raw_records(out: bytes) -> Iterator[tuple[str, bytes]]:
    """``(":mode mode sha sha status", path)`` pairs of ``--raw -z`` output."""
    fields = out.split(b"\x00")
    index = 0
    while index + 1 < len(fields):
        meta = fields[index]
        if not meta.startswith(b":"):
            index += 1
            continue
        yield meta[1:].decode(), fields[index + 1]
        index += 2


def _blob_id(data: bytes, length: int) -> str:
    """git's object id of a blob holding ``data`` (SHA-1, or SHA-256 in repositories that
    use it: ``length`` is the length of their ids)."""
    digest = hashlib.sha256() if length == 64 else hashlib.sha1()  # noqa: S324 - git's id
    digest.update(b"blob %d\x00" % len(data))
    digest.update(data)
    return digest.hexdigest()


def _batch_records(out: bytes) -> Iterator[tuple[str, bytes]]:
    """``(sha, content)`` of ``cat-file --batch`` output."""
    at = 0
    while at < len(out):
        end = out.index(b"\n", at)
        header = out[at:end].decode().split(" ")
        at = end + 1
        if len(header) != 3:  # "<sha> missing"
            continue
        size = int(header[2])
        yield header[0], out[at : at + size]
        at += size + 1
