"""The journal: how a job (or a replay) writes its events to the ledger.

Every event of one job carries the same actor, request source, policy reference and job id;
the journal holds them so each event is one call with only what differs: its type, the
decision, the data and any subject fields beyond the job id. Inside :meth:`Journal.locked`
events share one ledger session (one lock, so a quota read and the reservation that follows
it cannot interleave with another writer); outside it each event takes the lock on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from scanner.governed.ledger import Ledger, LedgerSession


class Journal:
    def __init__(
        self,
        ledger: Ledger,
        *,
        job_id: str,
        actor: dict[str, Any] | None,
        source: dict[str, Any] | None,
        policy: dict[str, Any] | None,
    ) -> None:
        self.ledger = ledger
        self.job_id = job_id
        self.actor = actor
        self.source = source
        self.policy = policy
        self._session: LedgerSession | None = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[Journal]:
        """Hold the ledger lock for the events (and ledger reads) inside the block."""
        with self.ledger.session() as session:
            self._session = session
            try:
                yield self
            finally:
                self._session = None

    def write(
        self, event_type: str, decision: str, data: dict[str, Any], **subject: Any
    ) -> dict[str, Any]:
        """Append one event about this job; ``subject`` adds to the job id."""
        fields: dict[str, Any] = {
            "actor": self.actor,
            "source": self.source,
            "policy": self.policy,
            "decision": decision,
            "subject": {"job_id": self.job_id, **subject},
            "data": data,
        }
        if self._session is not None:
            return self._session.append(event_type, **fields)
        return self.ledger.append(event_type, **fields)

    def events(self) -> list[dict[str, Any]]:
        """The ledger as stored; only inside :meth:`locked`, so it cannot change meanwhile."""
        if self._session is None:
            raise RuntimeError("Journal.events() needs the ledger lock (use Journal.locked())")
        return self._session.events()

    def checkpoint(self) -> None:
        if self._session is not None:
            self._session.checkpoint()
        else:
            self.ledger.checkpoint()
