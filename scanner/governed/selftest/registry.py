"""The self-test's checks as data: each is a function registered with :func:`check`, which
records its id, title and the catalog controls it evidences (like a bandit plugin).

Checks run in registration order -- the order the package imports its check modules and the
order of the functions in them -- because later checks read what earlier ones left behind:
the allowed job's record, the ledger every run filled, every token minted so far.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from scanner.governed.selftest.scenario import Scenario


PASS, FAIL, NOT_EXERCISED = "pass", "fail", "not-exercised"


@dataclass
class CheckResult:
    """One check's outcome, as ``selftest.json`` reports it: ``pass``, ``fail`` or
    ``not-exercised`` (the policy has nothing for the check to exercise; ``detail`` says
    why). ``not_exercised`` names the parts of a check the policy gave nothing to work on."""

    id: str
    title: str
    control_ids: list[str]
    status: str = FAIL
    detail: str = ""
    evidence: list[str] = field(default_factory=list)
    not_exercised: list[str] = field(default_factory=list)
    # Controls this run of the check could not evidence (the part that does was skipped):
    # a pass does not count for them in the per-control summary.
    controls_not_evidenced: list[str] = field(default_factory=list)

    def skip(self, part: str, *controls: str) -> None:
        """Note a part of the check the policy gives nothing to exercise, and the controls
        only that part evidences."""
        self.not_exercised.append(part)
        self.controls_not_evidenced.extend(c for c in controls if c in self.control_ids)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "control_ids": self.control_ids,
            "status": self.status,
            "detail": self.detail,
            "evidence": self.evidence,
            "parts_not_exercised": self.not_exercised,
            "controls_not_evidenced": self.controls_not_evidenced,
        }


CheckFunction = Callable[["Scenario", CheckResult], None]


@dataclass(frozen=True)
class Check:
    """A registered check: passes when ``run`` returns, fails when it raises (not exercised
    when it raises :class:`NotApplicable`)."""

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


class NotApplicable(Exception):
    """The policy has nothing for the check to exercise; the message says what is missing."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


def applicable(condition: bool, reason: str) -> None:
    if not condition:
        raise NotApplicable(reason)


def not_applicable(reason: str) -> NoReturn:
    raise NotApplicable(reason)


def fail(message: str) -> NoReturn:
    raise Failed(message)
