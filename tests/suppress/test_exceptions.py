"""The exceptions register in a scan: which findings an exception covers, that accepted risk
stays in every output (marked with the exception), and that lapsed or incomplete entries
accept nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest

from scanner.cli import main
from scanner.formats.yaml import load_all_with_lines
from scanner.governance.lenient import parse_register
from scanner.model import Finding, Suppression, SuppressionKind
from scanner.suppress.exceptions import Register, apply_exceptions, contains_word
from tests.conftest import IBM_KEY, IONQ_KEY
from tests.helpers import DATA, scan_json, small_project, write_tree

TODAY = date(2026, 6, 1)
ENTRY = """\
  - id: EXC-1
    control: SEC-01
    risk_owner: ciso@example.org
    reason: fixture credentials, revoked
    compensating_controls: [key revoked at the provider]
    expires: 2026-12-31
"""


def register(body: str, root: Path | None = None) -> Register:
    view = parse_register(load_all_with_lines("exceptions:\n" + body)[0])
    return Register("test", view.exceptions, root)


def finding(rule: str = "QG-SEC-003", path: str = "src/run.py", controls: tuple[str, ...] = (
        "SEC-01",), message: str = "IBM Quantum token in code") -> Finding:
    return Finding(rule_id=rule, message=message, path=path, control_ids=controls)


def accepted(body: str, *found: Finding, today: date = TODAY) -> list[str | None]:
    marked = apply_exceptions(found, [register(body)], today, {})
    return [f.suppression.id if f.suppression else None for f in marked]


def scoped(scope: str) -> str:
    return ENTRY + f"    scope: {scope}\n"


@pytest.mark.parametrize(
    ("body", "found", "expected"),
    [
        pytest.param(ENTRY, finding(), "EXC-1", id="control-only"),
        pytest.param(ENTRY, finding(controls=("SEC-02",)), None, id="other-control"),
        pytest.param(scoped("{rules: [QG-SEC-*]}"), finding(), "EXC-1", id="rule-prefix"),
        pytest.param(scoped("{rules: [QG-SEC-00]}"), finding(), None, id="rule-exact-only"),
        pytest.param(scoped("{paths: ['src/**']}"), finding(), "EXC-1", id="path"),
        pytest.param(scoped("{paths: ['*.py', '!src/run.py']}"), finding(), None,
                     id="path-negated"),
        pytest.param(scoped("{paths: ['notebooks/']}"), finding(), None, id="path-elsewhere"),
        pytest.param(scoped("{resources: [aws_s3_bucket.results]}"),
                     finding(message="aws_s3_bucket.results has no access logging"), "EXC-1",
                     id="resource"),
        pytest.param(scoped("{resources: [aws_s3_bucket.results]}"),
                     finding(message="aws_s3_bucket.results_old has no access logging"), None,
                     id="resource-longer-name"),
        pytest.param(scoped("{paths: ['src/**'], rules: [QG-IAC-*]}"), finding(), None,
                     id="every-given-scope-must-match"),
        pytest.param(ENTRY.replace("2026-12-31", "2026-05-31"), finding(), None, id="expired"),
        pytest.param(ENTRY.replace("2026-12-31", "2026-06-01"), finding(), "EXC-1",
                     id="expiry-day-still-counts"),
        pytest.param(ENTRY.replace("    risk_owner: ciso@example.org\n", ""), finding(), None,
                     id="no-risk-owner"),
        pytest.param(ENTRY.replace("    compensating_controls: [key revoked at the provider]\n",
                                   ""), finding(), None, id="no-compensating-control"),
    ],
)
def test_which_findings_an_exception_covers(body: str, found: Finding, expected: str | None) -> None:
    assert accepted(body, found) == [expected]


def test_the_marking_carries_the_exception() -> None:
    (marked,) = apply_exceptions([finding()], [register(ENTRY)], TODAY, {})
    assert marked.suppression == Suppression(
        kind=SuppressionKind.EXCEPTION, id="EXC-1", reason="fixture credentials, revoked",
        until="2026-12-31", owner="ciso@example.org")


def test_inline_suppressions_are_kept_and_roots_are_respected(tmp_path: Path) -> None:
    inline = finding().model_copy(
        update={"suppression": Suppression(kind=SuppressionKind.INLINE, reason="r")})
    (kept,) = apply_exceptions([inline], [register(ENTRY)], TODAY, {})
    assert kept.suppression is not None and kept.suppression.kind is SuppressionKind.INLINE
    here, there = tmp_path / "a", tmp_path / "b"
    roots = {"src/run.py": {there}}
    (other,) = apply_exceptions([finding()], [register(ENTRY, root=here)], TODAY, roots)
    assert other.suppression is None
    (same,) = apply_exceptions([finding()], [register(ENTRY, root=there)], TODAY, roots)
    assert same.suppression is not None


@pytest.mark.parametrize(
    ("text", "needle", "found"),
    [("bucket a.b is open", "a.b", True), ("a.b.", "a.b", True), ("xa.b", "a.b", False),
     ("a.bc", "a.b", False), ("x.a.b", "a.b", False), ("(a.b)", "a.b", True),
     ("a-b" * 50_000, "a.b", False)],
)
def test_resource_match_is_a_whole_name(text: str, needle: str, found: bool) -> None:
    assert contains_word(text, needle) is found


# --- through the command line ---------------------------------------------------------------

REGISTER = "exceptions:\n" + ENTRY.replace("expires: 2026-12-31", "expires: 2099-12-31") + (
    "    scope: {paths: ['src/**']}\n"
)


def project(root: Path, register_text: str = REGISTER) -> Path:
    small_project(root)
    write_tree(root, {".qgov-exceptions.yaml": register_text})
    return root


def test_accepted_risk_is_kept_marked_and_does_not_fail_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "p")
    code, doc = scan_json(capsys, str(root))
    assert code == 1  # the IonQ key in .env is not covered (path scope)
    by_path = {f["path"]: f for f in doc["findings"]}
    risk = by_path["src/run.py"]
    assert risk["suppressed"] and risk["suppression"]["kind"] == "exception"
    assert risk["suppression"]["id"] == "EXC-1" and risk["suppression"]["until"] == "2099-12-31"
    assert risk["suppression"]["owner"] == "ciso@example.org"
    assert not by_path[".env"]["suppressed"]
    assert doc["summary"]["accepted_risk"] == 1 and doc["summary"]["suppressed"] == 1
    (root / ".env").unlink()
    assert main(["scan", str(root), "--no-engines"]) == 0
    assert IBM_KEY not in capsys.readouterr().out


def test_every_format_shows_the_accepted_risk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "p")
    main(["scan", str(root), "--no-engines", "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    jsonschema.validate(sarif, json.loads((DATA / "schemas/sarif-schema-2.1.0.json").read_text()))
    results = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
               for r in sarif["runs"][0]["results"]}
    (suppression,) = results["src/run.py"]["suppressions"]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert suppression["justification"].startswith("exception EXC-1: fixture credentials")
    assert suppression["properties"]["exceptionId"] == "EXC-1"
    assert "suppressions" not in results[".env"]

    main(["scan", str(root), "--no-engines", "--format", "junit", "--fail-on", "low"])
    junit = ElementTree.fromstring(capsys.readouterr().out)
    sec01 = [c for c in junit.iter("testcase") if c.get("classname") == "qgov.secrets.SEC-01"]
    failed = [c for c in sec01 if c.find("failure") is not None]
    accepted = [c for c in sec01 if " src/run.py " in c.get("name", "")]
    assert failed and all("src/run.py" not in c.get("name", "") for c in failed)
    assert len(accepted) == 1 and accepted[0].find("failure") is None
    assert "accepted risk: exception EXC-1 until 2099-12-31" in (
        accepted[0].findtext("system-out") or "")

    main(["scan", str(root), "--no-engines"])
    text = capsys.readouterr().out
    assert "ACCEPTED RISK (1)" in text and "exception EXC-1 until 2099-12-31" in text
    assert "1 suppressed (1 as accepted risk)" in text


def test_a_lapsed_exception_accepts_nothing_and_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "p", REGISTER.replace("2099-12-31", "2020-01-31"))
    _, doc = scan_json(capsys, str(root))
    assert not any(f["suppressed"] for f in doc["findings"])
    (lapsed,) = [f for f in doc["findings"] if f["rule_id"] == "QG-GOV-008"]
    assert lapsed["path"] == ".qgov-exceptions.yaml" and lapsed["line"] == 7


def test_a_broken_register_is_a_scan_error_and_accepts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "p", REGISTER.replace("risk_owner:", "risk_ownr:"))
    code, doc = scan_json(capsys, str(root))
    assert code == 1 and not any(f["suppressed"] for f in doc["findings"])
    (error,) = doc["scan_errors"]
    assert error["path"] == ".qgov-exceptions.yaml" and error["line"] == 4
    assert "exceptions.0.risk_ownr" in error["message"]


def test_policy_option_applies_its_register_and_checks_the_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "repo")
    policy = write_tree(tmp_path / "org", {"policy.yaml": REGISTER + (
        "  - id: EXC-OLD\n    control: SEC-01\n    risk_owner: o\n    reason: r\n"
        "    compensating_controls: [c]\n    expires: 2020-01-01\n")}) / "policy.yaml"
    _, doc = scan_json(capsys, str(root), "--policy", str(policy))
    # (the policy also holds the provider inventory to account: QG-INV findings aside)
    assert {
        f["path"]: f["suppressed"]
        for f in doc["findings"]
        if f["rule_id"] != "QG-GOV-008" and not f["rule_id"].startswith("QG-INV-")
    } == {"src/run.py": True, ".env": False}
    (lapsed,) = [f for f in doc["findings"] if f["rule_id"] == "QG-GOV-008"]
    assert lapsed["path"] == "../org/policy.yaml" and lapsed["line"] == 14


def test_policy_config_key_is_relative_to_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "repo")
    write_tree(root, {"governance/accepted.yaml": REGISTER, ".qgov.yaml":
                      "policy: governance/accepted.yaml\n"})
    _, doc = scan_json(capsys, str(root))
    assert [f["path"] for f in doc["findings"] if f["suppressed"]] == ["src/run.py"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [("exceptions:\n  - id: E\n    control: SEC-01\n    expires: 2026-02-30\n",
      "line 4: field 'exceptions.0.expires': not a real date"),
     ("exceptions:\n  - id: E\n    contrl: SEC-01\n", "line 3: policy field 'exceptions.0.contrl'"),
     ("exceptions: yes\n", "line 1: policy field 'exceptions'")],
)
def test_an_unusable_policy_option_stops_the_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    root = small_project(tmp_path / "repo")
    policy = tmp_path / "policy.yaml"
    policy.write_text(content)
    assert main(["scan", str(root), "--no-engines", "--policy", str(policy)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("qgov: error: policy ")
    assert expected in captured.err and IONQ_KEY not in captured.err
