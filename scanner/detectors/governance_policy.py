"""Governance policy files (QG-GOV-*): the organisation policy the governed job reads, or a
partial one in a repository, and ``.qgov-exceptions.yaml`` registers.

Discovery marks a YAML file with a top-level ``roles:``/``exceptions:`` key as a governance
policy; ``document_kind`` then tells a qgov policy from, say, an Ansible requirements file
(which also has ``roles:``) so unrelated files are neither checked nor reported as broken.
A policy is read leniently (``scanner.governance.lenient``): unknown fields, wrong types and
impossible dates are a parse error naming the field and its line; missing governance fields
are findings. The checks themselves are in ``scanner.governance.checks``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import ClassVar

from scanner.detectors.interface import Detector
from scanner.governance.names import EXCEPTIONS_FILE_NAMES, RULES
from scanner.model import FileKind, Issue
from scanner.source import SourceFile


class GovernancePolicyDetector(Detector):
    name = "governance"
    # Plain YAML too, for an exceptions register whose content discovery did not recognise
    # (a flow mapping, or no `exceptions:` key at all): the scan applies such a file, so it
    # must be checked and its problems reported like any other register.
    kinds: ClassVar[frozenset[FileKind]] = frozenset({FileKind.GOVERNANCE_POLICY, FileKind.YAML})
    rules: ClassVar[frozenset[str]] = RULES
    # What it really checks (see ``examines``), for "no such files in the scan" reasons.
    examined_kinds: ClassVar[frozenset[FileKind]] = frozenset({FileKind.GOVERNANCE_POLICY})

    def __init__(self, today: date | None = None) -> None:
        # Pinned by the scan (and by tests); None: the day the file is checked.
        self.today = today

    def examines(self, source: SourceFile) -> bool:
        return source.kind is not FileKind.YAML or source.name.lower() in EXCEPTIONS_FILE_NAMES

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        if not self.examines(source):
            return
        # Loaded on the first policy file: the models are heavy and most trees have none.
        from scanner.governance.checks import check_exceptions, check_policy
        from scanner.governance.lenient import (
            document_kind,
            parse_policy,
            parse_register,
            read_documents,
        )

        today = self.today or date.today()
        for document in read_documents(source.text):
            kind = document_kind(document, source.path)
            if kind == "exceptions":
                register = parse_register(document)
                yield from check_exceptions(document, register.exceptions, today)
            elif kind == "policy":
                yield from check_policy(document, parse_policy(document), today)
