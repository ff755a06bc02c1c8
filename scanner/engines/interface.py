"""Adapters for outside analysers (bandit, semgrep, vulnerability databases).

Unlike detectors, an engine runs once per scan over the whole set of files it cares
about, because starting it is the expensive part. Each is built from its own frozen
options (``scanner.engines.registry``) and returns issues in our vocabulary plus scan
errors and one-line notices (e.g. "semgrep not installed; skipped").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from scanner.model import FileKind, Issue, ScanError, VulnDatabase
from scanner.source import SourceFile


@dataclass
class EngineOutput:
    issues: list[Issue] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # Engine name -> why it analysed nothing although it had files (not installed, no
    # database, failed); its rules then checked nothing, and controls say so.
    not_run: dict[str, str] = field(default_factory=dict)
    # Engine name -> files it was given and analysed (filled in by the pipeline).
    ran: dict[str, int] = field(default_factory=dict)
    # The offline vulnerability database that was opened, for the scan's record.
    vuln_db: VulnDatabase | None = None


class Engine(ABC):
    name: ClassVar[str]
    kinds: ClassVar[frozenset[FileKind]]
    #: Whether the engine runs in-process and analyses each file on its own, so its files
    #: may be split over worker processes (``combine`` then joins the parts).
    shardable: ClassVar[bool] = False
    #: Rule ids this engine owns (for bandit and semgrep they come from data files).
    rules: frozenset[str]

    @abstractmethod
    def run(self, sources: list[SourceFile]) -> EngineOutput:
        """Analyse all ``sources`` (already filtered to ``kinds``) in one invocation."""

    def prepare(self) -> None:
        """Load what ``run`` needs, once, before worker processes are forked to run shards
        (they inherit it instead of each loading it again)."""
        return None

    def combine(self, parts: Sequence[EngineOutput]) -> EngineOutput:
        """One output from the outputs of runs over disjoint parts of the files; a
        shardable engine orders it so that it equals one run over all of them."""
        whole = EngineOutput()
        for part in parts:
            whole.issues.extend(part.issues)
            whole.errors.extend(part.errors)
            whole.notices.extend(n for n in part.notices if n not in whole.notices)
            whole.not_run.update(part.not_run)
            whole.vuln_db = part.vuln_db or whole.vuln_db
        return whole


def engine_failure(name: str, why: str) -> EngineOutput:
    """The output of an engine that failed: one scan error, and its rules checked nothing."""
    return EngineOutput(
        errors=[ScanError(path=".", reason="engine-error", message=f"{name} failed: {why}")],
        not_run={name: f"{name} failed"},
    )
