"""The three reports: text a reviewer reads at 100 columns, JSON a tool reads, HTML that opens
offline and stays inert whatever a profile holds."""

from __future__ import annotations

import json
import re

import pytest

from scanner.model import Tier
from scanner.vendors.assess import Assessment, assess_loaded
from scanner.vendors.compare import compare
from scanner.vendors.profile_loader import load_profile
from scanner.vendors.render import VendorFormat, render_assessment_report, render_comparison_report
from scanner.vendors.requirement_table import REQUIREMENTS
from tests.conftest import GENERIC
from tests.helpers import real_catalog
from tests.vendors.profiles import BARE, FULL, SAMPLE_VENDORS, TODAY, assessed, full

XSS = "<script>alert(1)</script>"


def samples(tier: Tier = Tier.REGULATED_PILOT) -> list[Assessment]:
    return [
        assess_loaded(load_profile(path), tier=tier, today=TODAY, catalog=real_catalog())
        for path in sorted(SAMPLE_VENDORS.glob("*.yaml"))
    ]


def six() -> list[Assessment]:
    extra = [assessed(full(**{"vendor.name": "A vendor with a really rather long name Ltd"}),
                      Tier.REGULATED_PILOT),
             assessed(BARE, Tier.REGULATED_PILOT)]
    return samples() + extra


# --- text -------------------------------------------------------------------------------------------


def test_comparison_of_six_vendors_fits_100_columns() -> None:
    text = render_comparison_report(compare(six()), VendorFormat.TEXT)
    assert max(len(line) for line in text.splitlines()) <= 100
    (row,) = [line for line in text.splitlines() if line.startswith("  MFA enforced")]
    cells = [row[32 + 11 * i: 32 + 11 * i + 10].strip() for i in range(6)]
    assert cells == ["✓ yes", "✓ yes", "✓ yes", "✗H no", "✓ yes", "?H"]
    assert "F  Silent Quantum" in text and "A vendor…" in text


def test_comparison_reads_like_a_procurement_table() -> None:
    text = render_comparison_report(compare(samples()), VendorFormat.TEXT)
    lines = text.splitlines()
    verdict = next(line for line in lines if line.startswith("Verdict "))
    assert verdict.split()[1:] == ["YES+CC", "NO", "NO", "NO"]
    assert any(line.startswith("  Job/result retention") and "✗M 1095d" in line for line in lines)
    assert any(line.startswith("  HIPAA BAA") and "– signs" in line for line in lines)
    for title in {r.family for r in REQUIREMENTS}:
        assert title in lines
    assert "Decision at regulated-pilot" in text
    assert "Helios Cloud: approvable with compensating controls" in text
    assert any(line.startswith("Legend  ✓ met") for line in lines[-6:])


def test_ascii_comparison_has_only_ascii() -> None:
    text = render_comparison_report(compare(samples()), VendorFormat.TEXT, ascii_only=True)
    assert text.isascii()
    assert "x M" not in text and "xM 1095d" in text


def test_assessment_text_lists_each_gap_with_what_to_do() -> None:
    text = render_assessment_report(samples()[:1], VendorFormat.TEXT)
    assert "Verdict: APPROVABLE WITH COMPENSATING CONTROLS" in text
    assert "Job/result retention" in text and "line 51" in text and "QG-VND-006" in text
    assert "Compensating controls:" in text and "Risk register: VR-HELIOS-CLOUD-RETENTION" in text
    assert "owner: <risk owner>" in text and "review by 2027-02-27" in text
    assert "Frameworks: gdpr: " in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_several_assessments_end_with_a_count() -> None:
    text = render_assessment_report(samples(), VendorFormat.TEXT)
    assert text.rstrip().endswith("1 of 4 vendors approvable at regulated-pilot.")


def test_control_characters_in_a_profile_stay_inert() -> None:
    text = render_comparison_report(
        compare([assessed(full(**{"vendor.name": "Evil\x1b[31m Corp"}), Tier.REGULATED_PILOT)]),
        VendorFormat.TEXT,
    )
    assert "\x1b" not in text and "Evil\\x1b[31m Corp" in text


# --- JSON -------------------------------------------------------------------------------------------


