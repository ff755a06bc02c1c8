"""One vendor profile held against the requirement table at a workload tier on a given day.

Every row ends as one ``Outcome``: met, gap, not stated, or not needed (a BAA where no
health data goes to the vendor). Gaps and unanswered questions carry a severity for the tier
(``requirements.not_stated_severity`` says how an unanswered one is rated), the catalog
controls and the framework requirements they touch, the compensating controls a team could
apply, and a suggested risk-register entry. Nothing here reads files or the clock: the day is
an input, so the same profile, tier and day always give the same assessment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

from pydantic import BaseModel, ConfigDict

from scanner.catalog import Catalog
from scanner.model import Severity, Tier, printable
from scanner.vendors.profile import DataClass, VendorInfo, VendorProfile
from scanner.vendors.profile_loader import LoadedProfile
from scanner.vendors.requirement_table import REQUIREMENTS
from scanner.vendors.requirements import (
    Context,
    Requirement,
    Status,
    not_stated_severity,
    review_date,
)

RISK_OWNER_PLACEHOLDER = "<risk owner>"
# Rated at or above this, a gap blocks approval at the tier (see ``compare.verdict``).
BLOCKING = Severity.HIGH


class RiskEntry(BaseModel):
    """A suggested line for the risk (exceptions) register: VND-05 and GOV-03."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    description: str
    owner: str = RISK_OWNER_PLACEHOLDER
    severity: Severity
    treatment: str
    compensating_controls: tuple[str, ...]
    controls: tuple[str, ...]
    review_date: date


class Outcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    requirement: str
    rule_id: str
    family: str
    title: str
    question: str
    status: Status
    # The rating of a gap or unanswered question at the tier; None when met or not needed.
    severity: Severity | None
    detail: str
    short: str
    fields: tuple[str, ...]
    line: int | None = None
    controls: tuple[str, ...]
    frameworks: dict[str, tuple[str, ...]]
    compensating: tuple[str, ...]
    risk: RiskEntry | None = None

    @property
    def is_gap(self) -> bool:
        """A gap or an unanswered question (both need action)."""
        return self.severity is not None

    @property
    def blocking(self) -> bool:
        return self.severity is not None and self.severity.at_least(BLOCKING)


class Assessment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    vendor: VendorInfo
    tier: Tier
    today: date
    data: tuple[DataClass, ...]
    regions: tuple[str, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def gaps(self) -> tuple[Outcome, ...]:
        """Gaps and unanswered questions, most severe first (table order within a severity)."""
        rated = [o for o in self.outcomes if o.severity is not None]
        return tuple(sorted(rated, key=lambda o: -o.severity.rank if o.severity else 0))

    @property
    def risks(self) -> tuple[RiskEntry, ...]:
        return tuple(o.risk for o in self.gaps if o.risk is not None)


def _slug(name: str, limit: int = 24) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name.upper())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or "VENDOR"


def _risk(
    requirement: Requirement, status: Status, severity: Severity, detail: str,
    profile: VendorProfile, context: Context,
) -> RiskEntry | None:
    if severity is Severity.INFO:
        return None  # too minor for the register; still listed in the assessment
    vendor = profile.vendor.name
    product = f" ({profile.vendor.product})" if profile.vendor.product else ""
    tier = context.tier.value
    if status is Status.NOT_STATED:
        title = f"{vendor}: {requirement.title} not stated"
        said = f"The profile does not answer: {requirement.question} ({detail})."
        ask = "Ask the vendor for a documented answer; until then treat it as a gap. "
    else:
        title = f"{vendor}: {requirement.gap_title}"
        said = f"{requirement.question} The profile says: {detail}."
        ask = ""
    if severity.at_least(BLOCKING):
        treatment = (
            f"{ask}Avoid: do not approve {vendor} for {tier} work until this is resolved, or "
            "accept it formally with the compensating controls, signed by the risk owner."
        )
    else:
        treatment = (
            f"{ask}Mitigate: apply the compensating controls and record the exception with an "
            "expiry (VND-05, GOV-03)."
        )
    return RiskEntry(
        id=f"VR-{_slug(vendor)}-{requirement.id.upper().replace('_', '-')}",
        title=title,
        description=f"{vendor}{product}, assessed for {tier} on {context.today}. {said} "
        f"{requirement.risk}",
        severity=severity,
        treatment=treatment,
        compensating_controls=requirement.compensating,
        controls=requirement.controls,
        review_date=review_date(severity, context.today),
    )


def assess(
    profile: VendorProfile,
    *,
    tier: Tier,
    today: date,
    data: Iterable[DataClass] = (),
    source: str = "",
    line_of: Callable[[str], int | None] | None = None,
    catalog: Catalog | None = None,
    requirements: Iterable[Requirement] = REQUIREMENTS,
) -> Assessment:
    """Hold ``profile`` against every requirement at ``tier`` on ``today``.

    ``data`` adds to what the profile's ``intended_use.data`` declares; ``line_of`` maps a
    dotted field to its line in the file; ``catalog`` fills in the framework requirements.
    """
    context = Context.build(tier, today, frozenset(data) | frozenset(profile.intended_use.data))
    outcomes = []
    for requirement in requirements:
        frameworks = (
            {key: tuple(ids) for key, ids in catalog.framework_refs(requirement.controls)}
            if catalog is not None else {}
        )
        check = requirement.check(profile, context)
        if not requirement.applies(context):
            detail = f"{check.detail}; {requirement.not_needed}"
            outcomes.append(_outcome(requirement, Status.NOT_NEEDED, None, detail, check.short,
                                     check.fields, None, frameworks))
            continue
        severity: Severity | None = None
        if check.status is Status.GAP:
            severity = requirement.severity[tier]
        elif check.status is Status.NOT_STATED:
            severity = not_stated_severity(requirement.severity[tier], tier)
        fields = check.fields or requirement.fields
        line = line_of(fields[0]) if line_of is not None else None
        risk = (
            _risk(requirement, check.status, severity, check.detail, profile, context)
            if severity is not None else None
        )
        outcomes.append(_outcome(requirement, check.status, severity, check.detail, check.short,
                                 fields, line, frameworks, risk))
    return Assessment(
        source=source,
        vendor=profile.vendor,
        tier=tier,
        today=today,
        data=tuple(sorted(context.data)),
        regions=profile.data.regions or (),
        outcomes=tuple(outcomes),
    )


def assess_loaded(
    loaded: LoadedProfile,
    *,
    tier: Tier,
    today: date,
    data: Iterable[DataClass] = (),
    catalog: Catalog | None = None,
) -> Assessment:
    # The label is a path as given: escape what a terminal or JSON encoder must not get.
    return assess(loaded.profile, tier=tier, today=today, data=data,
                  source=printable(loaded.label), line_of=loaded.line_of, catalog=catalog)


def _outcome(
    requirement: Requirement, status: Status, severity: Severity | None, detail: str, short: str,
    fields: tuple[str, ...], line: int | None, frameworks: dict[str, tuple[str, ...]],
    risk: RiskEntry | None = None,
) -> Outcome:
    return Outcome(
        requirement=requirement.id,
        rule_id=requirement.rule,
        family=requirement.family,
        title=requirement.title,
        question=requirement.question,
        status=status,
        severity=severity,
        detail=detail,
        short=short,
        fields=fields,
        line=line,
        controls=requirement.controls,
        frameworks=frameworks,
        compensating=requirement.compensating if severity is not None else (),
        risk=risk,
    )
