"""OSCAL assessment results (``qgov scan --oscal FILE``): valid against the official 1.2.1
JSON schema on real scans of small trees, each qgov status read the way an assessor reads
it (failing and not-assessed controls never satisfied, not-applicable ones left out of the
reviewed controls), masked evidence only, the same bytes for the same scan, and file names
that cannot break the JSON or add markup."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from scanner.catalog import Catalog
from scanner.cli import main
from scanner.model import Coverage, ScanResult, Tier
from scanner.reports.oscal import OSCAL_NS, render_oscal
from scanner.reports.report import ScanReport
from scanner.status.statuses import ControlStatus
from tests.conftest import IBM_KEY
from tests.helpers import REPO, SAMPLES, small_project, write_tree
from tests.oscal_schema import schema_errors
from tests.status.helpers import selftest_report

EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
UUID_V5 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
SATISFIED_STATUSES = {"passing", "control-test-passed", "attested"}


def scan_oscal(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str,
               name: str = "ar.json") -> dict[str, Any]:
    """``qgov scan ARGS --oscal FILE`` (engines off): the document, checked against the
    official schema."""
    out = tmp_path / name
    code = main(["scan", *args, "--no-engines", "--fail-on", "none", "--quiet",
                 "--oscal", str(out)])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err, captured.err
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert schema_errors(doc) == []
    return doc


def result_of(doc: dict[str, Any]) -> dict[str, Any]:
    (result,) = doc["assessment-results"]["results"]
    return result  # type: ignore[no-any-return]


def by_control(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["target"]["target-id"]: f for f in result_of(doc)["findings"]}


def qgov_props(item: dict[str, Any], name: str) -> list[str]:
    return [p["value"] for p in item.get("props", []) if p["name"] == name and p["ns"] == OSCAL_NS]


def status_of(finding: dict[str, Any]) -> tuple[str, str, str]:
    """(qgov status, OSCAL state, OSCAL reason)."""
    (qgov,) = qgov_props(finding, "status")
    return qgov, finding["target"]["status"]["state"], finding["target"]["status"]["reason"]


def observations_of(doc: dict[str, Any], finding: dict[str, Any]) -> list[dict[str, Any]]:
    index = {o["uuid"]: o for o in result_of(doc)["observations"]}
    return [index[r["observation-uuid"]] for r in finding.get("related-observations", [])]


def risk_of(doc: dict[str, Any], finding: dict[str, Any]) -> dict[str, Any]:
    (link,) = finding["related-risks"]
    (risk,) = [r for r in result_of(doc)["risks"] if r["uuid"] == link["risk-uuid"]]
    return risk


def python_only(root: Path) -> Path:
    return write_tree(root, {"src/app.py": "def add(a: int, b: int) -> int:\n    return a + b\n"})


def test_the_validator_refuses_what_the_schema_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = scan_oscal(tmp_path, capsys, str(python_only(tmp_path / "p")))
    for path, bad in ((["target", "target-id"], "IAM 01"),  # not a token (\p{L} classes)
                      (["target", "status", "state"], "passed"),
                      (["title"], "two\nlines")):
        broken = copy.deepcopy(doc)
        node = result_of(broken)["findings"][0]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = bad
        assert schema_errors(broken), path
    broken = copy.deepcopy(doc)
    result_of(broken)["observations"][0]["collected"] = "2026-01-01T00:00:00"  # no timezone
    assert schema_errors(broken)


def test_a_failing_control_is_not_satisfied_with_its_finding_as_observation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = scan_oscal(tmp_path, capsys, str(small_project(tmp_path / "p")))
    finding = by_control(doc)["SEC-01"]
    assert status_of(finding) == ("failing", "not-satisfied", "fail")
    assert finding["target"]["type"] == "objective-id"
    assert finding["target"]["description"].startswith("2 active findings")
    seen = {qgov_props(o, "rule-id")[0]: o for o in observations_of(doc, finding)}
    assert set(seen) == {"QG-SEC-003", "QG-SEC-008"}
    token = seen["QG-SEC-003"]
    assert token["methods"] == ["EXAMINE"] and token["types"] == ["finding"]
    (where,) = token["relevant-evidence"]
    assert where["href"] == "src/run.py"
    assert "line 2" in where["description"] and "evidence (masked)" in where["description"]
    assert qgov_props(token, "finding-state") == ["open"]
    risk = risk_of(doc, finding)
    assert risk["status"] == "open"
    assert risk["remediations"][0]["lifecycle"] == "recommendation"
    assert IBM_KEY not in json.dumps(doc)


def test_a_control_whose_rules_ran_clean_is_satisfied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = scan_oscal(tmp_path, capsys, str(python_only(tmp_path / "p")))
    finding = by_control(doc)["SEC-01"]
    assert status_of(finding) == ("passing", "satisfied", "pass")
    (ran,) = observations_of(doc, finding)
    assert ran["types"] == ["control-objective"] and ran["methods"] == ["EXAMINE"]
    assert "QG-SEC-001" in qgov_props(ran, "rule-ran")
    assert "related-risks" not in finding


def test_not_assessed_controls_are_never_satisfied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = scan_oscal(tmp_path, capsys, str(python_only(tmp_path / "p")))
    findings = by_control(doc)
    qgov, state, reason = status_of(findings["NET-01"])  # no Terraform in the tree
    assert (qgov, state, reason) == ("not-assessed", "not-satisfied", "other")
    assert "no terraform files in the scan" in findings["NET-01"]["target"]["description"]
    assert "not a verified failure" in findings["NET-01"]["target"]["status"]["remarks"]
    assert status_of(findings["LOG-01"])[:2] == ("not-assessed", "not-satisfied")  # no --selftest
    for control_id, finding in findings.items():
        qgov, state, _ = status_of(finding)
        assert (state == "satisfied") == (qgov in SATISFIED_STATUSES), control_id


def test_a_control_that_does_not_apply_is_left_out_of_the_reviewed_controls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path / "p", {"main.tf": 'terraform {\n  required_version = ">= 1.6"\n}\n'})
    doc = scan_oscal(tmp_path, capsys, str(tmp_path / "p"))
    (selection,) = result_of(doc)["reviewed-controls"]["control-selections"]
    included = {c["control-id"] for c in selection["include-controls"]}
    excluded = {c["control-id"] for c in selection["exclude-controls"]}
    assert "ENC-02" in excluded and "ENC-02" not in included  # from regulated-pilot up
    assert "ENC-02 (applies from tier regulated-pilot" in selection["remarks"]
    assert set(by_control(doc)) == included
    assert "ENC-01" in included
    at_tier = scan_oscal(tmp_path, capsys, str(tmp_path / "p"), "--tier", "regulated-pilot")
    assert status_of(by_control(at_tier)["ENC-02"]) == ("passing", "satisfied", "pass")


def test_accepted_risk_is_not_satisfied_and_only_an_exception_approves_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_tree(tmp_path / "p", {"src/run.py": f'TOKEN = "{IBM_KEY}"\n'})
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "create", str(project), "-o", str(baseline), "--no-engines"]) == 0
    capsys.readouterr()
    doc = scan_oscal(tmp_path, capsys, str(project), "--baseline", str(baseline))
    finding = by_control(doc)["SEC-01"]
    assert status_of(finding) == ("accepted-risk", "not-satisfied", "other")
    assert risk_of(doc, finding)["status"] == "open"  # a baseline entry is no approval
    (observation,) = observations_of(doc, finding)
    assert qgov_props(observation, "suppressed-by") == ["baseline"]

    write_tree(project, {".qgov-exceptions.yaml": (
        "exceptions:\n  - id: EXC-7\n    control: SEC-01\n    risk_owner: ciso@example.org\n"
        "    reason: sandbox key, revoked\n    compensating_controls: [key revoked]\n"
        "    expires: 2099-12-31\n")})
    doc = scan_oscal(tmp_path, capsys, str(project))
    finding = by_control(doc)["SEC-01"]
    assert status_of(finding) == ("accepted-risk", "not-satisfied", "other")
    assert risk_of(doc, finding)["status"] == "deviation-approved"
    (observation,) = observations_of(doc, finding)
    assert qgov_props(observation, "finding-state") == ["suppressed"]
    assert qgov_props(observation, "suppressed-by") == ["exception"]
    assert observation["remarks"] == ("Suppressed by exception `EXC-7`, owner `ciso@example.org`, "
                                      "until `2099-12-31`: `sandbox key, revoked`")


ATTESTATIONS = """\
attestations:
  - control: IAM-02
    statement: Every person reaches the quantum consoles through the IdP with MFA.
    owner: identity-lead@example.org
    date: 2026-10-14
    evidence: [evidence/idp.md]
    next_review: 2099-10-14
  - control: NBK-03
    statement: Notebook outputs are reviewed.
    owner: data-lead@example.org
    date: 2020-01-10
    evidence: [evidence/idp.md]
    next_review: 2021-01-10
