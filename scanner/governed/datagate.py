"""The data gate: which datasets may enter a job, decided before anything runs.

The requester's word is not enough: a spec that calls a regulated dataset ``synthetic`` must
not get it into an exploratory project. So the policy's dataset registry (``datasets``) is
the authority, and the file's actual SHA-256 is the key:
- a file whose hash is registered *is* that registered dataset, whatever name, version or
  classification the spec gives it; a spec that names it otherwise is refused
  (``DATASET_REGISTRY_MISMATCH``);
- a spec naming a registered dataset version whose file hashes differently is refused
  (``DATASET_REGISTRY_MISMATCH``); an unregistered version of a registered name is refused
  (``DATASET_NOT_REGISTERED``);
- above the exploratory tier only registered datasets may enter (``DATASET_NOT_REGISTERED``);
- for a registered dataset the classification is the registry's: a different declared one is
  refused (``DATASET_CLASSIFICATION_MISMATCH``), and the tier and role checks use the
  registry's; its allowed projects and tiers apply (``DATASET_NOT_ALLOWED``);
- an unregistered dataset in an exploratory project keeps its declared classification (the
  tier admits synthetic data only) and must still match its declared hash.
The project's tier decides which classifications may enter (``tiers``), and a purpose-bound
role can narrow that further. The file is hashed in a stream (regular files only, size-capped;
see :mod:`.files`); its rows are never read into memory or logs here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.fs import FileRefused
from scanner.governed.decision import Reason, reason
from scanner.governed.errors import SpecError
from scanner.governed.files import hash_file
from scanner.governed.policy import OrgPolicy
from scanner.governed.policy_sections import DatasetEntry, Project, Role
from scanner.governed.scrub import opaque_version, safe_text
from scanner.governed.spec import DatasetRef
from scanner.model import Tier


@dataclass
class DataGateResult:
    reasons: list[Reason] = field(default_factory=list)
    actual_sha256: str | None = None
    size_bytes: int | None = None
    registered: DatasetEntry | None = None
    classification: str | None = None  # the one the gate applied

    def summary(self, dataset: DatasetRef) -> dict[str, Any]:
        entry = self.registered
        return {
            "name": dataset.name,
            "version": dataset.version,
            "classification": self.classification or dataset.classification,
            "declared_classification": dataset.classification,
            "declared_sha256": dataset.sha256,
            "actual_sha256": self.actual_sha256,
            "size_bytes": self.size_bytes,
            "registry": None
            if entry is None
            else {
                "id": safe_text(entry.id),
                "version": opaque_version(entry.version),
                "classification": entry.classification,
                "owner": entry.owner,
            },
        }


def hash_dataset(
    path: Path, field_name: str = "dataset.path"
) -> tuple[str | None, int | None, Reason | None]:
    """``(sha256, size, None)``, or a refusal reason for a missing/unreadable file. A path
    that is not a regular file, or is too large, is an input error (``SpecError``)."""
    try:
        digest, size = hash_file(path)
    except FileRefused as exc:
        if exc.reason == "unreadable":
            return None, None, reason(
                "DATASET_UNREADABLE", f"dataset file cannot be read: {exc.message}"
            )
        raise SpecError(f"field '{field_name}': {path}: {exc.message}; not read") from exc
    return digest, size, None


def _registry(
    dataset: DatasetRef, actual: str | None, policy: OrgPolicy, result: DataGateResult
) -> DatasetEntry | None:
    by_hash = next((d for d in policy.datasets if d.sha256 == actual), None)
    # The spec's name and version reach here scrubbed (see spec.scrubbed); compare alike.
    by_name = [d for d in policy.datasets if safe_text(d.id) == dataset.name]
    by_version = next((d for d in by_name if opaque_version(d.version) == dataset.version), None)
    label = f"dataset {dataset.name}@{dataset.version}"
    if by_hash is not None and by_hash is not by_version:
        result.reasons.append(
            reason(
                "DATASET_REGISTRY_MISMATCH",
                f"the file is registered as {safe_text(by_hash.id)}@"
                f"{opaque_version(by_hash.version)}, not as {label}",
            )
        )
        return by_hash
    if by_version is not None and actual is not None and by_hash is None:
        result.reasons.append(
            reason(
                "DATASET_REGISTRY_MISMATCH",
                f"the file's SHA-256 is not the one the registry holds for {label}",
            )
        )
        return by_version
    if by_version is None and by_name:
        result.reasons.append(
            reason("DATASET_NOT_REGISTERED", f"{label}: this version is not registered")
        )
    return by_hash or by_version


def check_dataset(
    dataset: DatasetRef,
    path: Path,
    *,
    policy: OrgPolicy,
    project: Project | None,
    role: Role | None,
) -> DataGateResult:
    result = DataGateResult()
    result.actual_sha256, result.size_bytes, unreadable = hash_dataset(path)
    entry = _registry(dataset, result.actual_sha256, policy, result)
    result.registered = entry
    classification = entry.classification if entry is not None else dataset.classification
    result.classification = classification
    if entry is not None and dataset.classification != entry.classification:
        result.reasons.append(
            reason(
                "DATASET_CLASSIFICATION_MISMATCH",
                f"the spec declares {dataset.classification} data; the registry classifies "
                f"{safe_text(entry.id)} as {entry.classification}",
            )
        )
    if entry is None and project is not None and project.tier != Tier.EXPLORATORY:
        if not any(r.code == "DATASET_NOT_REGISTERED" for r in result.reasons):
            result.reasons.append(
                reason(
                    "DATASET_NOT_REGISTERED",
                    f"project {project.name} is {project.tier}: only datasets in the policy's "
                    "registry may enter",
                )
            )
    if entry is not None and project is not None:
        if entry.projects is not None and project.name not in entry.projects:
            result.reasons.append(
                reason(
                    "DATASET_NOT_ALLOWED",
                    f"registered dataset {safe_text(entry.id)} is not released to project "
                    f"{project.name}",
                )
            )
        if entry.tiers is not None and project.tier not in entry.tiers:
            result.reasons.append(
                reason(
                    "DATASET_NOT_ALLOWED",
                    f"registered dataset {safe_text(entry.id)} is not released to "
                    f"{project.tier} projects",
                )
            )
    if project is not None:
        allowed = policy.tiers[project.tier].data_classes
        if classification not in allowed:
            result.reasons.append(
                reason(
                    "DATA_CLASS_NOT_ALLOWED_FOR_TIER",
                    f"{classification} data may not enter project {project.name} "
                    f"(tier {project.tier} allows: {', '.join(allowed)})",
                )
            )
    if role is not None and role.data_classes is not None:
        if classification not in role.data_classes:
            result.reasons.append(
                reason(
                    "DATA_CLASS_NOT_ALLOWED_FOR_ROLE",
                    f"role {role.name} is bound to {', '.join(role.data_classes)} data",
                )
            )
    if unreadable is not None:
        result.reasons.append(unreadable)
        return result
    if result.actual_sha256 != dataset.sha256:
        result.reasons.append(
            reason(
                "DATASET_HASH_MISMATCH",
                f"dataset {dataset.name}@{dataset.version} hashes to "
                f"{(result.actual_sha256 or '')[:16]}..., not the declared "
                f"{dataset.sha256[:16]}...",
            )
        )
    return result
