"""Fixtures for the governed-job tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.governed.helpers import World


@pytest.fixture(autouse=True)
def key_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Ledger signing keys go to the user's key store: a fresh one per test, never ~/.config."""
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config / "qgov" / "keys"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)
