"""Each control's status in one scan, from what the scan checked and the evidence given.

The rules, in order (the first that applies decides):

1. ``failing``: an active finding names the control, whatever its verification kind.
2. ``control-test-failed``: self-test evidence was supplied and a check naming it failed.
3. ``accepted-risk``: findings name it and every one is suppressed (an exception, a baseline
   entry or an inline directive).
4. Positive evidence, taken from the control's kinds in order (its ``verification`` first,
   then ``also_verified_by``), then from an attestation whatever the kinds say:
   ``automated`` gives ``passing`` when at least one rule that lists it ran and the control
   applies at the scan's tier (rules honour the tier, so below it their silence proves
   nothing); ``control-test`` gives ``control-test-passed`` when the evidence holds checks
   for it and all passed; a current attestation gives ``attested``.
5. ``not-applicable``: the control's tiers do not include the scan's tier.
6. ``not-assessed``: nothing above, with the reasons each kind gave.

A rule *ran* when a detector, engine or stage that can report it examined at least one file
and it is not disabled (``scanner.model.Coverage``). A control with no rule that ran is never
``passing``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scanner.catalog import Catalog, Control, Verification
from scanner.model import CheckRun, Coverage, Finding, ScanResult, SuppressionKind, Tier
from scanner.status.attestations import AttestationSet, LoadedAttestation
from scanner.status.matrix import FrameworkMatrix, framework_matrix
from scanner.status.selftest import SelftestCheck, SelftestEvidence
from scanner.status.statuses import ControlStatus

_SUPPRESSED_BY = {
    SuppressionKind.EXCEPTION: "exception",
    SuppressionKind.BASELINE: "baseline",
    SuppressionKind.INLINE: "inline directive",
}


@dataclass(frozen=True)
class ControlResult:
    control: Control
    status: ControlStatus
    reason: str
    rules: tuple[str, ...] = ()  # rules that list the control
    rules_ran: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()  # every finding naming it, suppressed ones too
    checks: tuple[SelftestCheck, ...] = ()  # self-test checks naming it, from the evidence
    attestation: LoadedAttestation | None = None  # the one relied on, or the latest seen

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def to_json(self, today: dt.date) -> dict[str, Any]:
        control = self.control
        return {
            "id": control.id,
            "title": control.title,
            "domain": control.domain.value,
            "verification": control.verification.value,
            "also_verified_by": [kind.value for kind in control.also_verified_by],
            "status": self.status.value,
            "reason": self.reason,
            "rules": list(self.rules),
            "rules_ran": list(self.rules_ran),
            "findings": len(self.active),
            "suppressed": len(self.findings) - len(self.active),
            "control_tests": [
                {"id": c.id, "status": c.status, "detail": c.detail} for c in self.checks
            ],
            "attestation": self.attestation.to_json(today) if self.attestation else None,
        }


@dataclass(frozen=True)
class ComplianceStatus:
    """Every control's status plus the framework matrix built from them."""

    controls: tuple[ControlResult, ...]
    frameworks: tuple[FrameworkMatrix, ...]
    today: dt.date
    attestations: AttestationSet | None = None
    selftest: SelftestEvidence | None = None
    notes: tuple[str, ...] = field(default=())

    def by_id(self) -> dict[str, ControlResult]:
        return {result.control.id: result for result in self.controls}

    def counts(self) -> dict[str, int]:
        found = Counter(result.status for result in self.controls)
        return {status.value: found.get(status, 0) for status in ControlStatus}


def compute_status(
    result: ScanResult,
    catalog: Catalog,
    *,
    attestations: AttestationSet | None = None,
    selftest: SelftestEvidence | None = None,
    today: dt.date | None = None,
) -> ComplianceStatus:
    today = today or dt.date.today()
    by_control: dict[str, list[Finding]] = {}
    for finding in result.findings:
        for control_id in finding.control_ids:
            by_control.setdefault(control_id, []).append(finding)
    rules_of: dict[str, list[str]] = {}
    for rule in catalog.rules.values():
        for control_id in rule.controls:
            rules_of.setdefault(control_id, []).append(rule.id)
    judge = _Judge(result.coverage, attestations, selftest, today)
    controls = tuple(
        judge.control(control, tuple(sorted(rules_of.get(cid, []))), by_control.get(cid, []))
        for cid, control in catalog.controls.items()
    )
    notes = tuple(attestations.problems()) if attestations else ()
    statuses = {r.control.id: r.status for r in controls}
    return ComplianceStatus(
        controls=controls,
        frameworks=tuple(framework_matrix(catalog, statuses)),
        today=today,
        attestations=attestations,
        selftest=selftest,
        notes=notes,
    )


