"""The ledger's files on disk: the lock, appends, atomic replacement and key creation.

The ledger, its head, its lock and its public-key copy must be regular files; a symlink or
anything else in their place is refused (``check_ledger_path`` and ``check_regular``). The
lock is an exclusive ``flock`` on a file opened without ``O_TRUNC`` and without following a
link; an append is one ``write`` on an ``O_APPEND`` descriptor, then ``fsync``, and a short
write is cut back off; every temporary file is created exclusively with an unpredictable name
in the same folder (so nothing planted there is ever followed); a new signing key is created
``O_EXCL``, mode 0600, in a folder only its owner can enter.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.errors import LedgerError
from scanner.governed.ledger.format import check_regular, open_regular

try:  # POSIX: a lock we open ourselves (no O_TRUNC, no following links)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def check_ledger_path(path: Path) -> None:
    """A ledger path must be a regular file, or not exist yet below a folder (or a folder
    still to be created); a folder, a symlink, a device or a pipe is refused."""
    if check_regular(path, "ledger"):
        return
    parent = path.parent
    for ancestor in (parent, *parent.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise LedgerError(f"ledger {path}: {ancestor} is not a folder")
            break


@contextlib.contextmanager
def exclusive(lock_path: Path, timeout: float, ledger: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``<ledger>.lock``, opened without ``O_TRUNC`` and without
    following a link (a planted symlink must not let qgov truncate another file)."""
    if fcntl is None:  # pragma: no cover - Windows keeps the portable lock
        from filelock import FileLock, Timeout

        check_regular(lock_path, "ledger lock")
        try:
            with FileLock(str(lock_path), timeout=timeout).acquire(poll_interval=0.005):
                yield
        except Timeout as exc:
            raise LedgerError(f"ledger {ledger}: could not get the lock in time") from exc
        return
    fd = open_regular(lock_path, "ledger lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LedgerError(f"ledger {ledger}: could not get the lock in time") from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def append_line(path: Path, line: bytes, expected_size: int) -> None:
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = open_regular(path, "ledger", flags, 0o640)
    except FileNotFoundError as exc:
        raise LedgerError(f"ledger {path}: its folder does not exist") from exc
    try:
        size = os.fstat(fd).st_size
        if size != expected_size:
            raise LedgerError(f"ledger {path}: changed size outside the lock; refusing to append")
        try:
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(f"short write ({written} of {len(line)} bytes)")
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)  # never leave a half-written line behind
                os.fsync(fd)
            raise LedgerError(f"ledger {path}: append failed and was rolled back: {exc}") from exc
    finally:
        os.close(fd)


def create_private(path: Path, key: ed25519.Ed25519PrivateKey) -> None:
    """Write a new signing key, mode 0600, in a folder only its owner can enter; O_EXCL: never
    overwrite (or follow a link planted as) a key file already there."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise LedgerError(f"ledger key {path}: cannot create: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write(path: Path, data: bytes, *, mode: int) -> None:
    """Replace ``path`` with ``data`` through a temporary file created exclusively (random
    name, ``O_EXCL``, never a link) in the same folder; ``path`` must be a regular file or
    absent -- a symlink there is refused, not replaced."""
    check_regular(path, "ledger file")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
