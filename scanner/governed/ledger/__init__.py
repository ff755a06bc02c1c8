"""The audit ledger: append-only JSON Lines, hash-chained, with signed checkpoints.

- :mod:`.format`  the on-disk format (``qgov-ledger/1``): event hashes, canonical lines,
  signed payloads, key loading, sidecar paths
- :mod:`.writer`  :class:`Ledger` and :class:`LedgerSession`: locked, fsync'd appends and the
  signed head
- :mod:`.verify`  :func:`verify_ledger`: every edited, deleted, inserted, reordered or
  truncated event, by line and sequence number

The names below are the public surface; the submodules hold the rest.
"""

from scanner.governed.ledger.format import default_ledger_path, event_hash
from scanner.governed.ledger.verify import Problem, VerifyReport, verify_ledger
from scanner.governed.ledger.writer import Ledger, LedgerSession

__all__ = [
    "Ledger",
    "LedgerSession",
    "Problem",
    "VerifyReport",
    "default_ledger_path",
    "event_hash",
    "verify_ledger",
]
