"""UTC time helpers; every timestamp the governed path writes is UTC with a ``Z``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_z(moment: datetime) -> str:
    """``2026-11-25T09:30:00.123456Z``: fixed width, sortable as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return as_utc(moment)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes from YAML are read as UTC (the policy documents say so)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def deadline(value: date | datetime) -> datetime:
    """An expiry given as a date is valid through the end of that day (UTC)."""
    if isinstance(value, datetime):
        return as_utc(value)
    return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC)
