"""Governance policy detector (QG-GOV-*): every check at its line, lenient reading, bad input."""

from __future__ import annotations

from datetime import date

import pytest

from scanner.detectors.governance_policy import GovernancePolicyDetector
from scanner.model import FileKind, Finding, Severity
from scanner.source import SourceFile
from tests.conftest import IBM_KEY
from tests.helpers import SAMPLES, detect, findings, located, parse_error, source

TODAY = date(2026, 6, 1)

CLEAN = """\
policy:
  id: test-policy
  version: "1"
  owner: ciso@example.org
  reviewed: 2026-05-20
identities:
  - subject: alice@example.org
    kind: human
    issuer: idp
    team: algorithms
    roles: [researcher]
  - subject: svc:runner
    kind: service
    issuer: idp
    team: platform
    vendors: [ibm-quantum]
    environments: [dev]
    roles: [runner]
roles:
  - name: researcher
    owner: lead@example.org
    purpose: Algorithm exploration
    expires: 2027-01-31
    identity_kinds: [human]
    environments: [dev, test]
    backends: [sim]
    projects: [lab]
    max_shots: 1000
  - name: runner
    owner: lead@example.org
    purpose: Nightly runs
    expires: 2027-01-31
    identity_kinds: [service]
    environments: [dev]
    backends: [sim]
    projects: [lab]
    max_shots: 1000
tiers:
  exploratory: {data_classes: [synthetic]}
projects:
  - name: lab
    owner: lead@example.org
    tier: exploratory
    environments: [dev, test]
    quota: {shots: 10000}
    burst: {max_jobs: 5, window_seconds: 60}
backends:
  - name: sim
    environments: [dev, test]
"""

OPS_PROJECT = """\
  - name: ops
    owner: ops-lead@example.org
    tier: exploratory
    environments: [dev]
    quota: {shots: 10000}
    burst: {max_jobs: 5, window_seconds: 60}
"""

EXCEPTION = """\
exceptions:
  - id: EXC-1
    control: LOG-06
    risk_owner: ciso@example.org
    reason: central trail
    compensating_controls: [CloudTrail data events]
    expires: 2026-12-31
"""


def variant(*edits: tuple[str, str], text: str = CLEAN) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def line_of(text: str, marker: str, after: str = "") -> int:
    """1-based line of the first ``marker`` at or after the line holding ``after``."""
    start = text.index(after) if after else 0
    return text.count("\n", 0, text.index(marker, start)) + 1


def policy_file(text: str, path: str = "governance/policy.yaml") -> SourceFile:
    found = source(text, path)
    assert found.kind is FileKind.GOVERNANCE_POLICY
    return found


def scan(text: str, today: date = TODAY, path: str = "governance/policy.yaml") -> list[Finding]:
    return findings(GovernancePolicyDetector(today=today), policy_file(text, path))


def test_clean_policy_has_no_findings() -> None:
    assert scan(CLEAN) == []


EXPIRED_ROLE = variant(("expires: 2027-01-31", "expires: 2026-05-01"))
SOON_ROLE = variant(("expires: 2027-01-31", "expires: 2026-06-20"))
NO_OWNER = variant(("    owner: lead@example.org\n    purpose: Algorithm", "    purpose: Algorithm"))
VENDORS = variant(("vendors: [ibm-quantum]", "vendors: [ibm-quantum, amazon-braket]"))
ENVIRONMENTS = variant(("    environments: [dev]\n    roles: [runner]",
                        "    environments: [dev, production]\n    roles: [runner]"))
TEAMS = variant(("projects: [lab]\n    max_shots: 1000\ntiers",
                 "projects: [lab, ops]\n    max_shots: 1000\ntiers"),
                ("backends:\n", OPS_PROJECT + "backends:\n"))
MIXED_KINDS = variant(("identity_kinds: [human]", "identity_kinds: [human, workload]"))
MIXED_HOLDERS = variant(("roles: [researcher]", "roles: [researcher, runner]"))
ADMIN = variant(("projects: [lab]\n    max_shots: 1000\n  - name: runner",
                 "projects: [lab]\n    max_shots: 1000\n    can_administer: true\n  - name: runner"))
