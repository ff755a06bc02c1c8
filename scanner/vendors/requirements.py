"""What a row of the vendor requirement table is, and the thresholds its checks apply.

This module holds the model: a ``Requirement`` (one row: the question, the profile fields it
reads, what counts as met, how severe a gap is per workload tier, controls, compensating
controls, the risk it leaves, and the ``check`` that reads a profile), the ``Context`` of an
assessment, a ``Check``'s answer and its ``Status``, and how an unanswered question and a review
date are rated. The check functions are in ``scanner.vendors.checks``; the 27 rows are in
``scanner.vendors.requirement_table``.

Thresholds (change them here, the README quotes them):
- API tokens expire within ``TOKEN_MAX_DAYS`` days;
- audit logs are kept at least ``LOG_MIN_DAYS[tier]`` days;
- jobs, results and job metadata are kept at most ``RETENTION_MAX_DAYS`` days, or the
  customer can shorten retention;
- incidents are notified within ``NOTIFY_MAX_HOURS`` hours;
- an ISO 27001 certificate is current until its expiry date; a SOC 2 type II report is
  current while its period ended no more than ``SOC2_MAX_AGE_DAYS`` days ago;
- a profile older than ``PROFILE_MAX_AGE_DAYS`` days is due for reassessment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from scanner.model import Severity, Tier
from scanner.vendors.profile import DataClass, VendorProfile

TOKEN_MAX_DAYS = 90
LOG_MIN_DAYS: Mapping[Tier, int] = {
    Tier.EXPLORATORY: 30,
    Tier.INTERNAL_PILOT: 90,
    Tier.REGULATED_PILOT: 365,
    Tier.PRODUCTION_CRITICAL: 365,
}
RETENTION_MAX_DAYS = 90
NOTIFY_MAX_HOURS = 72
SOC2_MAX_AGE_DAYS = 365
PROFILE_MAX_AGE_DAYS = 365


class Status(StrEnum):
    MET = "met"
    GAP = "gap"
    NOT_STATED = "not-stated"
    NOT_NEEDED = "not-needed"  # the row does not apply to this tier and data


@dataclass(frozen=True)
class Context:
    """What an assessment is for: the workload tier, the day, and the data that may reach
    the vendor (regulated tiers always include personal data; health data implies it)."""

    tier: Tier
    today: date
    data: frozenset[DataClass] = frozenset()

    @classmethod
    def build(cls, tier: Tier, today: date, data: frozenset[DataClass] = frozenset()) -> Context:
        classes = set(data)
        if tier.regulated or DataClass.HEALTH in classes:
            classes.add(DataClass.PERSONAL)
        return cls(tier, today, frozenset(classes))


@dataclass(frozen=True)
class Check:
    status: Status
    detail: str  # one sentence on what the profile says
    short: str = ""  # at most 7 characters for a comparison cell: "400d", "24h", "SAML"
    fields: tuple[str, ...] = ()  # the fields that decided it; the first is where it points


CheckFn = Callable[[VendorProfile, Context], Check]


@dataclass(frozen=True)
class Requirement:
    id: str
    rule: str  # the scan rule (scanner/rules/vendor.yaml) a gap in this row is reported as
    family: str
    title: str  # the row label in a comparison
    question: str
    fields: tuple[str, ...]
    met_when: str
    severity: Mapping[Tier, Severity]  # of a gap, per tier
    controls: tuple[str, ...]
    compensating: tuple[str, ...]
    gap_title: str  # "no single sign-on" — the risk-register title after the vendor's name
    risk: str  # what the gap leaves exposed
    check: CheckFn
    # When the row applies at all (a BAA only where health data may reach the vendor), and
    # what to say when it does not.
    needed: Callable[[Context], bool] | None = None
    not_needed: str = ""

    def applies(self, context: Context) -> bool:
        return self.needed is None or self.needed(context)


def not_stated_severity(gap: Severity, tier: Tier) -> Severity:
    """How severe an unanswered question is: as severe as a gap at regulated-pilot and
    production-critical (an unevidenced control counts as missing there), one step lower at
    exploratory and internal-pilot (it may well be met; it needs asking)."""
    if tier.regulated:
        return gap
    lower = {
        Severity.CRITICAL: Severity.HIGH,
        Severity.HIGH: Severity.MEDIUM,
        Severity.MEDIUM: Severity.LOW,
        Severity.LOW: Severity.INFO,
        Severity.INFO: Severity.INFO,
    }
    return lower[gap]


REVIEW_AFTER_DAYS: Mapping[Severity, int] = {
    Severity.CRITICAL: 30,
    Severity.HIGH: 30,
    Severity.MEDIUM: 90,
    Severity.LOW: 180,
    Severity.INFO: 365,
}


def review_date(severity: Severity, today: date) -> date:
    return today + timedelta(days=REVIEW_AFTER_DAYS[severity])
