"""What the status tests share: control statuses out of ``qgov scan --format json``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import scan_json


def statuses(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Control id -> (status, reason) from a JSON report."""
    return {c["id"]: (c["status"], c["reason"]) for c in doc["controls"]}


def scan_statuses(
    capsys: pytest.CaptureFixture[str], *args: str, engines: bool = False
) -> dict[str, tuple[str, str]]:
    return statuses(scan_json(capsys, *args, engines=engines)[1])


SELFTEST_CHECKS = [
    ("allowed-job-runs", ["LOG-01", "PRV-01", "IAM-01", "DAT-04"], "pass", ""),
    ("ledger-tamper-detected", ["LOG-02"], "fail", "verification missed an altered line"),
    ("siem-forwarded", ["LOG-07"], "pass", ""),
]


def selftest_report(checks: list[tuple[str, list[str], str, str]] = SELFTEST_CHECKS
                    ) -> dict[str, Any]:
    """A ``selftest.json`` shaped as ``qgov job selftest`` writes it."""
    return {
        "tool": {"name": "qgov", "version": "0.1.0", "component": "governed-job selftest"},
        "generated_at": "2026-11-29T10:00:00Z",
        "environment": {},
        "evidence": {"ledger": "ledger.jsonl"},
        "checks": [
            {"id": cid, "title": cid.replace("-", " "), "control_ids": controls,
             "status": status, "detail": detail, "evidence": []}
            for cid, controls, status, detail in checks
        ],
        "summary": {"total": len(checks)},
    }