class _Judge:
    def __init__(
        self,
        coverage: Coverage | None,
        attestations: AttestationSet | None,
        selftest: SelftestEvidence | None,
        today: dt.date,
    ) -> None:
        self.coverage = coverage
        self.ran = coverage.rules_run() if coverage else frozenset()
        self.attestations = attestations
        self.selftest = selftest
        self.today = today

    def control(
        self, control: Control, rules: tuple[str, ...], findings: list[Finding]
    ) -> ControlResult:
        ran = tuple(r for r in rules if r in self.ran)
        checks = tuple(self.selftest.for_control(control.id)) if self.selftest else ()
        attestation, attestation_problem = self._attestation(control.id)

        missing: list[str] = []

        def made(status: ControlStatus, reason: str) -> ControlResult:
            return ControlResult(control, status, reason, rules, ran, tuple(findings), checks,
                                 attestation)

        def positive(status: ControlStatus, reason: str) -> ControlResult:
            # Evidence from a later kind: say what the earlier ones lacked.
            lacking = "; ".join(dict.fromkeys(missing))
            return made(status, f"{reason}; but {lacking}" if lacking else reason)

        active = [f for f in findings if not f.suppressed]
        if active:
            return made(ControlStatus.FAILING, _finding_reason(active))
        failed = [c for c in checks if c.status == "fail"]
        if failed:
            details = "; ".join(f"{c.id}: {c.detail}" if c.detail else c.id for c in failed)
            return made(ControlStatus.CONTROL_TEST_FAILED, f"self-test check failed: {details}")
        if findings:
            return made(ControlStatus.ACCEPTED_RISK, _suppressed_reason(findings))

        applies = self.coverage is not None and self.coverage.tier in control.tiers
        for kind in (*control.kinds, None):  # None: an attestation, whatever the kinds say
            if kind is Verification.AUTOMATED:
                if ran and applies:
                    return positive(ControlStatus.PASSING, self._passing_reason(ran))
                if not ran:
                    missing.append(self._not_run_reason(rules))
            elif kind is Verification.CONTROL_TEST:
                evidencing = [c for c in checks if c.evidences(control.id)]
                if evidencing:
                    names = ", ".join(c.id for c in evidencing)
                    assert self.selftest is not None
                    return positive(ControlStatus.CONTROL_TEST_PASSED,
                                f"self-test checks passed ({names}) in evidence generated "
                                f"{self.selftest.generated_at}")
                missing.append(
                    "no self-test evidence supplied (--selftest)" if self.selftest is None
                    else "the self-test evidence holds no check for it" if not checks
                    else "the self-test's policy did not exercise it ("
                    + ", ".join(c.id for c in checks) + ")"
                )
            elif kind is Verification.ATTESTED or kind is None:
                if attestation is not None and attestation_problem is None:
                    entry = attestation.entry
                    return positive(ControlStatus.ATTESTED,
                                f"attested by {entry.owner} on {entry.date}, next review "
                                f"{entry.next_review}")
                if kind is Verification.ATTESTED:
                    missing.append(attestation_problem or "no attestation")
                elif attestation_problem:
                    missing.append(attestation_problem)
        if self.coverage is None:
            return made(ControlStatus.NOT_ASSESSED,
                        "the scan result does not record which rules ran")
        if not applies:
            order = list(Tier)
            lowest = min(control.tiers, key=order.index).value if control.tiers else "?"
            return made(ControlStatus.NOT_APPLICABLE,
                        f"applies from tier {lowest}; the scan ran at tier "
                        f"{self.coverage.tier.value}")
        if control.verification is Verification.NOT_ASSESSED:
            missing.insert(0, "nothing verifies it yet (the catalog marks it not-assessed)")
        return made(ControlStatus.NOT_ASSESSED, "; ".join(dict.fromkeys(missing)))

    def _attestation(self, control_id: str) -> tuple[LoadedAttestation | None, str | None]:
        """The attestation to rely on (the newest current one), else the newest seen with
        why it does not count; (None, None) when there is none."""
        if self.attestations is None:
            return None, None
        seen = sorted(self.attestations.for_control(control_id), key=lambda a: a.entry.date)
        if not seen:
            return None, None
        current = [a for a in seen if a.state(self.today) is None]
        if current:
            return current[-1], None
        latest = seen[-1]
        return latest, f"the attestation by {latest.entry.owner} does not count: " + str(
            latest.state(self.today)
        )

    def _passing_reason(self, ran: tuple[str, ...]) -> str:
        assert self.coverage is not None
        checks = [c for c in self.coverage.checks if c.files and set(c.rules) & set(ran)]
        where = ", ".join(f"{c.name} {c.files} file{'s' if c.files != 1 else ''}" for c in checks)
        return f"no findings from {len(ran)} rule{'s' if len(ran) != 1 else ''} that ran ({where})"

    def _not_run_reason(self, rules: Iterable[str]) -> str:
        rules = list(rules)
        if not rules:
            return "no scan rule checks it"
        if self.coverage is None:
            return "the scan result does not record which rules ran"
        disabled = set(self.coverage.disabled_rules)
        why: list[str] = []
        off = sorted(r for r in rules if r in disabled)
        if off:
            why.append(f"{', '.join(off)} disabled (disable_rules)")
        wanted = set(rules) - disabled
        why.extend(_check_reason(c) for c in self.coverage.checks if set(c.rules) & wanted)
        unowned = [r for r in rules if r not in disabled
                   and not any(r in c.rules for c in self.coverage.checks)]
        if unowned:
            why.append(f"{', '.join(unowned)}: not run by this scan")
        return "none of its rules ran: " + "; ".join(dict.fromkeys(why))


def _check_reason(check: CheckRun) -> str:
    if check.skipped:
        return check.skipped
    if check.file_kinds in ((), ("any",)):
        return f"{check.name}: no files to examine"
    return f"{check.name}: no {'/'.join(check.file_kinds)} files in the scan"


def _finding_reason(active: list[Finding]) -> str:
    rules = sorted({f.rule_id for f in active})
    shown = ", ".join(rules[:4]) + (f" and {len(rules) - 4} more" if len(rules) > 4 else "")
    return f"{len(active)} active finding{'s' if len(active) != 1 else ''} ({shown})"


def _suppressed_reason(findings: list[Finding]) -> str:
    kinds = Counter(
        _SUPPRESSED_BY.get(f.suppression.kind, f.suppression.kind.value)
        for f in findings if f.suppression is not None
    )
    how = ", ".join(f"{n} by {kind}" for kind, n in sorted(kinds.items()))
    ids = sorted({f.suppression.id for f in findings
                  if f.suppression is not None and f.suppression.id})
    named = f" ({', '.join(ids[:3])})" if ids else ""
    return f"{len(findings)} finding{'s' if len(findings) != 1 else ''}, all suppressed: {how}" \
        + named