EXPORT = variant(("projects: [lab]\n    max_shots: 1000\n  - name: runner",
                  "projects: [lab]\n    max_shots: 1000\n    can_export: true\n  - name: runner"))
EXPORT_UNAPPROVED = EXPORT + "elevation: {export_requires_approval: false}\n"
OLD_REVIEW = variant(("reviewed: 2026-05-20", "reviewed: 2026-01-01"))
NO_REVIEW = variant(("  reviewed: 2026-05-20\n", ""))
MONTHLY = variant(("reviewed: 2026-05-20", "reviewed: 2026-04-15"),
                  ("  - name: sim\n", "  - name: sim\n    regulated: true\n"))
SCOPED_REVIEW = OLD_REVIEW + (
    "access_reviews:\n  records:\n    - {date: 2026-05-30, reviewer: r@example.org, scope: lab}\n"
)
EXPIRED_EXCEPTION = CLEAN + EXCEPTION.replace("2026-12-31", "2026-05-31")
INCOMPLETE_EXCEPTION = CLEAN + EXCEPTION.replace("    risk_owner: ciso@example.org\n", "")
NO_ALERT = variant(("    burst: {max_jobs: 5, window_seconds: 60}\n", ""))
NO_QUOTA = variant(("    quota: {shots: 10000}\n", "    quota: {period: month}\n"),
                   ("    owner: lead@example.org\n    tier", "    tier"))
SHARED_CREDENTIAL = CLEAN + """\
environments:
  - name: dev
    credentials: [vault:secret/quantum/dev]
  - name: production
    credentials: [vault:secret/quantum/dev]
"""
SHARED_STORAGE = CLEAN + """\
environments:
  - name: dev
    storage: [s3://lab-results]
  - name: test
    storage: [s3://lab-results]
"""
REGULATED_TIER = variant(("exploratory: {data_classes: [synthetic]}",
                          "regulated-pilot: {data_classes: [synthetic, regulated]}"),
                         ("    tier: exploratory", "    tier: regulated-pilot"))
APPROVED_TIER = variant(("  - name: sim\n", "  - name: sim\n    regulated: true\n"),
                        text=REGULATED_TIER)
