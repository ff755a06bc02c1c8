"""Verifying a ledger: chain, sequence, hashes, checkpoint signatures and the signed head.

Every edited, deleted, inserted, reordered or truncated event is reported as a
:class:`Problem` with its line and sequence number; nothing is repaired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.errors import LedgerError
from scanner.governed.ledger.format import (
    CHECKPOINT,
    GENESIS,
    GENESIS_PREV,
    b64,
    load_public_key,
    parse_line,
    raw_public,
    safe_hash,
    sidecar,
    signature_valid,
    signed_payload,
)


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    line: int | None = None
    seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "line": self.line, "seq": self.seq, "message": self.message}


@dataclass
class VerifyReport:
    path: Path
    events: int = 0
    last_seq: int | None = None
    head_hash: str | None = None
    checkpoints: int = 0
    checkpoints_verified: int = 0
    last_checkpoint_seq: int | None = None
    signed_head_seq: int | None = None
    trust_anchor: str | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger": str(self.path),
            "intact": self.intact,
            "events": self.events,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "checkpoints": self.checkpoints,
            "checkpoints_verified": self.checkpoints_verified,
            "last_checkpoint_seq": self.last_checkpoint_seq,
            "signed_head_seq": self.signed_head_seq,
            "trust_anchor": self.trust_anchor,
            "problems": [p.to_json() for p in self.problems],
            "notes": self.notes,
        }


def verify_ledger(
    path: Path,
    *,
    public_key: Path | None = None,
    head: str | None = None,
    head_file: Path | None = None,
) -> VerifyReport:
    """Check chain, sequence, hashes, checkpoint signatures and the signed/external head.

    The trust anchor is ``public_key`` if given, else the ``<ledger>.pub`` sidecar; keys
    embedded in the ledger itself are never trusted (an attacker could re-sign with their own).
    """
    report = VerifyReport(path=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LedgerError(f"ledger {path}: cannot read: {exc.strerror or exc}") from exc
    trusted = _trust_anchor(path, public_key, report)
    lines = _complete_lines(data, report)
    if not lines:
        report.problems.append(Problem("empty", "the ledger holds no events"))
        return report

    hashes: dict[int, str] = {}
    expected_seq, prev_hash = 0, GENESIS_PREV
    ledger_id: str | None = None
    since_checkpoint = 0
    for number, raw in enumerate(lines, 1):
        event = parse_line(raw)
        if event is None:
            report.problems.append(Problem("unparseable", "not a JSON event", line=number))
            prev_hash, expected_seq = "", expected_seq + 1
            continue
        report.events += 1
        seq = event.get("seq")
        seq_no = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        stored = str(event.get("hash", ""))
        _check_event(event, number, seq_no, stored, expected_seq, prev_hash, report)
        if number == 1:
            if event.get("type") != GENESIS:
                report.problems.append(
                    Problem("missing-genesis", "the first event is not ledger.genesis", line=1)
                )
            else:
                ledger_id = str(event.get("id"))
        if seq_no is not None and seq_no not in hashes:
            hashes[seq_no] = stored
        if event.get("type") == CHECKPOINT:
            _check_checkpoint(event, number, seq_no, hashes, ledger_id, trusted, report)
            since_checkpoint = 0
        else:
            since_checkpoint += 1
        prev_hash = stored
        expected_seq = (seq_no if seq_no is not None else expected_seq) + 1
        report.last_seq = seq_no
        report.head_hash = stored

    if since_checkpoint and report.checkpoints:
        report.notes.append(
            f"{since_checkpoint} event(s) after the last in-ledger checkpoint; the signed head "
            "file covers them"
        )
    _check_signed_head(path, head_file, ledger_id, hashes, report, trusted)
    if head is not None:
        if head.lower() not in hashes.values():
            report.problems.append(
                Problem(
                    "external-head-missing",
                    "the externally kept head hash is not in the ledger: events were cut off "
                    "the end or the ledger was rewritten",
                )
            )
        else:
            report.notes.append("the externally kept head hash is present in the ledger")
    return report


def _complete_lines(data: bytes, report: VerifyReport) -> list[bytes]:
    """The newline-terminated lines; a final line without one is reported as torn."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    elif lines:
        report.problems.append(
            Problem(
                "torn-write",
                f"line {len(lines)} has no line end: a partial (torn) write or a cut-off file",
                line=len(lines),
            )
        )
        lines.pop()
    return lines


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
    # An unparseable line before leaves prev_hash empty: its link cannot be checked.
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


