"""The dataset registry: the policy, not the requester, says what a dataset is."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import SpecError
from scanner.governed.ledger_queries import read_events
from tests.governed.helpers import World

COHORT = "bucket,age_band,score\nb-01,40-49,0.61\n"
SCRATCH = "id,x\ns-1,0.5\n"


@pytest.fixture
def registry(world: World) -> World:
    (world.root / "cohort.csv").write_text(COHORT)
    (world.root / "scratch.csv").write_text(SCRATCH)
    world.policy["tiers"]["internal-pilot"] = {"data_classes": ["synthetic", "masked"]}
    world.policy["projects"].append(
        {
            "name": "pilot",
            "owner": "budget@tests.invalid",
            "tier": "internal-pilot",
            "environments": ["dev", "test"],
            "quota": {"shots": 100000},
        }
    )
    world.policy["datasets"].append(
        {
            "id": "cohort",
            "version": "2026.10",
            "sha256": sha256_hex(COHORT),
            "classification": "regulated",
            "owner": "risk-owner@tests.invalid",
            "projects": ["pilot"],
            "tiers": ["regulated-pilot"],
        }
    )
    return world


COHORT_REF = {"path": "../cohort.csv", "sha256": sha256_hex(COHORT)}
SCRATCH_REF = {"name": "scratch", "path": "../scratch.csv", "sha256": sha256_hex(SCRATCH)}


def codes(world: World, **overrides: Any) -> list[str]:
    outcome = world.run(**overrides)
    assert outcome.status == "refused", outcome.decision.codes
    return outcome.decision.codes


def test_a_regulated_dataset_declared_synthetic_is_refused(registry: World) -> None:
    # The reported attack: the requester's own label let regulated rows into a dev project.
    found = codes(
        registry,
        dataset={**COHORT_REF, "name": "cohort", "version": "2026.10", "classification": "synthetic"},
    )
    assert {"DATASET_CLASSIFICATION_MISMATCH", "DATA_CLASS_NOT_ALLOWED_FOR_TIER"} <= set(found)
    assert "DATASET_NOT_ALLOWED" in found  # released to project 'pilot' only


def test_the_file_hash_decides_whatever_the_name(registry: World) -> None:
    found = codes(registry, dataset={**COHORT_REF, "classification": "synthetic"})
    assert {"DATASET_REGISTRY_MISMATCH", "DATA_CLASS_NOT_ALLOWED_FOR_TIER"} <= set(found)
    decision = next(e for e in read_events(registry.ledger) if e["type"] == "job.decision")
    gate = decision["data"]["data_gate"]
    assert gate["classification"] == "regulated" and gate["declared_classification"] == "synthetic"
    assert gate["registry"]["id"] == "cohort"


def test_a_registered_name_with_other_content_is_refused(registry: World) -> None:
    found = codes(registry, dataset={**SCRATCH_REF, "name": "tests-data", "version": "1"})
    assert found == ["DATASET_REGISTRY_MISMATCH"]


def test_an_unregistered_version_of_a_registered_name_is_refused(registry: World) -> None:
    assert "DATASET_NOT_REGISTERED" in codes(registry, dataset={**SCRATCH_REF, "name": "cohort"})


def test_above_exploratory_only_registered_data_enters(registry: World) -> None:
    assert codes(registry, project="pilot", dataset=SCRATCH_REF) == ["DATASET_NOT_REGISTERED"]
    assert registry.run("ok", project="pilot").status == "completed"  # the registered one
    # In an exploratory project unregistered synthetic data may still enter.
    assert registry.run("scratch", dataset=SCRATCH_REF).status == "completed"


def test_registry_releases_limit_projects_and_tiers(registry: World) -> None:
    registry.policy["datasets"][0]["projects"] = ["pilot"]
    assert "DATASET_NOT_ALLOWED" in codes(registry)
    registry.policy["datasets"][0]["projects"] = None
    registry.policy["datasets"][0]["tiers"] = ["internal-pilot"]
    assert "DATASET_NOT_ALLOWED" in codes(registry, job_name="tiers")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sha256": "xyz"}, "datasets.0.sha256"),
        ({"projects": ["nowhere"]}, "datasets.0.projects"),
        ({"tiers": ["production-critical"]}, "datasets.0.tiers"),
        ({"classification": "secret"}, "datasets.0.classification"),
        ({"id": "two words"}, "datasets.0.id"),
    ],
)
def test_registry_entries_are_validated(world: World, change: dict[str, Any], field: str) -> None:
    world.policy["datasets"][0].update(change)
    with pytest.raises(SpecError, match=f"field '{field}'"):
        world.load()


def test_duplicate_registry_entries_are_refused(world: World) -> None:
    world.policy["datasets"].append({**world.policy["datasets"][0], "version": "2"})
    with pytest.raises(SpecError, match="duplicate"):
        world.load()
