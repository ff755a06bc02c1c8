"""The audit ledger: append-only JSON Lines, hash-chained, with signed checkpoints.

- :mod:`.format`  the on-disk format (``qgov-ledger/1``): event hashes, canonical lines,
  signed payloads, key loading, sidecar paths
- :mod:`.writer`  :class:`Ledger` and :class:`LedgerSession`: locked, fsync'd appends and the
  signed head
- :mod:`.verify`  :func:`verify_ledger`: every edited, deleted, inserted, reordered or
  truncated event, by line and sequence number

The names below are the public surface; import helpers from the submodules.
"""

from scanner.governed.ledger.format import (
    CHECKPOINT,
    DEFAULT_LEDGER,
    FORMAT,
    GENESIS,
    LEDGER_ENV,
    default_ledger_path,
    event_hash,
    load_public_key,
    sidecar,
)
from scanner.governed.ledger.verify import Problem, VerifyReport, verify_ledger
from scanner.governed.ledger.writer import Ledger, LedgerSession, Listener

__all__ = [
    "CHECKPOINT",
    "DEFAULT_LEDGER",
    "FORMAT",
    "GENESIS",
    "LEDGER_ENV",
    "Ledger",
    "LedgerSession",
    "Listener",
    "Problem",
    "VerifyReport",
    "default_ledger_path",
    "event_hash",
    "load_public_key",
    "sidecar",
    "verify_ledger",
]
