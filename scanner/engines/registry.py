"""The outside analysers a scan runs, each built with its own frozen options from the
settings (engines never see the settings object itself)."""

from __future__ import annotations

import os
from pathlib import Path

from scanner.config import Settings
from scanner.engines.bandit_engine import BanditEngine
from scanner.engines.interface import Engine
from scanner.engines.osv import VulnerabilityEngine, VulnerabilityOptions
from scanner.engines.semgrep_engine import SemgrepEngine


def vulnerability_options(settings: Settings, root: Path) -> VulnerabilityOptions:
    return VulnerabilityOptions(
        # Relative to the config file that names it, else to the scanned root.
        database=settings.resolve(settings.osv_db, root) if settings.osv_db else None,
        database_label=settings.osv_db,
        online=settings.vuln_service == "online",
        timeout=settings.vuln_timeout,
        max_age_days=settings.vuln_db_max_age,
    )


def job_budget(settings: Settings) -> int:
    """How many processes (or semgrep threads) a scan may keep busy: ``jobs``, else the
    machine's cores."""
    return settings.jobs or os.cpu_count() or 1


def build_engines(settings: Settings, root: Path) -> list[Engine]:
    engines: list[Engine] = []
    if settings.engines.bandit:
        engines.append(BanditEngine(skip_in_tests=settings.bandit_skip_in_tests))
    if settings.engines.semgrep:
        engines.append(SemgrepEngine(
            timeout=settings.semgrep_timeout, jobs=job_budget(settings),
            max_memory=settings.semgrep_max_memory,
        ))
    if settings.engines.vulnerabilities:
        engines.append(VulnerabilityEngine(vulnerability_options(settings, root)))
    return engines


def engine_rules() -> dict[str, frozenset[str]]:
    """The rule ids each engine owns, whether or not it is switched on."""
    engines = build_engines(Settings(), Path("."))
    return {engine.name: engine.rules for engine in engines}
