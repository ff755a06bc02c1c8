"""The requirement table as data: complete, consistent with the catalog and the profile model."""

from __future__ import annotations

import pytest

from scanner.catalog import Catalog
from scanner.model import Domain, Severity, Tier
from scanner.vendors.profile import has_field
from scanner.vendors.requirement_table import (
    APPROVALS,
    MASKING,
    REQUIREMENTS,
    RESTRICTED,
    RULE_IDS,
    SEPARATE,
)
from scanner.vendors.requirements import Requirement, not_stated_severity
from tests.helpers import REPO

TIERS = list(Tier)


def test_ids_are_unique_and_titles_fit_a_comparison_row() -> None:
    ids = [r.id for r in REQUIREMENTS]
    assert len(ids) == len(set(ids))
    assert all(len(r.title) <= 30 for r in REQUIREMENTS)


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=lambda r: r.id)
def test_each_row_is_complete(requirement: Requirement, catalog: Catalog) -> None:
    assert requirement.question.endswith("?")
    assert set(requirement.severity) == set(TIERS)
    assert requirement.controls and set(requirement.controls) <= set(catalog.controls)
    assert requirement.compensating, "a gap without a compensating control cannot be recorded"
    assert requirement.rule in catalog.rules
    assert all(has_field(field) for field in requirement.fields), requirement.fields
    assert requirement.risk and requirement.gap_title and requirement.met_when


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=lambda r: r.id)
def test_severity_never_drops_as_the_tier_rises(requirement: Requirement) -> None:
    ranks = [requirement.severity[tier].rank for tier in TIERS]
    assert ranks == sorted(ranks)


def test_the_issue_s_list_is_covered() -> None:
    fields = {field.split(".")[-1] for r in REQUIREMENTS for field in r.fields}
    asked = {"saml_sso", "oidc_sso", "scim_provisioning", "mfa_enforced", "conditional_access",
             "private_connectivity", "ip_allowlist", "retention_days", "export_formats",
             "audit_fields", "in_transit", "at_rest", "customer_managed_keys", "regions",
             "residency_pinning", "qpu_access", "job_queue", "jobs_days", "results_days",
             "metadata_days", "deletion_on_request", "list_published", "notification_hours",
             "iso27001", "soc2_type2", "expires", "period_end", "available",
             "approval_workflows", "max_lifetime_days", "scoped",
             "workload_identity_federation"}
    assert asked <= fields


def test_the_guide_s_compensating_controls_are_offered() -> None:
    offered = {c for r in REQUIREMENTS for c in r.compensating}
    assert {MASKING, APPROVALS, RESTRICTED, SEPARATE} <= offered


def test_one_rule_per_family_each_in_the_vendor_domain(catalog: Catalog) -> None:
    family_rules = {(r.family, r.rule) for r in REQUIREMENTS}
    assert len({f for f, _ in family_rules}) == len(family_rules) == len(RULE_IDS)
    for rule_id in RULE_IDS:
        rule = catalog.rule(rule_id)
        assert rule is not None and rule.remediation
        assert catalog.rule_domain(rule) is Domain.VENDOR
    shipped = (REPO / "scanner" / "rules" / "vendor.yaml").read_text(encoding="utf-8")
    assert all(rule_id in shipped for rule_id in RULE_IDS)


def test_sso_is_medium_at_internal_pilot_and_high_at_regulated_pilot() -> None:
    sso = next(r for r in REQUIREMENTS if r.id == "sso")
    assert sso.severity[Tier.INTERNAL_PILOT] is Severity.MEDIUM
    assert sso.severity[Tier.REGULATED_PILOT] is Severity.HIGH


@pytest.mark.parametrize(
    ("gap", "tier", "expected"),
    [
        (Severity.HIGH, Tier.REGULATED_PILOT, Severity.HIGH),
        (Severity.CRITICAL, Tier.PRODUCTION_CRITICAL, Severity.CRITICAL),
        (Severity.HIGH, Tier.INTERNAL_PILOT, Severity.MEDIUM),
        (Severity.MEDIUM, Tier.EXPLORATORY, Severity.LOW),
        (Severity.LOW, Tier.INTERNAL_PILOT, Severity.INFO),
        (Severity.INFO, Tier.EXPLORATORY, Severity.INFO),
    ],
)
def test_not_stated_rating(gap: Severity, tier: Tier, expected: Severity) -> None:
    assert not_stated_severity(gap, tier) is expected
