"""Running the registered checks in one scenario and writing ``selftest.json``."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from scanner.governed.environment import capture
from scanner.governed.selftest.registry import CHECKS, CheckResult, Failed
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


def run_selftest(out: Path) -> dict[str, Any]:
    """Run every check, write ``out/selftest.json`` with the evidence beside it, return it."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="qgov-selftest-") as secrets:
        scenario = Scenario(out, Path(secrets))
        try:
            for registered in CHECKS:
                result = CheckResult(registered.id, registered.title, list(registered.control_ids))
                try:
                    registered.run(scenario, result)
                    result.status = "pass"
                except Failed as exc:
                    result.detail = str(exc)
                except Exception as exc:  # a broken check fails itself, not the whole test
                    result.detail = f"error: {type(exc).__name__}: {exc}"
                results.append(result)
        finally:
            scenario.close()
    passed = sum(1 for c in results if c.status == "pass")
    by_control: dict[str, str] = {}
    for result in results:
        for control in result.control_ids:
            if by_control.get(control) != "fail":
                by_control[control] = result.status
    env = capture()
    report = {
        "tool": {
            "name": "qgov",
            "version": env.get("qgov") or "0.1.0",
            "component": "governed-job selftest",
        },
        "generated_at": iso_z(utc_now()),
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
            "failed": len(results) - passed,
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
