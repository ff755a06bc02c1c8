"""Writing the ledger: :class:`Ledger` (paths, keys, lock) and :class:`LedgerSession` (appends).

Under an exclusive file lock, the tail is checked (a final line without a newline is a torn
write; a final event whose hash does not match is corruption -- both stop the append), the new
line is written with a single ``write`` to a file opened ``O_APPEND``, then ``fsync``. A short
write is cut back off, so the ledger is never left half-written. The signed head beside the
ledger is replaced atomically when a session ends.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from filelock import FileLock, Timeout

from scanner.governed.canonical import CanonicalError
from scanner.governed.errors import LedgerError
from scanner.governed.ledger.format import (
    CANONICALIZATION,
    CHECKPOINT,
    CHECKPOINT_MARK,
    FORMAT,
    GENESIS,
    GENESIS_PREV,
    b64,
    canonical_line,
    event_hash,
    key_id,
    load_signing_key,
    parse_line,
    public_pem,
    raw_public,
    safe_hash,
    sidecar,
    sign,
)
from scanner.governed.scrub import Scrubber
from scanner.governed.timeutil import Clock, iso_z, utc_now

Listener = Callable[[dict[str, Any]], None]


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
        last = parse_line(lines[-1])
        if last is None or last.get("hash") != safe_hash(last):
            raise LedgerError(
                f"ledger {self.path}: the last event (line {len(lines)}) does not match its hash; "
                "refusing to append -- run 'qgov ledger verify'"
            )
        first = parse_line(lines[0]) or {}
        if first.get("type") != GENESIS or first.get("seq") != 0:
            raise LedgerError(
                f"ledger {self.path}: line 1 is not the genesis event; refusing to append "
                "-- run 'qgov ledger verify'"
            )
        since = 0
        for raw in reversed(lines):
            if CHECKPOINT_MARK in raw:
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
            key = load_signing_key(self.key_path)
        elif tail.next_seq > 0:
            raise LedgerError(
                f"ledger {self.path}: its signing key {self.key_path} is missing; a new key "
                "would not match earlier checkpoints"
            )
        else:
            key = ed25519.Ed25519PrivateKey.generate()
            _create_private(self.key_path, key)
        public = public_pem(key)
        if self.pub_path.exists():
            if self.pub_path.read_bytes().strip() != public.strip():
                raise LedgerError(
                    f"ledger {self.path}: signing key does not match the public key in "
                    f"{self.pub_path}"
                )
        else:
            _atomic_write(self.pub_path, public, mode=0o644)
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
            "signature": sign(key, tail.ledger_id, seq, tail.prev_hash),
        }
        _atomic_write(self.head_path, canonical_line(head), mode=0o644)


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
            event = parse_line(raw)
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
        fields = {"actor": actor, "source": source, "policy": policy, "decision": decision}
        event = self._write(event_type, {**fields, "subject": subject, "data": data})
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
            {
                "subject": {"ledger_id": self.tail.ledger_id},
                "data": {
                    "covers": {"seq": seq, "hash": hash_},
                    "key_id": key_id(public),
                    "public_key": b64(raw_public(public)),
                    "algorithm": "Ed25519",
                    "signature": sign(self.key, self.tail.ledger_id, seq, hash_),
                },
            },
        )
        self.tail.since_checkpoint = 0
        return event

    def _genesis(self, source: dict[str, Any] | None) -> None:
        public = self.key.public_key()
        self._write(
            GENESIS,
            {
                "source": source,
                "data": {
                    "format": FORMAT,
                    "hash_algorithm": "sha256",
                    "canonicalization": CANONICALIZATION,
                    "checkpoint_key_id": key_id(public),
                    "checkpoint_public_key": b64(raw_public(public)),
                    "checkpoint_every": self.ledger.checkpoint_every,
                },
            },
        )

    def _write(self, event_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Seal and append one event; ``fields`` may hold actor, source, policy, decision,
        subject and data (the rest are null or empty)."""
        event_id = str(uuid.uuid4())
        body: dict[str, Any] = {
            "v": 1,
            "seq": self.tail.next_seq,
            "prev": self.tail.prev_hash,
            "ts": iso_z(self.ledger.clock()),
            "id": event_id,
            "type": event_type,
            "actor": fields.get("actor"),
            "source": fields.get("source"),
            "policy": fields.get("policy"),
            "decision": fields.get("decision"),
            "subject": fields.get("subject") or {},
            "data": fields.get("data") or {},
        }
        if event_type != CHECKPOINT:  # signatures and keys are not sensitive; keep them exact
            body = self.ledger.scrubber.scrub_obj(body)
        try:
            body["hash"] = event_hash(body)
            line = canonical_line(body)
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


# -- durable file writes ----------------------------------------------------------------------


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


def _create_private(path: Path, key: ed25519.Ed25519PrivateKey) -> None:
    """Write a new signing key, mode 0600; O_EXCL: never overwrite a key file already there."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())


def _atomic_write(path: Path, data: bytes, *, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
