"""Fixtures for audit-pack tests: the samples' pack data, built once per session by really
scanning samples/ (``scanner.pack.example``)."""

from __future__ import annotations

import pytest

from scanner.pack.example import sample_pack_data
from scanner.pack.model import PackData


@pytest.fixture(scope="session")
def sample_pack() -> PackData:
    return sample_pack_data()
