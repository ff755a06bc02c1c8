"""What CI consumers read: SARIF's per-result severity, helpUri and result cap; the
Markdown summary (gate, counts, a capped table, nothing from the tree interpreted as
Markdown); GitLab Code Quality in the shape GitLab documents; rule pages kept current."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import jsonschema
import pytest

from scanner.cli import main, scan_cmds
from scanner.model import Issue, ScanError, ScanResult, Severity
from scanner.reports import OutputFormat, ScanReport, render
from scanner.reports import markdown as markdown_module
from scanner.reports import sarif as sarif_module
from scanner.reports.docs import DOCS_ENV, RuleDocs, find_rule_docs, rule_docs_dir
from scanner.reports.rule_docs import pages, stale_pages
from tests.conftest import IBM_KEY
from tests.helpers import DATA, build_findings, real_catalog

SARIF_SCHEMA = json.loads((DATA / "schemas/sarif-schema-2.1.0.json").read_text())


def _report(issues: list[Issue], **fields: object) -> ScanReport:
    findings = build_findings(issues)
    findings.sort(key=lambda f: -f.severity.rank)
    result = ScanResult(
        roots=("repo",), findings=tuple(findings), files_scanned=3, files_excluded=1,
        errors=fields.pop("errors", ()),  # type: ignore[arg-type]
    )
    return ScanReport(result=result, catalog=real_catalog(), fail_on=Severity.HIGH,
                      **fields)  # type: ignore[arg-type]


def _issues(count: int) -> list[Issue]:
    return [
        Issue(rule_id="QG-SEC-013", message=f"credential-like value {i}", path=f"src/m{i}.py",
              line=i + 1, material=f"m{i}", severity=Severity.LOW if i % 2 else None)
        for i in range(count)
    ]


# --- SARIF -------------------------------------------------------------------------------


def test_sarif_results_carry_their_own_severity_and_rules_their_docs() -> None:
    docs = RuleDocs("https://example.org/qgov/blob/v0.1.0", frozenset({"QG-SEC-013"}))
    raised = Issue(rule_id="QG-SEC-013", message="a", path="a.py", line=1, material="a",
                   severity=Severity.CRITICAL)
    default = Issue(rule_id="QG-SEC-013", message="b", path="b.py", line=1, material="b")
    doc = json.loads(render(_report([raised, default], docs=docs), OutputFormat.SARIF))
    jsonschema.validate(doc, SARIF_SCHEMA)
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["informationUri"] == "https://example.org/qgov/blob/v0.1.0/docs/rules/README.md"
    assert driver["rules"][0]["helpUri"] == (
        "https://example.org/qgov/blob/v0.1.0/docs/rules/QG-SEC-013.md")
    by_path = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
               for r in run["results"]}
    rule_default = real_catalog().rule_severity(real_catalog().rules["QG-SEC-013"])
    assert by_path["a.py"]["level"] == "error"
    assert by_path["a.py"]["properties"]["security-severity"] == "9.5"
    assert f"the rule's default is {rule_default.value}" in by_path["a.py"]["message"]["text"]
    assert by_path["b.py"]["properties"]["severity"] == rule_default.value
    assert "default is" not in by_path["b.py"]["message"]["text"]


def test_sarif_keeps_the_worst_results_under_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sarif_module, "MAX_RESULTS", 4)
    doc = json.loads(render(_report(_issues(10)), OutputFormat.SARIF))
    jsonschema.validate(doc, SARIF_SCHEMA)
    run = doc["runs"][0]
    assert len(run["results"]) == 4
    assert {r["properties"]["severity"] for r in run["results"]} != {"low"}
    assert all(r["properties"]["severity"] != "low" for r in run["results"])  # worst first
    [notice] = [n for n in run["invocations"][0]["toolExecutionNotifications"]
                if n["descriptor"]["id"] == "results-capped"]
    assert notice["level"] == "warning" and notice["message"]["text"].startswith("6 of 10")


def test_sarif_cap_is_announced_on_the_console(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sarif_module, "MAX_RESULTS", 3)
    monkeypatch.setattr(scan_cmds, "MAX_RESULTS", 3)
    (tmp_path / "p").mkdir()
    for i in range(5):
        (tmp_path / "p" / f"m{i}.py").write_text(f'svc = QiskitRuntimeService(token="{IBM_KEY}")\n')
    main(["scan", str(tmp_path / "p"), "--no-engines", "--sarif", str(tmp_path / "r.sarif")])
    err = capsys.readouterr().err
    assert "the SARIF report carries the 3 most severe of" in err


def test_docs_links_are_absolute_and_point_at_real_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No public URL is known here: the pages shipped with qgov, as file: URIs (GitHub's
    # upload checks "format": "uri", which a relative path fails).
    monkeypatch.delenv(DOCS_ENV, raising=False)
    docs = find_rule_docs({})
    assert docs.rules == set(real_catalog().rules)
    uri = docs.rule_uri("QG-SEC-001")
    assert uri is not None and urlparse(uri).scheme in {"file", "https"}
    if urlparse(uri).scheme == "file":
        assert Path(url2pathname(urlparse(uri).path)).is_file()
    assert docs.rule_uri("ACME-CUSTOM-1") is None  # a custom rule has no page
    given = find_rule_docs({DOCS_ENV: "https://github.com/acme/qgov/blob/0123abc/"})
    assert given.rule_uri("QG-SEC-001") == (
        "https://github.com/acme/qgov/blob/0123abc/docs/rules/QG-SEC-001.md")
    assert find_rule_docs({DOCS_ENV: "docs/"}).base.startswith(("file:", "https:"))


def test_rule_pages_are_current() -> None:
    stale = stale_pages(rule_docs_dir(), pages(real_catalog()))
    assert stale == [], f"run `python -m scanner.reports.rule_docs` ({stale[:5]})"


# --- Markdown ----------------------------------------------------------------------------


def test_markdown_summary_has_gate_counts_and_a_capped_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(markdown_module, "TOP_FINDINGS", 3)
    errors = (ScanError(path="broken.ipynb", reason="parse-error", message="not JSON"),)
    text = render(_report(_issues(6), errors=errors), OutputFormat.MARKDOWN)
    lines = text.splitlines()
    assert lines[0].startswith("## qgov: ") and "gate" in lines[0]
    assert "scanned 3 files (1 excluded, 0 skipped)" in text
    assert "| severity | findings |" in text and "| low | 3 |" in text
    assert "### Top findings (3 of 6, worst first)" in text
    assert sum(1 for line in lines if line.startswith("| ") and "QG-SEC-013" in line) == 3
    assert "3 more in the full report" in text
    assert "### Scan problems (1)" in text and "`broken.ipynb`" in text


def test_markdown_never_interprets_text_from_the_tree() -> None:
    hostile = Issue(
        rule_id="QG-SEC-013",
        message="see <img src=x onerror=alert(1)> [click](https://evil.example) @octocat | x",
        path="a|b`c.py", line=1, material="h", severity=Severity.CRITICAL,
    )
    text = render(_report([hostile]), OutputFormat.MARKDOWN)
    [row] = [line for line in text.splitlines() if "QG-SEC-013" in line]
    cells = row.removeprefix("| ").removesuffix(" |").split(" | ")
    assert len(cells) == 4  # the pipes in path and message are escaped, not cell breaks
    # Path and message sit in code spans (a longer fence when the text holds a backtick):
    # no HTML, link or mention in them is rendered.
    assert cells[2] == "``a\\|b`c.py:1``"
    assert cells[3].startswith("`see <img") and cells[3].endswith("\\| x`")
    assert "<img" in row and "](https://" in row  # present, but only as code
    assert IBM_KEY not in text


def test_markdown_keeps_secrets_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "run.py").write_text(f'svc = QiskitRuntimeService(token="{IBM_KEY}")\n')
    assert main(["scan", str(tmp_path / "p"), "--no-engines", "--markdown", "-"]) == 1
    out = capsys.readouterr().out
    assert IBM_KEY not in out and "QG-SEC-003" in out and "sha256:" in out


# --- GitLab Code Quality -----------------------------------------------------------------

_GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def test_codequality_matches_gitlabs_documented_shape() -> None:
    # GitLab's Code Quality report: a JSON array of objects with description, check_name,
    # fingerprint, severity (info|minor|major|critical|blocker), location.path and
    # location.lines.begin (https://docs.gitlab.com/ci/testing/code_quality/).
    same_twice = [
        Issue(rule_id="QG-SEC-013", message="x", path="a.py", line=line, material="same")
        for line in (1, 9)
    ]
    issues = json.loads(render(_report(_issues(4) + same_twice), OutputFormat.CODEQUALITY))
    assert isinstance(issues, list) and len(issues) == 6
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str)
        assert isinstance(issue["fingerprint"], str) and issue["fingerprint"]
        assert issue["severity"] in _GITLAB_SEVERITIES
        assert isinstance(issue["location"]["path"], str)
        assert not issue["location"]["path"].startswith("/")
        assert isinstance(issue["location"]["lines"]["begin"], int)
    # GitLab shows one issue per fingerprint: each must be unique.
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert {i["severity"] for i in issues} == {"minor", "critical"}  # low and high
