"""Vendor profile detector (QG-VND-*): a scan assesses each profile at its tier and reports
every gap at the line of the field behind it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scanner.detectors.vendor_profiles import VendorProfileDetector
from scanner.model import FileKind, Severity, Tier
from scanner.source import SourceFile
from scanner.vendors.requirement_table import REQUIREMENTS
from tests.conftest import GENERIC
from tests.helpers import (
    SAMPLES,
    Detection,
    Located,
    detect,
    findings,
    located,
    parse_error,
    scan_json,
    source,
    sources_under,
    write_tree,
)
from tests.vendors.profiles import FULL, to_yaml

TODAY = date(2026, 11, 29)
# FULL as the YAML the cases edit: every answer met, one field per line (see the line numbers
# in the cases below).
COMPLETE = to_yaml(FULL)


def profile_file(text: str, path: str = "vendors/acme.yaml") -> SourceFile:
    found = source(text, path)
    assert found.kind is FileKind.VENDOR_PROFILE
    return found


def run(text: str, tier: Tier = Tier.REGULATED_PILOT, path: str = "vendors/acme.yaml") -> Detection:
    return detect(VendorProfileDetector(tier=tier, today=TODAY), profile_file(text, path))


def edited(old: str, new: str) -> str:
    assert COMPLETE.count(old) == 1, old
    return COMPLETE.replace(old, new)


def test_complete_profile_has_no_findings() -> None:
    assert findings(VendorProfileDetector(Tier.PRODUCTION_CRITICAL, TODAY),
                    profile_file(COMPLETE)) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  saml_sso: true\n  oidc_sso: true", "  saml_sso: false\n  oidc_sso: false",
         [("QG-VND-001", 8)]),
        ("  mfa_enforced: true", "  mfa_enforced: unknown", [("QG-VND-001", 12)]),
        ("  conditional_access: true\n", "", [("QG-VND-001", 7)]),  # gone: its section's line
        ("    max_lifetime_days: 30", "    max_lifetime_days: never", [("QG-VND-002", 17)]),
        ("  workload_identity_federation: true", "  workload_identity_federation: false",
         [("QG-VND-002", 14)]),
        ("  approval_workflows: true", "  approval_workflows: false", [("QG-VND-003", 19)]),
        ("  ip_allowlist: true", "  ip_allowlist: false", [("QG-VND-003", 22)]),
        ("  retention_days: 400", "  retention_days: 90", [("QG-VND-004", 24)]),
        ("  - backend\n", "", [("QG-VND-004", 27)]),
        ("  min_tls_version: '1.2'", "  min_tls_version: '1.1'", [("QG-VND-005", 34)]),
        ("  customer_managed_keys: true", "  customer_managed_keys: false", [("QG-VND-005", 36)]),
        ("    job_queue: per-tenant", "    job_queue: shared-visible", [("QG-VND-006", 43)]),
        ("    jobs_days: 30", "    jobs_days: 730", [("QG-VND-006", 45)]),
        ("  deletion_on_request: true", "  deletion_on_request: false", [("QG-VND-006", 48)]),
        ("  notification_hours: 24", "  notification_hours: 96", [("QG-VND-007", 55)]),
        ("  gdpr_dpa:\n    available: true", "  gdpr_dpa:\n    available: false",
         [("QG-VND-007", 68)]),
        ("    expires: '2028-01-01'", "    expires: '2026-01-01'", [("QG-VND-008", 60)]),
        ("  profile_date: '2026-10-01'", "  profile_date: '2025-01-01'", [("QG-VND-008", 5)]),
    ],
)
def test_each_gap_at_its_field(old: str, new: str, expected: list[Located]) -> None:
    assert located(findings(VendorProfileDetector(Tier.REGULATED_PILOT, TODAY),
                            profile_file(edited(old, new)))) == expected


def test_severity_follows_the_tier() -> None:
    no_sso = edited("  saml_sso: true\n  oidc_sso: true", "  saml_sso: false\n  oidc_sso: false")
    severities = {}
    for tier in Tier:
        (finding,) = findings(VendorProfileDetector(tier, TODAY), profile_file(no_sso))
        severities[tier] = finding.severity
    assert severities == {
        Tier.EXPLORATORY: Severity.LOW,
        Tier.INTERNAL_PILOT: Severity.MEDIUM,
        Tier.REGULATED_PILOT: Severity.HIGH,
        Tier.PRODUCTION_CRITICAL: Severity.HIGH,
    }


def test_finding_carries_row_controls_frameworks_and_a_stable_fingerprint() -> None:
    text = edited("  customer_managed_keys: true", "  customer_managed_keys: false")
    (finding,) = findings(VendorProfileDetector(Tier.REGULATED_PILOT, TODAY), profile_file(text))
    assert finding.control_ids == ("VND-01", "ENC-02", "ENC-04")
    assert finding.domain is not None and finding.domain.value == "vendor"
    assert "A.8.24" in dict(finding.frameworks)["iso27001"]
    assert finding.message == ("Complete Quantum: Customer-managed keys (regulated-pilot): "
                               "no customer-managed keys: the vendor holds every key")
    assert finding.evidence == "encryption.customer_managed_keys"
    moved = "# a new comment\n\n" + text
    (again,) = findings(VendorProfileDetector(Tier.REGULATED_PILOT, TODAY), profile_file(moved))
    assert again.fingerprint == finding.fingerprint and again.line == finding.line + 2


def test_health_data_declared_in_the_profile_needs_a_baa() -> None:
    text = edited("  hipaa_baa:\n    available: true", "  hipaa_baa:\n    available: false")
    assert located(run(text).findings) == []
    declared = text + "intended_use:\n  data: [health]\n"
    assert located(run(declared).findings) == [("QG-VND-007", 66)]


def test_bare_profile_reports_every_row_as_not_stated() -> None:
    detection = run("vendor:\n  name: Silent\n")
    assert detection.errors == []
    assert len(detection.findings) == len(REQUIREMENTS) - 1  # not the BAA: no health data
    assert all("not stated" in f.message for f in detection.findings)


# --- bad input is a parse error with the line; other YAML is left alone ------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("vendor:\n  name: X\nidentity:\n  sso: true\n", 4, "field 'identity.sso': unknown field"),
        ("vendor:\n  name: X\nlogging:\n  retention_days: '30'\n", 4,
         "field 'logging.retention_days': expected a whole number"),
        ("vendor:\n  name: X\n  profile_date: 2026-02-30\n", 3,
         "field 'vendor.profile_date': not a real calendar date"),
        ("vendor:\n  name: X\ncertifications:\n  iso27001:\n    issued: 2026-01-01\n"
         "    expires: 2025-01-01\n", 6, "expires before it was issued"),
        ("qgov_vendor_profile: 1\nvendor: Acme\n", 2, "field 'vendor': expected a section"),
    ],
)
def test_invalid_profile_is_a_parse_error_at_its_line(text: str, line: int, words: str) -> None:
    error = parse_error(run(text))
    assert error.path == "vendors/acme.yaml" and error.line == line
    assert error.message.startswith("vendor profile: ") and words in error.message


def test_parse_error_never_quotes_a_value() -> None:
    error = parse_error(run(f"vendor:\n  name: X\nidentity:\n  mfa_enforced: {GENERIC}\n"))
    assert GENERIC not in error.message


@pytest.mark.parametrize(
    "text",
    ["vendor: acme\nversion: 3\n", "vendor:\n  id: 7\n  url: https://example.org\n"],
    ids=["scalar", "no-name"],
)
def test_yaml_that_only_mentions_a_vendor_is_not_a_profile(text: str) -> None:
    detection = run(text, path="config/build.yaml")
    assert detection.errors == [] and detection.issues == []


# --- the samples and a whole scan --------------------------------------------------------------------


def test_every_sample_profile_scans_without_errors() -> None:
    profiles = sources_under(SAMPLES / "vendors")
    assert len(profiles) >= 4 and {s.kind for s in profiles} == {FileKind.VENDOR_PROFILE}
    detection = detect(VendorProfileDetector(Tier.REGULATED_PILOT, TODAY), *profiles)
    assert detection.errors == []
    by_file = {s.path: 0 for s in profiles}
    for finding in detection.findings:
        by_file[finding.path] += 1
    assert by_file["helios-quantum-cloud.yaml"] == 1  # only the long job retention
    assert min(by_file.values()) >= 1


def test_scan_reports_vendor_gaps_and_carries_on_past_a_bad_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {
        "vendors/good.yaml": COMPLETE.replace("  mfa_enforced: true", "  mfa_enforced: false"),
        "vendors/typo.yaml": "vendor:\n  name: X\nidentiy:\n  saml_sso: true\n",
        "vendors/date.yaml": "vendor:\n  name: X\n  profile_date: 2026-02-30\n",
        ".qgov.yaml": "tier: regulated-pilot\n",
    })
    code, document = scan_json(capsys, str(tmp_path))
    assert code == 1  # the MFA gap is high at regulated-pilot
    vendor = [(f["path"], f["rule_id"], f["line"], f["severity"]) for f in document["findings"]
              if f["rule_id"].startswith("QG-VND-")]
    assert vendor == [("vendors/good.yaml", "QG-VND-001", 12, "high")]
    errors = {e["path"]: (e["reason"], e["line"]) for e in document["scan_errors"]}
    assert errors == {"vendors/typo.yaml": ("parse-error", 3),
                      "vendors/date.yaml": ("parse-error", 3)}


def test_scan_of_samples_reports_vendor_gaps(capsys: pytest.CaptureFixture[str]) -> None:
    _, document = scan_json(capsys, str(SAMPLES / "vendors"), "--tier", "regulated-pilot")
    assert document["scan_errors"] == []
    paths = {f["path"] for f in document["findings"] if f["rule_id"].startswith("QG-VND-")}
    # Paths are relative to the repository (the qgov checkout), whatever folder was named.
    assert paths == {f"samples/vendors/{name}" for name in (
        "helios-quantum-cloud.yaml", "nordlys-research-cloud.yaml", "quantum-bazaar.yaml",
        "qubitforge.yaml")}
