"""Shared fixtures: the real catalog and fake-but-real-looking secrets.

The helpers most tests use (files as discovery reads them, detectors run like the pipeline
runs them, ``qgov scan`` as JSON) are in ``tests/helpers.py``.
"""

from __future__ import annotations

import random
import string

import pytest

from scanner.catalog import Catalog


def _rand(alphabet: str, length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(length))


# Generated at import so no literal secret sits in the test sources themselves.
IBM_KEY = _rand(string.ascii_letters + string.digits + "_-", 44, 1)
LEGACY_TOKEN = _rand("0123456789abcdef", 128, 2)
AWS_KEY_ID = "AKIA" + _rand(string.ascii_uppercase + string.digits, 16, 3)
AWS_SECRET = _rand(string.ascii_letters + string.digits + "/+", 40, 4)
IONQ_KEY = _rand(string.ascii_letters + string.digits, 32, 5)
DWAVE_TOKEN = "DEV-" + _rand("0123456789abcdef", 40, 6)
STORAGE_KEY = _rand(string.ascii_letters + string.digits + "+/", 86, 7) + "=="
GENERIC = _rand(string.ascii_letters + string.digits, 32, 8)

ALL_SECRETS = [IBM_KEY, LEGACY_TOKEN, AWS_KEY_ID, AWS_SECRET, IONQ_KEY, DWAVE_TOKEN, STORAGE_KEY,
               GENERIC]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    from tests.helpers import real_catalog  # helpers import the secrets above

    return real_catalog()


@pytest.fixture(autouse=True)
def _private_result_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every test scans with an empty result cache of its own: nothing from an earlier test
    (or a detector a test replaced) is reused, and the user's cache is never touched."""
    monkeypatch.setenv("QGOV_CACHE_DIR", str(tmp_path_factory.mktemp("qgov-cache")))
