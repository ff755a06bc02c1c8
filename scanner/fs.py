"""The one way qgov opens a file: regular files only, size-capped, never blocking, never
following a link out of the folder it was asked to stay in.

Discovery reads every scanned file through ``ScanRoot.read``; anything that needs a second
file under a scan root (a requirements ``-r`` include) asks the same ``ScanRoot``; files a
user names on the command line (config, baseline, policy, job spec) go through
``read_user_file``. A file that cannot be read the safe way raises ``FileRefused`` with a
reason a scan error can carry.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

RefusalReason = Literal["unreadable", "too-large", "binary", "not-a-file", "symlink-outside-root"]

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
# A NUL byte in the first few kilobytes marks a binary file.
SNIFF_BYTES = 8192
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class FileRefused(Exception):
    """A file that must not or cannot be read; ``message`` is safe to print."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason: RefusalReason = reason
        self.message = message


def os_message(exc: OSError) -> str:
    return f"cannot read: {exc.strerror or exc.__class__.__name__}"


def read_bytes(path: Path, *, max_bytes: int, follow_symlinks: bool = False) -> bytes:
    """The bytes of a regular file, at most ``max_bytes`` of them.

    The file is opened non-blocking (a FIFO would otherwise wait forever for a writer) and
    checked with ``fstat`` on the open descriptor, so a path swapped between a walk and the
    read cannot smuggle in a device, a pipe or (without ``follow_symlinks``) a symlink.
    """
    flags = os.O_RDONLY | _O_NONBLOCK | (0 if follow_symlinks else _O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise FileRefused("unreadable", "skipped: the file was replaced by a symlink") from exc
        raise FileRefused("unreadable", os_message(exc)) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("not-a-file", "skipped: not a regular file (pipe, device or socket)")
        if info.st_size > max_bytes:
            raise FileRefused("too-large", _too_large(info.st_size, max_bytes))
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise FileRefused("unreadable", os_message(exc)) from exc
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:  # grew after fstat
        raise FileRefused("too-large", _too_large(len(data), max_bytes))
    return data


def _too_large(size: int, limit: int) -> str:
    return f"skipped: {size:,} bytes exceeds the {limit:,}-byte limit (max_file_size)"


def is_binary(data: bytes) -> bool:
    return b"\x00" in data[:SNIFF_BYTES]


def decode(data: bytes) -> str:
    """UTF-8 (a leading BOM dropped); bytes that are not UTF-8 are read as Latin-1 so a
    stray legacy byte costs nothing but its own character."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.removeprefix("\ufeff")


def read_text(path: Path, *, max_bytes: int, follow_symlinks: bool = False) -> str:
    """A text file's content; binary content is refused."""
    data = read_bytes(path, max_bytes=max_bytes, follow_symlinks=follow_symlinks)
    if is_binary(data):
        raise FileRefused("binary", "skipped: binary file")
    return decode(data)


def read_user_file(path: Path, *, max_bytes: int, what: str) -> bytes:
    """A file a user named on the command line or in a config (links are theirs to use).
    Raises ``FileRefused`` with a message that names ``what`` and the path."""
    try:
        return read_bytes(path, max_bytes=max_bytes, follow_symlinks=True)
    except FileRefused as exc:
        if exc.reason == "too-large":
            message = f"{what} {path}: larger than {max_bytes:,} bytes"
            raise FileRefused(exc.reason, message) from exc
        detail = exc.message.removeprefix("skipped: ").removeprefix("cannot read: ")
        raise FileRefused(exc.reason, f"{what} {path}: cannot read: {detail}") from exc


@dataclass(frozen=True)
class ScanRoot:
    """A folder being scanned: resolves relative paths inside it and reads them safely."""

    path: Path  # as given (absolute)
    real: Path  # symlinks resolved, for containment checks
    max_bytes: int = DEFAULT_MAX_FILE_BYTES

    @classmethod
    def open(cls, path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> ScanRoot:
        absolute = path.absolute()
        return cls(absolute, Path(os.path.realpath(absolute)), max_bytes)

    def contains(self, real_path: Path) -> bool:
        return real_path == self.real or self.real in real_path.parents

    def locate(self, rel: str) -> Path:
        """The absolute path of ``rel`` (POSIX, relative to the root); refuses anything that
        leaves the root, textually or through a symlink."""
        normal = os.path.normpath(rel.replace("\\", "/"))
        if normal == ".." or normal.startswith("../") or os.path.isabs(normal):
            raise FileRefused("symlink-outside-root", "outside the scanned root; not followed")
        target = Path(os.path.realpath(self.real / normal))
        if not self.contains(target):
            raise FileRefused(
                "symlink-outside-root", "resolves outside the scanned root; not followed"
            )
        return target

    def relative(self, absolute: Path) -> str | None:
        """``absolute`` as a POSIX path relative to the root, or None outside it."""
        real = Path(os.path.realpath(absolute))
        if not self.contains(real):
            return None
        return PurePosixPath(real.relative_to(self.real).as_posix()).as_posix()

    def read_text(self, rel: str, *, max_bytes: int | None = None) -> str:
        limit = self.max_bytes if max_bytes is None else max_bytes
        return read_text(self.locate(rel), max_bytes=limit)


def copy_user_file(path: Path, target: Path, *, max_bytes: int, what: str) -> tuple[str, int]:
    """Copy a file a user named to ``target`` (created, never overwritten) the way
    ``read_bytes`` reads: regular files only, without blocking, at most ``max_bytes``;
    streamed, so large evidence files do not sit in memory. Returns (SHA-256, size).
    Raises ``FileRefused`` naming ``what`` and the path; ``target`` is then removed."""
    import hashlib  # only the copy needs it

    try:
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK)
    except OSError as exc:
        raise FileRefused("unreadable", f"{what} {path}: {os_message(exc)}") from exc
    digest = hashlib.sha256()
    size = 0
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("not-a-file", f"{what} {path}: not a regular file")
        if info.st_size > max_bytes:
            raise FileRefused("too-large", f"{what} {path}: larger than {max_bytes:,} bytes")
        with open(target, "xb") as out:
            while chunk := os.read(fd, 1 << 20):
                size += len(chunk)
                if size > max_bytes:
                    raise FileRefused("too-large",
                                      f"{what} {path}: grew past {max_bytes:,} bytes")
                digest.update(chunk)
                out.write(chunk)
    except FileRefused:
        target.unlink(missing_ok=True)
        raise
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise FileRefused("unreadable", f"{what} {path}: {os_message(exc)}") from exc
    finally:
        os.close(fd)
    return digest.hexdigest(), size
