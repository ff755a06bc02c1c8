"""The exceptions register applied to a scan: accepted risk stays in the report, marked.

Registers come from a ``.qgov-exceptions.yaml`` at the top of a scan root (applying to that
root's findings) and from the policy named by ``--policy`` / ``policy:`` (applying to every
root). An entry applies only while it is complete and unexpired
(``scanner.governance.register.honoured``); the governance detector reports the others.

An entry matches a finding when the finding's ``control_ids`` include the entry's
``control`` and every scope list the entry gives matches:

- ``rules``: a rule id, or a prefix ending in ``*`` (``QG-IAC-*``);
- ``paths``: gitignore-style patterns against the finding's path (relative to its root);
- ``resources``: a resource address (``aws_s3_bucket.results``) that appears in the
  finding's message or evidence as a whole word (not as part of a longer name).

An entry with no scope covers every finding of its control. The first matching entry wins
(root registers before the policy's). Matching findings get a ``Suppression`` of kind
``exception`` with the entry's id, reason, expiry and risk owner; findings already
suppressed inline are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pathspec

from scanner.formats.errors import ParseError
from scanner.governance.names import EXCEPTIONS_FILE_NAMES
from scanner.governance.register import honoured
from scanner.model import Finding, Suppression, SuppressionKind
from scanner.source import SourceFile

if TYPE_CHECKING:
    from scanner.governance.lenient import ExceptionView


@dataclass(frozen=True)
class Register:
    origin: str  # where the entries were read from, for messages
    entries: tuple[ExceptionView, ...]
    root: Path | None = None  # the scan root it covers; None: every root


@dataclass(frozen=True)
class _Entry:
    view: ExceptionView
    root: Path | None
    spec: pathspec.PathSpec | None = field(default=None, compare=False)

    def matches(self, finding: Finding) -> bool:
        entry = self.view
        if entry.control not in finding.control_ids:
            return False
        scope = entry.scope
        if scope.rules and not any(_rule_matches(r, finding.rule_id) for r in scope.rules):
            return False
        if self.spec is not None and not self.spec.match_file(finding.path):
            return False
        texts = (finding.message, finding.evidence or "")
        return not scope.resources or any(
            contains_word(text, resource) for resource in scope.resources for text in texts
        )


def _rule_matches(pattern: str, rule_id: str) -> bool:
    return rule_id.startswith(pattern[:-1]) if pattern.endswith("*") else rule_id == pattern


# Characters that continue a resource address: `bucket.results` is not in `bucket.results_old`.
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def contains_word(text: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``text`` not preceded by a name character (or a dot)
    and not followed by a name character. Plain searches, linear in ``len(text)``."""
    if not needle:
        return False
    start = text.find(needle)
    while start != -1:
        end = start + len(needle)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if before not in _WORD and before != "." and after not in _WORD:
            return True
        start = text.find(needle, start + 1)
    return False


def root_registers(sources: Iterable[SourceFile]) -> list[Register]:
    """The ``.qgov-exceptions.yaml`` at the top of each scan root. One that cannot be read
    contributes nothing (the governance detector reports it as a scan error)."""
    registers = []
    for source in sources:
        if source.path.lower() not in EXCEPTIONS_FILE_NAMES or source.root is None:
            continue
        # Here, not at the top: the policy models cost a third of a second to load and most
        # trees have no register.
        from scanner.governance.lenient import document_kind, parse_register, read_documents

        try:
            entries: list[ExceptionView] = []
            for document in read_documents(source.text):
                if document_kind(document, source.path) == "exceptions":
                    entries.extend(parse_register(document).exceptions or ())
        except (ParseError, RecursionError):
            continue
        registers.append(Register(source.path, tuple(entries), root=source.root.path))
    return registers


def apply_exceptions(
    findings: Iterable[Finding],
    registers: Sequence[Register],
    today: date,
    roots_of: Mapping[str, set[Path]],
) -> list[Finding]:
    """``findings`` with those an honoured entry covers marked as accepted risk.
    ``roots_of`` maps a finding's path to the scan roots holding a file of that path."""
    entries = [
        _Entry(view, register.root, _compile(view.scope.paths))
        for register in registers
        for view in register.entries
        if honoured(view, today)
    ]
    if not entries:
        return list(findings)
    marked = []
    for finding in findings:
        if finding.suppression is None:
            roots = roots_of.get(finding.path, set())
            entry = next(
                (e for e in entries if (e.root is None or e.root in roots) and e.matches(finding)),
                None,
            )
            if entry is not None:
                finding = finding.model_copy(update={"suppression": _suppression(entry.view)})
        marked.append(finding)
    return marked


def _compile(patterns: Sequence[str]) -> pathspec.PathSpec | None:
    # Patterns were checked when the register was read (``lenient._check_patterns``).
    return pathspec.GitIgnoreSpec.from_lines(list(patterns)) if patterns else None


def _suppression(entry: ExceptionView) -> Suppression:
    return Suppression(
        kind=SuppressionKind.EXCEPTION,
        id=entry.id,
        reason=entry.reason,
        until=entry.expires.isoformat() if entry.expires else None,
        owner=entry.risk_owner,
    )
