"""What every detector is: a small object with the file kinds it reads and a ``scan``.

Detectors are pure: they get a ``SourceFile`` (already read and classified) and yield
``Finding`` objects carrying the rule id, location, masked evidence and a content hash.
Controls, domain, frameworks and default severity are added later by enrichment from
the catalog, so a detector never needs the catalog. A detector that hits malformed
content raises ``scanner.source.ParseError``; the pipeline turns it into a scan error
for that file and carries on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import ClassVar

from scanner.model import FileKind, Finding
from scanner.source import SourceFile


class Detector(ABC):
    #: Short family name shown in per-detector timings (e.g. "secrets").
    name: ClassVar[str]
    #: File kinds this detector wants; the pipeline only calls it for these.
    kinds: ClassVar[frozenset[FileKind]]

    @abstractmethod
    def scan(self, source: SourceFile) -> Iterable[Finding]:
        """Yield findings for one file."""
