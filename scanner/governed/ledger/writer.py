"""Writing the ledger: :class:`Ledger` (paths, keys, lock) and :class:`LedgerSession` (appends).

Under an exclusive lock, the tail is checked (a final line without a newline is a torn write;
a final event that is not canonical or does not match its hash is corruption -- both stop the
append), the new line is written with a single ``write`` to a file opened ``O_APPEND``, then
``fsync``. A short write is cut back off, so the ledger is never left half-written. When a
session ends -- also when it ends in an error, so appended events never stay unsigned -- the
newest event is signed into ``<ledger>.head``, appended to the witness file if one is
configured, and handed to the listeners (the SIEM forwarder) after the events.

Files: the ledger, its head, its lock and its public-key copy must be regular files; a symlink
or anything else in their place is refused, and every temporary file is created exclusively
with an unpredictable name in the same folder (so nothing planted there is ever followed): see
:mod:`.files`. The signing key is kept outside the ledger folder (see :mod:`.format`).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.canonical import CanonicalError
from scanner.governed.errors import LedgerError
from scanner.governed.ledger.files import (
    append_line,
    atomic_write,
    check_ledger_path,
    create_private,
    exclusive,
    fsync_dir,
)
from scanner.governed.ledger.format import (
    CANONICALIZATION,
    CHECKPOINT,
    CHECKPOINT_MARK,
    CHECKPOINT_PAYLOAD,
    FORMAT,
    FORMATS,
    GENESIS,
    GENESIS_PREV,
    HEAD_PAYLOAD,
    LineError,
    b64,
    canonical_line,
    check_regular,
    checkpoint_payload,
    event_hash,
    iter_lines,
    key_id,
    load_signing_key,
    open_regular,
    parse_strict,
    public_pem,
    raw_public,
    read_small,
    safe_hash,
    sidecar,
    sign,
    stored_key_path,
    stored_public_path,
)
from scanner.governed.ledger.witness import append_head, signed_head
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
        witness: Path | None = None,
    ) -> None:
        check_ledger_path(path)
        self.path = path
        self.signing_key = signing_key  # None: the user's key store (or the legacy sidecar)
        self.key_path: Path | None = signing_key  # the key file actually used, once known
        self.pub_path = sidecar(path, ".pub")
        self.head_path = sidecar(path, ".head")
        self.lock_path = sidecar(path, ".lock")
        self.legacy_key_path = sidecar(path, ".key")
        self.witness = witness
        self.checkpoint_every = checkpoint_every
        self.clock = clock
        self.scrubber = scrubber or Scrubber()
        self.lock_timeout = lock_timeout
        # Each gets every appended event, then the session's signed head (type ledger.head).
        self.listeners: list[Listener] = []

    @contextlib.contextmanager
    def session(self) -> Iterator[LedgerSession]:
        """Hold the ledger lock; append any number of events; sign the head on the way out."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Refuse a link or non-file where the head, key copy or witness go before appending
        # anything, so a refusal never leaves events without a signed head.
        check_regular(self.head_path, "signed head")
        check_regular(self.pub_path, "ledger public key")
        if self.witness is not None:
            check_regular(self.witness, "witness")
            if not self.witness.parent.is_dir():
                raise LedgerError(f"witness {self.witness}: its folder does not exist")
        appended: list[dict[str, Any]] = []
        head: dict[str, Any] | None = None
        try:
            with exclusive(self.lock_path, self.lock_timeout, self.path):
                session = LedgerSession(self, self._read_tail(), appended)
                try:
                    yield session
                finally:
                    if appended:
                        head = self._seal(session.key, session.tail)
        finally:
            for record in [*appended, *([head] if head else [])]:
                for listener in self.listeners:
                    listener(record)

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
        """Stream the ledger once (memory bounded by one line) for what an append needs."""
        try:
            fd = open_regular(self.path, "ledger")
        except FileNotFoundError:
            return _Tail(0, 0, GENESIS_PREV, None, 0)
        first: bytes | None = None
        last: bytes | None = None
        count = since = 0
        try:
            size = os.fstat(fd).st_size
            for line in iter_lines(fd):
                if not line.terminated:
                    raise LedgerError(
                        f"ledger {self.path}: line {line.number} is a torn (partial) write; "
                        "refusing to append -- run 'qgov ledger verify' and restore the ledger"
                    )
                if line.number == 1:
                    first = line.raw
                last, count = line.raw, line.number
                since = 0 if line.raw is not None and CHECKPOINT_MARK in line.raw else since + 1
        finally:
            os.close(fd)
        if count == 0:
            return _Tail(0, 0, GENESIS_PREV, None, 0)
        last_event = _valid_event(last)
        if last_event is None:
            raise LedgerError(
                f"ledger {self.path}: the last event (line {count}) is not canonical or does "
                "not match its hash; refusing to append -- run 'qgov ledger verify'"
            )
        genesis = _valid_event(first) or {}
        data = genesis.get("data") if isinstance(genesis.get("data"), dict) else {}
        if (
            genesis.get("type") != GENESIS
            or genesis.get("seq") != 0
            or (data or {}).get("format") not in FORMATS
        ):
            raise LedgerError(
                f"ledger {self.path}: line 1 is not the genesis event (or not a valid one); "
                "refusing to append -- run 'qgov ledger verify'"
            )
        return _Tail(
            size=size,
            next_seq=int(last_event["seq"]) + 1,
            prev_hash=str(last_event["hash"]),
            ledger_id=str(genesis.get("id")),
            since_checkpoint=since,
        )

    def signing_key_for(self, tail: _Tail) -> ed25519.Ed25519PrivateKey:
        """The key that signs this ledger, created (mode 0600) for a new one."""
        new = tail.next_seq == 0
        if new and tail.ledger_id is None:
            tail.ledger_id = str(uuid.uuid4())  # the genesis event's id: known before the key
        assert tail.ledger_id is not None
        if self.signing_key is not None:
            path = self.signing_key
        elif new:
            path = stored_key_path(tail.ledger_id)
        else:
            stored = stored_key_path(tail.ledger_id)
            path = stored if stored.exists() else self.legacy_key_path
            if not path.exists():
                raise LedgerError(
                    f"ledger {self.path}: its signing key is missing (looked in {stored} and "
                    f"the legacy {self.legacy_key_path}); a new key would not match earlier "
                    "checkpoints -- name the key with the policy's ledger.signing_key"
                )
        if path.exists():
            key = load_signing_key(path)
        elif new:
            key = ed25519.Ed25519PrivateKey.generate()
            create_private(path, key)
            if self.signing_key is None:
                atomic_write(stored_public_path(tail.ledger_id), public_pem(key), mode=0o644)
        else:
            raise LedgerError(
                f"ledger {self.path}: its signing key {path} is missing; a new key would not "
                "match earlier checkpoints"
            )
        self.key_path = path
        self._check_public_copy(key, replace=new)
        return key

    def _check_public_copy(self, key: ed25519.Ed25519PrivateKey, *, replace: bool) -> None:
        """Keep ``<ledger>.pub`` (a convenience copy, not a trust anchor) in step with the key;
        a copy that differs on an existing ledger stops the append: someone swapped a key."""
        public = public_pem(key)
        stored = None if replace else read_small(self.pub_path, "ledger public key")
        if stored is not None:
            if stored.strip() != public.strip():
                raise LedgerError(
                    f"ledger {self.path}: signing key does not match the public key in "
                    f"{self.pub_path}"
                )
            return
        atomic_write(self.pub_path, public, mode=0o644)

    def _seal(self, key: ed25519.Ed25519PrivateKey, tail: _Tail) -> dict[str, Any]:
        """Sign the newest event into the head file and the witness; return the head."""
        assert tail.ledger_id is not None
        head = signed_head(
            key,
            ledger_id=tail.ledger_id,
            seq=tail.next_seq - 1,
            hash_=tail.prev_hash,
            signed_at=iso_z(self.clock()),
            ledger=self.path,
        )
        atomic_write(self.head_path, canonical_line(head), mode=0o644)
        if self.witness is not None:
            append_head(self.witness, head)
        return head


