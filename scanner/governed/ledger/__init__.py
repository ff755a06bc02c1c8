"""The audit ledger: append-only JSON Lines, hash-chained, with signed checkpoints and heads.

- :mod:`.format`   the on-disk format (``qgov-ledger/2``; ``/1`` still verifies): canonical
  lines, event hashes, domain-separated signed payloads, key locations, safe line reading
- :mod:`.writer`   :class:`Ledger` and :class:`LedgerSession`: locked, fsync'd appends and
  the signed head
- :mod:`.files`    the files on disk: the lock, appends, atomic replacement, key creation,
  all refusing links and anything but regular files
- :mod:`.witness`  signed heads outside the ledger: the head file and the witness file, and
  holding a ledger against the heads witnessed for it
- :mod:`.verify`   :func:`verify_ledger`: every edited, deleted, inserted, reordered,
  re-encoded or truncated event, by line and sequence number, and what was proven (signed
  coverage, trust anchor, freshness against a witness), with its parts:

  - :mod:`.chain`       the line and event checks: bytes, hash, sequence, ``prev``, genesis
  - :mod:`.signatures`  the trust anchor, checkpoints, the signed head, signed coverage
  - :mod:`.report`      :class:`VerifyReport` (verdict, what was and was not proven, JSON),
    :class:`Problem` and :class:`TrustAnchor`

The names below are the public surface; the submodules hold the rest.
"""

from scanner.governed.ledger.format import default_ledger_path, event_hash
from scanner.governed.ledger.report import Problem, TrustAnchor, VerifyReport
from scanner.governed.ledger.verify import verify_ledger
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
