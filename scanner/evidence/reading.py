"""Reading a verified ledger again, event by event, knowing which events verification vouches
for.

Answers come from two passes over the file. :func:`verify` runs the same verification as
``qgov ledger verify`` (:func:`scanner.governed.ledger.verify_ledger`) and notes the file's
size first; :class:`LedgerReader` then streams the lines again -- one line in memory at a time,
never past that size, so events appended meanwhile are left out and counted.

Which events an answer may rest on:

- a line that is not a valid record -- torn, oversized, not canonical JSON, duplicate keys,
  nested too deep -- is never used: its meaning is ambiguous (which of two duplicate keys?),
  and verification has already reported it. Such lines are counted by kind.
- an event is *verified* when verification proved it: its seq is covered by a valid
  checkpoint or signed head (``signed_through``) and it comes before the first line and the
  first seq any problem names. Everything else is still answered from, but marked unverified,
  so an answer never hides what a damaged ledger says -- and never passes it off as proven.
- the second pass re-checks each event's own hash and its link to the one before, and that
  the last event is still the head verification saw; if the file no longer matches what was
  verified (rewritten between the passes), the events from there on -- or, for a rewritten
  tail, all of them -- are unverified and the answer says so.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner.governed.ledger import VerifyReport, verify_ledger
from scanner.governed.ledger.format import (
    GENESIS_PREV,
    LineError,
    check_regular,
    iter_lines,
    open_regular,
    parse_strict,
    safe_hash,
)
from scanner.governed.timeutil import parse_iso

FAILED_PREFIX = "answers from a ledger that failed verification"


@dataclass(frozen=True)
class Verification:
    """A ledger's verification report and the size of the file it covered (answers never
    read past it). Make one with :func:`verify` and hand it to ``query`` and ``metrics``."""

    path: Path
    report: VerifyReport
    size: int
    size_after: int | None = None  # None: unknown (then the tail is not re-checked)

    @property
    def intact(self) -> bool:
        return self.report.intact

    @property
    def verified_through(self) -> int | None:
        """The last seq an answer may call verified (None: none)."""
        report = self.report
        limit = report.signed_through
        first_seq = min((p.seq for p in report.problems if p.seq is not None), default=None)
        if limit is not None and first_seq is not None:
            limit = min(limit, first_seq - 1)
        return limit if limit is not None and limit >= 0 else None

    @property
    def first_problem_line(self) -> int | None:
        return min((p.line for p in self.report.problems if p.line is not None), default=None)

    def warning(self) -> str | None:
        """``None`` for an intact ledger, else the sentence every answer starts with."""
        report = self.report
        if report.intact:
            return None
        kinds = Counter(p.kind for p in report.problems)
        listed = ", ".join(f"{kind} x{n}" if n > 1 else kind for kind, n in kinds.items())
        through = self.verified_through
        basis = (
            f"events up to seq {through} are verified, later ones are not"
            if through is not None
            else "no event is verified"
        )
        return f"{FAILED_PREFIX}: {report.verdict} ({listed}); {basis}"

    def headline(self) -> str:
        report = self.report
        span = f"seq 0-{report.last_seq}" if report.last_seq is not None else "no sequence"
        anchor = report.anchor
        trust = f"{anchor.kind}: {anchor.source}" + ("" if anchor.anchored else ", NOT an anchor")
        return (
            f"ledger {self.path}: {report.verdict}: {report.events} events ({span}); "
            f"trust anchor {trust}"
        )

    def to_json(self) -> dict[str, Any]:
        document = self.report.to_json()
        document["verified_through_seq"] = self.verified_through
        document["bytes_verified"] = self.size
        return document


def verify(
    path: Path,
    *,
    public_key: Path | None = None,
    policy_public_key: str | None = None,
    policy_signing_key: Path | None = None,
    witness: Path | None = None,
    min_seq: int | None = None,
    head: str | None = None,
) -> Verification:
    """Verify ``path`` as ``qgov ledger verify`` does; raises ``LedgerError`` when it cannot
    be read at all (missing, a folder, a link)."""
    check_regular(path, "ledger", may_be_missing=False)
    size = os.lstat(path).st_size  # before verifying: what is appended later is left out
    report = verify_ledger(
        path,
        public_key=public_key,
        policy_public_key=policy_public_key,
        policy_signing_key=policy_signing_key,
        witness=witness,
        min_seq=min_seq,
        head=head,
    )
    return Verification(path=path, report=report, size=size, size_after=os.lstat(path).st_size)


@dataclass(frozen=True)
class LedgerEvent:
    """One event as stored, where it is, and whether verification vouches for it."""

    line: int
    seq: int | None
    ts: datetime | None
    verified: bool
    body: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.body.get("type"))

    @property
    def decision(self) -> str | None:
        value = self.body.get("decision")
        return value if isinstance(value, str) else None

    @property
    def actor(self) -> dict[str, Any]:
        return as_mapping(self.body.get("actor"))

    @property
    def subject(self) -> dict[str, Any]:
        return as_mapping(self.body.get("subject"))

    @property
    def data(self) -> dict[str, Any]:
        return as_mapping(self.body.get("data"))

    @property
    def job_id(self) -> str | None:
        value = self.subject.get("job_id")
        return value if isinstance(value, str) else None


def as_mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def content_hash(raw: bytes, body: dict[str, Any]) -> str | None:
    """The event hash of a line :func:`parse_strict` accepted. Its bytes are the canonical
    form, in which the top-level ``"hash"`` member sits between ``decision`` and ``id``; the
    canonical form without it is those bytes without that member, so hashing them avoids
    serialising the event a second time."""
    stored = body.get("hash")
    if isinstance(stored, str):
        member = b',"hash":' + b'"' + stored.encode("utf-8") + b'"'
        at = raw.find(member)
        if at > 0 and raw.find(member, at + 1) < 0:
            return hashlib.sha256(raw[:at] + raw[at + len(member) :]).hexdigest()
    return safe_hash(body)


@dataclass
class ReadStats:
    """What the answer pass met besides usable events."""

    events: int = 0
    unverified: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    changed_at_line: int | None = None
    rewritten: bool = False  # the tail no longer ends in the head verification saw

    def to_json(self) -> dict[str, Any]:
        return {
            "events_read": self.events,
            "unverified_events": self.unverified,
            "lines_not_used": dict(sorted(self.skipped.items())),
            "changed_since_verification_at_line": self.changed_at_line,
            "rewritten_since_verification": self.rewritten,
        }

    @property
    def changed(self) -> bool:
        return self.changed_at_line is not None or self.rewritten

    def notes(self) -> list[str]:
        out = []
        if self.skipped:
            listed = ", ".join(f"{n} {kind}" for kind, n in sorted(self.skipped.items()))
            out.append(f"lines not used (not valid records): {listed}")
        if self.changed_at_line is not None:
            out.append(
                f"the ledger changed after verification (line {self.changed_at_line} no longer "
                "matches): events from there on are unverified"
            )
        if self.rewritten:
            out.append(
                "the ledger no longer ends in the head verification saw (rewritten after "
                "verification): nothing read is verified"
            )
        if self.unverified:
            out.append(f"{self.unverified} event(s) read are not verified")
        return out


class LedgerReader:
    """Streams the events of a verified ledger (see the module doc)."""

    def __init__(self, verification: Verification) -> None:
        self.verification = verification
        self.stats = ReadStats()

    def __iter__(self) -> Iterator[LedgerEvent]:
        ver = self.verification
        through = ver.verified_through
        first_bad = ver.first_problem_line
        stats = self.stats
        offset = 0
        prev: str | None = GENESIS_PREV
        changed = False
        last: tuple[int | None, object] = (None, None)
        fd = open_regular(ver.path, "ledger")
        try:
            for line in iter_lines(fd):
                offset += line.size + 1
                if offset > ver.size:  # appended after verification (or a final torn write)
                    if not line.terminated:
                        stats.skipped["torn-write"] += 1
                    break
                if line.raw is None:
                    stats.skipped["oversized"] += 1
                    prev = None
                    continue
                try:
                    body = parse_strict(line.raw)
                except LineError as exc:
                    stats.skipped[exc.kind] += 1
                    prev = None
                    continue
                seq = body.get("seq")
                seq_no = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
                stored = body.get("hash")
                vouched = (
                    not changed
                    and through is not None
                    and seq_no is not None
                    and seq_no <= through
                    and (first_bad is None or line.number < first_bad)
                )
                if vouched and (
                    content_hash(line.raw, body) != stored
                    or (prev is not None and body.get("prev") != prev)
                ):
                    # Verified a moment ago, different now: rewritten between the passes.
                    changed, vouched = True, False
                    stats.changed_at_line = line.number
                prev = stored if isinstance(stored, str) else None
                last = (seq_no, stored)
                stats.events += 1
                if not vouched:
                    stats.unverified += 1
                yield LedgerEvent(line.number, seq_no, moment(body.get("ts")), vouched, body)
        finally:
            os.close(fd)
        report = ver.report
        if report.intact and ver.size_after == ver.size and last != (
            report.last_seq,
            report.head_hash,
        ):
            # Verification read exactly these bytes, yet they end elsewhere now: rewritten in
            # between with a recomputed chain (which the per-line checks cannot see).
            stats.rewritten = True
            stats.unverified = stats.events


def answer_warning(verification: Verification, stats: ReadStats) -> str | None:
    """The sentence an answer starts with when it cannot rest on a verified ledger."""
    warning = verification.warning()
    if warning is not None or not stats.changed:
        return warning
    where = (
        f"at line {stats.changed_at_line}" if stats.changed_at_line is not None else "its tail"
    )
    return f"{FAILED_PREFIX}: it verified, then changed ({where}) before it was read"
