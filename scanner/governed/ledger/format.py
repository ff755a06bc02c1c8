"""The ledger's on-disk format: what a line, a hash, a signature and a key location are.

- One event per line, written as canonical JSON (see :mod:`scanner.governed.canonical`).
  Each event has ``seq`` (0, 1, 2, ...), ``prev`` (the previous event's ``hash``; 64 zeros
  for the first), ``ts``, ``id``, ``type``, ``actor`` (who), ``source`` (where the request
  came from), ``policy`` (which policy, by id, version and SHA-256), ``decision``, ``subject``
  (what) and ``data``. ``hash`` is SHA-256 over the canonical JSON of the event without
  ``hash``. A line is valid only if its bytes *are* that canonical form (no added
  whitespace, no CRLF, no duplicate keys): the bytes a SIEM or ``jq`` reads are the bytes
  that were hashed.
- Line 1 is a ``ledger.genesis`` event; its ``id`` is the ledger id and ``data.format`` the
  format (``qgov-ledger/2`` for new ledgers, ``qgov-ledger/1`` for ledgers written before
  domain-separated signatures).
- ``ledger.checkpoint`` events (every ``checkpoint_every`` events and at the end of each run)
  carry an Ed25519 signature over the seq and hash of the event before them; ``<ledger>.head``
  holds a signed head over the newest event, replaced after every session, and each head is
  also sent to the SIEM stream and an optional witness file (:mod:`.witness`).

Signed payloads (v2, domain-separated, so a checkpoint signature can never stand in for a
head or the other way round)::

    b"qgov-ledger-checkpoint-v2\\0" + canonical_json({format, ledger_id, seq, hash})
    b"qgov-ledger-head-v2\\0" + canonical_json({format, ledger_id, seq, hash, signed_at})

v1 (``qgov-ledger/1``) signed ``canonical_json({format, ledger_id, seq, hash})`` for both, so
its checkpoint and head signatures are interchangeable. The verifier still accepts v1
signatures, but only in a ledger whose genesis says ``qgov-ledger/1``, and says so in its
verdict (``--strict`` refuses them). New checkpoints and heads are always v2, also when
appending to a v1 ledger.

Keys: the signing key lives outside the ledger folder -- in the user's key store
(``$XDG_CONFIG_HOME/qgov/keys/<ledger-id>.pem``, mode 0600, with ``<ledger-id>.pub`` beside
it) or where the policy's ``ledger.signing_key`` says. ``<ledger>.pub`` beside the ledger is a
convenience copy of the public key and proves nothing: whoever can write the ledger folder can
replace it (see :mod:`.verify` for the trust anchors). ``<ledger>.key`` beside the ledger is
the legacy (v1) location; it is still used when present so old ledgers stay writable.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.fs import FileRefused, read_user_file
from scanner.governed.canonical import CanonicalError, canonical_json, sha256_hex
from scanner.governed.errors import LedgerError

FORMAT = "qgov-ledger/2"
FORMAT_V1 = "qgov-ledger/1"
FORMATS = (FORMAT_V1, FORMAT)
CHECKPOINT_PAYLOAD = "qgov-ledger-checkpoint-v2"
HEAD_PAYLOAD = "qgov-ledger-head-v2"
HEAD_TYPE = "ledger.head"
GENESIS_PREV = "0" * 64
CHECKPOINT = "ledger.checkpoint"
GENESIS = "ledger.genesis"
DEFAULT_LEDGER = Path(".qgov") / "ledger.jsonl"
LEDGER_ENV = "QGOV_LEDGER"
CANONICALIZATION = "JSON; keys sorted; separators ',' ':'; UTF-8; integers only (no floats)"
# Canonical JSON has no spaces, so a checkpoint line always contains this exact byte string.
CHECKPOINT_MARK = b'"type":"ledger.checkpoint"'
# Events are a few kilobytes; a longer line is damage (or an attack on memory), never read whole.
MAX_LINE_BYTES = 1024 * 1024
# Nesting deeper than this is not something qgov writes; refusing it keeps parsing and hashing
# far from the interpreter's recursion limit.
MAX_DEPTH = 64
_READ_CHUNK = 1 << 20
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def default_ledger_path() -> Path:
    """``$QGOV_LEDGER`` if set, else ``.qgov/ledger.jsonl`` under the current directory."""
    env = os.environ.get(LEDGER_ENV)
    return Path(env) if env else DEFAULT_LEDGER


def sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def key_store() -> Path:
    """The user's ledger key folder: ``$XDG_CONFIG_HOME/qgov/keys`` (default ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "qgov" / "keys"