"""


def test_an_attested_control_is_satisfied_on_a_statement_with_hashed_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = "# IdP export\nall apps behind SSO with MFA\n"
    write_tree(tmp_path / "c", {"attestations.yaml": ATTESTATIONS, "evidence/idp.md": evidence})
    doc = scan_oscal(tmp_path, capsys, str(python_only(tmp_path / "p")), "--attestations",
                     str(tmp_path / "c/attestations.yaml"), "--tier", "production-critical")
    findings = by_control(doc)
    assert status_of(findings["IAM-02"]) == ("attested", "satisfied", "other")
    (said,) = observations_of(doc, findings["IAM-02"])
    assert said["methods"] == ["INTERVIEW"]
    assert qgov_props(said, "attested-by") == ["identity-lead@example.org"]
    assert said["collected"] == "2026-10-14T00:00:00+00:00"
    assert said["expires"] == "2099-10-15T00:00:00+00:00"  # it counts through its review day
    resources = {r["uuid"]: r for r in doc["assessment-results"]["back-matter"]["resources"]}
    (cited,) = said["relevant-evidence"]
    (link,) = resources[cited["href"].removeprefix("#")]["rlinks"]
    assert link["href"] == "evidence/idp.md"
    assert link["hashes"] == [{"algorithm": "SHA-256",
                               "value": hashlib.sha256(evidence.encode()).hexdigest()}]
    # A lapsed attestation is shown, says why it does not count, and satisfies nothing.
    assert status_of(findings["NBK-03"])[:2] == ("not-assessed", "not-satisfied")
    (lapsed,) = observations_of(doc, findings["NBK-03"])
    assert qgov_props(lapsed, "attestation-counts") == ["false"]
    assert "lapsed: its review was due on 2021-01-10" in lapsed["remarks"]


def test_control_tests_are_test_observations_from_the_self_test_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "selftest.json"
    report.write_text(json.dumps(selftest_report()))
    doc = scan_oscal(tmp_path, capsys, str(python_only(tmp_path / "p")), "--selftest",
                     str(report), "--tier", "production-critical")
    findings = by_control(doc)
    assert status_of(findings["LOG-01"]) == ("control-test-passed", "satisfied", "pass")
    assert status_of(findings["LOG-02"]) == ("control-test-failed", "not-satisfied", "fail")
    (check,) = observations_of(doc, findings["LOG-02"])
    assert check["methods"] == ["TEST"] and qgov_props(check, "check-result") == ["fail"]
    assert "verification missed an altered line" in check["description"]
    assert check["collected"] == "2026-11-29T10:00:00+00:00"  # when the self-test ran
    resources = {r["uuid"]: r for r in doc["assessment-results"]["back-matter"]["resources"]}
    (link,) = resources[check["relevant-evidence"][0]["href"][1:]]["rlinks"]
    assert link["href"] == "selftest.json"
    assert link["hashes"][0]["value"] == hashlib.sha256(report.read_bytes()).hexdigest()


def test_the_same_scan_gives_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    project = str(small_project(tmp_path / "p"))
    first = scan_oscal(tmp_path, capsys, project, name="one.json")
    scan_oscal(tmp_path, capsys, project, name="two.json")
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()
    document = first["assessment-results"]
    assert document["metadata"]["last-modified"] == "2026-01-01T00:00:00+00:00"
    assert result_of(first)["start"] == result_of(first)["end"] == "2026-01-01T00:00:00+00:00"
    text = (tmp_path / "one.json").read_text()
    uuids = re.findall(r'"(?:uuid|actor-uuid|observation-uuid|risk-uuid)": "([^"]+)"', text)
    defined = re.findall(r'"uuid": "([^"]+)"', text)
    assert all(UUID_V5.fullmatch(u) for u in uuids)
    assert len(defined) == len(set(defined))  # no two things share one
    # Another time is another document: nothing but the tool keeps its UUID.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 60))
    later = scan_oscal(tmp_path, capsys, project, name="three.json")
    assert later["assessment-results"]["uuid"] != document["uuid"]
    assert set(re.findall(r'"uuid": "([^"]+)"', (tmp_path / "three.json").read_text())) \
        & set(defined) == {result_of(first)["local-definitions"]["assessment-assets"]
                           ["components"][0]["uuid"]}


HOSTILE_NAMES = [
    '<script>alert("x")</script>.py',
    "quote\"s and 'single' & [link](javascript:alert(1)).py",
    "line\nbreak.py",
    "esc\x1b[31mred.py",
    " leading and trailing .py",
    "a:b#frag?q=%41.py",
    "`backticks` ``two``.py",
    "ünïcödé \u2028 sep.py",
]


def test_hostile_file_names_stay_valid_oscal_and_inert_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = dict.fromkeys(HOSTILE_NAMES, f'TOKEN = "{IBM_KEY}"\n')
    root = write_tree(tmp_path / "p", files)
    (root / os.fsdecode(b"bad-\xff-utf8.py")).write_text(f'TOKEN = "{IBM_KEY}"\n')
    doc = scan_oscal(tmp_path, capsys, str(root))
    observations = [o for o in result_of(doc)["observations"] if o.get("types") == ["finding"]]
    assert len({o["relevant-evidence"][0]["href"] for o in observations}) == len(files) + 1
    for observation in observations:
        (where,) = observation["relevant-evidence"]
        assert re.fullmatch(r"[A-Za-z0-9%/._~-]+", where["href"]), where["href"]
        for text in (observation["description"], where["description"]):
            spans = re.findall(r"(`+)(.*?)\1", text, re.S)
            assert spans and all("\n" not in body for _, body in spans), text
            outside = re.sub(r"(`+).*?\1", "", text, flags=re.S)  # not in a code span
            assert not re.search(r"[<>\[\]&]", outside), text
    hrefs = {o["relevant-evidence"][0]["href"] for o in observations}
    assert "%3Cscript%3Ealert%28%22x%22%29%3C/script%3E.py" in hrefs
    assert "a%3Ab%23frag%3Fq%3D%2541.py" in hrefs
    assert IBM_KEY not in json.dumps(doc)


def test_a_full_scan_of_the_samples_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = scan_oscal(tmp_path, capsys, str(SAMPLES))
    findings = by_control(doc)
    assert len(result_of(doc)["observations"]) >= 200
    assert {status_of(f)[0] for f in findings.values()} >= {"failing", "not-assessed", "passing"}


def test_format_oscal_prints_the_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scan", str(python_only(tmp_path)), "--no-engines", "--format", "oscal"])
    captured = capsys.readouterr()
    assert code == 0
    doc = json.loads(captured.out)
    assert schema_errors(doc) == []
    assert "controls:" in captured.err  # the summary went to stderr, stdout stays JSON


_IMPORTS = textwrap.dedent("""
    import sys
    from scanner.cli import main
    code = main(sys.argv[1:])
    print("trestle loaded:", any(m.startswith("trestle") for m in sys.modules), file=sys.stderr)
    sys.exit(code)
