"""Errors of the governed path that stop it before a decision can be made.

These are input or state problems (a malformed job spec or policy, an unusable ledger), not
policy refusals: the CLI turns them into exit code 2 with the message on stderr. Refusals are
ordinary outcomes carried by :class:`scanner.governed.decision.Decision`.
"""

from __future__ import annotations

from pydantic import ValidationError


class GovernedError(Exception):
    """The governed path cannot continue; the message is safe to print (no secrets)."""


class SpecError(GovernedError):
    """A job spec, policy, approvals file or circuit is malformed."""


class FieldProblem(ValueError):
    """Raised inside model validators so the error still names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class LedgerError(GovernedError):
    """The ledger cannot be appended to or read (torn tail, corrupt tail, key mismatch)."""


def describe_validation_error(source: str, exc: ValidationError, limit: int = 8) -> str:
    """One line per problem, each naming the field by its dotted path.

    Input values are left out on purpose: a policy or spec field could hold a key or token.
    """
    lines = []
    for error in exc.errors()[:limit]:
        location = ".".join(str(part) for part in error["loc"])
        message = error["msg"]
        problem = (error.get("ctx") or {}).get("error")
        if isinstance(problem, FieldProblem):
            location = ".".join(p for p in (location, problem.field) if p)
            message = problem.message
        lines.append(f"{source}: field '{location or '(top level)'}': {message}")
    hidden = len(exc.errors()) - limit
    if hidden > 0:
        lines.append(f"{source}: ... and {hidden} more problem(s)")
    return "\n".join(lines)
