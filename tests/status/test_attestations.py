"""attestations.yaml: what a person states about a control, with hashed evidence. Good files
make a control attested; lapsed, future-dated or incomplete ones do not count and say why;
a file that cannot be used is exit 2 naming the line and the field."""

from __future__ import annotations

import hashlib
import os
import textwrap
from datetime import date
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.status import attestations as module
from scanner.status.attestations import AttestationError, load_attestations
from tests.helpers import write_tree
from tests.status.helpers import scan_statuses

TODAY = date(2026, 11, 29)
GOOD = """\
attestations:
  - control: IAM-02
    statement: Every person reaches the quantum consoles through the IdP with MFA.
    owner: identity-lead@example.org
    date: 2026-10-14
    evidence: [evidence/idp.md]
    next_review: 2099-10-14
"""


def attested_tree(root: Path, text: str = GOOD, evidence: bool = True) -> Path:
    files = {"compliance/attestations.yaml": textwrap.dedent(text)}
    if evidence:
        files["compliance/evidence/idp.md"] = "# IdP export\nall apps behind SSO with MFA\n"
    write_tree(root, files)
    (root / "compliance/evidence").mkdir(exist_ok=True)
    return root


def project(root: Path) -> Path:
    return write_tree(root, {"src/app.py": "print('hello')\n"})


