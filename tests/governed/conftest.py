"""Fixtures for the governed-job tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.governed.helpers import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)
