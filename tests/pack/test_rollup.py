"""One pack for several repositories: scan JSON files from their CI, rolled up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.pack.rollup import org_status
from scanner.status.statuses import ControlStatus as S
from tests.helpers import write_tree
from tests.pack.helpers import TOKEN, pack_bytes, qgov


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([S.PASSING, S.FAILING, S.ATTESTED], S.FAILING),
        ([S.PASSING, S.CONTROL_TEST_FAILED], S.CONTROL_TEST_FAILED),
        ([S.PASSING, S.NOT_ASSESSED, S.ACCEPTED_RISK], S.NOT_ASSESSED),
        ([S.PASSING, S.ACCEPTED_RISK], S.ACCEPTED_RISK),
        ([S.PASSING, S.ATTESTED, S.CONTROL_TEST_PASSED], S.ATTESTED),
        ([S.PASSING, S.NOT_APPLICABLE], S.PASSING),
        ([S.NOT_APPLICABLE, S.NOT_APPLICABLE], S.NOT_APPLICABLE),
    ],
)
def test_the_organisation_status_is_the_worst_where_the_control_applies(
    statuses: list[S], expected: S
) -> None:
    assert org_status(statuses) is expected


def test_two_ci_scans_roll_up_repository_by_repository_and_in_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = write_tree(tmp_path / "payments", {"src/app.py": "print('hello')\n"})
    leaky = write_tree(tmp_path / "research", {"src/leak.py": f'IONQ_API_KEY = "{TOKEN}"\n'})
    for root in (clean, leaky):
        code, _, err = qgov(capsys, "scan", str(root), "--no-engines", "--fail-on", "none",
                            "--json", str(tmp_path / f"{root.name}.json"))
        assert code == 0, err
    out = tmp_path / "pack"
    code, _, err = qgov(capsys, "report", str(tmp_path / "payments.json"),
                        str(tmp_path / "research.json"), "--out", str(out))
    assert code == 0, err
    files = pack_bytes(out)
    assert {"repositories/payments/findings.json", "repositories/research/findings.json",
            "findings.json"} <= set(files)
    per_repo = {name: json.loads(files[f"repositories/{name}/findings.json"])
                for name in ("payments", "research")}
    status = {name: {c["id"]: c["status"] for c in doc["controls"]}
              for name, doc in per_repo.items()}
    assert status["payments"]["SEC-01"] == "passing"
    assert status["research"]["SEC-01"] == "failing"
    total = json.loads(files["findings.json"])
    assert total["kind"] == "rollup"
    # Worst first: the repository with the failing control leads.
    assert [r["name"] for r in total["repositories"]] == ["research", "payments"]
    sec01 = next(c for c in total["controls"] if c["id"] == "SEC-01")
    assert sec01["status"] == "failing"
    assert sec01["repositories"] == {"research": "failing", "payments": "passing"}
    assert sec01["reason"] == "failing in research; passing in payments"
    assert {f["repository"] for f in total["findings"]} == {"research"}
    iso = next(m for m in total["frameworks"] if m["framework"] == "iso27001")
    rows = {r["id"]: r for r in iso["requirements"]}
    assert any(r["status"] == "failing" and {"id": "SEC-01", "status": "failing"}
               in r["controls"] for r in rows.values())
    sarif = json.loads(files["findings.sarif"])
    assert [run["automationDetails"]["id"] for run in sarif["runs"]] == [
        "qgov/research/", "qgov/payments/"]
    junit = files["junit.xml"].decode()
    assert 'name="research: SEC-01' in junit and 'name="payments: SEC-01' in junit
    summary = json.loads(files["pack.json"])
    assert [r["source"] for r in summary["repositories"]] == ["scan-json", "scan-json"]
    assert summary["inputs"][0]["kind"] == "scan-json" and len(summary["inputs"][0]["sha256"]) == 64
