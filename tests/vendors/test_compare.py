"""Verdicts and the side-by-side comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.model import Severity, Tier
from scanner.vendors.assess import assess_loaded
from scanner.vendors.compare import Verdict, compare, summarize, verdict
from scanner.vendors.profile_loader import load_profile
from scanner.vendors.requirement_table import REQUIREMENTS
from scanner.vendors.requirements import Status
from tests.helpers import real_catalog
from tests.vendors.profiles import BARE, FULL, SAMPLE_VENDORS, TODAY, assessed, full

SAMPLES = {
    "helios": SAMPLE_VENDORS / "helios-quantum-cloud.yaml",
    "nordlys": SAMPLE_VENDORS / "nordlys-research-cloud.yaml",
    "bazaar": SAMPLE_VENDORS / "quantum-bazaar.yaml",
    "forge": SAMPLE_VENDORS / "qubitforge.yaml",
}


def sample_verdicts(tier: Tier) -> dict[str, Verdict]:
    return {
        name: summarize(assess_loaded(load_profile(path), tier=tier, today=TODAY)).verdict
        for name, path in SAMPLES.items()
    }


def test_verdict_rule() -> None:
    assert verdict(assessed(FULL, Tier.REGULATED_PILOT).outcomes) is Verdict.APPROVABLE
    medium = assessed(full(**{"identity.conditional_access": False}), Tier.REGULATED_PILOT)
    assert verdict(medium.outcomes) is Verdict.WITH_CONTROLS
    high = assessed(full(**{"identity.mfa_enforced": False}), Tier.REGULATED_PILOT)
    assert verdict(high.outcomes) is Verdict.NOT_APPROVABLE
    low = assessed(full(**{"identity.conditional_access": False}), Tier.INTERNAL_PILOT)
    assert verdict(low.outcomes) is Verdict.APPROVABLE  # a low gap is recorded, not blocking
    assert summarize(low).to_record == ("conditional_access",)


def test_an_unanswered_question_can_block() -> None:
    unanswered = assessed(full(**{"identity.mfa_enforced": ...}), Tier.REGULATED_PILOT)
    summary = summarize(unanswered)
    assert summary.verdict is Verdict.NOT_APPROVABLE and summary.blocking == ("mfa",)
    assert summary.not_stated == 1 and summary.gaps == 0


def test_samples_tell_apart_at_regulated_pilot() -> None:
    assert sample_verdicts(Tier.REGULATED_PILOT) == {
        "helios": Verdict.WITH_CONTROLS,  # only the two-year job retention to record
        "nordlys": Verdict.NOT_APPROVABLE,  # no certification, visible queue
        "bazaar": Verdict.NOT_APPROVABLE,
        "forge": Verdict.NOT_APPROVABLE,
    }


def test_samples_at_internal_pilot_and_production() -> None:
    internal = sample_verdicts(Tier.INTERNAL_PILOT)
    assert internal["helios"] is Verdict.APPROVABLE
    assert internal["nordlys"] is Verdict.WITH_CONTROLS
    assert internal["forge"] is Verdict.NOT_APPROVABLE  # MFA cannot be enforced
    assert set(sample_verdicts(Tier.PRODUCTION_CRITICAL).values()) == {Verdict.NOT_APPROVABLE}


def test_score_ranks_but_does_not_decide() -> None:
    scores = {
        name: summarize(assess_loaded(load_profile(path), tier=Tier.REGULATED_PILOT,
                                      today=TODAY)).score
        for name, path in SAMPLES.items()
    }
    assert scores["helios"] > scores["nordlys"] > scores["bazaar"] > scores["forge"]
    assert summarize(assessed(FULL, Tier.REGULATED_PILOT)).score == 100
    assert summarize(assessed(BARE, Tier.REGULATED_PILOT)).score == 0


def test_summary_counts() -> None:
    summary = summarize(assessed(full(**{"identity.mfa_enforced": False,
                                         "network.ip_allowlist": ...}), Tier.REGULATED_PILOT))
    assert (summary.gaps, summary.not_stated) == (1, 1)
    assert summary.by_severity == {Severity.HIGH: 1, Severity.MEDIUM: 1}
    assert summary.met == summary.applicable - 2
    assert summary.applicable == len(REQUIREMENTS) - 1  # no BAA without health data


def test_rows_follow_the_table_and_cells_the_vendors() -> None:
    good = assessed(FULL, Tier.REGULATED_PILOT)
    bare = assessed(BARE, Tier.REGULATED_PILOT)
    comparison = compare([good, bare])
    assert [r.requirement for r in comparison.rows] == [r.id for r in REQUIREMENTS]
    sso = next(r for r in comparison.rows if r.requirement == "sso")
    assert [c.status for c in sso.cells] == [Status.MET, Status.NOT_STATED]
    assert sso.cells[1].severity is Severity.HIGH
    assert [s.verdict for s in comparison.summaries] == [Verdict.APPROVABLE,
                                                         Verdict.NOT_APPROVABLE]


def test_compare_needs_one_tier_and_one_day(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        compare([assessed(FULL, Tier.REGULATED_PILOT), assessed(FULL, Tier.INTERNAL_PILOT)])
    with pytest.raises(ValueError):
        compare([])


def test_catalog_fills_frameworks_in_comparisons() -> None:
    loaded = load_profile(SAMPLES["helios"])
    with_catalog = assess_loaded(loaded, tier=Tier.REGULATED_PILOT, today=TODAY,
                                 catalog=real_catalog())
    retention = next(o for o in with_catalog.outcomes if o.requirement == "retention")
    assert "A.8.10" in retention.frameworks["iso27001"]
    assert "Art. 17" in retention.frameworks["gdpr"]