def stored_key_path(ledger_id: str) -> Path:
    return key_store() / f"{_safe_id(ledger_id)}.pem"


def stored_public_path(ledger_id: str) -> Path:
    return key_store() / f"{_safe_id(ledger_id)}.pub"


def _safe_id(ledger_id: str) -> str:
    # A ledger id comes from the ledger file itself: never let it name a path elsewhere.
    if not ledger_id or any(c not in "0123456789abcdef-" for c in ledger_id.lower()):
        raise LedgerError(f"ledger id {ledger_id[:40]!r} is not a UUID")
    return ledger_id.lower()


# -- hashing and parsing --------------------------------------------------------------------


def event_hash(event: dict[str, Any]) -> str:
    return sha256_hex(canonical_json({k: v for k, v in event.items() if k != "hash"}))


def safe_hash(event: dict[str, Any]) -> str | None:
    """The event's hash, or None when it holds a value canonical JSON refuses."""
    try:
        return event_hash(event)
    except (CanonicalError, RecursionError):
        return None


def canonical_line(event: dict[str, Any]) -> bytes:
    return canonical_json(event) + b"\n"


class LineError(ValueError):
    """Why a line is not a ledger record; ``kind`` is the verifier's problem kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            # json keeps the last value, a SIEM or `jq --stream` may keep the first: refuse both.
            raise LineError("duplicate-key", f"the key {key[:40]!r} appears twice in one object")
        obj[key] = value
    return obj


def _too_deep(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def parse_strict(raw: bytes) -> dict[str, Any]:
    """A line's JSON object; raises :class:`LineError` unless it is one object, without
    duplicate keys, nested at most :data:`MAX_DEPTH` deep, whose bytes are its canonical form."""
    try:
        value = json.loads(raw, object_pairs_hook=_no_duplicates)
    except LineError:
        raise
    except RecursionError as exc:
        raise LineError("unparseable", "nested too deeply to be an event (damaged)") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise LineError("unparseable", "not a JSON event") from exc
    if not isinstance(value, dict):
        raise LineError("unparseable", "not a JSON object")
    if _too_deep(value):
        raise LineError("unparseable", f"nested deeper than {MAX_DEPTH} levels (damaged)")
    try:
        canonical = canonical_json(value)
    except (CanonicalError, RecursionError) as exc:
        raise LineError("non-canonical", f"holds a value canonical JSON refuses: {exc}") from exc
    if canonical != raw:
        raise LineError(
            "non-canonical",
            "the bytes differ from the canonical form (added whitespace, CRLF line end, "
            "reordered keys or different escapes): these are not the bytes that were hashed",
        )
    return value


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """:func:`parse_strict`, or None for a line that is not a valid record."""
    try:
        return parse_strict(raw)
    except LineError:
        return None


# -- reading files safely -------------------------------------------------------------------


def check_regular(path: Path, what: str, *, may_be_missing: bool = True) -> bool:
    """True if ``path`` is a regular file, False if it is missing (when allowed); anything else
    -- a symlink, a folder, a device, a pipe -- is a :class:`LedgerError`."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if may_be_missing:
            return False
        raise LedgerError(f"{what} {path}: cannot read: it does not exist") from None
    except NotADirectoryError:
        raise LedgerError(f"{what} {path}: part of the path is not a folder") from None
    except OSError as exc:
        raise LedgerError(f"{what} {path}: cannot read: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(info.st_mode):
        raise LedgerError(f"{what} {path}: is a symlink; qgov uses only regular files here")
    if stat.S_ISDIR(info.st_mode):
        raise LedgerError(
            f"{what} {path}: is a folder; give a file path (e.g. {path}/ledger.jsonl)"
        )
    if not stat.S_ISREG(info.st_mode):
        raise LedgerError(f"{what} {path}: is not a regular file (pipe, device or socket)")
    return True


def open_regular(path: Path, what: str, flags: int = os.O_RDONLY, mode: int = 0o640) -> int:
    """Open ``path`` without following a symlink and without blocking on a FIFO, and check on
    the open descriptor that it is a regular file (so a swap after a check changes nothing)."""
    try:
        fd = os.open(path, flags | _O_NOFOLLOW | _O_NONBLOCK, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LedgerError(f"{what} {path}: is a symlink; refused") from exc
        if isinstance(exc, FileNotFoundError):
            raise
        raise LedgerError(f"{what} {path}: cannot open: {exc.strerror or exc}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LedgerError(f"{what} {path}: is not a regular file")
        if _O_NONBLOCK:
            os.set_blocking(fd, True)  # non-blocking was only for the open (a FIFO)
    except BaseException:
        os.close(fd)
        raise
    return fd


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    raw: bytes | None  # None: longer than MAX_LINE_BYTES (skipped, never held in memory)
    terminated: bool  # False: the file ends without a newline (a torn write)
    size: int


def iter_lines(fd: int, max_line: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """The lines of an open file, streamed: memory stays near ``max_line`` + one chunk."""
    buffer = bytearray()
    number = 0
    oversized = 0  # bytes of an oversized line skipped so far (0: not in one)
    while True:
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            break
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if oversized:
                oversized += len(piece)
            elif len(buffer) + len(piece) > max_line:
                oversized = len(buffer) + len(piece)
                buffer.clear()
            else:
                buffer += piece
            if end < 0:
                break
            number += 1
            if oversized:
                yield Line(number, None, True, oversized)
            else:
                yield Line(number, bytes(buffer), True, len(buffer))
            buffer.clear()
            oversized = 0
            start = end + 1
    if buffer or oversized:
        number += 1
        yield Line(number, None if oversized else bytes(buffer), False, oversized or len(buffer))


def read_first_line(path: Path, what: str = "ledger") -> bytes | None:
    """The first complete line of a regular file, or None when it has none (or is missing)."""
    try:
        fd = open_regular(path, what)
    except FileNotFoundError:
        return None
    try:
        for line in iter_lines(fd):
            return line.raw if line.terminated else None
    finally:
        os.close(fd)
    return None


def read_small(path: Path, what: str, limit: int = 64 * 1024) -> bytes | None:
    """A small regular file (a head, a key), refusing links and oversize; None if missing."""
    try:
        fd = open_regular(path, what)
    except FileNotFoundError:
        return None
    try:
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise LedgerError(f"{what} {path}: larger than {limit} bytes")
    return data


# -- signatures and keys --------------------------------------------------------------------


def raw_public(public_key: ed25519.Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: ed25519.Ed25519PublicKey) -> str:
    return sha256_hex(raw_public(public_key))[:32]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signed_payload(ledger_id: str, seq: int, hash_: str) -> bytes:
    """The v1 payload (checkpoints and heads alike); only verified, never signed any more."""
    return canonical_json({"format": FORMAT_V1, "ledger_id": ledger_id, "seq": seq, "hash": hash_})


def checkpoint_payload(ledger_id: str, seq: int, hash_: str) -> bytes:
    body = {"format": FORMAT, "ledger_id": ledger_id, "seq": seq, "hash": hash_}
    return CHECKPOINT_PAYLOAD.encode("ascii") + b"\0" + canonical_json(body)


def head_payload(ledger_id: str, seq: int, hash_: str, signed_at: str) -> bytes:
    body = {
        "format": FORMAT,
        "ledger_id": ledger_id,
        "seq": seq,
        "hash": hash_,
        "signed_at": signed_at,
    }
    return HEAD_PAYLOAD.encode("ascii") + b"\0" + canonical_json(body)


def sign(key: ed25519.Ed25519PrivateKey, payload: bytes) -> str:
    return b64(key.sign(payload))


def signature_valid(
    key: ed25519.Ed25519PublicKey | None, signature: object, payload: bytes
) -> bool:
    if key is None or not isinstance(signature, str):
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), payload)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_pem(key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_from_pem(data: bytes, where: str) -> ed25519.Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise LedgerError(f"public key {where}: not a PEM public key") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise LedgerError(f"public key {where}: expected an Ed25519 key")
    return key


def read_key_file(path: Path, what: str) -> bytes:
    """A key file a user or policy named (links are theirs to use), size-capped, never a
    FIFO or a device."""
    try:
        return read_user_file(path, max_bytes=64 * 1024, what=what)
    except FileRefused as exc:
        raise LedgerError(exc.message) from exc


def load_public_key(path: Path) -> ed25519.Ed25519PublicKey:
    return public_key_from_pem(read_key_file(path, "public key"), str(path))


def load_signing_key(path: Path) -> ed25519.Ed25519PrivateKey:
    data = read_key_file(path, "ledger key")
    try:
        key = serialization.load_pem_private_key(data, None)
    except (ValueError, TypeError) as exc:
        raise LedgerError(f"ledger key {path}: unreadable or not PEM") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise LedgerError(f"ledger key {path}: expected an Ed25519 private key")
    return key
