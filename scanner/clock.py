"""The moment a report is made: now, or ``SOURCE_DATE_EPOCH`` when it is set.

Reproducible outputs (JUnit timestamps, the scan section of the JSON report, audit packs)
take their time from here, so the same inputs give the same bytes when the build sets
``SOURCE_DATE_EPOCH`` (seconds since 1970, UTC; https://reproducible-builds.org/specs/).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping


def pinned_epoch(environ: Mapping[str, str] = os.environ) -> int | None:
    """``SOURCE_DATE_EPOCH`` as a number, or None when unset or not a whole number."""
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else None


def source_date_epoch(environ: Mapping[str, str] = os.environ) -> dt.datetime | None:
    """``SOURCE_DATE_EPOCH`` as a UTC time, when it is set."""
    epoch = pinned_epoch(environ)
    return dt.datetime.fromtimestamp(epoch, dt.UTC) if epoch is not None else None


def report_time(environ: Mapping[str, str] = os.environ) -> dt.datetime:
    """Now in UTC, whole seconds; ``SOURCE_DATE_EPOCH`` pins it."""
    epoch = pinned_epoch(environ)
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC) if epoch is not None \
        else dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0)


def iso_utc(moment: dt.datetime) -> str:
    """``2026-11-29T14:00:00Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
