"""Errors of the governed path that stop it before a decision can be made.

These are input or state problems (a malformed job spec or policy, an unusable ledger), not
policy refusals: the CLI turns them into exit code 2 with the message on stderr. Refusals are
ordinary outcomes carried by :class:`scanner.governed.decision.Decision`.
"""

from __future__ import annotations


class GovernedError(Exception):
    """The governed path cannot continue; the message is safe to print (no secrets)."""


class SpecError(GovernedError):
    """A job spec, policy, approvals file or circuit is malformed."""


class FieldProblem(ValueError):
    """Raised inside model validators so the error still names the offending field
    (``scanner.formats.yaml.describe_validation_error`` reads ``field`` and ``message``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class LedgerError(GovernedError):
    """The ledger cannot be appended to or read (torn tail, corrupt tail, key mismatch)."""

