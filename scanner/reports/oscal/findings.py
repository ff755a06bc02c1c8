"""One OSCAL finding per control in scope, the risks of the controls not met, and the
reviewed-controls selection.

How qgov's statuses become an objective status (``state``, ``reason``):

| qgov status           | state         | reason | risk                                   |
|-----------------------|---------------|--------|----------------------------------------|
| failing               | not-satisfied | fail   | open                                   |
| control-test-failed   | not-satisfied | fail   | open                                   |
| accepted-risk         | not-satisfied | other  | deviation-approved (all by exceptions) or open |
| passing               | satisfied     | pass   |                                        |
| control-test-passed   | satisfied     | pass   |                                        |
| attested              | satisfied     | other  |                                        |
| not-assessed          | not-satisfied | other  |                                        |
| not-applicable        | (left out of reviewed-controls: no finding)                     |

OSCAL's state has two values; ``not-satisfied`` is NIST SP 800-53A's "other than satisfied",
which also covers "the assessor could not obtain the information to decide", so a control
qgov could not assess is never ``satisfied``. The qgov status is always in the ``status``
prop, and the reason qgov gives in the target's description.
"""

from __future__ import annotations

from typing import Any

from scanner.catalog import Catalog
from scanner.model import SuppressionKind
from scanner.reports.oscal.common import (
    TOOL_ORIGIN,
    Ids,
    compact,
    escaped,
    line,
    prop,
    props,
)
from scanner.reports.oscal.observations import Evidence
from scanner.status.controls import ComplianceStatus, ControlResult
from scanner.status.statuses import ControlStatus

_STATE: dict[ControlStatus, tuple[str, str, str | None]] = {
    ControlStatus.FAILING: ("not-satisfied", "fail", None),
    ControlStatus.CONTROL_TEST_FAILED: ("not-satisfied", "fail", None),
    ControlStatus.ACCEPTED_RISK: (
        "not-satisfied", "other",
        "Findings name this control and every one is suppressed: the objective is not met "
        "and its risk is accepted (see the related risk).",
    ),
    ControlStatus.PASSING: ("satisfied", "pass", None),
    ControlStatus.CONTROL_TEST_PASSED: ("satisfied", "pass", None),
    ControlStatus.ATTESTED: (
        "satisfied", "other",
        "Satisfied on a current attestation: a person's statement with hashed evidence "
        "files. qgov checked that it is current and complete, not that it is true.",
    ),
    ControlStatus.NOT_ASSESSED: (
        "not-satisfied", "other",
        "Not assessed: nothing qgov was given could decide this control (the description "
        "says why). OSCAL has no 'not assessed' state; not-satisfied here means 'other than "
        "satisfied', not a verified failure.",
    ),
}

# Statuses with a risk: the objective is not met.
_AT_RISK = frozenset({ControlStatus.FAILING, ControlStatus.CONTROL_TEST_FAILED,
                      ControlStatus.ACCEPTED_RISK})


def in_scope(status: ComplianceStatus) -> list[ControlResult]:
    return [r for r in status.controls if r.status is not ControlStatus.NOT_APPLICABLE]


def reviewed_controls(status: ComplianceStatus, tier: str) -> dict[str, Any]:
    assessed = [{"control-id": r.control.id} for r in in_scope(status)]
    excluded = [r for r in status.controls if r.status is ControlStatus.NOT_APPLICABLE]
    remarks = None
    if excluded:
        remarks = "Left out as not applicable at this tier: " + "; ".join(
            f"{r.control.id} ({escaped(r.reason)})" for r in excluded) + "."
    selection = compact({
        "description": f"Every control of qgov's catalog that applies at tier {tier}, "
        "whatever its verification kind: controls nothing could check are listed too, with "
        "a not-satisfied finding that says why.",
        "include-controls": assessed,
        "exclude-controls": [{"control-id": r.control.id} for r in excluded],
        "remarks": remarks,
    })
    if not assessed:
        # OSCAL wants one selection: all controls, every one excluded as not applicable.
        selection["include-all"] = {}
        selection["description"] = f"No control of qgov's catalog applies at tier {tier}."
    return {
        "description": "The controls of qgov's catalog (the assessment plan, see import-ap). "
        "Each control's objective is identified by the control's id.",
        "control-selections": [selection],
    }


def control_findings(
    status: ComplianceStatus, catalog: Catalog, evidence: Evidence, ids: Ids
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    findings, risks = [], []
    for result in in_scope(status):
        related = evidence.for_control(result)
        risk_uuid = None
        if result.status in _AT_RISK:
            risk_uuid = ids("risk", result.control.id)
            risks.append(_risk(result, risk_uuid, related, ids))
        findings.append(_finding(result, catalog, related, risk_uuid, ids))
    return findings, risks


def _finding(
    result: ControlResult, catalog: Catalog, related: list[str], risk_uuid: str | None,
    ids: Ids,
) -> dict[str, Any]:
    control = result.control
    state, reason, remarks = _STATE[result.status]
    frameworks = catalog.control_frameworks.get(control.id, {})
    return compact({
        "uuid": ids("finding", control.id),
        "title": line(f"{control.id} {control.title}"),
        "description": control.objective.strip(),
        "props": props(
            prop("status", result.status.value),
            prop("verification", control.verification.value),
            *(prop("also-verified-by", kind.value) for kind in control.also_verified_by),
            prop("severity", control.severity.value),
            prop("domain", control.domain.value),
            *(prop("framework-requirement", requirement, cls=key)
              for key in sorted(frameworks) for requirement in frameworks[key]),
        ),
        "origins": [TOOL_ORIGIN],
        "target": compact({
            "type": "objective-id",
            "target-id": control.id,
            "title": line(control.title),
            "description": escaped(result.reason[:1].upper() + result.reason[1:]) + ".",
            "status": compact({"state": state, "reason": reason, "remarks": remarks}),
        }),
        "related-observations": [{"observation-uuid": uid} for uid in related],
        "related-risks": [{"risk-uuid": risk_uuid}] if risk_uuid else None,
    })


def _risk(result: ControlResult, uid: str, related: list[str], ids: Ids) -> dict[str, Any]:
    control = result.control
    suppressions = [f.suppression for f in result.findings if f.suppression is not None]
    approved = (result.status is ControlStatus.ACCEPTED_RISK
                and all(s.kind is SuppressionKind.EXCEPTION for s in suppressions))
    statement = escaped(result.reason[:1].upper() + result.reason[1:]) + "."
    if result.status is ControlStatus.ACCEPTED_RISK:
        statement += (
            " Accepted in the exceptions register (risk owner, reason and expiry are in each "
            "finding's observation)." if approved else
            " Not all by an exception in the register (a baseline entry or an inline "
            "directive is no approval): the risk stays open."
        )
    return compact({
        "uuid": uid,
        "title": line(f"{control.id} not met: {control.title}"),
        "description": control.rationale.strip(),
        "statement": statement,
        "props": props(prop("control-id", control.id), prop("severity", control.severity.value)),
        "status": "deviation-approved" if approved else "open",
        "origins": [TOOL_ORIGIN],
        "remediations": [{
            "uuid": ids("remediation", control.id),
            "lifecycle": "recommendation",
            "title": line(f"Remediate {control.id}"),
            "description": control.remediation.strip(),
            "origins": [TOOL_ORIGIN],
        }],
        "related-observations": [{"observation-uuid": u} for u in related] or None,
    })
