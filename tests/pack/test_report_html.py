"""report.html as an auditor and a browser meet it: every section present and saying what it
holds (or "none" in words), self-contained, scanned content shown as text and never as
markup, no secret value, long lists capped with counts, same input -> same bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scanner.cli.report_cmds import collect_from_args, main_args
from scanner.governed.policy import load_policy
from scanner.pack.caps import DEFAULT_CAPS
from scanner.pack.example import FIXED_TIME, sample_pack_data, samples_dir, synthetic_pack_data
from scanner.pack.html import render_report_html
from scanner.pack.model import PackData
from tests.pack.html_text import ParsedPage, parse
from tests.pack.report_inputs import HOSTILE_FILE, HOSTILE_NAME, evidence_pack, hostile_pack
from tests.status.helpers import selftest_report

# The samples' credentials (samples/leaky-quantum-project/.env); the report may show only
# their masked form (first four characters, length, hash).
SAMPLE_SECRETS = (
    "Z8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJi",
    "DEV-0034d6608697a8d41bed440e50454f31af317681",
    "eq3hDavJA76rNicHTp8hkqdlm7tOtHWnsCGRlrwZbqca",
    "m5di4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY+uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt/PlJhx2jIclHkC==",
)
SECTIONS = ("contents", "summary", "legend", "frameworks", "controls", "findings", "selftest",
            "ledger", "exceptions-register", "suppressions", "attestations", "vendors",
            "access", "appendix", "environment", "catalog", "files", "scan-errors")


@pytest.fixture(scope="module")
def sample_html(sample_pack: PackData) -> str:
    return render_report_html(sample_pack)


@pytest.fixture(scope="module")
def sample_page(sample_html: str) -> ParsedPage:
    return parse(sample_html)


def rows_starting(page: ParsedPage, first: str) -> list[list[str]]:
    return [row for row in page.rows if row and row[0] == first]


def test_every_section_is_there_and_the_contents_link_to_each(sample_page: ParsedPage) -> None:
    for section in SECTIONS:
        assert section in sample_page.ids, section
    links = {attrs["href"] for tag, attrs in sample_page.elements if tag == "a"}
    for section in SECTIONS[1:]:
        assert f"#{section}" in links, section
    # Every in-page link lands on an element of the page.
    targets = {href[1:] for href in links if href.startswith("#")}
    assert targets <= set(sample_page.ids)


def test_the_cover_states_scope_versions_and_effective_configuration(
    sample_pack: PackData, sample_page: ParsedPage
) -> None:
    text = sample_page.visible
    leaky = sample_pack.repositories[0]
    assert leaky.scan is not None and leaky.scan.targets[0].git is not None
    assert f"commit {leaky.scan.targets[0].git.commit}" in text
    assert "generated 2026-11-29T12:00:00Z" in text
    assert f"qgov {sample_pack.tool_version}" in text
    assert (f"qgov catalog {sample_pack.catalog_info.version}: "
            f"{sample_pack.catalog_info.controls} controls") in text
    config = rows_starting(sample_page, f"{leaky.name} config samples/leaky-quantum-project/"
                                        ".qgov.yaml")
    assert config, "no effective-configuration row for the leaky sample"
    tier, fail_on, rules_excludes, engines, osv = config[0][1:]
    assert tier.startswith(leaky.scan.config.tier.value)
    assert fail_on == "high"
    assert rules_excludes == "no rule disabled no excludes"
    assert "bandit off" in engines
    assert osv == "off (the known-vulnerability check did not run)"


def test_the_summary_counts_requirements_per_framework_and_draws_the_chart(
    sample_pack: PackData, sample_page: ParsedPage, sample_html: str
) -> None:
    matrices = sample_pack.rollup.frameworks
    header = next(row for row in sample_page.rows if row[0] == "Requirements")
    assert header[1:] == [m.key.upper() for m in matrices]
    for status, label in (("failing", "✗ failing"), ("not-covered", "∅ not covered"),
                          ("not-assessed", "? not assessed"), ("passing", "✓ passing"),
                          ("accepted-risk", "! accepted risk"), ("attested", "✎ attested")):
        row = rows_starting(sample_page, label)[0]
        assert row[1:1 + len(matrices)] == [str(m.counts()[status]) for m in matrices], status
    totals = rows_starting(sample_page, "Total")[0]
    assert totals[1:] == [str(len(m.requirements)) for m in matrices]
    # One bar per framework in an inline SVG; its segments add up to the bar's total.
    svg = re.search(r"<svg class=\"chart\".*?</svg>", sample_html, re.S)
    assert svg is not None
    for matrix in matrices:
        assert f">{matrix.key.upper()}</text>" in svg.group()
    assert svg.group().count('fill="url(#pat-not-covered)"') == sum(
        1 for m in matrices if m.counts()["not-covered"])


def test_each_framework_lists_every_requirement_and_the_uncovered_ones_as_not_covered(
    sample_pack: PackData, sample_page: ParsedPage
) -> None:
    catalog = sample_pack.catalog
    for key in sample_pack.frameworks:
        for requirement in catalog.frameworks[key].requirements:
            assert rows_starting(sample_page, requirement.id), (key, requirement.id)
    gdpr = catalog.frameworks["gdpr"]
    covered = {r for c in catalog.control_frameworks.values() for r in c.get("gdpr", [])}
    uncovered = [r for r in gdpr.requirements if r.id not in covered]
    assert uncovered, "the GDPR mapping is expected to leave requirements uncovered"
    row = rows_starting(sample_page, uncovered[0].id)[0]
    assert row[2:] == ["∅ not covered", "no control covers it"]


def test_findings_are_grouped_by_control_with_masked_evidence_and_remediation(
    sample_pack: PackData, sample_page: ParsedPage
) -> None:
    text = sample_page.visible
    assert "SEC-01 — No hard-coded credentials in source or configuration" in text
    rule = sample_pack.catalog.rules["QG-SEC-008"]
    assert rule.remediation and f"Remediation: {rule.remediation}" in text
    env_rows = [row for row in sample_page.rows
                if len(row) == 4 and row[1].endswith(".env:2")]
    assert env_rows and env_rows[0][3].startswith("Z8Uz…[32 chars, sha256:")
    for secret in SAMPLE_SECRETS:
        assert secret not in text


def test_empty_sections_say_so_in_words(tmp_path: Path) -> None:
    text = parse(render_report_html(hostile_pack(tmp_path))).visible
    for words in ("No governed-job control-test results",
                  "No audit ledger was given",
                  "No exceptions register was found",
                  "No finding is suppressed.",
                  "No vendor profiles were given",
                  "No access review: it needs the organisation policy",
                  "None: every file of every repository was examined."):
        assert words in text, words


def test_scanned_names_are_text_never_markup(tmp_path: Path) -> None:
    data = hostile_pack(tmp_path)
    html = render_report_html(data)
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.py" in html
    page = parse(html)
    assert page.tags().isdisjoint({"script", "img", "iframe", "object", "embed", "link", "b"})
    assert not [name for _, attrs in page.elements for name in attrs if name.startswith("on")]
    # The reader sees the names exactly as they are on disk.
    assert HOSTILE_FILE in page.visible
    assert HOSTILE_NAME in page.visible
    assert "<b onmouseover=alert(2)>bold</b> statement" in page.visible
    assert "Z8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJq" not in html


def test_the_page_is_self_contained(sample_html: str, sample_page: ParsedPage) -> None:
    for tag, attrs in sample_page.elements:
        for name in ("src", "href", "action", "data", "srcset", "poster"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("#"), (tag, name, value)
    assert not re.search(r"url\(\s*['\"]?(?!#)", sample_html), "CSS fetches something"
    assert "@import" not in sample_html
    assert sample_page.tags().isdisjoint({"script", "link", "img", "iframe"})
    assert "default-src 'none'" in sample_html  # the browser refuses any fetch


def test_a_tampered_ledger_is_shown_as_damaged_and_nothing_is_answered_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    data = evidence_pack(tmp_path, jobs=60)
    page = parse(render_report_html(data))
    text = page.visible
    assert "⚠ TAMPERED" in text
    assert "The ledger failed verification" in text
    # No number from it is shown as fact: no metrics, no jobs, and the reason instead.
    assert "no metrics and no jobs: the ledger failed verification (TAMPERED)" in text
    assert "Governance metrics" in text and "success rate" not in text
    assert not [row for row in page.rows if row and row[0].startswith("job-")]
    # The governed-job control tests given with --selftest, the failed check flagged.
    assert "✗ 1 of 3 control-test checks failed" in text
    check = [row for row in page.rows if row[0].startswith("ledger-tamper-detected")]
    assert check and check[0][1:3] == ["LOG-02", "✗ failed"]


def test_an_intact_ledger_shows_its_metrics_and_jobs_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    data = evidence_pack(tmp_path, jobs=60, tampered=False)
    page = parse(render_report_html(data))
    text = page.visible
    assert "no metrics and no jobs" not in text
    # The metrics table: area (on its first row), metric, value; the jobs area first.
    metrics = [row[1:] for row in page.rows if len(row) == 3]
    assert metrics[metrics.index(["submitted", "60"]) + 2] == ["refused", "15"]
    assert f"60 jobs in the ledger; the first {DEFAULT_CAPS.ledger_jobs} are listed" in text
    assert "… and 10 more jobs" in text
    job_rows = [row for row in page.rows if row and row[0].startswith("job-")]
    assert len(job_rows) == DEFAULT_CAPS.ledger_jobs


def test_ten_thousand_findings_stay_readable(sample_pack: PackData) -> None:
    data = synthetic_pack_data(10_000, base=sample_pack)
    html = render_report_html(data)
    page = parse(html)
    total = data.findings_total()
    caps = DEFAULT_CAPS
    assert f"Showing {caps.findings_total} of {total:,} active findings" in page.visible
    listed = [row for row in page.rows if len(row) == 4 and "Synthetic finding" in row[2]
              or (len(row) == 4 and row[0] in ("critical", "high", "medium", "low", "info"))]
    assert len(listed) == caps.findings_total
    # Every rule cut short says how many of its findings are left out, and they add up.
    more = sum(int(n.replace(",", "")) for n in re.findall(r"… and ([\d,]+) more findings? of",
                                                           page.visible))
    assert len(listed) + more == total
    assert "in findings.json and findings.sarif" in page.visible
    assert len(html) < 3_000_000


def test_same_input_same_bytes(sample_pack: PackData, sample_html: str) -> None:
    assert render_report_html(sample_pack) == sample_html
    again = sample_pack_data()  # scanned and collected again from scratch
    assert render_report_html(again) == sample_html


def _selftest_pack(tmp_path: Path, policy: dict[str, str] | None, *pack_policy: str) -> str:
    """The report's visible text for the leaky sample with self-test evidence whose
    ``policy`` section is ``policy`` (as ``qgov job selftest`` writes it)."""
    document = selftest_report()
    if policy is not None:
        document["policy"] = policy
    evidence = tmp_path / "selftest.json"
    evidence.write_text(json.dumps(document), encoding="utf-8")
    argv = [str(samples_dir() / "leaky-quantum-project"), "--out", "unused", "--no-engines",
            "--selftest", str(evidence), *pack_policy]
    return parse(render_report_html(collect_from_args(main_args(argv), FIXED_TIME).data)).visible


def test_control_tests_say_which_policy_they_ran_against(tmp_path: Path) -> None:
    sample = samples_dir() / "policy" / "org-policy.yaml"
    ref = load_policy(sample).ref
    organisation = {"source": "organisation", **ref, "file": str(sample)}
    text = _selftest_pack(tmp_path, organisation, "--policy", str(sample))
    assert (f"Policy tested The organisation's: {ref['id']} version {ref['version']} — the "
            "policy given to this pack") in text
    assert f"Policy SHA-256 {ref['sha256']}" in text
    assert "demo policy" not in text
    # Another policy given to the pack than the one tested: said, not hidden.
    other = tmp_path / "other-policy.yaml"
    other.write_bytes(sample.read_bytes() + b"\n# edited\n")
    text = _selftest_pack(tmp_path, organisation, "--policy", str(other))
    assert "ran against another version of the policy than the one given to this pack" in text
    # The built-in demo policy is never mistaken for the organisation's.
    text = _selftest_pack(tmp_path, {"source": "built-in", "id": "qgov-selftest",
                                     "version": "1", "sha256": "ab" * 32, "file": "policy.yaml"})
    assert "These checks ran against qgov's built-in demo policy, not the organisation's" in text
    assert "qgov's built-in demo policy (qgov-selftest 1), not the organisation's" in text
    # Evidence written before the policy was recorded: unknown, and may be the demo policy.
    text = _selftest_pack(tmp_path, None)
    assert "The policy these checks ran against is not recorded" in text
