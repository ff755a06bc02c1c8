"""Supervised detection: a file that hangs, eats memory or kills its worker costs that file
(a scan error) and nothing else."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import scanner.workers
from scanner.detectors.interface import Detector
from scanner.detectors.registry import DetectorOptions
from scanner.model import FileKind, Issue, Tier
from scanner.source import SourceFile
from scanner.workers import Budget, WorkerPool
from tests.helpers import source


class _Misbehaving(Detector):
    """Hangs, allocates without end or exits, depending on the file's text."""

    name = "misbehaving"
    kinds = frozenset({FileKind.OTHER_TEXT})
    rules = frozenset({"QG-SEC-013"})

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        if "hang" in source.text:
            time.sleep(60)
        if "grow" in source.text:
            hoard = []
            while True:
                hoard.append(bytearray(64 * 1024 * 1024))
        if "die" in source.text:
            os._exit(3)
        yield Issue("QG-SEC-013", "fine", line=1, material=source.path)


OPTIONS = DetectorOptions(regulated_paths=(), tier=Tier.INTERNAL_PILOT)


@pytest.fixture
def misbehaving(monkeypatch: pytest.MonkeyPatch) -> None:
    # Forked workers inherit the patch (no engine thread runs here, so replacements may fork).
    monkeypatch.setattr(scanner.workers, "build_detectors", lambda _options: [_Misbehaving()])
    monkeypatch.setattr(WorkerPool, "REPLACEMENT_START", "fork")


def _run(texts: dict[str, str], budget: Budget, size: int = 1) -> tuple[set[str], dict]:
    units = [[source(text, path)] for path, text in texts.items()]
    with WorkerPool(size, OPTIONS, budget) as pool:
        outcome = pool.run(units)
    reported = {issue.path for issue in outcome.issues if issue.path}
    errors = {error.path: (error.reason, error.message) for error in outcome.errors}
    return reported, errors


@pytest.mark.usefixtures("misbehaving")
def test_a_hanging_file_is_stopped_and_the_rest_is_scanned() -> None:
    started = time.monotonic()
    reported, errors = _run(
        {"a.txt": "ok", "hang.txt": "hang", "b.txt": "ok", "c.txt": "ok"},
        Budget(seconds_per_file=1.0, memory_mb=1024),
    )
    assert time.monotonic() - started < 20
    assert reported == {"a.txt", "b.txt", "c.txt"}
    reason, message = errors["hang.txt"]
    assert reason == "budget-exceeded" and "1-second budget (file_timeout)" in message


@pytest.mark.usefixtures("misbehaving")
def test_a_file_that_outgrows_the_memory_budget_is_an_error() -> None:
    reported, errors = _run(
        {"grow.txt": "grow", "a.txt": "ok"}, Budget(seconds_per_file=30.0, memory_mb=256)
    )
    assert reported == {"a.txt"}
    reason, message = errors["grow.txt"]
    assert reason == "budget-exceeded" and "memory" in message


@pytest.mark.usefixtures("misbehaving")
def test_a_worker_that_dies_costs_only_its_file() -> None:
    reported, errors = _run(
        {"die.txt": "die", "a.txt": "ok", "b.txt": "ok"}, Budget(30.0, 1024), size=2
    )
    assert reported == {"a.txt", "b.txt"}
    assert errors["die.txt"][0] == "budget-exceeded"
    assert "worker analysing it stopped" in errors["die.txt"][1]


def test_file_timeout_comes_from_the_config(tmp_path: Path) -> None:
    from scanner.config import ConfigError, load_config_file

    config = tmp_path / ".qgov.yaml"
    config.write_text("file_timeout: 5\nfile_memory: 512\n")
    settings = load_config_file(config)
    assert (settings.file_timeout, settings.file_memory) == (5.0, 512)
    config.write_text("file_timeout: 0\n")
    with pytest.raises(ConfigError, match="file_timeout"):
        load_config_file(config)


def test_a_replacement_worker_is_spawned_with_the_real_detectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.conftest import IONQ_KEY

    monkeypatch.setattr(scanner.workers, "build_detectors", lambda _options: [_Misbehaving()])
    units = [[source("die", "die.txt")], [source(f'IONQ_API_KEY = "{IONQ_KEY}"\n', "k.py")]]
    with WorkerPool(1, OPTIONS, Budget(30.0, 1024)) as pool:
        outcome = pool.run(units)
    # The forked worker died on the first file; its spawned replacement knows nothing of the
    # patch and scans the second file with the shipped detectors.
    assert [(i.rule_id, i.path) for i in outcome.issues] == [("QG-SEC-008", "k.py")]
