"""The ledger's on-disk format (``qgov-ledger/1``): what a line, a hash and a signature are.

- One event per line, written as canonical JSON (see :mod:`scanner.governed.canonical`).
  Each event has ``seq`` (0, 1, 2, ...), ``prev`` (the previous event's ``hash``; 64 zeros
  for the first), ``ts``, ``id``, ``type``, ``actor`` (who), ``source`` (where the request
  came from), ``policy`` (which policy, by id, version and SHA-256), ``decision``, ``subject``
  (what) and ``data``. ``hash`` is SHA-256 over the canonical JSON of the event without
  ``hash``.
- Line 1 is a ``ledger.genesis`` event naming the checkpoint key.
- ``ledger.checkpoint`` events (every ``checkpoint_every`` events and at the end of each run)
  carry an Ed25519 signature over ``{format, ledger_id, seq, hash}`` of the event before them.
- Beside the ledger: ``<ledger>.key`` (the checkpoint signing key, created on first use with
  mode 0600 unless the policy names one), ``<ledger>.pub`` (its public key: the trust anchor
  verification uses, so whoever rewrites the ledger cannot also re-sign it), ``<ledger>.head``
  (the last signed head: seq and hash of the newest event, replaced atomically after every
  append; this is the "last signed checkpoint" kept outside the file that exposes truncation)
  and ``<ledger>.lock`` (the inter-process lock file).

The writer (:mod:`.writer`) and the verifier (:mod:`.verify`) both build on these helpers, so
the bytes one signs are the bytes the other checks.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.canonical import CanonicalError, canonical_json, sha256_hex
from scanner.governed.errors import LedgerError

FORMAT = "qgov-ledger/1"
GENESIS_PREV = "0" * 64
CHECKPOINT = "ledger.checkpoint"
GENESIS = "ledger.genesis"
DEFAULT_LEDGER = Path(".qgov") / "ledger.jsonl"
LEDGER_ENV = "QGOV_LEDGER"
CANONICALIZATION = "JSON; keys sorted; separators ',' ':'; UTF-8; integers only (no floats)"
# Canonical JSON has no spaces, so a checkpoint line always contains this exact byte string.
CHECKPOINT_MARK = b'"type":"ledger.checkpoint"'


def default_ledger_path() -> Path:
    """``$QGOV_LEDGER`` if set, else ``.qgov/ledger.jsonl`` under the current directory."""
    env = os.environ.get(LEDGER_ENV)
    return Path(env) if env else DEFAULT_LEDGER


def sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def event_hash(event: dict[str, Any]) -> str:
    return sha256_hex(canonical_json({k: v for k, v in event.items() if k != "hash"}))


def safe_hash(event: dict[str, Any]) -> str | None:
    """The event's hash, or None when it holds a value canonical JSON refuses."""
    try:
        return event_hash(event)
    except CanonicalError:
        return None


def canonical_line(event: dict[str, Any]) -> bytes:
    return canonical_json(event) + b"\n"


def parse_line(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def raw_public(public_key: ed25519.Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: ed25519.Ed25519PublicKey) -> str:
    return sha256_hex(raw_public(public_key))[:32]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signed_payload(ledger_id: str, seq: int, hash_: str) -> bytes:
    """What checkpoints and the signed head sign: one ledger's event ``seq`` with its hash."""
    return canonical_json({"format": FORMAT, "ledger_id": ledger_id, "seq": seq, "hash": hash_})


def sign(key: ed25519.Ed25519PrivateKey, ledger_id: str, seq: int, hash_: str) -> str:
    return b64(key.sign(signed_payload(ledger_id, seq, hash_)))


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


def public_pem(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


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


def load_signing_key(path: Path) -> ed25519.Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError, TypeError) as exc:
        raise LedgerError(f"ledger key {path}: unreadable or not PEM") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise LedgerError(f"ledger key {path}: expected an Ed25519 private key")
    return key
