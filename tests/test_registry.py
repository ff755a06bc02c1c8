"""Every detector and engine a scan should run is built by the registries, and switches work."""

from __future__ import annotations

from pathlib import Path

from scanner.catalog import load_catalog
from scanner.config import EngineSwitches, Settings
from scanner.detectors.registry import DetectorOptions, build_detectors, shipped_detectors
from scanner.engines.osv import VulnerabilityEngine
from scanner.engines.registry import build_engines
from scanner.engines.semgrep_engine import SemgrepEngine
from scanner.model import FileKind, Tier


def test_every_scanned_kind_has_a_detector() -> None:
    detectors = build_detectors(DetectorOptions.from_settings(Settings(), load_catalog([])))
    covered = {kind for detector in detectors for kind in detector.kinds}
    expected = {FileKind.PYTHON, FileKind.NOTEBOOK, FileKind.TERRAFORM, FileKind.CLOUDFORMATION,
                FileKind.KUBERNETES, FileKind.DOCKERFILE, FileKind.GITHUB_WORKFLOW,
                FileKind.GITLAB_CI, FileKind.REQUIREMENTS, FileKind.PYPROJECT,
                FileKind.DEPENDENCY_MANIFEST}
    assert expected <= covered
    names = [d.name for d in detectors]
    assert len(names) == len(set(names))


def test_engine_switches(tmp_path: Path) -> None:
    names = [e.name for e in build_engines(Settings(), tmp_path)]
    assert names == ["bandit", "semgrep", "vulnerabilities"]
    only_bandit = Settings(engines=EngineSwitches(semgrep=False, vulnerabilities=False))
    assert [e.name for e in build_engines(only_bandit, tmp_path)] == ["bandit"]
    none = Settings(engines=EngineSwitches(bandit=False, semgrep=False, vulnerabilities=False))
    assert build_engines(none, tmp_path) == []


def test_engines_get_their_options_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(osv_db="db", vuln_service="online", vuln_timeout=7, semgrep_timeout=9)
    engines = {e.name: e for e in build_engines(settings, tmp_path)}
    semgrep = engines["semgrep"]
    assert isinstance(semgrep, SemgrepEngine) and semgrep.timeout == 9
    vulnerabilities = engines["vulnerabilities"]
    assert isinstance(vulnerabilities, VulnerabilityEngine)
    options = vulnerabilities.options
    assert options.database == tmp_path / "db" and options.database_label == "db"
    assert options.online and options.timeout == 7


def test_detector_options_come_from_settings_and_custom_rules() -> None:
    settings = Settings(tier=Tier.REGULATED_PILOT, regulated_paths=["hipaa/"])
    options = DetectorOptions.from_settings(settings, load_catalog([]))
    assert options == DetectorOptions(regulated_paths=("hipaa/",), tier=Tier.REGULATED_PILOT)
    assert "custom-rules" not in {d.name for d in build_detectors(options)}
    assert {d.name for d in build_detectors(options)} == {d.name for d in shipped_detectors()}
