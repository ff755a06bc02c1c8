"""The per-run plumbing shared by job runs and replays: ledger, scrubbed log, SIEM forwarder.

Nothing here is global: each :class:`Runtime` gets its own logger (with its own handler and
scrubbing filter), its own ledger object and, when the policy configures one, its own SIEM
socket, and releases them on exit.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from scanner.governed.approvals import Approval, ElevatedAction, check_approval
from scanner.governed.decision import Reason
from scanner.governed.errors import GovernedError
from scanner.governed.ledger import Ledger
from scanner.governed.ledger_queries import read_events
from scanner.governed.policy import LoadedPolicy
from scanner.governed.policy_sections import LedgerSettings, Siem
from scanner.governed.scrub import Scrubber, ScrubbingFilter
from scanner.governed.siem import SyslogForwarder
from scanner.governed.timeutil import Clock, utc_now

if TYPE_CHECKING:
    from scanner.governed.spec import JobSpec


def request_source(channel: str = "cli", label: str | None = None) -> dict[str, Any]:
    """Where a request came from: channel, host, OS user, process, optional caller label."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return {
        "channel": channel,
        "host": socket.gethostname() or "unknown",
        "os_user": user,
        "pid": os.getpid(),
        "label": label,
    }


@dataclass
class Context:
    """What a governed operation needs from outside: injected, never read from globals."""

    policy: LoadedPolicy | None
    ledger_path: Path
    records_dir: Path | None = None
    log_path: Path | None = None
    # Unsigned approval records (an --approvals file): never valid, read so that an id in
    # them can be refused as unsigned or ambiguous instead of unknown.
    approvals: tuple[Approval, ...] = ()
    clock: Clock = utc_now
    source: dict[str, Any] = field(default_factory=request_source)
    signing_key: Path | None = None
    witness: Path | None = None  # signed heads also go here (else the policy's ledger.witness)

    @property
    def records(self) -> Path:
        return self.records_dir or self.ledger_path.parent / "records"

    @property
    def log_file(self) -> Path:
        return self.log_path or self.ledger_path.parent / "governed.log"

    @property
    def all_approvals(self) -> tuple[Approval, ...]:
        inline = self.policy.policy.approvals if self.policy else ()
        return inline + self.approvals

    @property
    def policy_ref(self) -> dict[str, str] | None:
        return self.policy.ref if self.policy else None

    def require_policy(self) -> LoadedPolicy:
        if self.policy is None:
            raise GovernedError("this operation needs a policy (--policy FILE)")
        return self.policy

    def approval_problems(
        self,
        approval_id: str | None,
        *,
        action: ElevatedAction,
        requester: str,
        job: JobSpec,
        now: datetime,
        events: list[dict[str, Any]] | None = None,
    ) -> list[Reason]:
        """Why ``approval_id`` does not let ``requester`` do ``action`` for ``job``, judged
        against the signed approvals in the ledger (``events`` when the caller holds the
        ledger lock, else read now) and this context's policy; empty when it does."""
        return check_approval(
            read_events(self.ledger_path) if events is None else events,
            approval_id,
            action=action,
            requester=requester,
            spec_sha256=job.source_sha256,
            policy=self.require_policy().policy,
            unsigned=self.all_approvals,
            now=now,
        )


class _UTCFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + (
            f".{int(record.msecs):03d}"
        )


class Runtime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.scrubber = Scrubber()
        settings = ctx.policy.policy.ledger if ctx.policy else LedgerSettings()
        siem = ctx.policy.policy.siem if ctx.policy else Siem()
        key = ctx.signing_key
        if key is None and settings.signing_key:
            key = Path(settings.signing_key)
        self.ledger = Ledger(
            ctx.ledger_path,
            signing_key=key,
            checkpoint_every=settings.checkpoint_every,
            clock=ctx.clock,
            scrubber=self.scrubber,
            witness=ctx.witness or (Path(settings.witness) if settings.witness else None),
        )
        self.forwarder: SyslogForwarder | None = None
        if siem.syslog is not None:
            self.forwarder = SyslogForwarder(siem.syslog)
            self.ledger.listeners.append(self.forwarder)
        self.log = logging.getLogger(f"qgov.governed.run.{uuid.uuid4().hex[:8]}")
        self.log.propagate = False
        self.log.setLevel(logging.INFO)
        self._handler: logging.Handler | None = None

    def __enter__(self) -> Runtime:
        path = self.ctx.log_file
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(_UTCFormatter("%(asctime)sZ %(levelname)s qgov.governed %(message)s"))
        handler.addFilter(ScrubbingFilter(self.scrubber))
        self.log.addHandler(handler)
        self._handler = handler
        return self

    def enable_debug(self) -> None:
        self.scrubber.debug = True
        self.log.setLevel(logging.DEBUG)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handler is not None:
            self.log.removeHandler(self._handler)
            self._handler.close()
        if self.forwarder is not None:
            self.forwarder.close()
