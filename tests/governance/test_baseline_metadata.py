"""Baseline entries with owner, reason and expiry (SDL-04): an expired entry suppresses
nothing and says so, `baseline create` keeps the metadata, `baseline check` lists what
lapsed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from tests.helpers import scan_json, small_project


def create(capsys: pytest.CaptureFixture[str], root: Path, out: Path) -> dict[str, object]:
    assert main(["baseline", "create", str(root), "-o", str(out), "--no-engines"]) == 0
    capsys.readouterr()
    return json.loads(out.read_text())


def annotate(path: Path, rule: str, **fields: str) -> None:
    document = json.loads(path.read_text())
    for entry in document["findings"]:
        if entry["rule_id"] == rule:
            entry.update(fields)
    path.write_text(json.dumps(document, indent=2))


def test_entries_carry_who_why_and_until_when(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "p")
    baseline = tmp_path / "baseline.json"
    create(capsys, root, baseline)
    annotate(baseline, "QG-SEC-003", owner="ciso@example.org", reason="revoked fixture",
             expires="2099-01-31")
    annotate(baseline, "QG-SEC-008", owner="dev@example.org", expires="2020-01-31")
    code, doc = scan_json(capsys, str(root), "--baseline", str(baseline))
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    live = by_rule["QG-SEC-003"]["suppression"]
    assert (live["kind"], live["reason"], live["owner"], live["until"]) == (
        "baseline", "revoked fixture", "ciso@example.org", "2099-01-31")
    assert not by_rule["QG-SEC-008"]["suppressed"] and code == 1
    assert doc["notices"] == [
        "baseline entry for QG-SEC-008 in .env (owner dev@example.org) expired on 2020-01-31; "
        "the finding is reported again"]


def test_create_keeps_metadata_of_entries_still_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "p")
    baseline = tmp_path / "baseline.json"
    create(capsys, root, baseline)
    annotate(baseline, "QG-SEC-003", owner="ciso@example.org", reason="r", expires="2099-01-31")
    annotate(baseline, "QG-SEC-008", owner="dev@example.org")
    (root / ".env").unlink()
    document = create(capsys, root, baseline)
    assert document["findings"] == [{
        "fingerprint": document["findings"][0]["fingerprint"],  # type: ignore[index]
        "rule_id": "QG-SEC-003", "path": "src/run.py", "owner": "ciso@example.org",
        "reason": "r", "expires": "2099-01-31"}]


def test_create_refuses_to_overwrite_a_file_that_is_not_a_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_project(tmp_path / "p")
    other = tmp_path / "notes.json"
    other.write_text('{"todo": []}')
    assert main(["baseline", "create", str(root), "-o", str(other), "--no-engines"]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert other.read_text() == '{"todo": []}'


def test_check_lists_expired_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = small_project(tmp_path / "p")
    baseline = tmp_path / "baseline.json"
    create(capsys, root, baseline)
    annotate(baseline, "QG-SEC-008", owner="dev@example.org", expires="2026-03-31")
    assert main(["baseline", "check", str(baseline), "--today", "2026-03-31"]) == 0
    assert "0 expired as of 2026-03-31, 1 without an expiry date" in capsys.readouterr().out
    assert main(["baseline", "check", str(baseline), "--today", "2026-04-01"]) == 1
    out = capsys.readouterr().out
    lines = baseline.read_text().splitlines()
    fingerprint_line = next(n for n, x in enumerate(lines) if "QG-SEC-008" in x)  # 1-based
    assert "QG-SEC-008 in .env" in out and "expired on 2026-03-31, owner dev@example.org" in out
    assert out.startswith(f"{baseline}:{fingerprint_line}:")
    assert main(["baseline", "check", str(baseline), "--today", "2026-04-01",
                 "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [e["rule_id"] for e in report["expired"]] == ["QG-SEC-008"]
    assert report["entries"] == 2 and report["without_expiry"] == 1


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("expires", "2026-02-30", "findings.0.expires: not a YYYY-MM-DD date"),
     ("expires", 20260101, "findings.0.expires: not a YYYY-MM-DD date"),
     ("owner", ["a"], "findings.0.owner: must be a string"),
     ("expiry", "2026-01-01", "findings.0.expiry: unknown field")],
)
def test_bad_metadata_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: object, expected: str
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"qgov_baseline": 1, "findings": [
        {"fingerprint": "f" * 32, "rule_id": "QG-SEC-003", "path": "a.py", field: value}]},
        indent=2))
    assert main(["baseline", "check", str(baseline)]) == 2
    err = capsys.readouterr().err
    # the line of the entry's fingerprint
    assert err.startswith(f"qgov: error: {baseline}: line 5: ") and expected in err
    root = small_project(tmp_path / "p")
    assert main(["scan", str(root), "--baseline", str(baseline), "--no-engines"]) == 2
    assert expected in capsys.readouterr().err
