"""Answering the auditor from the audit ledger: who accessed a QPU, with which data, and did
the job comply -- and the governance telemetry behind "is the secure path working?".

Every answer rests on a verification (:func:`verify`, the same as ``qgov ledger verify``) and
carries it: an answer from a ledger that failed verification says so first, and each row or
event says whether verification vouches for it. Reading is streamed (one line at a time).

- :mod:`.reading`   :func:`verify` -> :class:`Verification`; :class:`LedgerReader` streams
  the events with their verified flag
- :mod:`.query`     :func:`query` -> :class:`QueryResult`: one :class:`JobRow` per job, or
  the raw events (:func:`iter_events` streams them)
- :mod:`.filters`   :class:`Filters`, what a query asks about
- :mod:`.job_row`   :class:`JobRow`, a job's events folded into one row
- :mod:`.metrics`   :func:`metrics` -> :class:`Metrics`: success rate, time to result,
  approval latency, denials by reason, replays, revocations, quota use, exceptions, reviews
- :mod:`.timespec`  ``--since``/``--until`` forms and :class:`TimeRange`
- :mod:`.render`    text tables and CSV (formula-escaped); JSON is each result's ``to_json``

Typical use (the audit pack)::

    verification = verify(ledger, public_key=key)
    jobs = query(verification, Filters(project="risk-pilot"))
    telemetry = metrics(verification, policy=loaded.policy, policy_ref=loaded.ref)
"""

from scanner.evidence.filters import Filters
from scanner.evidence.job_row import JobRow
from scanner.evidence.metrics import Metrics, exceptions_in_force, metrics
from scanner.evidence.query import QueryResult, iter_events, query
from scanner.evidence.reading import (
    FAILED_PREFIX,
    LedgerEvent,
    LedgerReader,
    ReadStats,
    Verification,
    verify,
)
from scanner.evidence.timespec import TimeRange, parse_moment

__all__ = [
    "FAILED_PREFIX",
    "Filters",
    "JobRow",
    "LedgerEvent",
    "LedgerReader",
    "Metrics",
    "QueryResult",
    "ReadStats",
    "TimeRange",
    "Verification",
    "exceptions_in_force",
    "iter_events",
    "metrics",
    "parse_moment",
    "query",
    "verify",
]
