"""Reading the files a job names -- circuit, dataset, token, spec -- the safe way.

Small files are read through :mod:`scanner.fs` (regular files only, opened non-blocking so a
FIFO cannot hang the run, size-capped so ``/dev/zero`` cannot exhaust memory). A dataset can
be large, so it is hashed in a stream with the same guards (``fs`` reads whole files only):
opened ``O_NONBLOCK``, checked with ``fstat`` on the open descriptor, and refused when it is
not a regular file or grows past its cap while being read. Messages name the file, never its
content.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from scanner.fs import FileRefused, os_message, read_user_file
from scanner.governed.errors import SpecError

MAX_TOKEN_BYTES = 64 * 1024
MAX_DATASET_BYTES = 4 * 1024**3
# Datasets up to this size are also read, so the scrubber can recognise their rows.
SCRUB_DATASET_BYTES = 64 * 1024
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def read_file(path: Path, *, max_bytes: int, what: str) -> bytes:
    """The bytes of a regular file, or ``SpecError`` (exit 2) saying why not."""
    try:
        return read_user_file(path, max_bytes=max_bytes, what=what)
    except FileRefused as exc:
        raise SpecError(exc.message) from exc


def hash_file(path: Path, *, max_bytes: int = MAX_DATASET_BYTES) -> tuple[str, int]:
    """Streamed SHA-256 and size of a regular file; ``FileRefused`` (reason ``unreadable``,
    ``not-a-file`` or ``too-large``) otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK)
    except OSError as exc:
        raise FileRefused("unreadable", os_message(exc)) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("not-a-file", "not a regular file (pipe, device or socket)")
        if info.st_size > max_bytes:
            raise FileRefused("too-large", f"larger than {max_bytes:,} bytes")
        digest = hashlib.sha256()
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise FileRefused("too-large", f"larger than {max_bytes:,} bytes")
            digest.update(chunk)
    except OSError as exc:
        raise FileRefused("unreadable", os_message(exc)) from exc
    finally:
        os.close(fd)
    return digest.hexdigest(), size


def read_token_file(path: Path) -> str:
    """An identity token from a file: a regular file of at most 64 KiB of text."""
    raw = read_file(path, max_bytes=MAX_TOKEN_BYTES, what="token file")
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise SpecError(f"token file {path}: not a token (non-ASCII bytes)") from exc


def read_token_stream(stream: object) -> str:
    """An identity token from stdin, read with the same 64 KiB cap."""
    read = getattr(stream, "read", None)
    if read is None:
        raise SpecError("token from stdin: nothing to read")
    text = read(MAX_TOKEN_BYTES + 1)
    if not isinstance(text, str):
        raise SpecError("token from stdin: not text")
    if len(text) > MAX_TOKEN_BYTES:
        raise SpecError(f"token from stdin: longer than {MAX_TOKEN_BYTES:,} bytes")
    return text.strip()
