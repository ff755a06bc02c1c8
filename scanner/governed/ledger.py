"""The audit ledger: append-only JSON Lines, hash-chained, with signed checkpoints.

Format (``qgov-ledger/1``)
- One event per line, written as canonical JSON (see :mod:`canonical`). Each event has
  ``seq`` (0, 1, 2, ...), ``prev`` (the previous event's ``hash``; 64 zeros for the first),
  ``ts``, ``id``, ``type``, ``actor`` (who), ``source`` (where the request came from),
  ``policy`` (which policy, by id, version and SHA-256), ``decision``, ``subject`` (what) and
  ``data``. ``hash`` is SHA-256 over the canonical JSON of the event without ``hash``.
- Line 1 is a ``ledger.genesis`` event naming the checkpoint key.
- ``ledger.checkpoint`` events (every ``checkpoint_every`` events and at the end of each run)
  carry an Ed25519 signature over ``{format, ledger_id, seq, hash}`` of the event before them.
- Beside the ledger: ``<ledger>.key`` (the checkpoint signing key, created on first use with
  mode 0600 unless the policy names one), ``<ledger>.pub`` (its public key: the trust anchor
  verification uses, so whoever rewrites the ledger cannot also re-sign it), ``<ledger>.head``
  (the last signed head: seq and hash of the newest event, replaced atomically after every
  append; this is the "last signed checkpoint" kept outside the file that exposes truncation)
  and ``<ledger>.lock`` (the inter-process lock file).

Writing: under an exclusive file lock, the tail is checked (a final line without a newline is a
torn write; a final event whose hash does not match is corruption -- both stop the append), the
new line is written with a single ``write`` to a file opened ``O_APPEND``, then ``fsync``. A
short write is cut back off, so the ledger is never left half-written.

Verification reports every edited, deleted, inserted, reordered or truncated event by line
and sequence number.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from filelock import FileLock, Timeout

from scanner.governed.canonical import CanonicalError, canonical_json, sha256_hex
from scanner.governed.errors import LedgerError
from scanner.governed.scrub import Scrubber
from scanner.governed.timeutil import Clock, iso_z, utc_now

FORMAT = "qgov-ledger/1"
GENESIS_PREV = "0" * 64
CHECKPOINT = "ledger.checkpoint"
GENESIS = "ledger.genesis"
DEFAULT_LEDGER = Path(".qgov") / "ledger.jsonl"
LEDGER_ENV = "QGOV_LEDGER"
CANONICALIZATION = "JSON; keys sorted; separators ',' ':'; UTF-8; integers only (no floats)"
_CHECKPOINT_MARK = b'"type":"ledger.checkpoint"'

Listener = Callable[[dict[str, Any]], None]


def default_ledger_path() -> Path:
    """``$QGOV_LEDGER`` if set, else ``.qgov/ledger.jsonl`` under the current directory."""
    env = os.environ.get(LEDGER_ENV)
    return Path(env) if env else DEFAULT_LEDGER


def sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def event_hash(event: dict[str, Any]) -> str:
    return sha256_hex(canonical_json({k: v for k, v in event.items() if k != "hash"}))


def key_id(public_key: ed25519.Ed25519PublicKey) -> str:
    return sha256_hex(_raw_public(public_key))[:32]


def _raw_public(public_key: ed25519.Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _signed_payload(ledger_id: str, seq: int, hash_: str) -> bytes:
    return canonical_json({"format": FORMAT, "ledger_id": ledger_id, "seq": seq, "hash": hash_})


def load_public_key(path: Path) -> ed25519.Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise LedgerError(f"public key {path}: cannot read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise LedgerError(f"public key {path}: not a PEM public key") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise LedgerError(f"public key {path}: expected an Ed25519 key")
    return key


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class _Tail:
    size: int
    next_seq: int
    prev_hash: str
    ledger_id: str | None
    since_checkpoint: int


class Ledger:
    def __init__(
        self,
        path: Path,
        *,
        signing_key: Path | None = None,
        checkpoint_every: int = 16,
        clock: Clock = utc_now,
        scrubber: Scrubber | None = None,
        lock_timeout: float = 30.0,
    ) -> None:
        self.path = path
        self.key_path = signing_key or sidecar(path, ".key")
        self.pub_path = sidecar(path, ".pub")
        self.head_path = sidecar(path, ".head")
        self.lock_path = sidecar(path, ".lock")
        self.checkpoint_every = checkpoint_every
        self.clock = clock
        self.scrubber = scrubber or Scrubber()
        self.lock_timeout = lock_timeout
        self.listeners: list[Listener] = []

    @contextlib.contextmanager
    def session(self) -> Iterator[LedgerSession]:
        """Hold the ledger lock; append any number of events; sign the head on the way out."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        appended: list[dict[str, Any]] = []
        try:
            lock = FileLock(str(self.lock_path), timeout=self.lock_timeout)
            with lock.acquire(poll_interval=0.005):
                tail = self._read_tail()
                key = self._signing_key(tail)
                session = LedgerSession(self, key, tail, appended)
                yield session
                if appended:
                    self._write_head(key, session.tail)
        except Timeout as exc:
            raise LedgerError(f"ledger {self.path}: could not get the lock in time") from exc
        for event in appended:
            for listener in self.listeners:
                listener(event)

    def append(self, event_type: str, **fields: Any) -> dict[str, Any]:
        with self.session() as session:
            return session.append(event_type, **fields)

    def checkpoint(self) -> dict[str, Any] | None:
        with self.session() as session:
            return session.checkpoint()

    def head(self) -> str | None:
        tail = self._read_tail()
        return tail.prev_hash if tail.next_seq else None

    # -- internals ------------------------------------------------------------------------

    def _read_tail(self) -> _Tail:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return _Tail(0, 0, GENESIS_PREV, None, 0)
        except OSError as exc:
            raise LedgerError(f"ledger {self.path}: cannot read: {exc.strerror or exc}") from exc
        if not data:
            return _Tail(0, 0, GENESIS_PREV, None, 0)
        if not data.endswith(b"\n"):
            line_no = data.count(b"\n") + 1
            raise LedgerError(
                f"ledger {self.path}: line {line_no} is a torn (partial) write; refusing to append "
                "-- run 'qgov ledger verify' and restore the ledger"
            )
        lines = data[:-1].split(b"\n")
        last = _parse_line(lines[-1])
        if last is None or last.get("hash") != _safe_hash(last):
            raise LedgerError(
                f"ledger {self.path}: the last event (line {len(lines)}) does not match its hash; "
                "refusing to append -- run 'qgov ledger verify'"
            )
        first = _parse_line(lines[0]) or {}
        if first.get("type") != GENESIS or first.get("seq") != 0:
            raise LedgerError(
                f"ledger {self.path}: line 1 is not the genesis event; refusing to append "
                "-- run 'qgov ledger verify'"
            )
        since = 0
        for raw in reversed(lines):
            if _CHECKPOINT_MARK in raw:
                break
            since += 1
        return _Tail(
            size=len(data),
            next_seq=int(last["seq"]) + 1,
            prev_hash=str(last["hash"]),
            ledger_id=str(first.get("id")),
            since_checkpoint=since,
        )

    def _signing_key(self, tail: _Tail) -> ed25519.Ed25519PrivateKey:
        if self.key_path.exists():
            try:
                loaded = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
            except (OSError, ValueError, TypeError) as exc:
                raise LedgerError(f"ledger key {self.key_path}: unreadable or not PEM") from exc
            if not isinstance(loaded, ed25519.Ed25519PrivateKey):
                raise LedgerError(f"ledger key {self.key_path}: expected an Ed25519 private key")
            key = loaded
        elif tail.next_seq > 0:
            raise LedgerError(
                f"ledger {self.path}: its signing key {self.key_path} is missing; a new key "
                "would not match earlier checkpoints"
            )
        else:
            key = ed25519.Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            self.key_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if self.pub_path.exists():
            if self.pub_path.read_bytes().strip() != public_pem.strip():
                raise LedgerError(
                    f"ledger {self.path}: signing key does not match the public key in "
                    f"{self.pub_path}"
                )
        else:
            _atomic_write(self.pub_path, public_pem, mode=0o644)
        return key

    def _write_head(self, key: ed25519.Ed25519PrivateKey, tail: _Tail) -> None:
        assert tail.ledger_id is not None
        seq = tail.next_seq - 1
        head = {
            "format": FORMAT,
            "ledger_id": tail.ledger_id,
            "seq": seq,
            "hash": tail.prev_hash,
            "signed_at": iso_z(self.clock()),
            "key_id": key_id(key.public_key()),
            "signature": _b64(key.sign(_signed_payload(tail.ledger_id, seq, tail.prev_hash))),
        }
        _atomic_write(self.head_path, canonical_json(head) + b"\n", mode=0o644)


