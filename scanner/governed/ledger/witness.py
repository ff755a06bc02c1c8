"""Signed heads kept outside the ledger: the head file, the witness file and their format.

A signed head says "ledger <id> had event <seq> with hash <hash> at <signed_at>", signed with
the ledger key under the head payload (see :mod:`.format`). The writer puts each head in
``<ledger>.head`` (replaced), sends it to the SIEM stream with the events, and appends it to
the witness file when one is configured. Deleting the head file or restoring an older copy of
the ledger with its older head cannot undo the heads already witnessed elsewhere, so
``qgov ledger verify --witness FILE`` exposes rollback and truncation.

The witness file is append-only JSON Lines, one canonical head per line, for any number of
ledgers (heads carry their ``ledger_id``)::

    {"format":"qgov-ledger/2","hash":"<64 hex>","key_id":"<32 hex>","ledger":"/abs/ledger.jsonl",
     "ledger_id":"<uuid>","payload":"qgov-ledger-head-v2","seq":41,"signature":"<base64>",
     "signed_at":"2026-11-25T10:00:00.000Z","type":"ledger.head"}

Keep it where the ledger's writers can append but not rewrite (another host, an append-only
bucket, ``chattr +a``); a witness in the same folder as the ledger is only as strong as that
folder's permissions.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.errors import LedgerError
from scanner.governed.ledger.format import (
    FORMAT,
    HEAD_PAYLOAD,
    HEAD_TYPE,
    LineError,
    canonical_line,
    head_payload,
    iter_lines,
    key_id,
    open_regular,
    parse_strict,
    sign,
)


def signed_head(
    key: ed25519.Ed25519PrivateKey,
    *,
    ledger_id: str,
    seq: int,
    hash_: str,
    signed_at: str,
    ledger: Path,
) -> dict[str, Any]:
    return {
        "type": HEAD_TYPE,
        "payload": HEAD_PAYLOAD,
        "format": FORMAT,
        "ledger_id": ledger_id,
        "seq": seq,
        "hash": hash_,
        "signed_at": signed_at,
        "key_id": key_id(key.public_key()),
        "signature": sign(key, head_payload(ledger_id, seq, hash_, signed_at)),
        "ledger": str(ledger.absolute()),
    }


def append_head(path: Path, head: dict[str, Any]) -> None:
    """Append one head to the witness file: one ``write`` on an ``O_APPEND`` descriptor (so
    concurrent writers never interleave within a line), then ``fsync``."""
    line = canonical_line(head)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = open_regular(path, "witness", flags, 0o644)
    except FileNotFoundError as exc:  # its folder is missing
        raise LedgerError(f"witness {path}: its folder does not exist") from exc
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise LedgerError(f"witness {path}: short write ({written} of {len(line)} bytes)")
        os.fsync(fd)
    except OSError as exc:
        raise LedgerError(f"witness {path}: cannot append: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def read_heads(path: Path) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    """Each witness line as a head, or the :class:`LineError` that says why it is not one."""
    try:
        fd = open_regular(path, "witness")
    except FileNotFoundError as exc:
        raise LedgerError(f"witness {path}: does not exist") from exc
    try:
        for line in iter_lines(fd):
            if line.raw is None:
                yield line.number, LineError("oversized", "longer than a head can be")
            elif not line.terminated:
                yield line.number, LineError("torn-write", "no line end (a partial write)")
            else:
                try:
                    yield line.number, parse_strict(line.raw)
                except LineError as exc:
                    yield line.number, exc
    finally:
        os.close(fd)
