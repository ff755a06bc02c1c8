"""Engines side by side: bandit's files split over the worker processes (shards), semgrep and
the vulnerability check on threads beside them. A scan must report exactly what a
one-job scan reports, and a shard that fails must be bandit's failure, not a hang or a
silent gap."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from scanner.engines.bandit_engine import BanditEngine
from scanner.engines.interface import EngineOutput
from scanner.engines.semgrep_engine import find_semgrep
from scanner.source import SourceFile
from tests.helpers import REPO, scan_json

MODULE = '''\
import pickle
import subprocess

import yaml

DB_PASSWORD = "module-{i}-horse-battery"


def run_{i}(cmd, doc, blob):
    subprocess.call(cmd, shell=True)
    data = yaml.load(doc)
    assert data
    return pickle.loads(blob)
'''

TEST_MODULE = '''\
import random


def test_{i}():
    assert random.random() < 2
'''


def _notebook(i: int) -> str:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "cells": [
            {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
             "source": ["import pickle\n", f"state = pickle.load(open('r{i}.pkl', 'rb'))\n"]},
            {"cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [],
             "source": ["!ls -la\n", "eval(input())\n"]},
        ],
    })


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The leaky sample (semgrep, vulnerability, secrets, IaC findings) with enough Python files and
    notebooks for bandit to be split into shards, one of them not valid Python."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "samples" / "leaky-quantum-project", root)
    shutil.copytree(REPO / "samples" / "osv-db", tmp_path / "osv-db")  # its config names it
    for i in range(24):
        (root / "lib" / f"m{i:02d}.py").parent.mkdir(exist_ok=True)
        (root / "lib" / f"m{i:02d}.py").write_text(MODULE.format(i=i))
    for i in range(6):
        (root / "tests").mkdir(exist_ok=True)
        (root / "tests" / f"test_{i}.py").write_text(TEST_MODULE.format(i=i))
        (root / "notebooks" / f"extra_{i}.ipynb").write_text(_notebook(i))
    (root / "lib" / "broken.py").write_text("def broken(:\n    pass\n")
    return root


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    doc["summary"].pop("duration_seconds")
    doc["scan"].pop("scanned_at")
    return doc


def _scan(capsys: pytest.CaptureFixture[str], root: Path, jobs: int) -> dict[str, Any]:
    _code, doc = scan_json(capsys, str(root), "--jobs", str(jobs), "--no-cache",
                           "--fail-on", "none", engines=True)
    return doc


def _recording_bandit(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """BanditEngine.run notes its process and files in ``log`` (also from forked workers,
    which inherit the patch)."""
    real_run = BanditEngine.run

    def run(self: BanditEngine, sources: list[SourceFile]) -> EngineOutput:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps([os.getpid(), len(sources)]) + "\n")
        return real_run(self, sources)

    monkeypatch.setattr(BanditEngine, "run", run)


def _runs(log: Path) -> list[list[int]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


@pytest.mark.skipif(find_semgrep() is None, reason="semgrep is not installed")
def test_two_jobs_report_exactly_what_one_job_reports(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "bandit-runs.jsonl"
    _recording_bandit(monkeypatch, log)
    one = _scan(capsys, project, jobs=1)
    [[pid, files]] = _runs(log)  # one run, in this process: the sequential path
    assert pid == os.getpid() and files >= 37
    log.unlink()
    two = _scan(capsys, project, jobs=2)
    runs = _runs(log)
    # Sharded: several runs in worker processes, over every file exactly once.
    assert len(runs) >= 2 and os.getpid() not in {pid for pid, _files in runs}
    assert sum(files for _pid, files in runs) == files

    engines = {f["engine"] for f in one["findings"]}
    assert {"bandit", "semgrep"} <= engines
    assert any(e["reason"] == "parse-error" and e["path"] == "lib/broken.py"
               for e in one["scan_errors"])
    assert json.dumps(_comparable(two), indent=1) == json.dumps(_comparable(one), indent=1)


def _failing_shard(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """bandit fails on the shard holding lib/m00.py: its worker dies, it raises, or it
    hangs."""
    real_run = BanditEngine.run

    def run(self: BanditEngine, sources: list[SourceFile]) -> EngineOutput:
        if any(s.path == "lib/m00.py" for s in sources):
            if how == "crash":
                os._exit(3)
            if how == "hang":
                time.sleep(120)
            raise RuntimeError("bandit broke on this shard")
        return real_run(self, sources)

    monkeypatch.setattr(BanditEngine, "run", run)


@pytest.mark.parametrize(("how", "message"), [
    ("crash", "bandit failed: the worker analysing "),
    ("raise", "bandit failed: RuntimeError: bandit broke on this shard"),
    ("hang", "bandit failed: analysing "),
])
def test_a_failing_shard_is_a_bandit_failure_and_the_rest_is_reported(
    how: str, message: str, project: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "engines.yaml"
    # A shard of n files may take n seconds here: the hanging one is stopped after a few.
    config.write_text("engines: {semgrep: false, vulnerabilities: false}\nfile_timeout: 1\n")
    _failing_shard(monkeypatch, how)
    code, doc = scan_json(capsys, str(project), "--config", str(config), "--jobs", "2",
                          "--no-cache", "--fail-on", "none", engines=True)
    assert code == 0
    errors = [e for e in doc["scan_errors"] if e["reason"] == "engine-error"]
    assert len(errors) == 1 and errors[0]["message"].startswith(message), errors
    bandit = next(c for c in doc["coverage"]["checks"] if c["name"] == "bandit")
    assert bandit["skipped"] == "bandit failed" and bandit["files"] == 0
    # The other shards' findings are still there; the failed shard's files are not.
    found = {f["path"] for f in doc["findings"] if f["engine"] == "bandit"}
    assert "lib/m00.py" not in found and len(found) >= 10


def test_semgrep_memory_setting_reaches_semgrep_and_is_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scanner.config import load_settings
    from scanner.engines.registry import build_engines
    from scanner.engines.semgrep_engine import SemgrepEngine

    config = tmp_path / ".qgov.yaml"
    config.write_text("semgrep_max_memory: 256\njobs: 3\n")
    settings = load_settings(config, tmp_path, {})
    semgrep = next(e for e in build_engines(settings, tmp_path) if isinstance(e, SemgrepEngine))
    command = semgrep._command("semgrep", ["tree"])  # noqa: SLF001 - the argv it runs
    assert command[command.index("--max-memory") + 1] == "256"
    assert command[command.index("--jobs") + 1] == "3"

    config.write_text("semgrep_max_memory: -1\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    assert main(["scan", str(tmp_path), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "semgrep_max_memory" in err and "Traceback" not in err
