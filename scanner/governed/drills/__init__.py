"""`qgov job drill`: tabletop incident drills played end to end against an organisation's
policy, with per-step evidence.

- ``token-leak``           the victim's used token is replayed (refused), a token leaked
  before use is revoked by its jti (refused, the revocation reason in the ledger), and the
  victim keeps working with a new token
- ``access-compromise``    a compromised identity runs and probes, is revoked (refused from
  then on, with the reason), and everything it did is listed from the ledger
- ``unauthorized-export``  an export without approval (refused, and the SIEM gets the
  denial), with a forged unsigned approval (refused), and with a real signed approval
  (allowed)

A drill runs in a copy of the policy's world (see :mod:`.world`) inside the evidence folder:
``drill.json`` (the verdict per step), ``steps/NN-<step>.json`` (what was observed) and
``steps/NN-<step>.ledger.jsonl`` (the step's ledger lines, verbatim, so their hashes still
check against ``ledger.jsonl``), the final policy copy and the ledger itself. Private keys stay
in memory or a temporary folder.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from scanner.governed.canonical import sha256_hex
from scanner.governed.drills.scenarios import DRILLS, Step, dump
from scanner.governed.drills.world import DrillWorld
from scanner.governed.errors import SpecError
from scanner.governed.files import read_file
from scanner.governed.runtime import Context
from scanner.governed.timeutil import iso_z, utc_now

__all__ = ["DRILLS", "run_drill"]

_OWN_ARTEFACTS = (
    "drill.json",
    "policy.yaml",
    "forged-approvals.yaml",
    "governed.log",
    "ledger.jsonl",
    "ledger.jsonl.pub",
    "ledger.jsonl.head",
    "ledger.jsonl.lock",
    "jobs",
    "datasets",
    "records",
    "exports",
    "steps",
)


class _World(DrillWorld):
    def __init__(self, root: Path, policy: Path, scenario: str, subject: str | None, keys: Path):
        self.keys = keys
        super().__init__(root, policy, scenario, subject)

    def context(self, **kwargs: Any) -> Context:
        # The ledger's private key stays out of the evidence folder.
        kwargs.setdefault("signing_key", self.keys / "ledger.key")
        return super().context(**kwargs)


def _excerpt(ledger: Path, step: Step) -> list[bytes]:
    """The step's ledger lines as written (job events and approval events)."""
    lines = []
    for raw in ledger.read_bytes().splitlines(keepends=True):
        try:
            subject = json.loads(raw).get("subject") or {}
        except ValueError:
            continue
        if subject.get("job_id") in step.job_ids or subject.get("approval_id") in (
            step.approval_ids
        ):
            lines.append(raw)
    return lines


def _clean(out: Path) -> None:
    for name in _OWN_ARTEFACTS:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()


def run_drill(
    name: str, policy_path: Path, out: Path, *, subject: str | None = None
) -> dict[str, Any]:
    """Play drill ``name`` against the policy at ``policy_path``; write and return the report."""
    if name not in DRILLS:
        raise SpecError(f"unknown drill {name!r}; one of {', '.join(sorted(DRILLS))}")
    policy_sha256 = sha256_hex(read_file(policy_path, max_bytes=2 * 1024**2, what="policy"))
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    with tempfile.TemporaryDirectory(prefix="qgov-drill-") as keys:
        w = _World(out, policy_path, name, subject, Path(keys))
        try:
            steps = DRILLS[name](w)
        finally:
            w.close()
    folder = out / "steps"
    folder.mkdir(exist_ok=True)
    reported = []
    for number, step in enumerate(steps, 1):
        stem = f"{number:02d}-{step.id}"
        excerpt = _excerpt(w.ledger, step)
        (folder / f"{stem}.ledger.jsonl").write_bytes(b"".join(excerpt))
        entry = {
            "id": step.id,
            "title": step.title,
            "expected": step.expected,
            "observed": step.observed,
            "status": step.status,
            "control_ids": step.controls,
            "evidence": {
                "details": f"steps/{stem}.json",
                "ledger_excerpt": f"steps/{stem}.ledger.jsonl",
                "ledger_lines": len(excerpt),
            },
        }
        (folder / f"{stem}.json").write_text(
            dump({**entry, "details": step.details}), encoding="utf-8"
        )
        reported.append(entry)
    plan = w.plan
    report = {
        "tool": {"name": "qgov", "component": "governed-job drill"},
        "drill": name,
        "generated_at": iso_z(utc_now()),
        "policy": {
            "path": str(policy_path),
            "sha256": policy_sha256,
            "id": w.org.policy.id,
            "version": w.org.policy.version,
            "copy": "policy.yaml",
            "substituted": [
                "issuer keys (a drill key generated in memory)",
                "siem target (a local collector)",
                "data_roots and a registered synthetic drill dataset",
            ],
        },
        "victim": {
            "subject": plan.subject,
            "role": plan.role,
            "project": plan.project,
            "environment": plan.environment,
            "backend": plan.backend,
            "approver": plan.approver,
        },
        "steps": reported,
        "summary": {
            "total": len(reported),
            "passed": sum(s["status"] == "pass" for s in reported),
            "failed": sum(s["status"] == "fail" for s in reported),
            "skipped": sum(s["status"] == "skipped" for s in reported),
            "duration_ms": round((time.perf_counter() - started) * 1000),
        },
        "evidence": {"ledger": "ledger.jsonl", "records": "records", "log": "governed.log"},
    }
    (out / "drill.json").write_text(dump(report), encoding="utf-8")
    return report
