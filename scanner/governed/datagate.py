"""The data gate: which datasets may enter a job, decided before anything runs.

The job names its dataset's version, SHA-256 and classification. The project's workload tier
decides which classifications may enter (``tiers`` in the policy), a purpose-bound role can
narrow that further (e.g. synthetic data only), and the file's actual SHA-256 must match the
declared one. The file is hashed in a stream; its rows are never read into memory or logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.governed.canonical import sha256_file
from scanner.governed.decision import Reason, reason
from scanner.governed.policy import OrgPolicy, Project, Role
from scanner.governed.spec import DatasetRef


@dataclass
class DataGateResult:
    reasons: list[Reason] = field(default_factory=list)
    actual_sha256: str | None = None
    size_bytes: int | None = None

    def summary(self, dataset: DatasetRef) -> dict[str, Any]:
        return {
            "name": dataset.name,
            "version": dataset.version,
            "classification": dataset.classification,
            "declared_sha256": dataset.sha256,
            "actual_sha256": self.actual_sha256,
            "size_bytes": self.size_bytes,
        }


def check_dataset(
    dataset: DatasetRef,
    path: Path,
    *,
    policy: OrgPolicy,
    project: Project | None,
    role: Role | None,
) -> DataGateResult:
    result = DataGateResult()
    if project is not None:
        allowed = policy.tiers[project.tier].data_classes
        if dataset.classification not in allowed:
            result.reasons.append(
                reason(
                    "DATA_CLASS_NOT_ALLOWED_FOR_TIER",
                    f"{dataset.classification} data may not enter project {project.name} "
                    f"(tier {project.tier} allows: {', '.join(allowed)})",
                )
            )
    if role is not None and role.data_classes is not None:
        if dataset.classification not in role.data_classes:
            result.reasons.append(
                reason(
                    "DATA_CLASS_NOT_ALLOWED_FOR_ROLE",
                    f"role {role.name} is bound to {', '.join(role.data_classes)} data",
                )
            )
    try:
        result.actual_sha256, result.size_bytes = sha256_file(path)
    except OSError as exc:
        result.reasons.append(
            reason("DATASET_UNREADABLE", f"dataset file cannot be read: {exc.strerror or exc}")
        )
        return result
    if result.actual_sha256 != dataset.sha256:
        result.reasons.append(
            reason(
                "DATASET_HASH_MISMATCH",
                f"dataset {dataset.name}@{dataset.version} hashes to "
                f"{result.actual_sha256[:16]}..., not the declared {dataset.sha256[:16]}...",
            )
        )
    return result
