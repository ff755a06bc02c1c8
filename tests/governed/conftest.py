"""Fixtures for the governed-job tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.governed.helpers import SAMPLES, World


@pytest.fixture(autouse=True)
def key_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Ledger signing keys go to the user's key store: a fresh one per test, never ~/.config."""
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config / "qgov" / "keys"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the samples' jobs, policy and datasets, as the working folder."""
    for part in ("jobs", "policy", "datasets"):
        shutil.copytree(SAMPLES / part, tmp_path / "samples" / part)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QGOV_LEDGER", raising=False)
    return tmp_path
