"""Line and event checks of a ledger: one streamed pass over its lines.

Each line must be terminated, in canonical bytes with no duplicate keys (:func:`parse_strict`),
hash to its stored ``hash``, carry the next sequence number and link to the line before with
``prev``; the first is the genesis and names a known format. Checkpoints met on the way are
verified as they come (:func:`.signatures.check_checkpoint`). A damaged line is read as far as
it can be (:func:`lenient`) so later problems are still located.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scanner.governed.ledger.format import (
    CHECKPOINT,
    FORMATS,
    GENESIS,
    GENESIS_PREV,
    LineError,
    iter_lines,
    open_regular,
    parse_strict,
    safe_hash,
)
from scanner.governed.ledger.report import Problem, VerifyReport
from scanner.governed.ledger.signatures import check_checkpoint


def lenient(raw: bytes) -> dict[str, Any] | None:
    """A damaged line's content as far as it can be read, to keep locating later problems."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def walk(path: Path, report: VerifyReport) -> dict[int, str]:
    """One streamed pass: every line's bytes, hash, place in the chain and checkpoints."""
    hashes: dict[int, str] = {}
    expected_seq, prev_hash = 0, GENESIS_PREV
    fd = open_regular(path, "ledger")
    try:
        for line in iter_lines(fd):
            number = line.number
            if not line.terminated:
                report.problems.append(
                    Problem(
                        "torn-write",
                        f"line {number} has no line end: a partial (torn) write or a cut-off file",
                        line=number,
                    )
                )
                break
            event = _read_event(line.raw, number, report)
            if event is None:
                prev_hash, expected_seq = "", expected_seq + 1
                continue
            report.events += 1
            seq = event.get("seq")
            seq_no = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
            stored = str(event.get("hash", ""))
            _check_event(event, number, seq_no, stored, expected_seq, prev_hash, report)
            if number == 1:
                _check_genesis(event, report)
            if seq_no is not None and seq_no not in hashes:
                hashes[seq_no] = stored
            if event.get("type") == CHECKPOINT:
                check_checkpoint(event, number, seq_no, hashes, report)
            prev_hash = stored
            expected_seq = (seq_no if seq_no is not None else expected_seq) + 1
            report.last_seq = seq_no
            report.head_hash = stored
    finally:
        os.close(fd)
    return hashes


def _read_event(raw: bytes | None, number: int, report: VerifyReport) -> dict[str, Any] | None:
    if raw is None:
        report.problems.append(
            Problem("oversized", "longer than any event can be (damaged); skipped", line=number)
        )
        return None
    try:
        return parse_strict(raw)
    except LineError as exc:
        event = lenient(raw) if exc.kind != "unparseable" else None
        report.problems.append(Problem(exc.kind, exc.message, line=number))
        return event


def _check_genesis(event: dict[str, Any], report: VerifyReport) -> None:
    if event.get("type") != GENESIS:
        report.problems.append(
            Problem("missing-genesis", "the first event is not ledger.genesis", line=1)
        )
        return
    report.ledger_id = str(event.get("id"))
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    report.format = str((data or {}).get("format"))
    if report.format not in FORMATS:
        report.problems.append(
            Problem("bad-format", f"unknown ledger format {report.format[:40]!r}", line=1, seq=0)
        )


def _check_event(
    event: dict[str, Any],
    number: int,
    seq_no: int | None,
    stored: str,
    expected_seq: int,
    prev_hash: str,
    report: VerifyReport,
) -> None:
    """The event's own hash, its place in the sequence and its link to the line before."""
    if safe_hash(event) != stored:
        report.problems.append(
            Problem(
                "hash-mismatch",
                "content differs from its hash: the event was edited after it was written",
                line=number,
                seq=seq_no,
            )
        )
    if seq_no is None:
        report.problems.append(Problem("bad-sequence", "no sequence number", line=number))
    elif seq_no > expected_seq:
        missing = (
            f"{expected_seq}" if seq_no == expected_seq + 1 else f"{expected_seq}-{seq_no - 1}"
        )
        report.problems.append(
            Problem(
                "sequence-gap",
                f"event(s) seq {missing} missing before this line (deleted)",
                line=number,
                seq=seq_no,
            )
        )
    elif seq_no < expected_seq:
        report.problems.append(
            Problem(
                "sequence-order",
                f"seq {seq_no} where {expected_seq} was expected (inserted, duplicated "
                "or reordered event)",
                line=number,
                seq=seq_no,
            )
        )
    # An unreadable line before leaves prev_hash empty: its link cannot be checked.
    if prev_hash and event.get("prev") != prev_hash:
        where = "the genesis marker" if number == 1 else f"line {number - 1}"
        report.problems.append(
            Problem(
                "chain-broken",
                f"'prev' does not match the hash of {where} (an event was inserted, "
                "deleted, reordered or rewritten here)",
                line=number,
                seq=seq_no,
            )
        )