def test_comparison_json() -> None:
    document = json.loads(render_comparison_report(compare(samples()), VendorFormat.JSON))
    assert document["kind"] == "vendor-comparison" and document["tier"] == "regulated-pilot"
    assert document["today"] == "2026-11-29"
    assert [v["key"] for v in document["vendors"]] == ["A", "B", "C", "D"]
    assert document["vendors"][0]["summary"]["verdict"] == "approvable with compensating controls"
    assert len(document["rows"]) == len(REQUIREMENTS)
    cell = document["rows"][0]["cells"][3]  # QubitForge has no SSO
    assert cell == {"vendor": "D", "status": "gap", "severity": "high", "value": "none",
                    "detail": "no SAML or OIDC single sign-on: vendor-local accounts only"}


def test_assessment_json_has_outcomes_and_a_risk_register() -> None:
    document = json.loads(render_assessment_report(samples()[:1], VendorFormat.JSON))
    (entry,) = document["assessments"]
    assert entry["vendor"]["name"] == "Helios Cloud" and entry["vendor"]["fictional"] is True
    assert len(entry["outcomes"]) == len(REQUIREMENTS)
    retention = next(o for o in entry["outcomes"] if o["requirement"] == "retention")
    assert retention["status"] == "gap" and retention["severity"] == "medium"
    assert retention["line"] == 51 and "A.8.10" in retention["frameworks"]["iso27001"]
    (risk,) = entry["risk_register"]
    assert risk["id"] == "VR-HELIOS-CLOUD-RETENTION" and risk["review_date"] == "2027-02-27"


def test_json_is_deterministic() -> None:
    first = render_comparison_report(compare(samples()), VendorFormat.JSON)
    assert first == render_comparison_report(compare(samples()), VendorFormat.JSON)


# --- HTML -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["assess", "compare"])
def test_html_escapes_what_a_profile_says(command: str) -> None:
    hostile = assessed(full(**{
        "vendor.name": XSS,
        "vendor.product": '"><img src=x onerror=alert(2)>',
        "vendor.sources": ["javascript:alert(3)", "https://trust.example/report"],
        "data.regions": ["<b>eu</b>"],
        "identity.mfa_enforced": False,
    }), Tier.REGULATED_PILOT)
    if command == "assess":
        html = render_assessment_report([hostile], VendorFormat.HTML)
    else:
        html = render_comparison_report(compare([hostile]), VendorFormat.HTML)
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "<b>eu" not in html
    assert 'href="javascript:' not in html
    assert 'href="https://trust.example/report"' in html


@pytest.mark.parametrize("command", ["assess", "compare"])
def test_html_is_self_contained(command: str) -> None:
    if command == "assess":
        html = render_assessment_report(samples(), VendorFormat.HTML)
    else:
        html = render_comparison_report(compare(samples()), VendorFormat.HTML)
    assert html.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "<style>" in html and ".st-met" in html  # the CSS is inlined
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert "@import" not in html and "url(" not in html
    assert "Helios Cloud" in html and "not approvable" in html


def test_html_comparison_shows_cells_and_decisions() -> None:
    html = render_comparison_report(compare(samples()), VendorFormat.HTML)
    assert html.count('<tr class="family">') == len({r.family for r in REQUIREMENTS})
    assert 'class="cell sev-high"' in html and 'class="cell st-met"' in html
    assert "Decision at regulated-pilot" in html


def test_no_credential_reaches_any_format() -> None:
    leaky = assessed(full(**{"vendor.notes": f"token = {GENERIC}",
                             "vendor.sources": [f"https://x.example/?api_key={GENERIC}"],
                             "vendor.name": f"Acme password={GENERIC}"}), Tier.REGULATED_PILOT)
    for output_format in VendorFormat:
        assert GENERIC not in render_assessment_report([leaky], output_format)
        assert GENERIC not in render_comparison_report(compare([leaky]), output_format)


def test_full_profile_needs_nothing_recorded() -> None:
    text = render_comparison_report(compare([assessed(FULL, Tier.REGULATED_PILOT)]),
                                    VendorFormat.TEXT)
    assert "A  Complete Quantum: approvable\n" in text
