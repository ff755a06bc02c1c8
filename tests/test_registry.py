"""Every detector and engine a scan should run is built by the registries, and switches work."""

from __future__ import annotations

from scanner.catalog import load_catalog
from scanner.config import EngineSwitches, Settings
from scanner.detectors.registry import build_detectors
from scanner.engines.registry import build_engines
from scanner.model import FileKind


def test_every_scanned_kind_has_a_detector() -> None:
    detectors = build_detectors(Settings(), load_catalog([]))
    covered = {kind for detector in detectors for kind in detector.kinds}
    expected = {FileKind.PYTHON, FileKind.NOTEBOOK, FileKind.TERRAFORM, FileKind.CLOUDFORMATION,
                FileKind.KUBERNETES, FileKind.DOCKERFILE, FileKind.GITHUB_WORKFLOW,
                FileKind.GITLAB_CI, FileKind.REQUIREMENTS, FileKind.PYPROJECT,
                FileKind.DEPENDENCY_MANIFEST}
    assert expected <= covered
    names = [d.name for d in detectors]
    assert len(names) == len(set(names))


def test_engine_switches() -> None:
    assert [e.name for e in build_engines(Settings())] == ["bandit", "semgrep", "vulnerabilities"]
    only_bandit = Settings(engines=EngineSwitches(semgrep=False, vulnerabilities=False))
    assert [e.name for e in build_engines(only_bandit)] == ["bandit"]
    none = Settings(engines=EngineSwitches(bandit=False, semgrep=False, vulnerabilities=False))
    assert build_engines(none) == []
