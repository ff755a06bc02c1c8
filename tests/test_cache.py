"""The result cache: a warm scan reports exactly what a cold one does without running a
detector or an engine on an unchanged file; a corrupt, truncated, forged or foreign entry is
dropped with a notice; nothing in it is a credential; it stays private and bounded."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import scanner.incremental
from scanner import cache as cache_module
from scanner.cache import FORMAT, ResultCache, dated_kinds, default_dir, unit_key
from scanner.cache_entry import Result
from scanner.engines.bandit_engine import BanditEngine
from scanner.engines.interface import EngineOutput
from scanner.engines.semgrep_engine import SemgrepEngine, find_semgrep
from scanner.model import FileKind, Issue
from tests.conftest import AWS_KEY_ID, AWS_SECRET, IONQ_KEY
from tests.engines.test_semgrep import LIBRARY
from tests.engines.test_semgrep import TOKEN as SEMGREP_TOKEN
from tests.helpers import REPO, scan_json, source

_POLICY = """\
roles:
  - name: pilot
    owner: lead@example.org
    purpose: pilot runs
    expires: 2031-06-30
identities:
  - subject: alice@example.org
    kind: human
    roles: [pilot]
"""


def _project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(
        "import subprocess\n"
        f'IONQ_API_KEY = "{IONQ_KEY}"\n'
        'db_password = "correct-horse-battery"\n'
        "subprocess.call('ls', shell=True)\n"
        f'DATABASE_URL = "postgres://admin:{AWS_SECRET}@db.internal/q"\n'
    )
    (root / "src" / "clean.py").write_text("x = 1\n")
    (root / "requirements.txt").write_text("-r base.txt\nqiskit==1.2.4\n")
    (root / "base.txt").write_text("numpy>=1.26\n")
    (root / "governance").mkdir()
    (root / "governance" / "policy.yaml").write_text(_POLICY)
    (root / "infra").mkdir()
    (root / "infra" / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n  bucket = "quantum-results"\n}\n'
    )
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _project(tmp_path / "project")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("QGOV_CACHE_DIR", str(folder))
    return folder


def _scan(capsys: pytest.CaptureFixture[str], *args: str, engines: bool = False) -> dict[str, Any]:
    code, doc = scan_json(capsys, *args, "--fail-on", "none", engines=engines)
    assert code == 0
    doc["summary"].pop("duration_seconds", None)
    doc["scan"].pop("scanned_at")  # the clock, not the cache
    return doc


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / f"v{FORMAT}").rglob("*.json"))


class _NoWorkers:
    def __init__(self, *_args: object, **_kwargs: object) -> None:
        raise AssertionError("a warm scan of an unchanged tree started detection workers")


def test_a_warm_scan_reports_the_same_without_detecting_again(
    project: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cold = _scan(capsys, str(project))
    assert cold["findings"] and _entries(cache_dir)
    monkeypatch.setattr(scanner.incremental, "WorkerPool", _NoWorkers)
    warm = _scan(capsys, str(project))
    assert warm == cold


def test_only_changed_files_are_detected_again(
    project: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _scan(capsys, str(project))
    (project / "src" / "clean.py").write_text(f'IONQ_API_KEY = "{IONQ_KEY}"\n')
    detected: list[list[str]] = []
    real_run = scanner.incremental.WorkerPool.run

    def run(self: Any, units: Any, *args: Any, **kwargs: Any) -> Any:
        detected.extend([s.path for s in unit] for unit in units)
        return real_run(self, units, *args, **kwargs)

    monkeypatch.setattr(scanner.incremental.WorkerPool, "run", run)
    warm = _scan(capsys, str(project))
    assert detected == [["src/clean.py"]]
    assert "src/clean.py" in {f["path"] for f in warm["findings"]}
    monkeypatch.undo()
    assert _scan(capsys, str(project), "--no-cache") == warm


def test_an_include_that_changes_invalidates_the_file_that_includes_it(
    project: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def at(doc: dict[str, Any]) -> set[tuple[str, str]]:
        return {(f["rule_id"], f["path"]) for f in doc["findings"]}

    before = at(_scan(capsys, str(project / "requirements.txt")))
    assert ("QG-DEP-002", "base.txt") in before  # numpy>=1.26, reached through -r
    (project / "base.txt").write_text("numpy==1.26.4\n")
    assert ("QG-DEP-002", "base.txt") not in at(_scan(capsys, str(project / "requirements.txt")))


def test_engine_results_are_kept_per_file(
    project: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = project.parent / "engines.yaml"
    config.write_text("engines: {semgrep: false, vulnerabilities: false}\n")
    cold = _scan(capsys, str(project), "--config", str(config), engines=True)
    assert any(f["engine"] == "bandit" for f in cold["findings"])
    ran: list[list[str]] = []
    real_run = BanditEngine.run

    def run(self: BanditEngine, sources: list[Any]) -> EngineOutput:
        ran.append([s.path for s in sources])
        return real_run(self, sources)

    monkeypatch.setattr(BanditEngine, "run", run)
    assert _scan(capsys, str(project), "--config", str(config), engines=True) == cold
    assert ran == []
    (project / "src" / "clean.py").write_text("import pickle\npickle.loads(b'')\n")
    _scan(capsys, str(project), "--config", str(config), engines=True)
    assert ran == [["src/clean.py"]]


@pytest.mark.skipif(find_semgrep() is None, reason="semgrep is not installed")
def test_semgrep_results_are_kept_and_hold_no_token(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "lib"
    (root / "qlib").mkdir(parents=True)
    (root / "qlib" / "jobs.py").write_text(LIBRARY)
    config = tmp_path / "engines.yaml"
    config.write_text("engines: {bandit: false, vulnerabilities: false}\n")
    cold = _scan(capsys, str(root), "--config", str(config), engines=True)
    # QG-SG-002 (the token literal) yields to the secret rule on the same line, but semgrep
    # reported it, with the line in its material.
    assert {"QG-SG-001", "QG-SEC-003"} <= {f["rule_id"] for f in cold["findings"]}

    def refuse(self: SemgrepEngine, sources: list[Any]) -> EngineOutput:
        raise AssertionError("semgrep ran on an unchanged file")

    monkeypatch.setattr(SemgrepEngine, "run", refuse)
    assert _scan(capsys, str(root), "--config", str(config), engines=True) == cold
    stored = b"".join(p.read_bytes() for p in _entries(cache_dir))
    assert SEMGREP_TOKEN.encode() not in stored and b"connect()" not in stored


def test_no_credential_is_kept_in_the_cache(
    project: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "notebook.ipynb").write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": 1,
                   "source": ["print(key)\n"],
                   "outputs": [{"output_type": "stream", "name": "stdout",
                                "text": [f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\n"]}]}],
    }))
    doc = _scan(capsys, str(project), engines=True)
    assert {"QG-SEC-008", "QG-NBK-002"} <= {f["rule_id"] for f in doc["findings"]}
    stored = b"".join(p.read_bytes() for p in _entries(cache_dir))
    for secret in (IONQ_KEY, AWS_SECRET, AWS_KEY_ID, "correct-horse-battery"):
        assert secret.encode() not in stored, secret
    # ... and a warm scan still shows the same masked evidence and fingerprints.
    assert _scan(capsys, str(project), engines=True) == doc


@pytest.mark.parametrize("damage", [
    "truncate", "not-json", "pickle", "other-format", "not-entries", "forged-path", "empty",
    "wrong-types", "folder",
])
def test_damaged_entries_are_discarded_with_a_notice(
    damage: str, project: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cold = _scan(capsys, str(project))
    shards = _entries(cache_dir)
    assert shards
    for shard in shards:
        raw = shard.read_bytes()
        document = json.loads(raw)
        entries = document["entries"]
        if damage == "truncate":
            shard.write_bytes(raw[: len(raw) // 2])
        elif damage == "not-json":
            shard.write_text("this is not json {")
        elif damage == "pickle":
            shard.write_bytes(pickle.dumps(document))
        elif damage == "other-format":
            document["qgov_cache"] = FORMAT + 1
            shard.write_text(json.dumps(document))
        elif damage == "not-entries":
            document["entries"] = {key: [1, 2] for key in entries}
            shard.write_text(json.dumps(document))
        elif damage == "forged-path":
            for entry in entries.values():
                entry["v"]["errors"].append(
                    {"path": "elsewhere.py", "reason": "binary", "message": "x"})
            shard.write_text(json.dumps(document))
        elif damage == "empty":
            shard.write_bytes(b"")
        elif damage == "wrong-types":
            for entry in entries.values():
                entry["v"]["issues"] = [{"rule_id": 5, "line": "one"}]
            shard.write_text(json.dumps(document))
        elif damage == "folder":
            shard.unlink()
            shard.mkdir()
    warm = _scan(capsys, str(project))
    notices = [n for n in warm.pop("notices") if "result cache" in n]
    assert "discarded" in notices[0], notices
    # A folder where a shard belongs cannot be replaced: the results are not kept.
    assert len(notices) == (2 if damage == "folder" else 1), notices
    cold.pop("notices")
    assert warm == cold
    if damage != "folder":  # the shards were written afresh
        again = _scan(capsys, str(project))
        assert not any("result cache" in n for n in again["notices"])


def test_cache_off_by_flag_config_and_elsewhere_by_flag(
    project: Path, cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _scan(capsys, str(project), "--no-cache")
    assert not cache_dir.exists()
    config = tmp_path / "off.yaml"
    config.write_text("cache: false\n")
    _scan(capsys, str(project), "--config", str(config))
    assert not cache_dir.exists()
    other = tmp_path / "other-cache"
    _scan(capsys, str(project), "--cache-dir", str(other))
    assert _entries(other) and not cache_dir.exists()


def test_a_cache_folder_others_can_write_is_not_used(
    project: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache_dir.mkdir()
    cache_dir.chmod(0o777)
    doc = _scan(capsys, str(project))
    assert any("result cache not used" in n and "write" in n for n in doc["notices"])
    assert not (cache_dir / f"v{FORMAT}").exists()
    blocked = cache_dir.parent / "blocked"
    blocked.write_text("a file where the folder should be")
    doc = _scan(capsys, str(project), "--cache-dir", str(blocked / "sub"))
    assert any("result cache not used" in n for n in doc["notices"]) and doc["findings"]


def test_dated_files_are_valid_for_their_day_only() -> None:
    from scanner.detectors.registry import shipped_detectors

    dated = dated_kinds(shipped_detectors())
    assert {FileKind.GOVERNANCE_POLICY, FileKind.VENDOR_PROFILE, FileKind.YAML} <= dated
    assert FileKind.PYTHON not in dated
    policy = source(_POLICY, "governance/policy.yaml")
    code = source("x = 1\n", "a.py")
    day, next_day = dt.date(2031, 6, 30), dt.date(2031, 7, 1)
    assert unit_key("r", [policy], day, dated) != unit_key("r", [policy], next_day, dated)
    assert unit_key("r", [code], day, dated) == unit_key("r", [code], next_day, dated)


def test_every_detector_that_takes_the_date_keeps_it_where_the_cache_looks() -> None:
    import inspect

    from scanner.detectors.registry import shipped_detectors

    for detector in shipped_detectors():
        if "today" in inspect.signature(type(detector).__init__).parameters:
            assert hasattr(detector, "today"), detector.name


def test_expired_role_is_reported_on_the_day_it_expires(
    project: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scanner.catalog import load_catalog
    from scanner.config import Settings
    from scanner.pipeline import run_scan

    cache = ResultCache.open(cache_dir)
    assert isinstance(cache, ResultCache)
    settings = Settings(engines={"bandit": False, "semgrep": False, "vulnerabilities": False})
    catalog = load_catalog()

    def expired(day: dt.date) -> bool:
        run = run_scan([project], settings, catalog, today=day, cache=cache)
        return "QG-GOV-002" in {f.rule_id for f in run.result.findings}

    assert not expired(dt.date(2031, 6, 30))
    assert expired(dt.date(2031, 7, 1))


def test_concurrent_scans_share_one_cache(project: Path, cache_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "scanner", "scan", str(project), "--format", "json",
               "--no-engines", "--fail-on", "none"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    documents = [json.loads(out) for out, _err in outputs]
    for document in documents:
        document["summary"].pop("duration_seconds")
        document["scan"].pop("scanned_at")
        assert not any("result cache" in n for n in document["notices"])
    assert documents[0] == documents[1] == documents[2]
    assert all(b"Traceback" not in err for _out, err in outputs)


def test_readers_never_see_half_a_shard(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    writer_cache = ResultCache.open(folder)
    assert isinstance(writer_cache, ResultCache)
    big = Result(issues=[Issue("QG-SEC-013", "m" * 2000, line=n, path="a.py")
                         for n in range(500)])
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            writer_cache.put("k" * 64, big)
            writer_cache.flush()

    thread = threading.Thread(target=writer)
    thread.start()
    discarded = 0
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            reader = ResultCache.open(folder)
            assert isinstance(reader, ResultCache)
            found = reader.get("k" * 64, ["a.py"])
            assert found is None or len(found.issues) == 500
            discarded += reader.discarded
    finally:
        stop.set()
        thread.join()
    assert discarded == 0 and not writer_cache.write_failed


def test_pruning_keeps_the_most_recently_used_entries_under_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ResultCache.open(tmp_path / "c", max_bytes=60_000)
    assert isinstance(cache, ResultCache)
    result = Result(issues=[Issue("QG-SEC-013", "m" * 1000, path="a.py")])
    keys = [f"{n:064x}" for n in range(100)]
    clock = iter(range(1_000_000, 1_000_100))
    monkeypatch.setattr(cache_module.time, "time", lambda: next(clock))
    for key in keys:  # the last key is the most recently used
        cache.put(key, result)
    monkeypatch.undo()
    cache.flush()
    (tmp_path / "c" / "v0").mkdir()
    (tmp_path / "c" / "v0" / "aa.json").write_text("{}")
    assert cache.prune() > 0
    fresh = ResultCache.open(tmp_path / "c")
    assert isinstance(fresh, ResultCache)
    kept = [key for key in keys if fresh.get(key, ["a.py"]) is not None]
    total = sum(p.stat().st_size for p in _entries(tmp_path / "c"))
    assert total <= 60_000 and kept and kept == keys[-len(kept):]  # the newest survive
    assert not (tmp_path / "c" / "v0").exists()


def test_the_cache_folder_follows_platform_conventions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("QGOV_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert default_dir() == tmp_path / "xdg" / "qgov"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert default_dir() == tmp_path / ".cache" / "qgov"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_dir() == tmp_path / "Library" / "Caches" / "qgov"
    monkeypatch.setenv("QGOV_CACHE_DIR", str(tmp_path / "mine"))
    assert default_dir() == tmp_path / "mine"


@pytest.fixture(autouse=True)
def _no_user_cache() -> Iterator[None]:
    home_cache = Path.home() / ".cache" / "qgov"
    existed = home_cache.exists()
    yield
    assert existed or not home_cache.exists(), "a test wrote to the user's cache"
