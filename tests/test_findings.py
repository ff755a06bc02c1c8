"""Issues become findings in one place (scanner/findings.py): masked or capped evidence, URL
credentials removed, the fingerprint's content hash, and the catalog's metadata."""

from __future__ import annotations

import pytest

from scanner.catalog import Catalog
from scanner.findings import EVIDENCE_LIMIT, FindingBuilder
from scanner.model import Issue, Severity, content_digest
from tests.conftest import IBM_KEY


def test_the_catalog_fills_in_what_the_issue_leaves_out(catalog: Catalog) -> None:
    finding = FindingBuilder(catalog).build(Issue("QG-SEC-001", "key", line=3), "a.py")
    rule = catalog.rule("QG-SEC-001")
    assert finding is not None and rule is not None
    assert (finding.path, finding.line, finding.severity) == ("a.py", 3, Severity.CRITICAL)
    assert finding.severity is catalog.rule_severity(rule)
    assert finding.title == rule.title and finding.control_ids == tuple(rule.controls)
    assert finding.domain is catalog.rule_domain(rule)
    assert finding.framework_map == catalog.frameworks_for(rule.controls)
    assert finding.remediation


def test_issue_values_win_and_extra_controls_are_added(catalog: Catalog) -> None:
    issue = Issue("QG-SEC-001", "key", path="b.py", severity=Severity.LOW,
                  control_ids=("SEC-02", "SEC-01"))
    finding = FindingBuilder(catalog).build(issue, "a.py")
    assert finding is not None
    assert (finding.path, finding.severity) == ("b.py", Severity.LOW)
    assert finding.control_ids == ("SEC-01", "SEC-02")  # the rule's first, no duplicates


def test_secrets_are_masked_and_evidence_capped_and_redacted(catalog: Catalog) -> None:
    builder = FindingBuilder(catalog)
    secret = builder.build(Issue("QG-SEC-001", "key", path="a.py", secret=IBM_KEY))
    assert secret is not None and secret.evidence is not None
    assert IBM_KEY not in secret.evidence and secret.evidence.startswith(IBM_KEY[:4])
    assert secret.content_hash == content_digest(IBM_KEY)  # no material: the secret's hash
    long = builder.build(Issue("QG-DEP-006", "x", path="r.txt", evidence="a" * 500))
    assert long is not None and long.evidence == "a" * EVIDENCE_LIMIT
    url = "https://build:s3cr3t@pkgs.example/simple?token=abc"
    quoted = builder.build(Issue("QG-DEP-004", f"index {url}", path="r.txt", evidence=url))
    assert quoted is not None
    assert "s3cr3t" not in quoted.message + (quoted.evidence or "")
    assert "abc" not in (quoted.evidence or "")


def test_fingerprint_follows_material_not_the_line(catalog: Catalog) -> None:
    builder = FindingBuilder(catalog)
    first = builder.build(Issue("QG-DEP-001", "m", path="r.txt", line=1, material="qiskit"))
    moved = builder.build(Issue("QG-DEP-001", "m", path="r.txt", line=9, material="qiskit"))
    other = builder.build(Issue("QG-DEP-001", "m", path="r.txt", line=1, material="numpy"))
    assert first is not None and moved is not None and other is not None
    assert first.fingerprint == moved.fingerprint != other.fingerprint


def test_unknown_rules_are_dropped_and_reported(catalog: Catalog) -> None:
    builder = FindingBuilder(catalog)
    issues = [Issue("QG-NOPE-001", "x", path="a.py"), Issue("QG-SEC-001", "k", path="a.py")]
    assert [f.rule_id for f in builder.build_all(issues)] == ["QG-SEC-001"]
    assert builder.unknown_rules == {"QG-NOPE-001"}
    assert [(e.reason, "QG-NOPE-001" in e.message) for e in builder.errors()] == [
        ("engine-error", True)
    ]


def test_an_issue_needs_a_path(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="no path"):
        FindingBuilder(catalog).build(Issue("QG-SEC-001", "k"))
