"""User-defined regex rules from a custom catalog folder (``rules/*.yaml`` with ``pattern``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.catalog import Rule
from scanner.detectors.interface import Detector
from scanner.masking import mask
from scanner.model import FileKind, Finding, content_digest
from scanner.source import SourceFile


class PatternRuleDetector(Detector):
    name = "custom-rules"
    kinds = frozenset(FileKind) - {FileKind.BINARY}

    def __init__(self, rules: list[Rule]) -> None:
        self._rules = [
            (rule, re.compile(rule.pattern), frozenset(rule.kinds))
            for rule in rules
            if rule.pattern is not None
        ]

    def scan(self, source: SourceFile) -> Iterator[Finding]:
        for rule, regex, kinds in self._rules:
            if kinds and source.kind not in kinds:
                continue
            for match in regex.finditer(source.text):
                value = match.group(0)
                yield Finding(
                    rule_id=rule.id,
                    message=rule.title,
                    path=source.path,
                    line=source.line_of(match.start()),
                    # Custom patterns may match secrets: show only a mask.
                    evidence=mask(value),
                    content_hash=content_digest(value),
                )
