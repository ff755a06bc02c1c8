"""Verifying a ledger: exact bytes, chain, sequence, signatures, signed coverage and anchors.

Every edited, deleted, inserted, reordered, re-encoded or truncated event is reported as a
:class:`Problem` with its line and sequence number; nothing is repaired. Beyond "the chain is
consistent", the report says what was *proven*:

- **signed coverage** -- the events up to the newest valid checkpoint or signed head. A ledger
  whose last event no valid signature covers is not intact: a rewrite that recomputes the
  chain and drops the checkpoints would otherwise pass.
- **the trust anchor** -- which public key the signatures were checked against. In order:
  ``--public-key``, the policy's ``ledger.public_key``, the public half of the policy's
  ``ledger.signing_key``, the user's key store (``$XDG_CONFIG_HOME/qgov/keys/<id>.pub``),
  and last the ``<ledger>.pub`` copy beside the ledger. That copy is no anchor at all (whoever
  can write the folder can replace it and re-sign everything), so a ledger checked only
  against it is "intact, unanchored", and ``--strict`` fails it.
- **freshness** -- whether this is the newest copy. Only something kept outside the ledger
  can say: heads in a witness file (``--witness``), a sequence number the ledger must reach
  (``--min-seq``) or a hash it must contain (``--head``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.errors import LedgerError
from scanner.governed.ledger.format import (
    CHECKPOINT,
    CHECKPOINT_PAYLOAD,
    FORMAT_V1,
    FORMATS,
    GENESIS,
    GENESIS_PREV,
    HEAD_PAYLOAD,
    LineError,
    b64,
    check_regular,
    checkpoint_payload,
    head_payload,
    iter_lines,
    key_id,
    load_signing_key,
    open_regular,
    parse_strict,
    public_key_from_pem,
    raw_public,
    read_first_line,
    read_key_file,
    read_small,
    safe_hash,
    sidecar,
    signature_valid,
    signed_payload,
    stored_key_path,
    stored_public_path,
)
from scanner.governed.ledger.witness import read_heads

# Anchor kinds, strongest first; "sidecar" is the copy beside the ledger (no anchor).
ANCHORED = ("public-key", "policy-public-key", "policy-signing-key", "key-store")


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    line: int | None = None
    seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "line": self.line, "seq": self.seq, "message": self.message}


@dataclass(frozen=True)
class TrustAnchor:
    key: ed25519.Ed25519PublicKey | None
    kind: str  # one of ANCHORED, "sidecar" or "none"
    source: str

    @property
    def anchored(self) -> bool:
        return self.kind in ANCHORED and self.key is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "anchored": self.anchored,
            "key_id": key_id(self.key) if self.key is not None else None,
        }


@dataclass
class VerifyReport:
    path: Path
    format: str | None = None
    ledger_id: str | None = None
    events: int = 0
    last_seq: int | None = None
    head_hash: str | None = None
    checkpoints: int = 0
    checkpoints_verified: int = 0
    last_checkpoint_seq: int | None = None
    signed_head_seq: int | None = None
    head_status: str = "missing"  # verified | missing | invalid
    signed_through: int | None = None
    signature_versions: set[str] = field(default_factory=set)
    anchor: TrustAnchor = TrustAnchor(None, "none", "-")
    witness: Path | None = None
    witness_heads: int = 0
    witness_latest_seq: int | None = None
    min_seq: int | None = None
    external_head: bool = False
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def trust_anchor(self) -> str | None:
        return None if self.anchor.kind == "none" else self.anchor.source

    @property
    def qualifiers(self) -> list[str]:
        """What weakens an intact verdict; ``--strict`` fails on any of them."""
        found = []
        if not self.anchor.anchored:
            found.append("unanchored")
        if self.head_status != "verified":
            found.append("no signed head")
        if "v1" in self.signature_versions:
            found.append("v1 signatures")
        return found

    @property
    def strict_ok(self) -> bool:
        return self.intact and not self.qualifiers

    @property
    def verdict(self) -> str:
        if not self.intact:
            return "TAMPERED"
        return ", ".join(["INTACT", *self.qualifiers])

    @property
    def unsigned_events(self) -> int:
        if self.last_seq is None:
            return 0
        return self.last_seq - (self.signed_through if self.signed_through is not None else -1)

    def proven(self) -> list[str]:
        out = []
        if self.signed_through is not None and self.last_seq is not None:
            signer = (
                f"the trusted key ({self.anchor.kind}: {self.anchor.source})"
                if self.anchor.anchored
                else f"the key in {self.anchor.source}, which only says that whoever holds "
                "that key signed them"
            )
            out.append(
                f"events seq 0-{self.signed_through} are hash-chained and covered by "
                f"signatures that verify with {signer}"
            )
        if self.witness is not None and self.witness_latest_seq is not None and self.intact:
            out.append(
                f"the ledger reaches the newest of {self.witness_heads} witnessed head(s) "
                f"(seq {self.witness_latest_seq}) and matches every one of them"
            )
        if self.min_seq is not None and self.intact:
            out.append(f"the ledger reaches seq {self.min_seq} (--min-seq)")
        if self.external_head and self.intact:
            out.append("the externally kept head hash is in the ledger")
        return out

    def not_proven(self) -> list[str]:
        out = []
        if self.unsigned_events > 0:
            first = (self.signed_through if self.signed_through is not None else -1) + 1
            out.append(
                f"events seq {first}-{self.last_seq} ({self.unsigned_events}) are not covered "
                "by any valid signature"
            )
        if self.anchor.kind == "sidecar":
            out.append(
                f"that the signer is the genuine ledger key: the only anchor is "
                f"{self.anchor.source} beside the ledger, which anyone who can write that folder "
                "can replace (pass --public-key, or set ledger.public_key in the policy)"
            )
        if self.head_status != "verified":
            out.append(
                "that no events were cut off after the last checkpoint (no valid signed head)"
            )
        if "v1" in self.signature_versions:
            out.append(
                "v1 signatures are not domain-separated: a checkpoint signature can stand in "
                "for a head, so a cut back to a v1 checkpoint is not excluded"
            )
        if self.witness is None and self.min_seq is None and not self.external_head:
            out.append(
                "that this is the newest copy: a rollback to an earlier valid copy (with its "
                "own head) needs --witness, --min-seq or --head to be detected"
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger": str(self.path),
            "verdict": self.verdict,
            "intact": self.intact,
            "strict_ok": self.strict_ok,
            "format": self.format,
            "ledger_id": self.ledger_id,
            "events": self.events,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "checkpoints": self.checkpoints,
            "checkpoints_verified": self.checkpoints_verified,
            "last_checkpoint_seq": self.last_checkpoint_seq,
            "signed_head_seq": self.signed_head_seq,
            "head_status": self.head_status,
            "signed_through": self.signed_through,
            "unsigned_events": self.unsigned_events,
            "signature_versions": sorted(self.signature_versions),
            "trust_anchor": self.anchor.to_json(),
            "witness": None
            if self.witness is None
            else {
                "file": str(self.witness),
                "heads": self.witness_heads,
                "latest_seq": self.witness_latest_seq,
            },
            "min_seq": self.min_seq,
            "proven": self.proven(),
            "not_proven": self.not_proven(),
            "problems": [p.to_json() for p in self.problems],
            "notes": self.notes,
        }


# -- trust anchors ----------------------------------------------------------------------------


def resolve_anchor(
    path: Path,
    ledger_id: str | None,
    *,
    public_key: Path | None = None,
    policy_public_key: str | None = None,
    policy_signing_key: Path | None = None,
) -> TrustAnchor:
    """The key signatures are checked against, strongest source first (see the module doc)."""
    if public_key is not None:
        key = public_key_from_pem(read_key_file(public_key, "public key"), str(public_key))
        return TrustAnchor(key, "public-key", str(public_key))
    if policy_public_key:
        if "BEGIN PUBLIC KEY" in policy_public_key:
            key = public_key_from_pem(policy_public_key.encode("ascii", "replace"), "policy")
            return TrustAnchor(key, "policy-public-key", "policy ledger.public_key (PEM)")
        where = Path(policy_public_key)
        data = read_key_file(where, "public key")
        return TrustAnchor(public_key_from_pem(data, str(where)), "policy-public-key", str(where))
    if policy_signing_key is not None:
        private = load_signing_key(policy_signing_key)
        return TrustAnchor(
            private.public_key(), "policy-signing-key", f"public half of {policy_signing_key}"
        )
    if ledger_id is not None:
        stored_pub: Path | None = None
        stored_key: Path | None = None
        try:
            stored_pub, stored_key = stored_public_path(ledger_id), stored_key_path(ledger_id)
        except LedgerError:
            pass  # not a UUID: the genesis was tampered with; no key store entry to look up
        if stored_pub is not None and stored_pub.exists():
            key = public_key_from_pem(read_key_file(stored_pub, "public key"), str(stored_pub))
            return TrustAnchor(key, "key-store", str(stored_pub))
        if stored_key is not None and stored_key.exists():
            private = load_signing_key(stored_key)
            return TrustAnchor(private.public_key(), "key-store", f"public half of {stored_key}")
    copy = sidecar(path, ".pub")
    beside = read_small(copy, "ledger public key")
    if beside is None:
        return TrustAnchor(None, "none", "-")
    return TrustAnchor(public_key_from_pem(beside, str(copy)), "sidecar", str(copy))


# -- the verifier -----------------------------------------------------------------------------


def verify_ledger(
    path: Path,
    *,
    public_key: Path | None = None,
    policy_public_key: str | None = None,
    policy_signing_key: Path | None = None,
    head: str | None = None,
    head_file: Path | None = None,
    witness: Path | None = None,
    min_seq: int | None = None,
) -> VerifyReport:
    """Check the ledger's bytes, chain, signatures and coverage, and whatever outside anchors
    are given (witness, minimum sequence, external head hash)."""
    report = VerifyReport(path=path, witness=witness, min_seq=min_seq)
    check_regular(path, "ledger", may_be_missing=False)
    genesis = _lenient(read_first_line(path) or b"")
    ledger_id = str(genesis.get("id")) if genesis and genesis.get("type") == GENESIS else None
    report.anchor = resolve_anchor(
        path,
        ledger_id,
        public_key=public_key,
        policy_public_key=policy_public_key,
        policy_signing_key=policy_signing_key,
    )
    if report.anchor.key is None:
        report.problems.append(
            Problem(
                "no-trust-anchor",
                f"no public key to check signatures against ({sidecar(path, '.pub')} is "
                "missing); pass --public-key with the key kept outside the ledger",
            )
        )
    legacy_key = sidecar(path, ".key")
    if os.path.lexists(legacy_key) and ledger_id is not None:
        report.notes.append(
            f"a signing key lies beside the ledger ({legacy_key}, the v1 layout): whoever can "
            "read that folder can sign as the ledger -- move it to "
            f"{_stored_hint(ledger_id)} or name it with the policy's ledger.signing_key"
        )
    hashes = _walk(path, report)
    if report.events == 0:
        report.problems.append(Problem("empty", "the ledger holds no events"))
        return report
    _check_signed_head(path, head_file, hashes, report)
    _check_coverage(report)
    if witness is not None:
        _check_witness(path, witness, hashes, report)
    if min_seq is not None and (report.last_seq is None or report.last_seq < min_seq):
        report.problems.append(
            Problem(
                "below-min-seq",
                f"the ledger ends at seq {report.last_seq} but must reach seq {min_seq}: "
                "events were cut off or an older copy was restored",
            )
        )
    if head is not None:
        report.external_head = True
        if head.lower() not in hashes.values():
            report.problems.append(
                Problem(
                    "external-head-missing",
                    "the externally kept head hash is not in the ledger: events were cut off "
                    "the end or the ledger was rewritten",
                )
            )
    return report


def _stored_hint(ledger_id: str) -> str:
    try:
        return str(stored_key_path(ledger_id))
    except LedgerError:
        return "the key store"


def _lenient(raw: bytes) -> dict[str, Any] | None:
    """A damaged line's content as far as it can be read, to keep locating later problems."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _walk(path: Path, report: VerifyReport) -> dict[int, str]:
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
                _check_checkpoint(event, number, seq_no, hashes, report)
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
        event = _lenient(raw) if exc.kind != "unparseable" else None
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


