"""Profiles the vendor tests share: one that meets every requirement, a bare one that
answers nothing, and a way to change one answer in the full one."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from scanner.model import Tier
from scanner.vendors.assess import Assessment, assess
from scanner.vendors.profile import DataClass, VendorProfile
from scanner.vendors.profile_loader import LoadedProfile, parse_profile
from tests.helpers import REPO, real_catalog

SAMPLE_VENDORS = REPO / "samples" / "vendors"
TODAY = date(2026, 11, 29)

# Meets every row at every tier on TODAY (and the DPA and BAA too).
FULL: dict[str, Any] = {
    "qgov_vendor_profile": 1,
    "vendor": {"name": "Complete Quantum", "product": "CQ-1", "profile_date": "2026-10-01",
               "fictional": True},
    "identity": {"saml_sso": True, "oidc_sso": True, "scim_provisioning": True,
                 "offboarding_revokes_tokens": True, "mfa_enforced": True,
                 "conditional_access": True, "workload_identity_federation": True},
    "access": {"api_tokens": {"max_lifetime_days": 30, "scoped": True},
               "approval_workflows": True},
    "network": {"private_connectivity": True, "ip_allowlist": True},
    "logging": {"retention_days": 400, "export_formats": ["json"],
                "audit_fields": ["submitter", "backend", "timestamps", "job_id"]},
    "encryption": {"in_transit": True, "min_tls_version": "1.2", "at_rest": True,
                   "customer_managed_keys": True},
    "data": {"regions": ["eu-central"], "residency_pinning": True,
             "isolation": {"qpu_access": "dedicated", "job_queue": "per-tenant"},
             "retention": {"jobs_days": 30, "results_days": 30, "metadata_days": 90},
             "deletion_on_request": True,
             "subprocessors": {"list_published": True,
                               "entries": [{"name": "Host", "location": "DE"}]}},
    "incident": {"notification_hours": 24},
    "certifications": {
        "iso27001": {"certified": True, "issued": "2025-01-01", "expires": "2028-01-01"},
        "soc2_type2": {"available": True, "period_start": "2025-07-01",
                       "period_end": "2026-06-30"},
        "hipaa_baa": {"available": True},
        "gdpr_dpa": {"available": True},
    },
}

BARE = "vendor:\n  name: Silent Quantum\n"


def full(**changes: Any) -> dict[str, Any]:
    """FULL with answers changed: ``full(**{"identity.saml_sso": False})``; a value of
    ``...`` removes the answer."""
    document = copy.deepcopy(FULL)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = document
        for part in parents:
            node = node.setdefault(part, {})
        if value is ...:
            node.pop(last, None)
        else:
            node[last] = value
    return document


def to_yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False)


def loaded(text_or_document: str | dict[str, Any], label: str = "vendor.yaml") -> LoadedProfile:
    text = text_or_document if isinstance(text_or_document, str) else to_yaml(text_or_document)
    return parse_profile(text, label)


def profile(text_or_document: str | dict[str, Any]) -> VendorProfile:
    return loaded(text_or_document).profile


def assessed(
    text_or_document: str | dict[str, Any],
    tier: Tier = Tier.INTERNAL_PILOT,
    today: date = TODAY,
    data: frozenset[DataClass] = frozenset(),
) -> Assessment:
    found = loaded(text_or_document)
    return assess(found.profile, tier=tier, today=today, data=data, source=found.label,
                  line_of=found.line_of, catalog=real_catalog())


def write(root: Path, name: str, text_or_document: str | dict[str, Any]) -> Path:
    text = text_or_document if isinstance(text_or_document, str) else to_yaml(text_or_document)
    path = root / name
    path.write_text(text, encoding="utf-8")
    return path