DEBUG_OPEN = CLEAN + "debug: {enabled: true, approval: APR-1}\n"
DEBUG_LONG = CLEAN + """\
approvals:
  - id: APR-1
    action: debug
    requester: alice@example.org
    approver: bob@example.org
    reason: incident 42
    approved_at: 2026-05-01T09:00:00Z
    expires_at: 2026-05-01T17:00:00Z
debug:
  enabled: true
  until: 2026-05-04T09:00:00Z
  approval: APR-1
"""
DEBUG_SHORT = DEBUG_LONG.replace("until: 2026-05-04T09:00:00Z", "until: 2026-05-01T21:00:00Z")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(NO_OWNER, [("QG-GOV-001", line_of(NO_OWNER, "- name: researcher"))],
                     id="001-no-owner"),
        pytest.param(EXPIRED_ROLE, [("QG-GOV-002", line_of(EXPIRED_ROLE, "expires: 2026-05-01"))],
                     id="002-expired-granted"),
        pytest.param(SOON_ROLE, [("QG-GOV-003", line_of(SOON_ROLE, "expires: 2026-06-20"))],
                     id="003-expiring"),
        pytest.param(VENDORS, [("QG-GOV-004", line_of(VENDORS, "- subject: svc:runner"))],
                     id="004-vendors"),
        pytest.param(ENVIRONMENTS, [("QG-GOV-004", line_of(ENVIRONMENTS, "- subject: svc"))],
                     id="004-environments"),
        pytest.param(TEAMS, [("QG-GOV-004", line_of(TEAMS, "- subject: svc:runner"))],
                     id="004-teams"),
        pytest.param(MIXED_KINDS, [("QG-GOV-005", line_of(MIXED_KINDS, "[human, workload]"))],
                     id="005-kinds"),
        pytest.param(MIXED_HOLDERS, [("QG-GOV-005", line_of(MIXED_HOLDERS, "- name: runner"))],
                     id="005-holders"),
        pytest.param(ADMIN, [("QG-GOV-006", line_of(ADMIN, "can_administer"))], id="006-admin"),
        pytest.param(EXPORT, [], id="006-export-with-approval"),
        pytest.param(EXPORT_UNAPPROVED, [("QG-GOV-006", line_of(EXPORT, "can_export"))],
                     id="006-export-unapproved"),
        pytest.param(OLD_REVIEW, [("QG-GOV-007", line_of(OLD_REVIEW, "reviewed:"))],
                     id="007-overdue"),
        pytest.param(NO_REVIEW, [("QG-GOV-007", line_of(NO_REVIEW, "- name: lab"))],
                     id="007-never"),
        pytest.param(MONTHLY, [("QG-GOV-007", line_of(MONTHLY, "reviewed:"))],
                     id="007-monthly-for-regulated-backend"),
        pytest.param(SCOPED_REVIEW, [], id="007-project-review-counts"),
        pytest.param(EXPIRED_EXCEPTION,
                     [("QG-GOV-008", line_of(EXPIRED_EXCEPTION, "expires: 2026-05-31"))],
                     id="008-expired"),
        pytest.param(INCOMPLETE_EXCEPTION,
                     [("QG-GOV-009", line_of(INCOMPLETE_EXCEPTION, "- id: EXC-1"))],
                     id="009-no-risk-owner"),
        pytest.param(NO_ALERT, [("QG-GOV-010", line_of(NO_ALERT, "- name: lab"))],
                     id="010-no-alert"),
        pytest.param(NO_QUOTA, [("QG-GOV-010", line_of(NO_QUOTA, "- name: lab"))],
                     id="010-no-quota-no-owner"),
        pytest.param(SHARED_CREDENTIAL, [("QG-GOV-011", line_of(
            SHARED_CREDENTIAL, "vault:secret/quantum/dev", "name: production"))],
            id="011-credential"),
        pytest.param(SHARED_STORAGE, [("QG-GOV-011", line_of(
            SHARED_STORAGE, "s3://lab-results", "name: test"))], id="011-storage"),
        pytest.param(REGULATED_TIER, [("QG-GOV-012", line_of(REGULATED_TIER, "regulated-pilot:"))],
                     id="012-no-approval"),
        pytest.param(APPROVED_TIER, [], id="012-regulated-backend"),
        pytest.param(DEBUG_OPEN, [("QG-GOV-013", line_of(DEBUG_OPEN, "debug:"))],
                     id="013-no-until"),
        pytest.param(DEBUG_LONG, [("QG-GOV-013", line_of(DEBUG_LONG, "until:"))],
                     id="013-too-long"),
        pytest.param(DEBUG_SHORT, [], id="013-within-24h"),
    ],
)
def test_check_reports_at_its_line(text: str, expected: list[tuple[str, int]]) -> None:
    assert located(scan(text)) == sorted(expected)


def test_messages_say_what_is_wrong() -> None:
    (owner,) = scan(NO_OWNER)
    assert owner.message == "The role researcher has no owner"
    (expired,) = scan(EXPIRED_ROLE)
    assert "expired on 2026-05-01" in expired.message and "alice@example.org" in expired.message
    (shared,) = scan(TEAMS)
    assert "2 different owners" in shared.message and "lab, ops" in shared.message
    (review,) = scan(MONTHLY)
    assert "due every 30 days" in review.message
    (quota,) = scan(NO_QUOTA)
    assert quota.message == "The project lab has no budget owner, no quota"
    (tier,) = scan(REGULATED_TIER)
    assert "role researcher on backend sim for project lab" in tier.message


def test_expiry_is_measured_against_the_pinned_day() -> None:
    assert located(scan(SOON_ROLE, today=date(2026, 1, 1))) == []
    assert [f.severity for f in scan(SOON_ROLE)] == [Severity.INFO]
    # the expiry day itself still counts; the day after, the role has expired
    assert located(scan(EXPIRED_ROLE, today=date(2026, 5, 1))) == [
        ("QG-GOV-003", line_of(EXPIRED_ROLE, "expires: 2026-05-01"))]
    assert [f.rule_id for f in scan(EXPIRED_ROLE, today=date(2026, 5, 2))] == ["QG-GOV-002"]


