"""When an entry of the exceptions register counts as accepted risk.

One predicate for both sides: the governance detector reports entries that fail it (expired:
QG-GOV-008, incomplete: QG-GOV-009) and the scan's exceptions stage applies only entries
that pass it, so a finding is never both accepted and reported for the same reason.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanner.governance.lenient import ExceptionView

# What an entry needs before it may accept risk: who is accountable, why, what limits the
# risk meanwhile, until when, and what it is about.
REQUIRED = ("id", "control", "risk_owner", "reason", "compensating_controls", "expires")


def missing_fields(entry: ExceptionView) -> list[str]:
    return [name for name in REQUIRED if not getattr(entry, name)]


def expired(entry: ExceptionView, today: date) -> bool:
    """Past its expiry; the expiry day itself still counts (valid through that day)."""
    return entry.expires is not None and entry.expires < today


def honoured(entry: ExceptionView, today: date) -> bool:
    return not missing_fields(entry) and not expired(entry, today)


def label(entry: ExceptionView, index: int) -> str:
    return f"exception {entry.id}" if entry.id else f"exception #{index + 1}"