class LedgerSession:
    """Appends under the lock held by :meth:`Ledger.session`."""

    def __init__(
        self,
        ledger: Ledger,
        key: ed25519.Ed25519PrivateKey,
        tail: _Tail,
        appended: list[dict[str, Any]],
    ) -> None:
        self.ledger = ledger
        self.key = key
        self.tail = tail
        self.appended = appended

    def events(self) -> list[dict[str, Any]]:
        """All events as stored (for quota accounting); unparseable lines are an error."""
        try:
            data = self.ledger.path.read_bytes()
        except FileNotFoundError:
            return []
        events = []
        for number, raw in enumerate(data.splitlines(), 1):
            event = _parse_line(raw)
            if event is None:
                raise LedgerError(f"ledger {self.ledger.path}: line {number} is not a JSON event")
            events.append(event)
        return events

    def append(
        self,
        event_type: str,
        *,
        actor: dict[str, Any] | None = None,
        source: dict[str, Any] | None = None,
        policy: dict[str, Any] | None = None,
        decision: str | None = None,
        subject: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if self.tail.next_seq == 0 and event_type != GENESIS:
            self._genesis(source)
        event = self._write(event_type, actor, source, policy, decision, subject, data)
        if event_type not in (CHECKPOINT, GENESIS):
            self.tail.since_checkpoint += 1
            if self.tail.since_checkpoint >= self.ledger.checkpoint_every:
                self.checkpoint()
        return event

    def checkpoint(self) -> dict[str, Any] | None:
        """Sign the current head into the ledger itself (no-op if nothing new to cover)."""
        if self.tail.next_seq == 0 or self.tail.since_checkpoint == 0:
            return None
        assert self.tail.ledger_id is not None
        seq, hash_ = self.tail.next_seq - 1, self.tail.prev_hash
        public = self.key.public_key()
        event = self._write(
            CHECKPOINT,
            None,
            None,
            None,
            None,
            {"ledger_id": self.tail.ledger_id},
            {
                "covers": {"seq": seq, "hash": hash_},
                "key_id": key_id(public),
                "public_key": _b64(_raw_public(public)),
                "algorithm": "Ed25519",
                "signature": _b64(self.key.sign(_signed_payload(self.tail.ledger_id, seq, hash_))),
            },
        )
        self.tail.since_checkpoint = 0
        return event

    def _genesis(self, source: dict[str, Any] | None) -> None:
        public = self.key.public_key()
        self._write(
            GENESIS,
            None,
            source,
            None,
            None,
            None,
            {
                "format": FORMAT,
                "hash_algorithm": "sha256",
                "canonicalization": CANONICALIZATION,
                "checkpoint_key_id": key_id(public),
                "checkpoint_public_key": _b64(_raw_public(public)),
                "checkpoint_every": self.ledger.checkpoint_every,
            },
        )

    def _write(
        self,
        event_type: str,
        actor: dict[str, Any] | None,
        source: dict[str, Any] | None,
        policy: dict[str, Any] | None,
        decision: str | None,
        subject: dict[str, Any] | None,
        data: dict[str, Any] | None,
    ) -> dict[str, Any]:
        event_id = str(uuid.uuid4())
        body: dict[str, Any] = {
            "v": 1,
            "seq": self.tail.next_seq,
            "prev": self.tail.prev_hash,
            "ts": iso_z(self.ledger.clock()),
            "id": event_id,
            "type": event_type,
            "actor": actor,
            "source": source,
            "policy": policy,
            "decision": decision,
            "subject": subject or {},
            "data": data or {},
        }
        if event_type != CHECKPOINT:  # signatures and keys are not sensitive; keep them exact
            body = self.ledger.scrubber.scrub_obj(body)
        try:
            body["hash"] = event_hash(body)
            line = canonical_json(body) + b"\n"
        except CanonicalError as exc:
            raise LedgerError(f"event {event_type}: {exc}") from exc
        _append_line(self.ledger.path, line, self.tail.size)
        if self.tail.next_seq == 0:
            self.tail.ledger_id = event_id
            _fsync_dir(self.ledger.path.parent)
        self.tail.size += len(line)
        self.tail.next_seq += 1
        self.tail.prev_hash = body["hash"]
        self.appended.append(body)
        return body


def _append_line(path: Path, line: bytes, expected_size: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
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


def _atomic_write(path: Path, data: bytes, *, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _parse_line(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _safe_hash(event: dict[str, Any]) -> str | None:
    try:
        return event_hash(event)
    except CanonicalError:
        return None


# -- verification -----------------------------------------------------------------------------


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
    if not lines:
        report.problems.append(Problem("empty", "the ledger holds no events"))
        return report

    hashes: dict[int, str] = {}
    expected_seq, prev_hash = 0, GENESIS_PREV
    ledger_id: str | None = None
    since_checkpoint = 0
    for number, raw in enumerate(lines, 1):
        event = _parse_line(raw)
        if event is None:
            report.problems.append(Problem("unparseable", "not a JSON event", line=number))
            prev_hash, expected_seq = "", expected_seq + 1
            continue
        report.events += 1
        seq = event.get("seq")
        seq_no = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        stored = str(event.get("hash", ""))
        if _safe_hash(event) != stored:
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


def _verify_sig(key: ed25519.Ed25519PublicKey | None, signature: object, payload: bytes) -> bool:
    if key is None or not isinstance(signature, str):
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), payload)
    except (InvalidSignature, ValueError):
        return False
    return True


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
    if trusted is not None and data.get("public_key") != _b64(_raw_public(trusted)):
        report.problems.append(
            Problem(
                "checkpoint-foreign-key",
                "checkpoint signed with a key other than the trusted ledger key",
                number,
                seq,
            )
        )
    if not _verify_sig(
        trusted, data.get("signature"), _signed_payload(ledger_id, covered_seq, covered_hash)
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
    if not _verify_sig(
        trusted, head.get("signature"), _signed_payload(str(head.get("ledger_id")), seq, hash_)
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
