"""Running the registered checks in one scenario and writing ``selftest.json``."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from scanner.governed.environment import capture
from scanner.governed.selftest.registry import (
    CHECKS,
    FAIL,
    NOT_EXERCISED,
    PASS,
    CheckResult,
    Failed,
    NotApplicable,
)
from scanner.governed.selftest.scenario import Scenario
from scanner.governed.timeutil import iso_z, utc_now

# What a run writes into the evidence folder; only these are removed before the next run.
_OWN_ARTEFACTS = (
    "selftest.json",
    "policy.yaml",
    "approvals.yaml",
    "run.log",
    "siem-events.jsonl",
    "ledger.jsonl",
    "ledger.jsonl.pub",
    "ledger.jsonl.head",
    "ledger.jsonl.lock",
    "jobs",
    "datasets",
    "records",
    "exports",
    "tampered",
    "replay",
)


# A control's status from its checks': any failure fails it; one pass is enough otherwise.
_PRECEDENCE = {FAIL: 2, PASS: 1, NOT_EXERCISED: 0}


def run_selftest(out: Path, policy: Path | None = None) -> dict[str, Any]:
    """Run every check, write ``out/selftest.json`` with the evidence beside it, return it.
    With ``policy`` the checks run in a copy of that organisation's world (see :mod:`.org`);
    an unusable policy raises ``SpecError`` before anything is written."""
    from scanner.governed.selftest.org import OrgScenario, read_org_policy

    started = time.perf_counter()
    org = read_org_policy(policy) if policy is not None else None
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="qgov-selftest-") as secrets:
        folder = Path(secrets)
        scenario = Scenario(out, folder) if org is None else OrgScenario(out, folder, org)
        try:
            for registered in CHECKS:
                result = CheckResult(registered.id, registered.title, list(registered.control_ids))
                try:
                    registered.run(scenario, result)
                    result.status = PASS
                except NotApplicable as exc:
                    result.status = NOT_EXERCISED
                    result.detail = str(exc)
                except Failed as exc:
                    result.detail = str(exc)
                except Exception as exc:  # a broken check fails itself, not the whole test
                    result.detail = f"error: {type(exc).__name__}: {exc}"
                if result.not_exercised and result.status == PASS:
                    result.detail += "; not exercised: " + "; ".join(result.not_exercised)
                results.append(result)
            policy_info = scenario.policy_info()
        finally:
            scenario.close()
    passed = sum(1 for c in results if c.status == PASS)
    not_exercised = sum(1 for c in results if c.status == NOT_EXERCISED)
    by_control: dict[str, str] = {}
    for result in results:
        for control in result.control_ids:
            status = result.status
            if status == PASS and control in result.controls_not_evidenced:
                status = NOT_EXERCISED
            current = by_control.get(control, NOT_EXERCISED)
            if _PRECEDENCE[status] >= _PRECEDENCE[current]:
                by_control[control] = status
    env = capture()
    report = {
        "tool": {
            "name": "qgov",
            "version": env.get("qgov") or "0.1.0",
            "component": "governed-job selftest",
        },
        "generated_at": iso_z(utc_now()),
        "policy": policy_info,
        "environment": env,
        "evidence": {
            "ledger": "ledger.jsonl",
            "ledger_public_key": "ledger.jsonl.pub",
            "ledger_signed_head": "ledger.jsonl.head",
            "records": sorted(
                p.relative_to(out).as_posix() for p in (out / "records").glob("*.json")
            ),
            "log": "run.log",
            "policy": "policy.yaml",
            "approvals": "approvals.yaml",
            "siem_events": "siem-events.jsonl",
        },
        "checks": [c.to_json() for c in results],
        "summary": {
            "total": len(results),
            "passed": passed,
            "failed": len(results) - passed - not_exercised,
            "not_exercised": not_exercised,
            "controls": by_control,
            "duration_ms": round((time.perf_counter() - started) * 1000),
        },
    }
    (out / "selftest.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _clean(out: Path) -> None:
    for name in _OWN_ARTEFACTS:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