""")


def test_trestle_is_imported_only_for_an_oscal_report(tmp_path: Path) -> None:
    project = python_only(tmp_path / "p")

    def run(*extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _IMPORTS, "scan", str(project), "--no-engines", "-q",
             "--json", str(tmp_path / "r.json"), *extra],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert done.returncode == 0, done.stderr
        return done.stderr

    assert "trestle loaded: False" in run()
    assert "trestle loaded: True" in run("--oscal", str(tmp_path / "ar.json"))


def test_what_is_written_is_what_trestle_s_model_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from trestle.oscal.assessment_results import AssessmentResults

    write_tree(tmp_path / "c", {"attestations.yaml": ATTESTATIONS, "evidence/idp.md": "x\n"})
    doc = scan_oscal(tmp_path, capsys, str(small_project(tmp_path / "p")), "--attestations",
                     str(tmp_path / "c/attestations.yaml"))
    written = doc["assessment-results"]
    model = AssessmentResults.model_validate(written)
    assert model.model_dump(by_alias=True, exclude_none=True, mode="json") == written


def test_a_result_that_does_not_say_what_ran_is_valid_and_satisfies_nothing(
    catalog: Catalog,
) -> None:
    # A scan JSON from elsewhere without coverage (the pack's roll-up may render one).
    report = ScanReport(result=ScanResult(roots=(".",), findings=()), catalog=catalog,
                        fail_on=None)
    doc = json.loads(render_oscal(report, generated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    assert schema_errors(doc) == []
    assert {status_of(f) for f in by_control(doc).values()} == {
        ("not-assessed", "not-satisfied", "other")}
    assert qgov_props(result_of(doc), "tier") == ["unknown"]


def test_when_no_control_applies_the_selection_is_still_valid(catalog: Catalog) -> None:
    coverage = Coverage(tier=Tier.EXPLORATORY)
    report = ScanReport(result=ScanResult(roots=(".",), findings=(), coverage=coverage),
                        catalog=catalog, fail_on=None)
    status = report.compliance
    none_apply = replace(status, controls=tuple(
        replace(r, status=ControlStatus.NOT_APPLICABLE) for r in status.controls))
    doc = json.loads(render_oscal(replace(report, status=none_apply)))
    assert schema_errors(doc) == []
    (selection,) = result_of(doc)["reviewed-controls"]["control-selections"]
    assert selection["include-all"] == {} and len(selection["exclude-controls"]) == len(
        catalog.controls)
    assert "findings" not in result_of(doc)