def _valid_event(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        event = parse_strict(raw)
    except LineError:
        return None
    return event if event.get("hash") == safe_hash(event) else None


class LedgerSession:
    """Appends under the lock held by :meth:`Ledger.session`."""

    def __init__(self, ledger: Ledger, tail: _Tail, appended: list[dict[str, Any]]) -> None:
        self.ledger = ledger
        self.tail = tail
        self.appended = appended
        self._key: ed25519.Ed25519PrivateKey | None = None

    @property
    def key(self) -> ed25519.Ed25519PrivateKey:
        # Resolved on first use, so a session that appends nothing creates no key.
        if self._key is None:
            self._key = self.ledger.signing_key_for(self.tail)
        return self._key

    def events(self) -> list[dict[str, Any]]:
        """All events as stored (for quota accounting); a line that is not a valid event is
        an error. Read a line at a time, each capped in size."""
        path = self.ledger.path
        try:
            fd = open_regular(path, "ledger")
        except FileNotFoundError:
            return []
        events = []
        try:
            for line in iter_lines(fd):
                try:
                    if line.raw is None:
                        raise LineError("oversized", "longer than an event can be")
                    events.append(parse_strict(line.raw))
                except LineError as exc:
                    raise LedgerError(
                        f"ledger {path}: line {line.number} is not a valid event ({exc.message})"
                    ) from exc
        finally:
            os.close(fd)
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
                    "payload": CHECKPOINT_PAYLOAD,
                    "signature": sign(
                        self.key, checkpoint_payload(self.tail.ledger_id, seq, hash_)
                    ),
                },
            },
        )
        self.tail.since_checkpoint = 0
        return event

    def _genesis(self, source: dict[str, Any] | None) -> None:
        public = self.key.public_key()  # also fixes the ledger id
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
                    "signed_payloads": [CHECKPOINT_PAYLOAD, HEAD_PAYLOAD],
                },
            },
        )

    def _write(self, event_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Seal and append one event; ``fields`` may hold actor, source, policy, decision,
        subject and data (the rest are null or empty)."""
        genesis = self.tail.next_seq == 0
        event_id = str(self.tail.ledger_id) if genesis else str(uuid.uuid4())
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
        append_line(self.ledger.path, line, self.tail.size)
        if genesis:
            fsync_dir(self.ledger.path.parent)
        self.tail.size += len(line)
        self.tail.next_seq += 1
        self.tail.prev_hash = body["hash"]
        self.appended.append(body)
        return body
