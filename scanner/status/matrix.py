"""Per framework, every requirement with the controls that cover it and a rolled-up status.

Requirements no control covers are listed as ``not-covered``, never left out. A requirement's
status is the worst of its controls' statuses, in this order:

    failing > not-assessed > accepted-risk > attested > passing

where ``control-test-failed`` counts as failing, ``control-test-passed`` as passing, and a
control that does not apply at the scan's tier is left out (all of them left out:
``not-applicable``). Not assessed ranks above accepted risk on purpose: a requirement part
of which nobody checked cannot be reported as met, even with the risk of the rest accepted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from scanner.catalog import Catalog, Framework
from scanner.status.statuses import ControlStatus, RequirementStatus

# Worst first: the roll-up takes the first that any covering control has.
ROLLUP_ORDER = (
    RequirementStatus.FAILING,
    RequirementStatus.NOT_ASSESSED,
    RequirementStatus.ACCEPTED_RISK,
    RequirementStatus.ATTESTED,
    RequirementStatus.PASSING,
)

# What each control status contributes to a requirement (None: nothing, it does not apply).
CONTRIBUTES: dict[ControlStatus, RequirementStatus | None] = {
    ControlStatus.FAILING: RequirementStatus.FAILING,
    ControlStatus.CONTROL_TEST_FAILED: RequirementStatus.FAILING,
    ControlStatus.NOT_ASSESSED: RequirementStatus.NOT_ASSESSED,
    ControlStatus.ACCEPTED_RISK: RequirementStatus.ACCEPTED_RISK,
    ControlStatus.ATTESTED: RequirementStatus.ATTESTED,
    ControlStatus.PASSING: RequirementStatus.PASSING,
    ControlStatus.CONTROL_TEST_PASSED: RequirementStatus.PASSING,
    ControlStatus.NOT_APPLICABLE: None,
}


def roll_up(statuses: list[ControlStatus]) -> RequirementStatus:
    if not statuses:
        return RequirementStatus.NOT_COVERED
    present = {CONTRIBUTES[status] for status in statuses} - {None}
    for candidate in ROLLUP_ORDER:
        if candidate in present:
            return candidate
    return RequirementStatus.NOT_APPLICABLE


@dataclass(frozen=True)
class RequirementRow:
    id: str
    title: str
    status: RequirementStatus
    controls: tuple[tuple[str, ControlStatus], ...]
    note: str | None = None  # the mapping's own note, when it has one

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "controls": [{"id": cid, "status": status.value} for cid, status in self.controls],
            **({"note": self.note} if self.note else {}),
        }


@dataclass(frozen=True)
class FrameworkMatrix:
    key: str
    name: str
    version: str | None
    requirements: tuple[RequirementRow, ...]

    def counts(self) -> dict[str, int]:
        found = Counter(row.status for row in self.requirements)
        return {status.value: found.get(status, 0) for status in RequirementStatus}

    def to_json(self) -> dict[str, Any]:
        return {
            "framework": self.key,
            "name": self.name,
            "version": self.version,
            "summary": self.counts(),
            "requirements": [row.to_json() for row in self.requirements],
        }


def framework_matrix(
    catalog: Catalog, statuses: Mapping[str, ControlStatus]
) -> Iterator[FrameworkMatrix]:
    for key in sorted(catalog.frameworks):
        yield _matrix(catalog.frameworks[key], statuses)


def _matrix(framework: Framework, statuses: Mapping[str, ControlStatus]) -> FrameworkMatrix:
    covering: dict[str, list[str]] = {}
    notes: dict[str, str] = {}
    for entry in framework.mappings:
        ids = covering.setdefault(entry.requirement, [])
        ids.extend(c for c in entry.controls if c not in ids)
        if entry.note:
            notes[entry.requirement] = entry.note
    rows = []
    for requirement in framework.requirements:
        controls = tuple(
            (cid, statuses.get(cid, ControlStatus.NOT_ASSESSED))
            for cid in covering.get(requirement.id, [])
        )
        rows.append(RequirementRow(
            id=requirement.id,
            title=requirement.title,
            status=roll_up([status for _, status in controls]),
            controls=controls,
            note=notes.get(requirement.id),
        ))
    return FrameworkMatrix(framework.framework, framework.name, framework.version, tuple(rows))
