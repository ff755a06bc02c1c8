"""The per-framework matrix: every requirement of every framework, uncovered ones included,
with the statuses of the controls covering it rolled up worst-first."""

from __future__ import annotations

from datetime import date

import pytest

from scanner.catalog import Catalog
from scanner.model import Coverage, ScanResult, Tier
from scanner.status.controls import compute_status
from scanner.status.matrix import roll_up
from scanner.status.statuses import ControlStatus as C
from scanner.status.statuses import RequirementStatus as R


@pytest.mark.parametrize(
    ("controls", "expected"),
    [
        ([], R.NOT_COVERED),
        ([C.PASSING, C.FAILING, C.NOT_ASSESSED], R.FAILING),
        ([C.PASSING, C.CONTROL_TEST_FAILED], R.FAILING),
        ([C.PASSING, C.ACCEPTED_RISK, C.NOT_ASSESSED], R.NOT_ASSESSED),
        ([C.PASSING, C.ACCEPTED_RISK, C.ATTESTED], R.ACCEPTED_RISK),
        ([C.PASSING, C.ATTESTED], R.ATTESTED),
        ([C.PASSING, C.CONTROL_TEST_PASSED, C.NOT_APPLICABLE], R.PASSING),
        ([C.NOT_APPLICABLE, C.NOT_APPLICABLE], R.NOT_APPLICABLE),
    ],
)
def test_roll_up(controls: list[C], expected: R) -> None:
    assert roll_up(controls) is expected


def test_every_requirement_is_listed_and_uncovered_ones_say_so(catalog: Catalog) -> None:
    result = ScanResult(roots=(".",), findings=(), coverage=Coverage(tier=Tier.INTERNAL_PILOT))
    status = compute_status(result, catalog, today=date(2026, 11, 29))
    matrices = {m.key: m for m in status.frameworks}
    assert {key: len(m.requirements) for key, m in matrices.items()} == {
        key: len(fw.requirements) for key, fw in catalog.frameworks.items()}
    rows = {(key, row.id): row for key, m in matrices.items() for row in m.requirements}
    for requirement in [("gdpr", "Art. 30"), ("hipaa", "164.310(d)(2)(iv)"), ("iso27001", "A.6.1")]:
        assert rows[requirement].status is R.NOT_COVERED and rows[requirement].controls == ()
    # Nothing ran, so nothing covered is better than not assessed (or does not apply at the
    # tier: requirements only regulated-tier controls cover).
    assert {row.status for row in rows.values()} == {R.NOT_COVERED, R.NOT_ASSESSED,
                                                     R.NOT_APPLICABLE}
    assert matrices["gdpr"].counts()["not-covered"] == sum(
        1 for row in matrices["gdpr"].requirements if not row.controls)


@pytest.mark.parametrize(
    ("framework", "requirement", "control", "mapped"),
    [
        ("gdpr", "Art. 30", "LOG-01", False),  # a register of processing, not a job log
        ("hipaa", "164.310(d)(2)(iv)", "PRV-04", False),  # a copy before moving equipment
        ("iso27001", "A.5.3", "IAM-06", True),  # approver is never the requester
        ("iso27001", "A.5.2", "CST-03", False),  # a budget owner is not a security role
        ("iso27001", "A.8.6", "CST-03", True),
    ],
)
def test_reviewed_mappings(
    catalog: Catalog, framework: str, requirement: str, control: str, mapped: bool
) -> None:
    assert (requirement in catalog.frameworks_for([control]).get(framework, [])) is mapped
