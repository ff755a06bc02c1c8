"""The profile format: what it accepts, what "not stated" is, and how bad input is named."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest

from scanner.vendors.profile import VendorProfile
from scanner.vendors.profile_loader import ProfileError, load_profile, parse_profile
from tests.conftest import GENERIC, IONQ_KEY
from tests.helpers import REPO
from tests.vendors.profiles import BARE, FULL, SAMPLE_VENDORS, full, loaded, profile, to_yaml, write


def error(text: str, label: str = "v.yaml") -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, label)
    return caught.value


@pytest.mark.parametrize("path", sorted(SAMPLE_VENDORS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_sample_loads_and_says_it_is_fictional(path: Path) -> None:
    found = load_profile(path)
    assert found.profile.vendor.fictional is True
    assert "FICTIONAL" in path.read_text(encoding="utf-8").splitlines()[0]


def test_at_least_four_samples() -> None:
    assert len(list(SAMPLE_VENDORS.glob("*.yaml"))) >= 4
    assert sorted(p.suffix for p in SAMPLE_VENDORS.iterdir()) == [".yaml"] * len(
        list(SAMPLE_VENDORS.iterdir())
    ), "samples/vendors/* must hold only profiles (the README runs compare on the glob)"


def test_unknown_and_absent_both_mean_not_stated() -> None:
    written = profile(full(**{"identity.mfa_enforced": "unknown", "network": "unknown"}))
    absent = profile(full(**{"identity.mfa_enforced": ..., "network": ...}))
    assert written.identity.mfa_enforced is None and absent.identity.mfa_enforced is None
    assert written.network == absent.network
    assert written.network.private_connectivity is None


def test_bare_profile_answers_nothing() -> None:
    bare = profile(BARE)
    assert bare.vendor.name == "Silent Quantum"
    assert bare.identity.saml_sso is None and bare.logging.retention_days is None
    assert bare.certifications.iso27001.expires is None


def test_full_profile_round_trips_dates_and_choices() -> None:
    found = profile(FULL)
    assert found.vendor.profile_date == date(2026, 10, 1)
    assert found.certifications.iso27001.expires == date(2028, 1, 1)
    assert found.data.isolation.qpu_access == "dedicated"


@pytest.mark.parametrize("value", [1.2, "1.2"])
def test_tls_version_may_be_a_yaml_number(value: object) -> None:
    assert profile(full(**{"encryption.min_tls_version": value})).encryption.min_tls_version == "1.2"


def test_token_lifetime_never() -> None:
    assert profile(full(**{"access.api_tokens.max_lifetime_days": "never"})).access.api_tokens.max_lifetime_days == "never"
    assert "at least 1 day" in str(error(to_yaml(full(**{"access.api_tokens.max_lifetime_days": 0}))))


def test_profile_is_frozen() -> None:
    found = profile(FULL)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        found.vendor.name = "x"  # type: ignore[misc]


# --- bad input: file, line, field; never a value --------------------------------------------------


def test_unknown_field_names_line_field_and_what_is_allowed() -> None:
    problem = error("vendor:\n  name: X\nidentity:\n  saml_sso: true\n  colour: blue\n")
    assert (problem.line, problem.field) == (5, "identity.colour")
    assert str(problem).startswith("v.yaml:5: field 'identity.colour': unknown field")
    assert "saml_sso" in str(problem) and "blue" not in str(problem)


def test_unknown_top_level_section() -> None:
    problem = error("vendor:\n  name: X\nidentiy:\n  saml_sso: true\n")
    assert (problem.line, problem.field) == (3, "identiy")
    assert "identity" in str(problem)  # the allowed sections are listed


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        ("identity:\n  mfa_enforced: 1\n", 4, "identity.mfa_enforced", "true, false or unknown"),
        ("identity:\n  mfa_enforced: 'yes'\n", 4, "identity.mfa_enforced", "true, false or unknown"),
        ("logging:\n  retention_days: lots\n", 4, "logging.retention_days", "whole number"),
        ("logging:\n  retention_days: 12.5\n", 4, "logging.retention_days", "whole number"),
        ("logging:\n  retention_days: true\n", 4, "logging.retention_days", "whole number"),
        ("logging:\n  export_formats: json\n", 4, "logging.export_formats", "a list"),
        ("logging:\n  audit_fields: [submitter, who]\n", 4, "logging.audit_fields[1]", "submitter"),
        ("data:\n  isolation:\n    qpu_access: private\n", 5, "data.isolation.qpu_access",
         "dedicated, per-tenant, shared"),
        ("data:\n  subprocessors:\n    entries:\n      - purpose: hosting\n", 6,
         "data.subprocessors.entries[0].name", "required"),
        ("vendor_extra: 1\n", 3, "vendor_extra", "unknown field"),
        ("network: [1, 2]\n", 3, "network", "section"),
    ],
)
def test_wrong_types_are_named(body: str, line: int, field: str, words: str) -> None:
    problem = error("vendor:\n  name: X\n" + body)
    assert (problem.line, problem.field) == (line, field)
    assert f"v.yaml:{line}: field '{field}'" in str(problem)
    assert words in str(problem)


@pytest.mark.parametrize("date_text", ["2026-02-30", "'2026-02-30'", "2026-13-01"])
def test_impossible_dates_name_line_and_field(date_text: str) -> None:
    problem = error(f"vendor:\n  name: X\ncertifications:\n  iso27001:\n    expires: {date_text}\n")
    assert problem.line == 5
    assert problem.field == "certifications.iso27001.expires"
    assert "not a real calendar date" in str(problem)


def test_dates_in_the_wrong_order() -> None:
    text = ("vendor:\n  name: X\ncertifications:\n  soc2_type2:\n    period_start: 2026-01-01\n"
            "    period_end: 2025-01-01\n")
    problem = error(text)
    assert (problem.line, problem.field) == (6, "certifications.soc2_type2.period_end")


def test_missing_vendor_name() -> None:
    problem = error("vendor:\n  product: P\n")
    assert (problem.line, problem.field) == (1, "vendor.name")
    assert "required" in str(problem)


def test_every_problem_is_listed_in_line_order() -> None:
    problem = error("vendor:\n  name: X\nidentity:\n  mfa_enforced: 3\n  sso: true\n"
                    "incident:\n  notification_hours: soon\n")
    lines = str(problem).splitlines()
    assert [line.split(":")[1] for line in lines] == ["4", "5", "7"]
    assert "(and 2 more problem(s))" in problem.summary()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- vendor\n", "a mapping with a vendor: section"),
        ("vendor:\n  name: A\n---\nvendor:\n  name: B\n", "one YAML document; found 2"),
        ("", "found no YAML document"),
        ("vendor: {name: [unclosed\n", "invalid YAML"),
        ("qgov_vendor_profile: 2\nvendor:\n  name: X\n", "profile format 1"),
    ],
)
def test_malformed_documents(text: str, words: str) -> None:
    assert words in str(error(text))


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    lines.append("vendor:\n  name: *i")
    started = time.monotonic()
    problem = error("\n".join(lines) + "\n")
    assert time.monotonic() - started < 5
    assert "alias bomb" in str(problem)


def test_values_are_never_quoted_in_errors() -> None:
    text = (f"vendor:\n  name: X\nidentity:\n  mfa_enforced: {IONQ_KEY}\n"
            f"network:\n  api_token: {GENERIC}\n")
    message = str(error(text))
    assert IONQ_KEY not in message and GENERIC not in message
    assert "identity.mfa_enforced" in message and "network.api_token" in message


def test_credentials_in_free_text_are_masked_on_load() -> None:
    document = full(**{
        "vendor.sources": [f"https://trust.example/report?token={GENERIC}",
                           f"https://user:{IONQ_KEY}@files.example/profile.pdf"],
        "vendor.notes": f"api_token = {GENERIC}",
    })
    found = profile(document)
    dumped = found.model_dump_json()
    assert GENERIC not in dumped and IONQ_KEY not in dumped
    assert found.vendor.sources is not None
    assert found.vendor.sources[0].startswith("https://trust.example/report?token=")


# --- files ---------------------------------------------------------------------------------------


def test_load_profile_reads_a_file_and_keeps_field_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "v.yaml", "# comment\nvendor:\n  name: X\nlogging:\n  retention_days: 9\n")
    found = load_profile(path)
    assert found.label == str(path)
    assert found.line_of("logging.retention_days") == 5
    assert found.line_of("logging.export_formats") == 4  # missing: its section's line
    assert found.line_of("network.ip_allowlist") == 2  # missing section: the document's line


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(b"\x00\x01vendor:\n"), "binary file"),
        (lambda p: p.write_bytes(b"vendor:\n  name: caf\xe9\n"), "not UTF-8"),
        (lambda p: os.mkfifo(p), "not a regular file"),
        (lambda p: p.mkdir(), "not a regular file"),
        (lambda p: None, "No such file"),
    ],
    ids=["binary", "latin-1", "fifo", "directory", "missing"],
)
def test_unreadable_files(tmp_path: Path, make: object, words: str) -> None:
    path = tmp_path / "vendor.yaml"
    make(path)  # type: ignore[operator]
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}: ") and words in str(caught.value)


def test_model_is_strict_about_extra_fields_everywhere() -> None:
    for model in (VendorProfile,):
        assert model.model_config.get("extra") == "forbid"
    found = loaded(FULL)
    assert found.profile.vendor.name == "Complete Quantum"


def test_readme_example_profile_is_valid() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Assessing a quantum vendor", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    found = parse_profile(example, "README.md")
    assert found.profile.vendor.name == "Acme Quantum"
    assert found.profile.data.isolation.job_queue == "shared-opaque"