def _signature_version(label: object, report: VerifyReport, v2_label: str) -> str | None:
    """'v2' for a v2-labelled signature, 'v1' for an unlabelled one in a v1 ledger, else None."""
    if label == v2_label:
        return "v2"
    if label is None and report.format == FORMAT_V1:
        return "v1"
    return None


def _check_checkpoint(
    event: dict[str, Any],
    number: int,
    seq: int | None,
    hashes: dict[int, str],
    report: VerifyReport,
) -> None:
    report.checkpoints += 1
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    covers = (data or {}).get("covers")
    covers = covers if isinstance(covers, dict) else {}
    covered_seq, covered_hash = covers.get("seq"), covers.get("hash")
    ledger_id = report.ledger_id
    if (
        not isinstance(covered_seq, int)
        or isinstance(covered_seq, bool)
        or not isinstance(covered_hash, str)
        or ledger_id is None
        or seq is None
    ):
        report.problems.append(Problem("bad-checkpoint", "malformed checkpoint", number, seq))
        return
    trusted = report.anchor.key
    data = data or {}
    if trusted is not None and data.get("public_key") != b64(raw_public(trusted)):
        report.problems.append(
            Problem(
                "checkpoint-foreign-key",
                "checkpoint signed with a key other than the trusted ledger key",
                number,
                seq,
            )
        )
    version = _signature_version(data.get("payload"), report, CHECKPOINT_PAYLOAD)
    if version == "v2":
        payload = checkpoint_payload(ledger_id, covered_seq, covered_hash)
    else:
        payload = signed_payload(ledger_id, covered_seq, covered_hash)
    if version is None or not signature_valid(trusted, data.get("signature"), payload):
        why = (
            "carries no v2 checkpoint label in a v2 ledger"
            if version is None
            else "does not verify with the trusted public key"
        )
        report.problems.append(
            Problem("checkpoint-signature-invalid", f"checkpoint signature {why}", number, seq)
        )
        return
    if hashes.get(covered_seq) != covered_hash:
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
    report.signature_versions.add(version)
    report.checkpoints_verified += 1
    report.last_checkpoint_seq = covered_seq
    # The checkpoint's signed claim is its content: next to the events before it, it covers
    # itself when it follows the event it signs (as qgov writes it).
    reach = seq if covered_seq == seq - 1 else covered_seq
    report.signed_through = max(report.signed_through or -1, reach)