def test_sharing_across_dev_and_production_is_high_dev_and_test_medium() -> None:
    assert [f.severity for f in scan(SHARED_CREDENTIAL)] == [Severity.HIGH]
    assert [f.severity for f in scan(SHARED_STORAGE)] == [Severity.MEDIUM]


def test_a_credential_value_in_the_policy_is_never_printed() -> None:
    text = CLEAN + (
        f"environments:\n  - name: dev\n    credentials: [{IBM_KEY}]\n"
        f"  - name: production\n    credentials: [{IBM_KEY}]\n"
    )
    (finding,) = scan(text)
    assert finding.rule_id == "QG-GOV-011"
    assert IBM_KEY not in finding.message and IBM_KEY[:8] not in finding.message


def test_a_partial_policy_is_checked_not_refused() -> None:
    text = "roles:\n  - name: lab-admin\n    can_administer: true\n"
    # no owner, purpose or expiry; and no access review was ever recorded for it
    assert located(scan(text)) == [("QG-GOV-001", 2), ("QG-GOV-007", 1)]


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (variant(("    team: algorithms\n", "    team: algorithms\n    colour: red\n")), 11,
         "identities.0.colour"),
        (variant(("max_shots: 1000\n  - name: runner", "max_shots: lots\n  - name: runner")),
         28, "roles.0.max_shots"),
        (variant(("kind: human", "kind: robot")), 8, "identities.0.kind"),
        (variant(("expires: 2027-01-31", "expires: 2027-02-30")), 23, "roles.0.expires"),
        (variant(("expires: 2027-01-31", 'expires: "2027-13-01"')), 23, "roles.0.expires"),
        (CLEAN + "rolse: []\n", CLEAN.count("\n") + 1, "rolse"),
        (CLEAN + 'exceptions:\n  - {id: E, control: X, scope: {paths: ["[z-a]"]}}\n',
         CLEAN.count("\n") + 2, "exceptions.0.scope.paths.0"),
    ],
)
def test_unknown_fields_wrong_types_and_impossible_dates_are_parse_errors(
    text: str, line: int, field: str
) -> None:
    error = parse_error(detect(GovernancePolicyDetector(today=TODAY), policy_file(text)))
    assert error.line == line and f"'{field}'" in error.message
    assert "red" not in error.message and "lots" not in error.message


def test_other_yaml_with_a_roles_key_is_left_alone() -> None:
    galaxy = "roles:\n  - name: geerlingguy.java\n    version: 1.9.6\ncollections:\n  - x\n"
    detection = detect(GovernancePolicyDetector(today=TODAY), policy_file(galaxy, "req.yml"))
    assert detection.errors == [] and detection.findings == []


def test_an_exceptions_file_is_checked_whatever_its_shape() -> None:
    flow = "{exceptions: [{id: E, control: LOG-06, reason: r, expires: 2026-01-01}]}\n"
    found = source(flow, ".qgov-exceptions.yaml")
    assert found.kind is FileKind.YAML  # discovery does not see `exceptions:` at a line start
    assert sorted(f.rule_id for f in findings(GovernancePolicyDetector(today=TODAY), found)) == [
        "QG-GOV-008", "QG-GOV-009"]
    roles = source("exceptions: []\nroles: []\n", ".qgov-exceptions.yaml")
    error = parse_error(detect(GovernancePolicyDetector(today=TODAY), roles))
    assert "'roles'" in error.message and error.line == 2


def test_the_sample_org_policy_only_reports_its_lapsed_exception() -> None:
    text = (SAMPLES / "policy" / "org-policy.yaml").read_text(encoding="utf-8")
    found = scan(text, today=date(2026, 11, 10), path="policy/org-policy.yaml")
    assert [(f.rule_id, "EXC-2026-003" in f.message) for f in found] == [("QG-GOV-008", True)]
