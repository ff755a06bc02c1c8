"""What every detector is: a small object with the file kinds it reads, the rules it can
report, and a ``scan`` that yields ``Issue`` objects.

Detectors are pure: they get a ``SourceFile`` (already read, classified, with parsed views)
and never touch the file system or the catalog; ``scanner.findings`` turns their issues into
findings. A detector that hits malformed content raises ``ParseError``; the pipeline turns
it into a scan error for that file and carries on.

Rule ids are declared as data: ``rules`` are the ids a detector owns (each catalog rule has
exactly one owner, checked by a test), ``shared_rules`` ids it reports although another
detector owns them (the notebook detector reports the secret rules inside cells).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import ClassVar

from scanner.model import FileKind, Issue
from scanner.source import SourceFile


class Detector(ABC):
    #: Short family name shown in per-detector timings (e.g. "secrets").
    name: ClassVar[str]
    #: File kinds this detector wants; the pipeline only calls it for these.
    kinds: ClassVar[frozenset[FileKind]]
    #: Rule ids this detector owns (their metadata is in ``scanner/rules/*.yaml``).
    rules: ClassVar[frozenset[str]]
    #: Rule ids owned by another detector that this one reports too.
    shared_rules: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def scan(self, source: SourceFile) -> Iterable[Issue]:
        """Yield the issues of one file (their ``path`` may stay None: this file)."""

    def examines(self, source: SourceFile) -> bool:
        """Whether scanning ``source`` really checks it against this detector's rules. A
        detector that is handed a broad kind and passes over most such files says False for
        those, so its rules are not counted as having checked them (control status)."""
        return True


class ModuleDetector(Detector):
    """A detector whose unit is several files read together (a Terraform module is every
    ``.tf`` file of one folder). The pipeline groups the scanned files by ``module_of``,
    keeps each group on one worker, and calls ``scan_module`` once per group."""

    def module_of(self, source: SourceFile) -> str | None:
        """The module ``source`` belongs to; None: the file is analysed on its own."""
        return None

    def admit(self, source: SourceFile) -> None:
        """Raise ``ParseError`` for a file that cannot join its module; it is then reported
        as a scan error and its module is analysed without it."""

    @abstractmethod
    def scan_module(self, sources: Sequence[SourceFile]) -> Iterable[Issue]:
        """Yield the issues of one module; each issue's ``path`` names its file."""

    def scan(self, source: SourceFile) -> Iterable[Issue]:
        self.admit(source)
        return self.scan_module([source])
