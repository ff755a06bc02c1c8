"""The outside analysers a scan runs, chosen by settings."""

from __future__ import annotations

from scanner.config import Settings
from scanner.engines.bandit_engine import BanditEngine
from scanner.engines.interface import Engine
from scanner.engines.osv import VulnerabilityEngine
from scanner.engines.semgrep_engine import SemgrepEngine


def build_engines(settings: Settings) -> list[Engine]:
    engines: list[Engine] = []
    if settings.engines.bandit:
        engines.append(BanditEngine())
    if settings.engines.semgrep:
        engines.append(SemgrepEngine())
    if settings.engines.vulnerabilities:
        engines.append(VulnerabilityEngine())
    return engines