def _head_signature_ok(head: dict[str, Any], report: VerifyReport) -> bool:
    seq, hash_ = head.get("seq"), head.get("hash")
    assert isinstance(seq, int) and isinstance(hash_, str)
    version = _signature_version(head.get("payload"), report, HEAD_PAYLOAD)
    ledger_id = str(head.get("ledger_id"))
    if version == "v2":
        payload = head_payload(ledger_id, seq, hash_, str(head.get("signed_at")))
    elif version == "v1":
        payload = signed_payload(ledger_id, seq, hash_)
    else:
        return False
    if not signature_valid(report.anchor.key, head.get("signature"), payload):
        return False
    report.signature_versions.add(version)
    return True


def _check_signed_head(
    path: Path, head_file: Path | None, hashes: dict[int, str], report: VerifyReport
) -> None:
    candidate = head_file or sidecar(path, ".head")
    try:
        raw = read_small(candidate, "signed head")
    except LedgerError as exc:
        report.head_status = "invalid"
        report.problems.append(Problem("head-unreadable", str(exc)))
        return
    if raw is None:
        report.notes.append(
            f"no signed head file ({candidate.name}): events cut off after the last checkpoint "
            "cannot be detected without --witness, --min-seq or --head"
        )
        return
    report.head_status = "invalid"
    try:
        head = parse_strict(raw.removesuffix(b"\n"))
    except LineError as exc:
        report.problems.append(
            Problem("head-unreadable", f"{candidate} is not a signed head ({exc.message})")
        )
        return
    seq, hash_ = head.get("seq"), head.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(hash_, str):
        report.problems.append(Problem("head-unreadable", f"{candidate} is not a signed head"))
        return
    if not _head_signature_ok(head, report):
        report.problems.append(
            Problem(
                "head-signature-invalid",
                "the signed head's signature does not verify as a head (a forged head, or a "
                "checkpoint's signature presented as one)",
            )
        )
        return
    if head.get("ledger_id") != report.ledger_id:
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
    else:
        report.head_status = "verified"
        report.signed_through = max(report.signed_through or -1, seq)


def _check_coverage(report: VerifyReport) -> None:
    """Not intact unless a valid signature covers the last event."""
    if report.last_seq is None or report.anchor.key is None:
        return
    if report.signed_through is None:
        report.problems.append(
            Problem(
                "unsigned",
                "no valid signed checkpoint or head covers any event: nothing in this ledger "
                "is proven to come from the ledger key (rewritten with the checkpoints and "
                "head removed?)",
            )
        )
    elif report.signed_through < report.last_seq:
        first = report.signed_through + 1
        report.problems.append(
            Problem(
                "unsigned-events",
                f"{report.last_seq - report.signed_through} event(s) from seq {first} on carry "
                f"no valid signature (the last signed one is seq {report.signed_through}): "
                "appended outside qgov, rewritten, or a writer stopped before signing",
                seq=first,
            )
        )


def _check_witness(path: Path, witness: Path, hashes: dict[int, str], report: VerifyReport) -> None:
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
        if not valid or item.get("payload") != HEAD_PAYLOAD or not _head_signature_ok(item, report):
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
