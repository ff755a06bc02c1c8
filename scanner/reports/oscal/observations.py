"""Observations (what qgov saw) and the back-matter resources they cite as evidence.

- every scanner finding, suppressed ones too: ``EXAMINE``, type ``finding``, masked evidence;
- per passing control, the rules that ran without a finding: ``EXAMINE``, ``control-objective``;
- every self-test check: ``TEST``, linked to the self-test report (a resource with its SHA-256);
- every attestation: ``INTERVIEW``, linked to its evidence files (resources with SHA-256);
- every file not fully examined (a parse error, an engine that failed …): ``EXAMINE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.model import Finding, ScanError, SuppressionKind
from scanner.reports.oscal.common import (
    TOOL_ORIGIN,
    Ids,
    code,
    compact,
    day_stamp,
    escaped,
    href,
    line,
    parsed_stamp,
    prop,
    props,
)
from scanner.reports.report import INCOMPLETE, ScanReport
from scanner.status.attestations import LoadedAttestation
from scanner.status.controls import ControlResult
from scanner.status.selftest import SelftestCheck
from scanner.status.statuses import ControlStatus

_SUPPRESSED_BY = {
    SuppressionKind.EXCEPTION: "exception",
    SuppressionKind.BASELINE: "baseline",
    SuppressionKind.INLINE: "inline-directive",
}


@dataclass
class Evidence:
    """The observations and resources of one document, and which observation stands for
    which finding, check or attestation (by object identity: equal findings at two places
    are two observations)."""

    observations: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    findings: dict[int, str] = field(default_factory=dict)
    checks: dict[int, str] = field(default_factory=dict)
    attestations: dict[int, str] = field(default_factory=dict)
    passing: dict[str, str] = field(default_factory=dict)  # control id -> observation

    def for_control(self, result: ControlResult) -> list[str]:
        found = [self.findings[id(f)] for f in result.findings if id(f) in self.findings]
        found += [self.checks[id(c)] for c in result.checks if id(c) in self.checks]
        if result.attestation is not None and id(result.attestation) in self.attestations:
            found.append(self.attestations[id(result.attestation)])
        if result.control.id in self.passing:
            found.append(self.passing[result.control.id])
        return list(dict.fromkeys(found))


def collect(report: ScanReport, ids: Ids, collected: str) -> Evidence:
    evidence = Evidence()
    for index, finding in enumerate(report.result.findings):
        uid = ids("observation", "finding", str(index))
        evidence.findings[id(finding)] = uid
        evidence.observations.append(_finding(finding, uid, collected))
    status = report.compliance
    for result in status.controls:
        if result.status is ControlStatus.PASSING and result.rules_ran:
            uid = ids("observation", "rules-ran", result.control.id)
            evidence.passing[result.control.id] = uid
            evidence.observations.append(_rules_ran(result, uid, collected))
    if status.selftest is not None:
        selftest = status.selftest
        report_uuid = ids("resource", "selftest")
        evidence.resources.append(_file_resource(
            report_uuid, f"Self-test evidence {Path(selftest.path).name}", selftest.path,
            selftest.sha256,
            f"The report of `qgov job selftest` (qgov {escaped(selftest.version)}), generated "
            f"{escaped(selftest.generated_at)}: {len(selftest.checks)} checks. Read from the "
            "file given to `--selftest`; the href is its name.",
        ))
        when = parsed_stamp(selftest.generated_at) or collected
        for index, check in enumerate(selftest.checks):
            uid = ids("observation", "check", str(index))
            evidence.checks[id(check)] = uid
            evidence.observations.append(_check(check, uid, report_uuid, when))
    if status.attestations is not None:
        attestations = status.attestations
        evidence.resources.append(_file_resource(
            ids("resource", "attestations"), f"Attestations {Path(attestations.path).name}",
            attestations.path, attestations.sha256,
            "The attestations file the statements below were read from (given to "
            "`--attestations` or `attestations:` in the config); the href is its name.",
        ))
        for index, attestation in enumerate(attestations.entries):
            uid = ids("observation", "attestation", str(index))
            evidence.attestations[id(attestation)] = uid
            files: list[tuple[str, str | None, str | None]] = []
            for number, item in enumerate(attestation.evidence):
                resource = None
                if item.sha256 is not None:
                    resource = ids("resource", "attestation", str(index), str(number))
                    evidence.resources.append(_file_resource(
                        resource, f"Attestation evidence {line(item.path)}", Path(item.path),
                        item.sha256,
                        f"Evidence for the attestation of {attestation.entry.control} "
                        f"({item.size} bytes), as named in the attestations file (relative "
                        "to it). qgov hashed it; it did not read what it says.",
                        keep_path=True,
                    ))
                files.append((item.path, resource, item.problem))
            evidence.observations.append(
                _attestation(attestation, uid, files, collected, status.today.isoformat(),
                             attestation.state(status.today))
            )
    for index, error in enumerate(report.result.errors):
        if error.reason in INCOMPLETE:
            evidence.observations.append(
                _not_examined(error, ids("observation", "error", str(index)), collected)
            )
    return evidence


def _finding(finding: Finding, uid: str, collected: str) -> dict[str, Any]:
    where = code(finding.path) + (f" line {finding.line}" if finding.line else "") + (
        f", notebook cell {finding.cell}" if finding.cell is not None else "")
    risk = finding.suppression
    lines = [f"{code(finding.message)} ({where})."]
    if finding.remediation:
        lines.append(f"Fix: {finding.remediation}")
    remarks = None
    if risk is not None:
        how = _SUPPRESSED_BY.get(risk.kind, risk.kind.value).replace("-", " ")
        remarks = f"Suppressed by {how}" + (f" {code(risk.id)}" if risk.id else "") + (
            f", owner {code(risk.owner)}" if risk.owner else "") + (
            f", until {code(risk.until)}" if risk.until else "") + (
            f": {code(risk.reason)}" if risk.reason else ".")
    return compact({
        "uuid": uid,
        "title": line(f"{finding.rule_id} {escaped(finding.title)}"),
        "description": "\n\n".join(lines),
        "props": props(
            prop("rule-id", finding.rule_id),
            prop("severity", finding.severity.value),
            prop("confidence", finding.confidence.value),
            prop("engine", finding.engine),
            prop("fingerprint", finding.fingerprint),
            *(prop("control-id", cid) for cid in finding.control_ids),
            prop("finding-state", "suppressed" if risk else "open"),
            prop("suppressed-by", _SUPPRESSED_BY.get(risk.kind, risk.kind.value))
            if risk else None,
        ),
        "methods": ["EXAMINE"],
        "types": ["finding"],
        "origins": [TOOL_ORIGIN],
        "relevant-evidence": [compact({
            "href": href(finding.path),
            "description": where
            + (f"; evidence (masked): {code(finding.evidence)}" if finding.evidence else ""),
        })],
        "collected": collected,
        "remarks": remarks,
    })


def _rules_ran(result: ControlResult, uid: str, collected: str) -> dict[str, Any]:
    count = len(result.rules_ran)
    return compact({
        "uuid": uid,
        "title": line(f"{result.control.id}: {count} rule{'s' if count != 1 else ''} ran "
                      "without a finding"),
        "description": escaped(result.reason[:1].upper() + result.reason[1:]) + ".",
        "props": props(*(prop("rule-ran", rule) for rule in result.rules_ran)),
        "methods": ["EXAMINE"],
        "types": ["control-objective"],
        "origins": [TOOL_ORIGIN],
        "collected": collected,
    })


def _check(check: SelftestCheck, uid: str, resource: str, collected: str) -> dict[str, Any]:
    outcome = "passed" if check.status == "pass" else "failed"
    detail = f": {escaped(check.detail)}" if check.detail else "."
    return compact({
        "uuid": uid,
        "title": line(f"Self-test check {check.id} {outcome}") or "Self-test check",
        "description": f"The governed-job self-test check {code(check.id)}"
        + (f" ({code(check.title)})" if check.title else "") + f" {outcome}{detail}",
        "props": props(
            prop("check-id", check.id),
            prop("check-result", check.status),
            *(prop("control-id", cid) for cid in check.control_ids),
        ),
        "methods": ["TEST"],
        "types": ["control-objective"],
        "origins": [TOOL_ORIGIN],
        "relevant-evidence": [{"href": f"#{resource}",
                               "description": "The self-test report this check is part of."}],
        "collected": collected,
    })


def _attestation(
    attestation: LoadedAttestation, uid: str,
    files: Iterable[tuple[str, str | None, str | None]], collected: str, today: str,
    problem: str | None,
) -> dict[str, Any]:
    entry = attestation.entry
    seen = []
    for path, resource, trouble in files:
        if resource is not None:
            seen.append({"href": f"#{resource}",
                         "description": f"Evidence file {code(path)} (SHA-256 in the resource)."})
        else:
            seen.append({"description": f"Evidence file {code(path)}: {escaped(trouble or '?')}"
                                        " (the attestation does not count)."})
    # It counts through its review day: out of date from the midnight after.
    expires = (day_stamp(entry.next_review + dt.timedelta(days=1))
               if entry.next_review.year < 2999 else None)
    return compact({
        "uuid": uid,
        "title": line(f"Attestation for {entry.control}"),
        "description": f"{code(entry.owner)} stated on {entry.date}: {code(entry.statement)}",
        "props": props(
            prop("control-id", entry.control),
            prop("attested-by", entry.owner),
            prop("attestation-date", entry.date.isoformat()),
            prop("next-review", entry.next_review.isoformat()),
            prop("attestation-counts", "false" if problem else "true"),
        ),
        "methods": ["INTERVIEW"],
        "types": ["control-objective"],
        "origins": [TOOL_ORIGIN],
        "relevant-evidence": seen,
        # When it was stated; it lapses after its review day.
        "collected": day_stamp(entry.date) or collected,
        "expires": expires,
        "remarks": f"Does not count on {today}: {escaped(problem)}." if problem else
        "A person's statement: qgov checked that it is current and hashed its evidence "
        "files, not that the statement is true.",
    })


def _not_examined(error: ScanError, uid: str, collected: str) -> dict[str, Any]:
    return compact({
        "uuid": uid,
        "title": line(f"Not fully examined ({error.reason})"),
        "description": f"{code(error.path)}: {code(error.message)}",
        "props": props(prop("scan-error", error.reason)),
        "methods": ["EXAMINE"],
        "origins": [TOOL_ORIGIN],
        "relevant-evidence": [{"href": href(error.path), "description": code(error.path)}],
        "collected": collected,
        "remarks": "The rules that read files of this kind did not check this one in full; "
        "a control they pass is passing on the other files.",
    })


def _file_resource(
    uid: str, title: str, path: Path, sha256: str, description: str, *, keep_path: bool = False
) -> dict[str, Any]:
    # The file's name only (its folder on the machine that ran the scan is no evidence and
    # would make the document differ between checkouts); evidence paths stay as written.
    name = path.as_posix() if keep_path else path.name
    return {
        "uuid": uid,
        "title": line(title),
        "description": description,
        "rlinks": [{"href": href(name), "hashes": [{"algorithm": "SHA-256", "value": sha256}]}],
    }
