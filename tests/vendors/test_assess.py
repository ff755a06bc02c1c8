"""Assessment per tier: what is a gap, how severe, what it touches and what to record."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scanner.model import Severity, Tier
from scanner.vendors.assess import RISK_OWNER_PLACEHOLDER, Assessment, Outcome
from scanner.vendors.profile import DataClass
from scanner.vendors.requirement_table import REQUIREMENTS
from scanner.vendors.requirements import Status
from tests.vendors.profiles import BARE, FULL, TODAY, assessed, full, to_yaml


def outcome(assessment: Assessment, requirement: str) -> Outcome:
    return next(o for o in assessment.outcomes if o.requirement == requirement)


@pytest.mark.parametrize("tier", list(Tier))
def test_full_profile_meets_everything_that_applies(tier: Tier) -> None:
    result = assessed(FULL, tier)
    assert [o.requirement for o in result.gaps] == []
    assert len(result.outcomes) == len(REQUIREMENTS)
    statuses = {o.requirement: o.status for o in result.outcomes}
    assert statuses["hipaa_baa"] is Status.NOT_NEEDED  # no health data declared
    assert statuses["gdpr_dpa"] is (Status.MET if tier.regulated else Status.NOT_NEEDED)


@pytest.mark.parametrize("tier", list(Tier))
def test_unknown_answers_are_never_passes(tier: Tier) -> None:
    result = assessed(BARE, tier)
    assert [o for o in result.outcomes if o.status is Status.MET] == []
    applicable = [o for o in result.outcomes if o.status is not Status.NOT_NEEDED]
    assert {o.status for o in applicable} == {Status.NOT_STATED}
    assert all(o.severity is not None for o in applicable)


def test_unknown_written_out_is_the_same_as_left_out() -> None:
    written = assessed(full(**{"identity.mfa_enforced": "unknown"}))
    left_out = assessed(full(**{"identity.mfa_enforced": ...}))
    # the same outcome; only the line differs (the field's own, or its section's)
    same = {"line": None}
    assert outcome(written, "mfa").model_copy(update=same) == outcome(left_out, "mfa").model_copy(
        update=same
    )
    assert outcome(written, "mfa").status is Status.NOT_STATED


@pytest.mark.parametrize(
    ("tier", "gap", "unanswered"),
    [
        (Tier.EXPLORATORY, Severity.LOW, Severity.INFO),
        (Tier.INTERNAL_PILOT, Severity.MEDIUM, Severity.LOW),
        (Tier.REGULATED_PILOT, Severity.HIGH, Severity.HIGH),
        (Tier.PRODUCTION_CRITICAL, Severity.HIGH, Severity.HIGH),
    ],
)
def test_missing_sso_by_tier(tier: Tier, gap: Severity, unanswered: Severity) -> None:
    no_sso = assessed(full(**{"identity.saml_sso": False, "identity.oidc_sso": False}), tier)
    assert (outcome(no_sso, "sso").status, outcome(no_sso, "sso").severity) == (Status.GAP, gap)
    unknown = assessed(full(**{"identity.saml_sso": ..., "identity.oidc_sso": ...}), tier)
    assert outcome(unknown, "sso").status is Status.NOT_STATED
    assert outcome(unknown, "sso").severity is unanswered


def test_one_protocol_is_enough_for_sso() -> None:
    only_oidc = assessed(full(**{"identity.saml_sso": False, "identity.oidc_sso": True}))
    assert outcome(only_oidc, "sso").status is Status.MET


def test_half_answered_sso_is_not_stated() -> None:
    half = assessed(full(**{"identity.saml_sso": False, "identity.oidc_sso": "unknown"}))
    assert outcome(half, "sso").status is Status.NOT_STATED
    assert outcome(half, "sso").fields == ("identity.oidc_sso",)


# --- data classes decide the DPA and the BAA ------------------------------------------------------


def test_baa_matters_only_with_health_data() -> None:
    no_baa = full(**{"certifications.hipaa_baa.available": False})
    assert outcome(assessed(no_baa, Tier.PRODUCTION_CRITICAL), "hipaa_baa").status is (
        Status.NOT_NEEDED
    )
    health = assessed(no_baa, Tier.INTERNAL_PILOT, data=frozenset({DataClass.HEALTH}))
    baa = outcome(health, "hipaa_baa")
    assert (baa.status, baa.severity) == (Status.GAP, Severity.HIGH)
    assert "164.314(a)(1)" in baa.frameworks["hipaa"]
    # health data is personal data: the DPA applies too
    assert outcome(health, "gdpr_dpa").status is Status.MET


def test_profile_can_declare_health_data() -> None:
    declared = full(**{"intended_use": {"data": ["health"]},
                       "certifications.hipaa_baa.available": "unknown"})
    baa = outcome(assessed(declared), "hipaa_baa")
    assert (baa.status, baa.severity) == (Status.NOT_STATED, Severity.MEDIUM)


@pytest.mark.parametrize(
    ("tier", "data", "needed"),
    [
        (Tier.EXPLORATORY, frozenset(), False),
        (Tier.INTERNAL_PILOT, frozenset(), False),
        (Tier.INTERNAL_PILOT, frozenset({DataClass.PERSONAL}), True),
        (Tier.REGULATED_PILOT, frozenset(), True),
        (Tier.PRODUCTION_CRITICAL, frozenset(), True),
    ],
)
def test_dpa_needed_wherever_personal_data_may_go(
    tier: Tier, data: frozenset[DataClass], needed: bool
) -> None:
    no_dpa = assessed(full(**{"certifications.gdpr_dpa.available": False}), tier, data=data)
    dpa = outcome(no_dpa, "gdpr_dpa")
    assert dpa.status is (Status.GAP if needed else Status.NOT_NEEDED)
    assert (dpa.severity is Severity.HIGH) is needed


# --- certifications and dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "status"),
    [(TODAY - timedelta(days=1), Status.GAP), (TODAY, Status.MET), (None, Status.NOT_STATED)],
)
def test_iso_certificate_expiry(expires: date | None, status: Status) -> None:
    result = assessed(full(**{"certifications.iso27001.expires": expires,
                              "certifications.iso27001.issued": "2020-01-01"}))
    assert outcome(result, "iso27001").status is status


@pytest.mark.parametrize(
    ("days_ago", "status"),
    [(30, Status.MET), (365, Status.MET), (366, Status.GAP), (-10, Status.NOT_STATED)],
)
def test_soc2_report_older_than_twelve_months_is_a_gap(days_ago: int, status: Status) -> None:
    end = TODAY - timedelta(days=days_ago)
    result = assessed(full(**{"certifications.soc2_type2.period_end": end,
                              "certifications.soc2_type2.period_start": end - timedelta(days=180)}))
    assert outcome(result, "soc2_type2").status is status


def test_attestation_needs_one_current_report() -> None:
    expired_iso = full(**{"certifications.iso27001.expires": "2026-01-31"})
    assert outcome(assessed(expired_iso, Tier.REGULATED_PILOT), "attestation").status is Status.MET
    neither = full(**{"certifications.iso27001.expires": "2026-01-31",
                      "certifications.soc2_type2.available": False})
    result = assessed(neither, Tier.REGULATED_PILOT)
    attestation = outcome(result, "attestation")
    assert (attestation.status, attestation.severity) == (Status.GAP, Severity.HIGH)
    assert "expired on 2026-01-31" in attestation.detail
    assert outcome(result, "iso27001").status is Status.GAP


def test_stale_profile_is_a_gap() -> None:
    stale = assessed(full(**{"vendor.profile_date": "2025-11-01"}), Tier.REGULATED_PILOT)
    assert outcome(stale, "profile_current").status is Status.GAP


# --- thresholds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "scoped", "status"),
    [(90, True, Status.MET), (91, True, Status.GAP), ("never", True, Status.GAP),
     (30, False, Status.GAP), (30, "unknown", Status.NOT_STATED)],
)
def test_token_lifetime_and_scope(lifetime: object, scoped: object, status: Status) -> None:
    result = assessed(full(**{"access.api_tokens.max_lifetime_days": lifetime,
                              "access.api_tokens.scoped": scoped}))
    assert outcome(result, "api_tokens").status is status


@pytest.mark.parametrize(
    ("tier", "days", "status"),
    [(Tier.INTERNAL_PILOT, 90, Status.MET), (Tier.REGULATED_PILOT, 90, Status.GAP),
     (Tier.REGULATED_PILOT, 365, Status.MET), (Tier.EXPLORATORY, 30, Status.MET)],
)
def test_log_retention_minimum_rises_with_the_tier(tier: Tier, days: int, status: Status) -> None:
    result = assessed(full(**{"logging.retention_days": days}), tier)
    assert outcome(result, "log_retention").status is status


def test_missing_audit_fields_are_named() -> None:
    result = assessed(full(**{"logging.audit_fields": ["submitter", "timestamps"]}))
    fields = outcome(result, "log_fields")
    assert fields.status is Status.GAP and "backend, job_id" in fields.detail


def test_long_retention_points_at_the_field_unless_configurable() -> None:
    long = full(**{"data.retention.jobs_days": 730})
    result = assessed(to_yaml(long), Tier.REGULATED_PILOT)
    retention = outcome(result, "retention")
    assert retention.status is Status.GAP and retention.fields == ("data.retention.jobs_days",)
    assert retention.line == to_yaml(long).splitlines().index("    jobs_days: 730") + 1
    configurable = full(**{"data.retention.jobs_days": 730,
                           "data.retention.customer_configurable": True})
    assert outcome(assessed(configurable), "retention").status is Status.MET


@pytest.mark.parametrize(
    ("isolation", "status"),
    [({"qpu_access": "shared", "job_queue": "per-tenant"}, Status.GAP),
     ({"qpu_access": "per-tenant", "job_queue": "shared-visible"}, Status.GAP),
     ({"qpu_access": "per-tenant", "job_queue": "shared-opaque"}, Status.MET),
     ({"qpu_access": "dedicated"}, Status.NOT_STATED)],
)
def test_tenant_isolation(isolation: dict[str, str], status: Status) -> None:
    assert outcome(assessed(full(**{"data.isolation": isolation})), "tenant_isolation").status is status


def test_old_tls_is_a_gap_even_when_encrypted() -> None:
    result = assessed(full(**{"encryption.min_tls_version": "1.0"}), Tier.PRODUCTION_CRITICAL)
    tls = outcome(result, "tls")
    assert (tls.status, tls.severity) == (Status.GAP, Severity.CRITICAL)


def test_incident_window() -> None:
    assert outcome(assessed(full(**{"incident.notification_hours": 72})), "incident_notice").status is Status.MET
    assert outcome(assessed(full(**{"incident.notification_hours": 96})), "incident_notice").status is Status.GAP


# --- what a gap carries -----------------------------------------------------------------------------


def test_gap_carries_controls_frameworks_compensating_controls_and_a_risk_entry() -> None:
    result = assessed(full(**{"identity.mfa_enforced": False}), Tier.REGULATED_PILOT)
    mfa = outcome(result, "mfa")
    assert mfa.controls == ("IAM-02",) and mfa.rule_id == "QG-VND-001"
    assert "A.8.5" in mfa.frameworks["iso27001"] and "CC6.1" in mfa.frameworks["soc2"]
    assert any("Restricted project" in c for c in mfa.compensating)
    risk = mfa.risk
    assert risk is not None
    assert risk.id == "VR-COMPLETE-QUANTUM-MFA"
    assert risk.title == "Complete Quantum: MFA cannot be enforced"
    assert risk.owner == RISK_OWNER_PLACEHOLDER
    assert risk.severity is Severity.HIGH
    assert risk.treatment.startswith("Avoid:")
    assert risk.review_date == TODAY + timedelta(days=30)
    assert risk.compensating_controls == mfa.compensating
    assert "regulated-pilot" in risk.description and "MFA cannot be enforced" in risk.description


def test_medium_gap_is_mitigated_and_reviewed_in_ninety_days() -> None:
    result = assessed(full(**{"identity.conditional_access": False}), Tier.REGULATED_PILOT)
    risk = outcome(result, "conditional_access").risk
    assert risk is not None and risk.severity is Severity.MEDIUM
    assert risk.treatment.startswith("Mitigate:")
    assert risk.review_date == TODAY + timedelta(days=90)


def test_unanswered_question_asks_the_vendor() -> None:
    result = assessed(full(**{"network.ip_allowlist": ...}), Tier.REGULATED_PILOT)
    risk = outcome(result, "ip_allowlist").risk
    assert risk is not None and risk.title == "Complete Quantum: IP allow-listing not stated"
    assert risk.treatment.startswith("Ask the vendor")


def test_info_gaps_get_no_register_entry() -> None:
    result = assessed(full(**{"encryption.customer_managed_keys": False}), Tier.EXPLORATORY)
    cmk = outcome(result, "cmk")
    assert cmk.severity is Severity.INFO and cmk.risk is None
    assert result.risks == ()


def test_gaps_are_ordered_most_severe_first() -> None:
    result = assessed(BARE, Tier.REGULATED_PILOT)
    ranks = [o.severity.rank for o in result.gaps if o.severity]
    assert ranks == sorted(ranks, reverse=True)


def test_same_inputs_same_assessment() -> None:
    assert assessed(FULL, Tier.REGULATED_PILOT) == assessed(FULL, Tier.REGULATED_PILOT)
