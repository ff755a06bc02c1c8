"""User-defined regex rules from a custom catalog folder (``rules/*.yaml`` with ``pattern``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.catalog import Rule
from scanner.detectors.interface import Detector
from scanner.model import FileKind, Issue
from scanner.source import SourceFile


class PatternRuleDetector(Detector):
    name = "custom-rules"
    kinds = frozenset(FileKind) - {FileKind.BINARY}

    # A user's own rules: they live in their catalog folder, not in the shipped one.
    rules = frozenset[str]()

    def __init__(self, rules: list[Rule]) -> None:
        self._patterns = [
            (rule, re.compile(rule.pattern), frozenset(rule.kinds))
            for rule in rules
            if rule.pattern is not None
        ]

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        for rule, regex, kinds in self._patterns:
            if kinds and source.kind not in kinds:
                continue
            for match in regex.finditer(source.text):
                # Custom patterns may match secrets: show only a mask.
                yield Issue(
                    rule.id, rule.title, line=source.line_of(match.start()), secret=match.group(0)
                )
