"""The outside analysers a scan runs, chosen by settings."""

from __future__ import annotations

from scanner.config import Settings
from scanner.engines.interface import Engine


def build_engines(settings: Settings) -> list[Engine]:
    engines: list[Engine] = []
    return engines
