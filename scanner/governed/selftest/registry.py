"""The self-test's checks as data: each is a function registered with :func:`check`, which
records its id, title and the catalog controls it evidences (like a bandit plugin).

Checks run in registration order -- the order the package imports its check modules and the
order of the functions in them -- because later checks read what earlier ones left behind:
the allowed job's record, the ledger every run filled, every token minted so far.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.governed.selftest.scenario import Scenario


@dataclass
class CheckResult:
    """One check's outcome, as ``selftest.json`` reports it."""

    id: str
    title: str
    control_ids: list[str]
    status: str = "fail"
    detail: str = ""
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "control_ids": self.control_ids,
            "status": self.status,
            "detail": self.detail,
            "evidence": self.evidence,
        }


CheckFunction = Callable[["Scenario", CheckResult], None]


@dataclass(frozen=True)
class Check:
    """A registered check: passes when ``run`` returns, fails when it raises."""

    id: str
    title: str
    control_ids: tuple[str, ...]
    run: CheckFunction


CHECKS: list[Check] = []


def check(
    check_id: str, title: str, control_ids: Sequence[str]
) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the check ``check_id`` evidencing ``control_ids``."""

    def register(function: CheckFunction) -> CheckFunction:
        if any(c.id == check_id for c in CHECKS):
            raise ValueError(f"self-test check {check_id!r} is registered twice")
        if not control_ids:
            raise ValueError(f"self-test check {check_id!r} names no control")
        CHECKS.append(Check(check_id, title, tuple(control_ids), function))
        return function

    return register


class Failed(Exception):
    """A check's expectation was not met; the message says which."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)
