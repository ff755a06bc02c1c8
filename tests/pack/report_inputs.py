"""Inputs for the report tests beyond the shipped samples, made for real: a governed-job
ledger written by the ledger writer and then altered (so verification says TAMPERED),
self-test evidence shaped as ``qgov job selftest`` writes it, a project with hostile names,
and the ledger metrics and jobs in the shape ``qgov ledger metrics|query`` gives them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from scanner.cli.report_cmds import collect_from_args, main_args
from scanner.governed.ledger import Ledger
from scanner.pack.example import FIXED_TIME, samples_dir
from scanner.pack.model import PackData
from tests.status.helpers import selftest_report

HOSTILE_FILE = "<script>alert(1)</script>.py"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"


def tampered_ledger(folder: Path) -> Path:
    """A ledger of a dozen job decisions with one event edited after it was written.
    Needs ``XDG_CONFIG_HOME`` pointing at a scratch folder (the writer's key store)."""
    path = folder / "ledger.jsonl"
    with Ledger(path, checkpoint_every=4).session() as session:
        for n in range(12):
            session.append(
                "job.decision",
                actor={"subject": f"user{n % 3}@example.org", "kind": "human"},
                source={"channel": "tests"},
                policy={"id": "p", "version": "1", "sha256": "0" * 64},
                decision="allow" if n % 4 else "deny",
                subject={"job_id": f"job-{n}", "project": "qgov-demo"},
                data={"n": n},
            )
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = next(n for n, line in enumerate(lines)
                  if n > 4 and json.loads(line)["type"] == "job.decision")
    event = json.loads(lines[edited])
    event["actor"]["subject"] = "mallory@example.org"
    lines[edited] = json.dumps(event) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def selftest_file(folder: Path) -> Path:
    path = folder / "selftest.json"
    path.write_text(json.dumps(selftest_report()), encoding="utf-8")
    return path


def metrics(jobs: int) -> dict[str, Any]:
    """Ledger metrics as ``qgov ledger metrics --format json`` writes them."""
    return {
        "warning": "LEDGER VERIFICATION FAILED: TAMPERED (hash-mismatch); events up to seq 4 "
                   "are verified, later ones are not",
        "ledger": "ledger.jsonl",
        "verification": {"verdict": "TAMPERED"},
        "jobs": {"submitted": jobs, "allowed": jobs - 3, "refused": 3, "completed": jobs - 4,
                 "failed": 1, "not_run": 0, "success_rate": round((jobs - 4) / (jobs - 3), 4)},
        "time_to_result": {"count": jobs - 4, "median_ms": 5400, "p95_ms": 18000,
                           "max_ms": 21000},
        "denials": {"job": {"requests": 3, "by_reason": [
            {"code": "QUOTA_EXCEEDED", "count": 2, "control_ids": ["CST-01"]},
            {"code": "REGULATED_DATA_IN_DEV", "count": 1, "control_ids": ["DAT-01"]},
        ]}},
        "token_replays_refused": 0,
        "quota": {"basis": "policy", "projects": [
            {"project": "qgov-demo", "shots": 40960, "quota_shots": 100000},
        ]},
    }


def job_rows(count: int) -> tuple[dict[str, Any], ...]:
    """Jobs as ``qgov ledger query --format json`` lists them."""
    return tuple(
        {
            "job_id": f"job-{n:04d}",
            "submitted_at": f"2026-11-{1 + n % 28:02d}T10:00:00Z",
            "who": {"subject": f"user{n % 3}@example.org", "kind": "human"},
            "project": "qgov-demo",
            "backend": "aer_simulator",
            "dataset": None,
            "decision": "deny" if n % 10 == 0 else "allow",
            "status": "refused" if n % 10 == 0 else "completed",
            "time_to_result_ms": None if n % 10 == 0 else 5000 + n,
            "verified": n < 5,
        }
        for n in range(count)
    )


def evidence_pack(tmp: Path, *, jobs: int = 60) -> PackData:
    """The leaky sample with the sample policy, self-test evidence and a tampered ledger,
    the ledger section carrying metrics and ``jobs`` jobs."""
    samples = samples_dir()
    argv = [
        str(samples / "leaky-quantum-project"),
        "--out", "unused", "--no-engines",
        "--policy", str(samples / "policy" / "org-policy.yaml"),
        "--selftest", str(selftest_file(tmp)),
        "--ledger", str(tampered_ledger(tmp)),
        "--title", "Audit pack: evidence",
    ]
    data = collect_from_args(main_args(argv), FIXED_TIME).data
    assert data.ledger is not None
    ledger = replace(data.ledger, metrics=metrics(jobs), jobs=job_rows(jobs))
    return replace(data, ledger=ledger)


def hostile_pack(tmp: Path, now: dt.datetime | None = FIXED_TIME) -> PackData:
    """A repository whose folder, scanned file and attestation owner are markup. ``now``
    None: the pack's time is taken as ``qgov report`` takes it (``SOURCE_DATE_EPOCH``)."""
    project = tmp / HOSTILE_NAME
    # "</script>" holds a slash: the file is script>.py in a folder named <script>alert(1)<,
    # and its repository-relative path reads <script>alert(1)</script>.py.
    (project / HOSTILE_FILE).parent.mkdir(parents=True)
    (project / HOSTILE_FILE).write_text(
        'IONQ_API_KEY = "Z8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJq"\n', encoding="utf-8")
    evidence = tmp / "evidence.md"
    evidence.write_text("Reviewed.\n", encoding="utf-8")
    attestations = tmp / "attestations.yaml"
    attestations.write_text(
        "attestations:\n"
        "  - control: IAM-02\n"
        "    statement: \"<b onmouseover=alert(2)>bold</b> statement\"\n"
        f"    owner: \"{HOSTILE_NAME}\"\n"
        "    date: 2026-10-01\n"
        "    evidence: [evidence.md]\n"
        "    next_review: 2027-10-01\n",
        encoding="utf-8",
    )
    argv = [str(project), "--out", "unused", "--no-engines",
            "--attestations", str(attestations), "--title", f"Pack {HOSTILE_NAME}"]
    return collect_from_args(main_args(argv), now).data
