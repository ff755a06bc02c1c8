"""The detectors a scan runs, built from their own options (no import-time singletons).

``DetectorOptions`` is all a worker process needs from the settings, so the pool pickles
this and the user's custom regex rules, never the catalog or the whole configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from scanner.catalog import Catalog, Rule
from scanner.config import Settings
from scanner.detectors.cicd import CicdDetector
from scanner.detectors.cloudformation import CloudFormationDetector
from scanner.detectors.custom import PatternRuleDetector
from scanner.detectors.dependencies import DependenciesDetector
from scanner.detectors.dockerfile import DockerfileDetector
from scanner.detectors.governance_policy import GovernancePolicyDetector
from scanner.detectors.interface import Detector
from scanner.detectors.kubernetes import KubernetesDetector
from scanner.detectors.notebooks import NotebookDetector
from scanner.detectors.secrets import SecretsDetector
from scanner.detectors.terraform import TerraformDetector
from scanner.detectors.vendor_profiles import VendorProfileDetector
from scanner.model import Tier


@dataclass(frozen=True)
class DetectorOptions:
    regulated_paths: tuple[str, ...]
    tier: Tier
    custom_rules: tuple[Rule, ...] = ()
    # The day date-based checks (role and exception expiry) measure against; the scan pins
    # it once so every worker agrees. None: each check's own today.
    today: date | None = None
    # Run only the detectors of these names (and no fact finders); empty: every detector.
    # A git-history scan looks for credentials only.
    only: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, catalog: Catalog) -> DetectorOptions:
        return cls(
            regulated_paths=tuple(settings.regulated_paths),
            tier=settings.tier,
            custom_rules=tuple(rule for rule in catalog.rules.values() if rule.pattern),
        )


def build_detectors(options: DetectorOptions) -> list[Detector]:
    detectors: list[Detector] = [
        SecretsDetector(),
        NotebookDetector(regulated_paths=options.regulated_paths),
        CicdDetector(),
        DependenciesDetector(tier=options.tier),
        TerraformDetector(tier=options.tier),
        CloudFormationDetector(tier=options.tier),
        KubernetesDetector(),
        DockerfileDetector(),
        VendorProfileDetector(tier=options.tier, today=options.today),
        GovernancePolicyDetector(today=options.today),
    ]
    if options.custom_rules:
        detectors.append(PatternRuleDetector(list(options.custom_rules)))
    if options.only:
        detectors = [d for d in detectors if d.name in options.only]
    return detectors


def shipped_detectors() -> Sequence[Detector]:
    """One of each shipped detector with default options (for rule ownership checks)."""
    return build_detectors(DetectorOptions(regulated_paths=(), tier=Tier.INTERNAL_PILOT))
