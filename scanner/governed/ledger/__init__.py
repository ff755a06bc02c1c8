"""The audit ledger: append-only JSON Lines, hash-chained, with signed checkpoints and heads.

- :mod:`.format`   the on-disk format (``qgov-ledger/2``; ``/1`` still verifies): canonical
  lines, event hashes, domain-separated signed payloads, key locations, safe line reading
- :mod:`.writer`   :class:`Ledger` and :class:`LedgerSession`: locked, fsync'd appends and
  the signed head
- :mod:`.witness`  signed heads outside the ledger: the head file and the witness file
- :mod:`.verify`   :func:`verify_ledger`: every edited, deleted, inserted, reordered,
  re-encoded or truncated event, by line and sequence number, and what was proven (signed
  coverage, trust anchor, freshness against a witness)

The names below are the public surface; the submodules hold the rest.
"""

from scanner.governed.ledger.format import default_ledger_path, event_hash
from scanner.governed.ledger.verify import Problem, TrustAnchor, VerifyReport, verify_ledger
from scanner.governed.ledger.writer import Ledger, LedgerSession

__all__ = [
    "Ledger",
    "LedgerSession",
    "Problem",
    "TrustAnchor",
    "VerifyReport",
    "default_ledger_path",
    "event_hash",
    "verify_ledger",
]
