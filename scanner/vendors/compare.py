"""Several assessments side by side, and the verdict for each vendor at the tier.

The verdict rule (the README quotes it):
- **not approvable**: at least one gap or unanswered question rated high or critical at the
  tier. It blocks approval until the vendor closes it, or until the risk owner accepts it
  formally with its compensating controls.
- **approvable with compensating controls**: nothing blocking, but at least one gap or
  unanswered question rated medium. Each goes into the risk register with its compensating
  controls (VND-05) before use.
- **approvable**: nothing rated above low. Low-rated gaps are still recorded.

The score ranks vendors, it does not decide: each applicable row weighs what a gap in it
would be rated at the tier (info 1, low 2, medium 3, high 4, critical 5), and the score is
the share of that weight the vendor meets, 0 to 100. Unanswered questions earn nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from scanner.model import Severity, Tier
from scanner.vendors.assess import Assessment, Outcome
from scanner.vendors.requirement_table import REQUIREMENTS
from scanner.vendors.requirements import Status


class Verdict(StrEnum):
    APPROVABLE = "approvable"
    WITH_CONTROLS = "approvable with compensating controls"
    NOT_APPROVABLE = "not approvable"

    @property
    def short(self) -> str:
        return _SHORT[self]


_SHORT = {
    Verdict.APPROVABLE: "YES",
    Verdict.WITH_CONTROLS: "YES+CC",
    Verdict.NOT_APPROVABLE: "NO",
}


class Summary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    verdict: Verdict
    score: int
    met: int
    applicable: int
    gaps: int  # confirmed gaps
    not_stated: int
    by_severity: dict[Severity, int]  # gaps and unanswered questions per rating
    blocking: tuple[str, ...]  # requirement ids rated high or critical
    to_record: tuple[str, ...]  # requirement ids for the risk register (rated low or above)


def _weight(severity: Severity) -> int:
    return severity.rank + 1


def verdict(outcomes: Sequence[Outcome]) -> Verdict:
    rated = [o.severity for o in outcomes if o.severity is not None]
    if any(s.at_least(Severity.HIGH) for s in rated):
        return Verdict.NOT_APPROVABLE
    if any(s.at_least(Severity.MEDIUM) for s in rated):
        return Verdict.WITH_CONTROLS
    return Verdict.APPROVABLE


def summarize(assessment: Assessment) -> Summary:
    applicable = [o for o in assessment.outcomes if o.status is not Status.NOT_NEEDED]
    by_id = {r.id: r for r in REQUIREMENTS}
    total = met_weight = 0
    for outcome in applicable:
        requirement = by_id.get(outcome.requirement)
        weight = _weight(requirement.severity[assessment.tier]) if requirement else 1
        total += weight
        if outcome.status is Status.MET:
            met_weight += weight
    rated = [o for o in applicable if o.severity is not None]
    counts = dict.fromkeys(Severity, 0)
    for outcome in rated:
        assert outcome.severity is not None
        counts[outcome.severity] += 1
    return Summary(
        verdict=verdict(assessment.outcomes),
        score=round(100 * met_weight / total) if total else 100,
        met=sum(1 for o in applicable if o.status is Status.MET),
        applicable=len(applicable),
        gaps=sum(1 for o in applicable if o.status is Status.GAP),
        not_stated=sum(1 for o in applicable if o.status is Status.NOT_STATED),
        by_severity={s: n for s, n in counts.items() if n},
        blocking=tuple(o.requirement for o in assessment.gaps if o.blocking),
        to_record=tuple(o.requirement for o in assessment.gaps if o.risk is not None),
    )


class Cell(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Status
    severity: Severity | None
    short: str
    detail: str


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    requirement: str
    family: str
    title: str
    question: str
    cells: tuple[Cell, ...]


class Comparison(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tier: Tier
    today: date
    assessments: tuple[Assessment, ...]
    summaries: tuple[Summary, ...]
    rows: tuple[Row, ...]


def compare(assessments: Sequence[Assessment]) -> Comparison:
    """Rows per requirement (table order) with one cell per vendor (the order given)."""
    if not assessments:
        raise ValueError("nothing to compare")
    tiers = {a.tier for a in assessments}
    days = {a.today for a in assessments}
    if len(tiers) != 1 or len(days) != 1:
        raise ValueError("assessments to compare must share a tier and a day")
    rows = []
    for index, requirement in enumerate(REQUIREMENTS):
        cells = []
        for assessment in assessments:
            outcome = assessment.outcomes[index]
            assert outcome.requirement == requirement.id
            cells.append(Cell(status=outcome.status, severity=outcome.severity,
                              short=outcome.short, detail=outcome.detail))
        rows.append(Row(requirement=requirement.id, family=requirement.family,
                        title=requirement.title, question=requirement.question,
                        cells=tuple(cells)))
    return Comparison(
        tier=assessments[0].tier,
        today=assessments[0].today,
        assessments=tuple(assessments),
        summaries=tuple(summarize(a) for a in assessments),
        rows=tuple(rows),
    )
