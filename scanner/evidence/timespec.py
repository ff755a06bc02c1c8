"""Times an auditor types: ISO dates and datetimes, or "the last 7 days".

Accepted forms, for ``--since``, ``--until`` and ``--as-of``:

- ``2026-11-01`` -- a UTC calendar day. As a start it means that day's midnight; as an end it
  means the day is included (the range stops at the next midnight), the way the policy's
  expiry dates are read.
- ``2026-11-01T09:30:00Z``, ``2026-11-01T09:30``, ``2026-11-01T10:30:00+01:00`` -- a moment;
  without a zone it is UTC, like every time the governed path writes.
- ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` -- that long before now (``--as-of``, default the
  clock).

A range is half-open, ``since <= t < until``, so consecutive ranges never count an event twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from scanner.governed.timeutil import as_utc, iso_z

_RELATIVE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
FORMS = "an ISO date (2026-11-01), an ISO datetime (2026-11-01T09:30:00Z) or 30m/24h/7d/2w"


def parse_moment(text: str, *, now: datetime, end: bool = False) -> datetime:
    """The UTC moment ``text`` names (see the module doc); ``end`` reads a bare date as
    "through that day". Raises ``ValueError`` naming the accepted forms."""
    value = text.strip()
    relative = _RELATIVE.match(value.lower())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return as_utc(now) - timedelta(**{_UNITS[unit]: amount})
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a time: give {FORMS}") from None


@dataclass(frozen=True)
class TimeRange:
    """``since <= t < until``; either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(
        cls, since: str | None, until: str | None, *, now: datetime
    ) -> TimeRange:
        start = parse_moment(since, now=now) if since else None
        stop = parse_moment(until, now=now, end=True) if until else None
        if start is not None and stop is not None and stop <= start:
            raise ValueError(f"--until ({iso_z(stop)}) is not after --since ({iso_z(start)})")
        return cls(start, stop)

    @property
    def bounded(self) -> bool:
        return self.since is not None or self.until is not None

    def contains(self, moment: datetime | None) -> bool:
        """Whether ``moment`` is in the range; an event without a readable time is in an open
        range only (it cannot be placed in a bounded one)."""
        if moment is None:
            return not self.bounded
        if self.since is not None and moment < self.since:
            return False
        return self.until is None or moment < self.until

    def describe(self) -> str:
        if not self.bounded:
            return "all time"
        start = iso_z(self.since) if self.since else "the beginning"
        stop = iso_z(self.until) if self.until else "the end"
        return f"from {start} to before {stop}"

    def to_json(self) -> dict[str, Any]:
        return {
            "since": iso_z(self.since) if self.since else None,
            "until": iso_z(self.until) if self.until else None,
        }
