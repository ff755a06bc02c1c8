"""Adapters for outside analysers (bandit, semgrep, vulnerability databases).

Unlike detectors, an engine runs once per scan over the whole set of files it cares
about, because starting it is the expensive part. It returns findings in our model plus
scan errors and one-line notices (e.g. "semgrep not installed; skipped").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from scanner.model import FileKind, Finding, ScanError
from scanner.source import SourceFile


@dataclass
class EngineOutput:
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EngineContext:
    """What an engine may know about the scan: the root and the engine settings."""

    root: Path
    settings: dict[str, object] = field(default_factory=dict)


class Engine(ABC):
    name: ClassVar[str]
    kinds: ClassVar[frozenset[FileKind]]

    @abstractmethod
    def run(self, sources: list[SourceFile], context: EngineContext) -> EngineOutput:
        """Analyse all ``sources`` (already filtered to ``kinds``) in one invocation."""
