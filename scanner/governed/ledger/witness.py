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

:func:`check_witness` holds a ledger against its witnessed heads when it is verified: each must
carry a valid head signature and match the ledger's hash at its sequence number, and the
newest must not be past the ledger's end.
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
from scanner.governed.ledger.report import Problem, VerifyReport
from scanner.governed.ledger.signatures import head_signature_ok


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


def check_witness(path: Path, witness: Path, hashes: dict[int, str], report: VerifyReport) -> None:
    """Every witnessed head of this ledger must be in it; the newest must not be past its end."""
    latest: dict[str, Any] | None = None
    others: set[str] = set()
    here = str(path.absolute())
    for number, item in read_heads(witness):
        if isinstance(item, LineError):
            report.problems.append(
                Problem("witness-entry-invalid", f"witness line {number}: {item.message}")
            )
            continue
        if item.get("ledger_id") != report.ledger_id:
            if item.get("ledger") == here and isinstance(item.get("ledger_id"), str):
                others.add(str(item["ledger_id"]))
            continue
        seq, hash_ = item.get("seq"), item.get("hash")
        valid = isinstance(seq, int) and not isinstance(seq, bool) and isinstance(hash_, str)
        if not valid or item.get("payload") != HEAD_PAYLOAD or not head_signature_ok(item, report):
            report.problems.append(
                Problem(
                    "witness-entry-invalid",
                    f"witness line {number}: not a head signed with the trusted key",
                )
            )
            continue
        assert isinstance(seq, int)
        report.witness_heads += 1
        if latest is None or seq > int(latest["seq"]):
            latest = item
        if report.last_seq is not None and seq <= report.last_seq and hashes.get(seq) != hash_:
            report.problems.append(
                Problem(
                    "witness-mismatch",
                    f"witness line {number} signed seq {seq} with a different hash: the ledger "
                    "was rewritten from there on",
                    seq=seq,
                )
            )
    if latest is None:
        extra = f" (it knows other ledger id(s) for this path: {', '.join(sorted(others))})"
        report.problems.append(
            Problem(
                "witness-unknown-ledger",
                f"the witness holds no head of ledger {report.ledger_id}: this ledger was "
                "never witnessed there -- rewritten from its genesis on, or the wrong witness"
                + (extra if others else ""),
            )
        )
        return
    report.witness_latest_seq = int(latest["seq"])
    last = report.last_seq if report.last_seq is not None else -1
    if report.witness_latest_seq > last:
        report.problems.append(
            Problem(
                "rolled-back",
                f"the witness holds a head at seq {report.witness_latest_seq} (signed "
                f"{latest.get('signed_at')}) but the ledger ends at seq {last}: events were cut "
                "off or an older copy of the ledger was restored",
                seq=last + 1,
            )
        )
    elif report.witness_latest_seq < last:
        report.notes.append(
            f"{last - report.witness_latest_seq} event(s) after the newest witnessed head "
            f"(seq {report.witness_latest_seq})"
        )
