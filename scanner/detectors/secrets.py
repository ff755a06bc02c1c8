"""Hard-coded credentials in any text file (notebooks have their own detector), and, since
this detector reads every text file, personal data in committed datasets and logs
(``scanner.detectors.datasets``, QG-DAT-001)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.detectors.datasets import DATASET_RULE, dataset_issues
from scanner.detectors.interface import Detector
from scanner.detectors.secret_patterns import SECRET_RULES, SecretMatch, find_secrets
from scanner.model import FileKind, Issue
from scanner.source import SourceFile

# Saving an account writes the token to ~/.qiskit on whoever runs the code next.
CREDENTIAL_SAVE_CALL = re.compile(
    r"\b(?:QiskitRuntimeService|IBMQ|IBMProvider|QiskitService)\s*\.\s*save_account\s*\("
)

_CODE_KINDS = frozenset({FileKind.PYTHON})
# Languages where a literal is always quoted, so an unquoted right-hand side is an
# expression (`password = random_password.db.result`, `token = var.token`).
_QUOTED_LITERAL_KINDS = _CODE_KINDS | {FileKind.TERRAFORM}


def secret_issue(
    match: SecretMatch,
    *,
    line: int,
    cell: int | None = None,
    where: str = "",
    control_ids: tuple[str, ...] = (),
    rule_id: str | None = None,
) -> Issue:
    """The issue for a secret; the value itself only survives as a mask and a hash."""
    location = f" {where}" if where else ""
    return Issue(
        rule_id=rule_id or match.rule_id,
        message=f"Hard-coded {match.label}{location}{match.advice}",
        line=line,
        cell=cell,
        confidence=match.confidence,
        secret=match.value,
        control_ids=control_ids,
    )


def credential_save_calls(text: str) -> Iterator[tuple[int, str]]:
    """Offsets and call text of credential-saving calls in ``text``."""
    for match in CREDENTIAL_SAVE_CALL.finditer(text):
        yield match.start(), match.group(0)


class SecretsDetector(Detector):
    name = "secrets"
    kinds = frozenset(FileKind) - {FileKind.NOTEBOOK, FileKind.BINARY}
    rules = SECRET_RULES | {"QG-SEC-014", "QG-SEC-015", DATASET_RULE}

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        if source.kind is FileKind.DATASET:
            yield from dataset_issues(source)
        if source.kind is FileKind.QISKIT_CREDENTIALS:
            yield Issue(
                "QG-SEC-014",
                f"Provider credentials file {source.name} is committed; it holds saved account "
                "tokens",
                line=1,
                material=source.text,
            )
        quoted_only = source.kind in _QUOTED_LITERAL_KINDS
        for match in find_secrets(source.text, quoted_only=quoted_only):
            yield secret_issue(match, line=source.line_of(match.start))
        if source.kind in _CODE_KINDS:
            for offset, call in credential_save_calls(source.text):
                line = source.line_of(offset)
                yield Issue(
                    "QG-SEC-015",
                    f"`{call.rstrip('(')}` writes provider credentials to disk",
                    line=line,
                    material=source.lines[line - 1].strip(),
                )
