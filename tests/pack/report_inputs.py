"""Inputs for the report tests beyond the shipped samples, made for real: a governed-job
ledger written by the ledger writer and then altered (so verification says TAMPERED),
self-test evidence shaped as ``qgov job selftest`` writes it, and a project with hostile
names.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from scanner.cli.report_cmds import collect_from_args, main_args
from scanner.governed.ledger import Ledger
from scanner.pack.example import FIXED_TIME, samples_dir
from scanner.pack.model import PackData
from tests.status.helpers import selftest_report

HOSTILE_FILE = "<script>alert(1)</script>.py"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"


def decisions_ledger(folder: Path, jobs: int = 12) -> Path:
    """A ledger of ``jobs`` job decisions (every fourth refused), by the ledger writer.
    Needs ``XDG_CONFIG_HOME`` pointing at a scratch folder (the writer's key store)."""
    path = folder / "ledger.jsonl"
    with Ledger(path, checkpoint_every=4).session() as session:
        for n in range(jobs):
            session.append(
                "job.decision",
                actor={"subject": f"user{n % 3}@example.org", "kind": "human"},
                source={"channel": "tests"},
                policy={"id": "p", "version": "1", "sha256": "0" * 64},
                decision="allow" if n % 4 else "deny",
                subject={"job_id": f"job-{n:04d}", "project": "qgov-demo"},
                data={"n": n},
            )
    return path


def tampered_ledger(folder: Path, jobs: int = 12) -> Path:
    """:func:`decisions_ledger` with one event edited after it was written."""
    path = decisions_ledger(folder, jobs)
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


def evidence_pack(tmp: Path, *, jobs: int = 60, tampered: bool = True) -> PackData:
    """The leaky sample with the sample policy, self-test evidence and a ledger of ``jobs``
    job decisions, tampered with or intact (then its metrics and jobs are in the pack)."""
    samples = samples_dir()
    argv = [
        str(samples / "leaky-quantum-project"),
        "--out", "unused", "--no-engines",
        "--policy", str(samples / "policy" / "org-policy.yaml"),
        "--selftest", str(selftest_file(tmp)),
        "--ledger", str((tampered_ledger if tampered else decisions_ledger)(tmp, jobs)),
        "--title", "Audit pack: evidence",
    ]
    return collect_from_args(main_args(argv), FIXED_TIME).data


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
