"""`qgov report`: the pack's layout and content, writing it safely, and the same bytes twice."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from scanner.pack import files as pack_files
from tests.helpers import LEAKY, REPO, SAMPLES
from tests.oscal_schema import schema_errors
from tests.pack.helpers import (
    EPOCH_NOV_2026,
    TOKEN,
    pack_bytes,
    project,
    qgov,
    siblings,
)


def _report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return qgov(capsys, "report", *argv, "--no-engines")


def test_pack_layout_and_contents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_NOV_2026)
    root = project(tmp_path / "repo")
    out = tmp_path / "pack"
    code, _, err = _report(capsys, str(root), "--out", str(out), "--frameworks", "iso27001,soc2",
                           "--attestations",
                           str(SAMPLES / "governed-quantum-project/compliance/attestations.yaml"))
    assert code == 0, err
    assert "wrote the audit pack" in err and "qgov pack verify" in err
    files = pack_bytes(out)
    for name in ("report.html", "report.pdf", "findings.json", "findings.sarif", "junit.xml",
                 "control-matrix.csv", "manifest.json", "pack.json", "catalog.json",
                 "evidence/attestations/1/attestations.yaml",
                 "evidence/attestations/1/files/evidence/idp-quantum-applications.md"):
        assert name in files, name
    assert files["report.pdf"].startswith(b"%PDF-")
    findings = json.loads(files["findings.json"])
    assert {f["rule_id"] for f in findings["findings"]} >= {"QG-SEC-008", "QG-DEP-001"}
    assert findings["scan"]["scanned_at"] == "2026-11-01T12:00:00Z"
    sarif = json.loads(files["findings.sarif"])
    assert [run["automationDetails"]["id"] for run in sarif["runs"]] == ["qgov/repo/"]
    # The matrix: only the chosen frameworks; attested controls point at their evidence copy.
    rows = list(csv.DictReader(io.StringIO(files["control-matrix.csv"].decode())))
    assert {r["framework"] for r in rows} == {"iso27001", "soc2"}
    attested = [r for r in rows if r["control_status"] == "attested"]
    assert attested and all(r["evidence_files"].startswith("evidence/attestations/1/files/")
                            for r in attested)
    assert all(r["evidence_files"] in files for r in attested if " " not in r["evidence_files"])
    failing = next(r for r in rows if r["control"] == "SEC-01")
    assert (failing["control_status"], failing["evidence_files"]) == ("failing", "findings.json")
    uncovered = [r for r in rows if r["requirement_status"] == "not-covered"]
    assert uncovered and all(r["control"] == "" for r in uncovered)
    # The manifest lists every other file with its hash.
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"] for f in manifest["files"]}
    assert listed == set(files) - {"manifest.json"}
    assert manifest["inputs"][0]["kind"] == "scan-target"
    summary = json.loads(files["pack.json"])
    assert summary["exceptions"][0]["state"] == "honoured"
    # OSCAL assessment results of the same scan, valid against the official schema, at the
    # pack's time, in the manifest and in the report's list of files.
    oscal = json.loads(files["assessment-results.json"])
    assert schema_errors(oscal) == []
    results = oscal["assessment-results"]
    assert results["metadata"]["published"] == "2026-11-01T12:00:00+00:00"
    assert {f["target"]["target-id"] for f in results["results"][0]["findings"]} >= {"SEC-01"}
    assert "assessment-results.json" in listed
    assert b"<code>assessment-results.json</code>" in files["report.html"]
    assert summary["selftest"]["why_missing"].startswith("no self-test evidence was given")


def test_non_empty_out_is_refused_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "repo")
    out = tmp_path / "pack"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    code, _, err = _report(capsys, str(root), "--out", str(out))
    assert code == 2
    assert "is not empty; pass --force" in err
    assert (out / "notes.txt").read_text() == "mine\n"
    code, _, err = _report(capsys, str(root), "--out", str(out), "--force")
    assert code == 0, err
    assert not (out / "notes.txt").exists() and (out / "manifest.json").is_file()
    assert siblings(out) == []


def test_a_failure_half_way_leaves_no_pack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "repo")
    out = tmp_path / "pack"
    _report(capsys, str(root), "--out", str(out))
    before = pack_bytes(out)

    def broken(data: object) -> bytes:
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(pack_files, "junit", broken)
    code, _, err = _report(capsys, str(root), "--out", str(out), "--force")
    assert code == 2
    assert "the pack could not be made (RuntimeError); nothing was written" in err
    assert pack_bytes(out) == before  # the old pack is untouched
    assert siblings(out) == []
    fresh = tmp_path / "fresh"
    code, _, _ = _report(capsys, str(root), "--out", str(fresh), "--zip")
    assert code == 2
    assert not fresh.exists() and not (tmp_path / "fresh.zip").exists()
    assert siblings(tmp_path / "fresh.zip") == []


def test_evidence_that_changed_after_it_was_hashed_stops_the_pack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "repo")
    evidence = tmp_path / "att" / "evidence.md"
    evidence.parent.mkdir()
    evidence.write_text("reviewed\n")
    (tmp_path / "att" / "attestations.yaml").write_text(
        "- control: IAM-02\n  statement: SSO with MFA everywhere\n  owner: a@example.org\n"
        "  date: 2026-10-01\n  evidence: [evidence.md]\n  next_review: 2027-10-01\n")
    from scanner.pack import write

    real_fill = write._fill

    def swap_then_fill(folder: Path, collected: object, key: object) -> object:
        evidence.write_text("rewritten after the review\n")
        return real_fill(folder, collected, key)  # type: ignore[arg-type]

    monkeypatch.setattr(write, "_fill", swap_then_fill)
    out = tmp_path / "pack"
    code, _, err = _report(capsys, str(root), "--out", str(out), "--attestations",
                           str(tmp_path / "att" / "attestations.yaml"))
    assert code == 2
    assert "changed while the pack was made" in err
    assert not out.exists() and siblings(out) == []


def test_unusable_inputs_are_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "repo")
    cases = [
        (["--frameworks", "iso27001,pci"], "unknown framework pci"),
        (["--selftest", str(tmp_path / "nope.json")], "no such file or directory"),
        (["--sign-key", str(root / "requirements.txt")], "not a PEM private key"),
    ]
    for extra, message in cases:
        code, _, err = _report(capsys, str(root), "--out", str(tmp_path / "pack"), *extra)
        assert code == 2, extra
        assert message in err and err.count("\n") == 1, err
        assert not (tmp_path / "pack").exists()


def _sample_pack(capsys: pytest.CaptureFixture[str], out: Path, *extra: str) -> None:
    code, _, err = _report(
        capsys, str(LEAKY), str(SAMPLES / "governed-quantum-project"), "--out", str(out),
        "--policy", str(SAMPLES / "policy/org-policy.yaml"), "--vendors", str(SAMPLES / "vendors"),
        *extra)
    assert code == 0, err


def test_same_inputs_same_pack_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_NOV_2026)
    monkeypatch.chdir(REPO)
    _sample_pack(capsys, tmp_path / "one")
    _sample_pack(capsys, tmp_path / "two")
    first, second = pack_bytes(tmp_path / "one"), pack_bytes(tmp_path / "two")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    assert "repositories/leaky-quantum-project/findings.json" in first
    # One OSCAL document per repository, beside its findings.json, none at the top.
    for name in ("leaky-quantum-project", "governed-quantum-project"):
        oscal = json.loads(first[f"repositories/{name}/assessment-results.json"])
        assert schema_errors(oscal) == []
        assert name in oscal["assessment-results"]["metadata"]["title"]
    assert "assessment-results.json" not in first
    # Nothing of the temporary folder, the machine's home or the working folder leaks in.
    for name, content in first.items():
        assert b".partial-" not in content, name
        assert str(tmp_path).encode() not in content, name
        assert str(REPO).encode() not in content, name


def test_zip_is_deterministic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_NOV_2026)
    root = project(tmp_path / "repo")
    _report(capsys, str(root), "--out", str(tmp_path / "a"), "--zip")
    _report(capsys, str(root), "--out", str(tmp_path / "b.zip"))
    one, two = (tmp_path / "a.zip").read_bytes(), (tmp_path / "b.zip").read_bytes()
    assert one == two
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        names = [i.filename for i in zf.infolist()]
        assert names == sorted(names) and "manifest.json" in names
        assert {i.date_time for i in zf.infolist()} == {(2026, 11, 1, 12, 0, 0)}
        assert {i.external_attr >> 16 for i in zf.infolist()} == {0o100644}


def _sample_secrets() -> set[str]:
    """The credential-shaped values in the leaky sample: long runs mixing capitals and digits
    (keys, tokens, passwords), and long hex strings."""
    text = "".join(p.read_text(errors="replace") for p in LEAKY.rglob("*") if p.is_file())
    found = set()
    for token in re.findall(r"[A-Za-z0-9_+/=-]{20,}", text):
        mixed = re.search(r"[A-Z]", token) and re.search(r"\d", token)
        hexed = re.fullmatch(r"[0-9a-f]{32,}", token)
        resource = token.startswith("/") or "device/" in token  # Azure ids, Braket ARNs
        if (mixed or hexed) and not resource:
            found.add(token)
    return found


def test_no_secret_from_the_leaky_sample_in_any_pack_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = _sample_secrets()
    assert any(s.startswith("AKIA") for s in secrets) and len(secrets) >= 5
    out = tmp_path / "pack"
    code, _, err = _report(capsys, str(LEAKY), "--out", str(out))
    assert code == 0, err
    files = pack_bytes(out)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True,
                              check=True).stdout
        assert b"Audit pack: leaky-quantum-project" in text  # the text was extracted
        files["report.pdf (text)"] = text
    leaked = [(name, s[:6]) for name, content in files.items() for s in secrets
              if s.encode() in content]
    assert leaked == []


def test_a_hostile_file_name_cannot_inject_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    # A POSIX name cannot hold "/": a folder "<script>alert(1)<" and in it "script>.py", which
    # reports show as the path "<script>alert(1)</script>.py".
    (root / "<script>alert(1)<").mkdir(parents=True)
    (root / "<script>alert(1)<" / "script>.py").write_text(f'IONQ_API_KEY = "{TOKEN}"\n')
    out = tmp_path / "pack"
    code, _, err = _report(capsys, str(root), "--out", str(out))
    assert code == 0, err
    html = (out / "report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.py" in html
    assert "<script" not in html.lower()
    assert TOKEN not in html


def test_a_pack_written_inside_the_scanned_folder_is_not_scanned_next_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_NOV_2026)
    root = project(tmp_path / "repo")
    _report(capsys, str(root), "--out", str(root / "audit" / "pack"))
    first = json.loads(pack_bytes(root / "audit" / "pack")["findings.json"])
    code, _, err = _report(capsys, str(root), "--out", str(root / "audit" / "pack"), "--force")
    assert code == 0, err
    second = json.loads(pack_bytes(root / "audit" / "pack")["findings.json"])
    # The same findings; the only trace of the first pack is one excluded entry in the counts.
    assert second["findings"] == first["findings"]
    assert not any("audit/" in f["path"] for f in second["findings"])
    assert second["summary"]["files_excluded"] == first["summary"]["files_excluded"] + 1