def test_a_current_attestation_with_evidence_makes_the_control_attested(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attested_tree(tmp_path)
    status, reason = scan_statuses(capsys, str(project(tmp_path / "p")), "--attestations",
                                   str(tmp_path / "compliance/attestations.yaml"))["IAM-02"]
    assert status == "attested"
    assert reason == "attested by identity-lead@example.org on 2026-10-14, next review 2099-10-14"


def test_evidence_is_hashed(tmp_path: Path) -> None:
    attested_tree(tmp_path)
    loaded = load_attestations(tmp_path / "compliance/attestations.yaml", {"IAM-02"})
    (entry,) = loaded.entries
    (evidence,) = entry.evidence
    raw = (tmp_path / "compliance/evidence/idp.md").read_bytes()
    assert evidence.sha256 == hashlib.sha256(raw).hexdigest() and evidence.size == len(raw)
    assert entry.line == 2 and entry.state(TODAY) is None
    assert loaded.sha256 == hashlib.sha256(
        (tmp_path / "compliance/attestations.yaml").read_bytes()).hexdigest()


def test_a_lapsed_attestation_is_not_assessed_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attested_tree(tmp_path, GOOD.replace("date: 2026-10-14", "date: 2024-10-14")
                  .replace("next_review: 2099-10-14", "next_review: 2025-10-14"))
    status, reason = scan_statuses(capsys, str(project(tmp_path / "p")), "--attestations",
                                   str(tmp_path / "compliance/attestations.yaml"))["IAM-02"]
    assert status == "not-assessed"
    assert "identity-lead@example.org" in reason and "lapsed" in reason and "2025-10-14" in reason


def test_a_future_dated_attestation_does_not_count(tmp_path: Path) -> None:
    attested_tree(tmp_path, GOOD.replace("date: 2026-10-14", "date: 2027-01-05"))
    (entry,) = load_attestations(tmp_path / "compliance/attestations.yaml").entries
    assert entry.state(TODAY) == "it is dated 2027-01-05, after today"


def test_a_missing_evidence_file_is_reported_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attested_tree(tmp_path, evidence=False)
    code = main(["scan", str(project(tmp_path / "p")), "--no-engines", "--attestations",
                 str(tmp_path / "compliance/attestations.yaml")])
    out = capsys.readouterr().out
    assert code == 0
    assert "note: " in out and "attestation for IAM-02: evidence evidence/idp.md: missing" in out
    status, reason = scan_statuses(capsys, str(tmp_path / "p"), "--attestations",
                                   str(tmp_path / "compliance/attestations.yaml"))["IAM-02"]
    assert status == "not-assessed" and "evidence/idp.md: missing" in reason


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_as_evidence_is_a_problem_and_never_blocks(tmp_path: Path) -> None:
    attested_tree(tmp_path, evidence=False)
    os.mkfifo(tmp_path / "compliance/evidence/idp.md")
    (entry,) = load_attestations(tmp_path / "compliance/attestations.yaml").entries
    assert entry.evidence[0].problem == "not a regular file (a folder, pipe or device)"
    assert entry.state(TODAY) is not None


def test_an_evidence_file_over_the_size_limit_is_not_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "MAX_EVIDENCE_BYTES", 1024 * 1024)
    attested_tree(tmp_path, evidence=False)
    with (tmp_path / "compliance/evidence/idp.md").open("wb") as handle:
        handle.truncate(2 * 1024 * 1024)  # sparse: costs nothing on disk
    (entry,) = load_attestations(tmp_path / "compliance/attestations.yaml").entries
    assert entry.evidence[0].sha256 is None
    assert "larger than 1 MiB" in (entry.evidence[0].problem or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(GOOD + "    reviewer: someone\n", ["line 8", "attestations.0.reviewer",
                     "Extra inputs"], id="unknown-field"),
        pytest.param(GOOD.replace("2026-10-14", "2026-02-30"), ["line 5", "not a real calendar"],
                     id="impossible-date"),
        pytest.param(GOOD.replace("next_review: 2099-10-14", "next_review: 2026-01-01"),
                     ["line 7", "attestations.0.next_review", "later than date"],
                     id="review-before-statement"),
        pytest.param(GOOD.replace("owner: identity-lead@example.org", "owner: 42"),
                     ["line 4", "attestations.0.owner", "string"], id="number-as-owner"),
        pytest.param(GOOD.replace("date: 2026-10-14", "date: 2026-10-14T09:00:00"),
                     ["line 5", "attestations.0.date", "not a date and time"], id="timestamp"),
        pytest.param(GOOD.replace("evidence: [evidence/idp.md]", "evidence: [/etc/idp.md]"),
                     ["attestations.0.evidence", "relative"], id="absolute-evidence"),
        pytest.param(GOOD.replace("evidence: [evidence/idp.md]", "evidence: []"),
                     ["attestations.0.evidence"], id="no-evidence"),
        pytest.param(GOOD.replace("IAM-02", "IAM-99"), ["line 2", "attestations.0.control", "IAM-99 is not a control"],
                     id="unknown-control"),
        pytest.param("attestations: {control: IAM-02}\n", ["attestations", "tuple"],
                     id="not-a-list"),
        pytest.param(GOOD.replace("evidence: [evidence/idp.md]", "evidence: evidence/idp.md"),
                     ["line 6", "attestations.0.evidence", "a list of file paths"],
                     id="evidence-not-a-list"),
        pytest.param("attestations:\n  - [\n", ["not valid YAML"], id="broken-yaml"),
    ],
)
def test_unusable_files_are_exit_2_naming_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: list[str]
) -> None:
    attested_tree(tmp_path, text)
    code = main(["scan", str(project(tmp_path / "p")), "--no-engines", "--attestations",
                 str(tmp_path / "compliance/attestations.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "attestations" in err and "compliance/attestations.yaml" in err
    for piece in expected:
        assert piece in err, (piece, err)


def test_the_bare_list_form_is_accepted(tmp_path: Path) -> None:
    attested_tree(tmp_path, GOOD.replace("attestations:\n", "").replace("\n  ", "\n")
                  .lstrip())
    (entry,) = load_attestations(tmp_path / "compliance/attestations.yaml").entries
    assert entry.entry.control == "IAM-02" and entry.line == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_or_huge_attestations_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    with pytest.raises(AttestationError, match="cannot read"):
        load_attestations(tmp_path / "pipe.yaml")
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(module.MAX_ATTESTATIONS_BYTES + 1)
    with pytest.raises(AttestationError, match="larger than"):
        load_attestations(huge)
    with pytest.raises(AttestationError, match="cannot read"):
        load_attestations(tmp_path / "absent.yaml")


def test_control_characters_in_statements_are_escaped(tmp_path: Path) -> None:
    text = GOOD.replace("statement: Every person reaches the quantum consoles through the IdP "
                        "with MFA.", 'statement: "Every person\\u001b[2J reaches it"')
    attested_tree(tmp_path, text)
    (entry,) = load_attestations(tmp_path / "compliance/attestations.yaml").entries
    assert "\x1b" not in entry.entry.statement and "\\x1b" in entry.entry.statement


def test_the_config_names_the_file_relative_to_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attested_tree(tmp_path / "p")
    project(tmp_path / "p")
    write_tree(tmp_path / "p", {".qgov.yaml": "attestations: compliance/attestations.yaml\n"})
    assert scan_statuses(capsys, str(tmp_path / "p"))["IAM-02"][0] == "attested"
    # --attestations wins over the config
    other = attested_tree(tmp_path / "other", GOOD.replace("IAM-02", "NBK-03"))
    found = scan_statuses(capsys, str(tmp_path / "p"), "--attestations",
                          str(other / "compliance/attestations.yaml"))
    assert found["IAM-02"][0] == "not-assessed" and found["NBK-03"][0] == "attested"
