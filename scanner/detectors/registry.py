"""The detectors a scan runs, built from settings (no import-time singletons)."""

from __future__ import annotations

from scanner.catalog import Catalog
from scanner.config import Settings
from scanner.detectors.cicd import CicdDetector
from scanner.detectors.cloudformation import CloudFormationDetector
from scanner.detectors.custom import PatternRuleDetector
from scanner.detectors.dependencies import DependenciesDetector
from scanner.detectors.dockerfile import DockerfileDetector
from scanner.detectors.interface import Detector
from scanner.detectors.kubernetes import KubernetesDetector
from scanner.detectors.notebooks import NotebookDetector
from scanner.detectors.secrets import SecretsDetector
from scanner.detectors.terraform import TerraformDetector


def build_detectors(settings: Settings, catalog: Catalog) -> list[Detector]:
    detectors: list[Detector] = [
        SecretsDetector(),
        NotebookDetector(regulated_paths=settings.regulated_paths),
        CicdDetector(),
        DependenciesDetector(tier=settings.tier),
        TerraformDetector(),
        CloudFormationDetector(),
        KubernetesDetector(),
        DockerfileDetector(),
    ]
    custom = [rule for rule in catalog.rules.values() if rule.pattern]
    if custom:
        detectors.append(PatternRuleDetector(custom))
    return detectors