def _trust_anchor(
    path: Path, public_key: Path | None, report: VerifyReport
) -> ed25519.Ed25519PublicKey | None:
    candidate = public_key or sidecar(path, ".pub")
    if not candidate.exists():
        report.problems.append(
            Problem(
                "no-trust-anchor",
                f"no public key to check signatures against ({candidate} is missing); pass "
                "--public-key with the key kept outside the ledger",
            )
        )
        return None
    report.trust_anchor = str(candidate)
    return load_public_key(candidate)


def _check_checkpoint(
    event: dict[str, Any],
    number: int,
    seq: int | None,
    hashes: dict[int, str],
    ledger_id: str | None,
    trusted: ed25519.Ed25519PublicKey | None,
    report: VerifyReport,
) -> None:
    report.checkpoints += 1
    data = event.get("data") or {}
    covers = data.get("covers") or {}
    covered_seq, covered_hash = covers.get("seq"), covers.get("hash")
    if not isinstance(covered_seq, int) or not isinstance(covered_hash, str) or ledger_id is None:
        report.problems.append(Problem("bad-checkpoint", "malformed checkpoint", number, seq))
        return
    if trusted is not None and data.get("public_key") != b64(raw_public(trusted)):
        report.problems.append(
            Problem(
                "checkpoint-foreign-key",
                "checkpoint signed with a key other than the trusted ledger key",
                number,
                seq,
            )
        )
    if not signature_valid(
        trusted, data.get("signature"), signed_payload(ledger_id, covered_seq, covered_hash)
    ):
        report.problems.append(
            Problem(
                "checkpoint-signature-invalid",
                "checkpoint signature does not verify with the trusted public key",
                number,
                seq,
            )
        )
        return
    actual = hashes.get(covered_seq)
    if actual != covered_hash:
        report.problems.append(
            Problem(
                "checkpoint-mismatch",
                f"signed checkpoint covers seq {covered_seq}, whose stored hash differs: events "
                f"up to seq {covered_seq} were rewritten",
                number,
                seq,
            )
        )
        return
    report.checkpoints_verified += 1
    report.last_checkpoint_seq = covered_seq


def _check_signed_head(
    path: Path,
    head_file: Path | None,
    ledger_id: str | None,
    hashes: dict[int, str],
    report: VerifyReport,
    trusted: ed25519.Ed25519PublicKey | None,
) -> None:
    candidate = head_file or sidecar(path, ".head")
    try:
        head = json.loads(candidate.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.notes.append(
            f"no signed head file ({candidate.name}): events cut off after the last checkpoint "
            "cannot be detected without --head"
        )
        return
    except (OSError, ValueError):
        report.problems.append(Problem("head-unreadable", f"{candidate} is not a signed head"))
        return
    seq, hash_ = head.get("seq"), head.get("hash")
    if not isinstance(seq, int) or not isinstance(hash_, str):
        report.problems.append(Problem("head-unreadable", f"{candidate} is not a signed head"))
        return
    if not signature_valid(
        trusted, head.get("signature"), signed_payload(str(head.get("ledger_id")), seq, hash_)
    ):
        report.problems.append(
            Problem("head-signature-invalid", "the signed head's signature does not verify")
        )
        return
    if head.get("ledger_id") != ledger_id:
        report.problems.append(
            Problem("head-mismatch", "the signed head belongs to a different ledger")
        )
        return
    report.signed_head_seq = seq
    last = report.last_seq if report.last_seq is not None else -1
    if seq > last:
        report.problems.append(
            Problem(
                "truncated",
                f"the signed head records seq {seq} but the ledger ends at seq {last}: "
                f"{seq - last} event(s) were cut off the end",
                seq=last + 1,
            )
        )
    elif hashes.get(seq) != hash_:
        report.problems.append(
            Problem(
                "head-mismatch",
                f"event seq {seq} differs from the signed head (rewritten)",
                seq=seq,
            )
        )
    elif seq < last:
        report.problems.append(
            Problem(
                "unsigned-events",
                f"{last - seq} event(s) after the signed head (seq {seq}) carry no signature: "
                "appended outside qgov, or a writer stopped before signing",
                seq=seq + 1,
            )
        )
