"""The machine-readable files of an audit pack, rendered from ``PackData``.

- ``findings.json``: the scan JSON contract. One repository: its report. Several: one per
  repository under ``repositories/<name>/findings.json`` and a total at the top (every
  finding with its ``repository``, the organisation's control and requirement statuses).
- ``findings.sarif``: SARIF 2.1.0 with one run per repository (``automationDetails.id``
  names it).
- ``assessment-results.json``: OSCAL 1.2.1 assessment results of each repository, from the
  same report as its ``findings.json`` and beside it, at the pack's time.
- ``junit.xml``: the JUnit report of each repository, suites prefixed with its name when
  there are several.
- ``control-matrix.csv``: every selected framework requirement × covering control, with the
  organisation's statuses and the pack files that are its evidence.
- ``pack.json``: what ``qgov pack diff`` compares (findings by fingerprint, statuses,
  exceptions, attestations, self-test checks) and ``catalog.json``: the catalog's digests.
- ``governance/access-review.json``, ``vendors/assessments.json`` when given.
- ``evidence/ledger/metrics.json`` and ``jobs.csv``: ``qgov ledger metrics --format json``
  and ``qgov ledger query --format csv`` of a ledger that verified.

Every renderer is pure; the writer owns the files. Output is deterministic: sorted keys
where order carries no meaning, no absolute paths, times from the pack.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from scanner.clock import iso_utc
from scanner.model import Severity
from scanner.pack.evidence import (
    LEDGER_JOBS,
    LEDGER_METRICS,
    LEDGER_VERIFICATION,
    SELFTEST_PACK_PATH,
)
from scanner.pack.model import OrgControl, PackData, RepositorySection
from scanner.reports.json_report import render_json
from scanner.reports.junit import render_junit
from scanner.reports.report import (
    JSON_FORMAT_VERSION,
    TOOL_NAME,
    TOOL_VERSION,
    ScanReport,
    finding_dict,
)
from scanner.reports.sarif import render_sarif
from scanner.status.render import _cells
from scanner.status.statuses import ControlStatus

PACK_FORMAT_VERSION = "1.0"


def _dump(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def repository_dir(data: PackData, repository: RepositorySection) -> str:
    """Where a repository's own files go: the top for a one-repository pack."""
    return f"repositories/{repository.name}/" if data.multi_repository else ""


def _report(data: PackData, repository: RepositorySection) -> ScanReport:
    fail_on = repository.scan.config.fail_on if repository.scan else Severity.HIGH.value
    return ScanReport(
        result=repository.result,
        catalog=data.catalog,
        fail_on=None if fail_on == "none" else Severity(fail_on),
        strict=repository.scan.config.strict if repository.scan else False,
        status=repository.status,
        scan=repository.scan,
    )


# --- findings.json -----------------------------------------------------------------------------


def findings_files(data: PackData) -> dict[str, bytes]:
    files = {}
    for repository in data.repositories:
        report = _report(data, repository)
        files[f"{repository_dir(data, repository)}findings.json"] = \
            render_json(report).encode("utf-8")
    if data.multi_repository:
        files["findings.json"] = _total(data)
    return files


def _org_control(control: OrgControl) -> dict[str, Any]:
    return {
        "id": control.id,
        "title": control.title,
        "status": control.status.value,
        "reason": control.reason,
        "repositories": {name: status.value for name, status in control.by_repository},
    }


def _total(data: PackData) -> bytes:
    findings = [{"repository": repository.name, **finding_dict(finding)}
                for repository in data.repositories for finding in repository.result.findings]
    document = {
        "tool": {"name": TOOL_NAME, "version": TOOL_VERSION},
        "format_version": JSON_FORMAT_VERSION,
        "kind": "rollup",
        "generated_at": iso_utc(data.generated_at),
        "repositories": [
            {
                "name": r.name,
                "source": r.source,
                "origin": r.origin,
                "file": f"{repository_dir(data, r)}findings.json",
                "findings": len(r.result.active_findings),
                "suppressed": len(r.result.findings) - len(r.result.active_findings),
                "controls": r.status.counts(),
            }
            for r in data.repositories
        ],
        "findings": findings,
        "controls": [_org_control(c) for c in data.rollup.controls],
        "frameworks": [m.to_json() for m in data.rollup.frameworks],
        "summary": {
            "findings": data.findings_total(),
            "by_severity": data.severity_counts(),
            "controls": data.rollup.counts(),
            "frameworks": {m.key: m.counts() for m in data.rollup.frameworks},
        },
    }
    return _dump(document)


# --- OSCAL assessment results ------------------------------------------------------------------

OSCAL_FILE = "assessment-results.json"


def oscal_files(data: PackData) -> dict[str, bytes]:
    """One OSCAL document per repository, beside its findings.json. The pack's time pins
    the document's time (and so its UUIDs): the same pack gives the same bytes."""
    from scanner.reports.oscal import render_oscal

    return {
        f"{repository_dir(data, repository)}{OSCAL_FILE}":
            render_oscal(_report(data, repository), generated_at=data.generated_at)
            .encode("utf-8")
        for repository in data.repositories
    }


# --- SARIF and JUnit ---------------------------------------------------------------------------


def sarif(data: PackData) -> bytes:
    runs = []
    document: dict[str, Any] = {}
    for repository in data.repositories:
        document = json.loads(render_sarif(_report(data, repository)))
        run = document["runs"][0]
        run["automationDetails"] = {"id": f"qgov/{repository.name}/"}
        runs.append(run)
    document["runs"] = runs
    return _dump(document)


def junit(data: PackData) -> bytes:
    if not data.multi_repository:
        return render_junit(_report(data, data.repositories[0])).encode("utf-8")
    root = ET.Element("testsuites")
    for repository in data.repositories:
        part = ET.fromstring(render_junit(_report(data, repository)))
        for suite in part:
            suite.set("name", f"{repository.name}: {suite.get('name', '')}")
            for case in suite.iter("testcase"):
                case.set("classname", f"{repository.name}.{case.get('classname', '')}")
            root.append(suite)
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
            + "\n").encode("utf-8")


# --- control-matrix.csv ------------------------------------------------------------------------

MATRIX_COLUMNS = (
    "framework", "requirement", "requirement_title", "control", "control_title",
    "control_status", "requirement_status", "reason", "evidence_files", "repositories",
)


def _evidence_files(data: PackData, control: OrgControl) -> list[str]:
    """The pack files a control's status rests on."""
    files: list[str] = []
    status = control.status
    if status in (ControlStatus.CONTROL_TEST_PASSED, ControlStatus.CONTROL_TEST_FAILED) \
            and data.selftest.pack_path:
        files.append(data.selftest.pack_path)
    if status is ControlStatus.ATTESTED:
        for section in data.attestations:
            for record in section.records:
                if record.current and record.attestation.entry.control == control.id:
                    files += [f.pack_path for f in record.files if f.pack_path]
    if status in (ControlStatus.FAILING, ControlStatus.ACCEPTED_RISK, ControlStatus.PASSING):
        # The findings (or the clean scan) of the repositories that gave it this status.
        gave = {name for name, repo_status in control.by_repository if repo_status is status}
        files += [f"{repository_dir(data, r)}findings.json" for r in data.repositories
                  if r.name in gave]
    return sorted(dict.fromkeys(files))


def control_matrix(data: PackData) -> bytes:
    controls = {c.id: c for c in data.rollup.controls}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MATRIX_COLUMNS)
    for matrix in data.rollup.frameworks:
        for row in matrix.requirements:
            head = [matrix.key, row.id, row.title]
            if not row.controls:
                writer.writerow(_cells([*head, "", "", "", row.status.value,
                                        "no control covers it", "", ""]))
            for cid, _ in row.controls:
                control = controls[cid]
                per_repo = "; ".join(f"{name}: {s.value}" for name, s in control.by_repository)
                writer.writerow(_cells([
                    *head, cid, control.title, control.status.value, row.status.value,
                    control.reason, " ".join(_evidence_files(data, control)), per_repo,
                ]))
    return out.getvalue().encode("utf-8")


# --- pack.json and catalog.json ----------------------------------------------------------------


def pack_summary(data: PackData) -> bytes:
    """What `qgov pack diff` compares, in one file."""
    selftest = data.selftest.evidence
    document = {
        "format": "qgov-pack",
        "format_version": PACK_FORMAT_VERSION,
        "tool": {"name": TOOL_NAME, "version": TOOL_VERSION},
        "title": data.title,
        "generated_at": iso_utc(data.generated_at),
        "today": data.today.isoformat(),
        "frameworks": list(data.frameworks),
        "catalog": data.catalog_info.model_dump(mode="json"),
        "inputs": [_record(i) for i in data.inputs],
        "repositories": [
            {
                "name": r.name,
                "source": r.source,
                "origin": r.origin,
                "origin_sha256": r.origin_sha256,
                "scan": r.scan.model_dump(mode="json") if r.scan else None,
                "notes": list(r.notes),
                "findings": [
                    {"fingerprint": f.fingerprint, "rule_id": f.rule_id, "path": f.path,
                     "line": f.line, "severity": f.severity.value, "message": f.message,
                     "suppressed": f.suppressed}
                    for f in r.result.findings
                ],
                "controls": {c.control.id: c.status.value for c in r.status.controls},
                "requirements": {
                    m.key: {row.id: row.status.value for row in m.requirements}
                    for m in data.selected_matrices(r)
                },
            }
            for r in data.repositories
        ],
        "rollup": {
            "controls": {c.id: c.status.value for c in data.rollup.controls},
            "requirements": {m.key: {row.id: row.status.value for row in m.requirements}
                             for m in data.rollup.frameworks},
        },
        "exceptions": [
            {"id": e.id, "control": e.control, "state": e.state, "expires":
             e.expires.isoformat() if e.expires else None, "risk_owner": e.risk_owner,
             "reason": e.reason, "register": e.register, "missing": list(e.missing),
             "findings_covered": e.findings_covered}
            for e in data.exceptions
        ],
        "suppressions": [
            {"repository": s.repository, "fingerprint": s.fingerprint, "rule_id": s.rule_id,
             "path": s.path, "line": s.line, "kind": s.kind.value, "reason": s.reason,
             "owner": s.owner, "until": s.until, "id": s.id, "expired": s.expired}
            for s in data.suppressions
        ],
        "attestations": [
            {"file": a.source, "sha256": a.sha256, "copy": a.pack_path,
             "repositories": list(a.repositories),
             "attestations": [
                 {**r.attestation.to_json(data.today), "lapsed": r.lapsed,
                  "evidence": [{"path": f.source, "copy": f.pack_path, "sha256": f.sha256,
                                "size": f.size, "problem": f.problem} for f in r.files]}
                 for r in a.records]}
            for a in data.attestations
        ],
        "selftest": {
            "file": data.selftest.pack_path,
            "origin": data.selftest.origin,
            "how": data.selftest.how,
            "why_missing": data.selftest.why_missing,
            "generated_at": selftest.generated_at if selftest else None,
            "checks": {c.id: c.status for c in selftest.checks} if selftest else {},
            "policy": selftest.policy.model_dump(mode="json", exclude={"file"})
            if selftest and selftest.policy else None,
        },
        "ledger": None if data.ledger is None else {
            "origin": data.ledger.origin, "copy": data.ledger.pack_path,
            "verdict": data.ledger.verdict, "intact": data.ledger.intact,
            "verification": LEDGER_VERIFICATION if data.ledger.verification else None,
            "problems": list(data.ledger.problems),
            "files": list(data.ledger.extra_files),
            "answers_withheld": data.ledger.answers_withheld,
        },
        "vendors": [{"vendor": v.assessment.vendor.name, "origin": v.origin,
                     "verdict": v.verdict, "score": v.score, "gaps": v.gaps}
                    for v in data.vendors],
        "problems": [{"source": p.source, "message": p.message} for p in data.problems],
        "environment": {
            "python": data.environment.python,
            "implementation": data.environment.implementation,
            "platform": data.environment.platform,
            "packages": dict(data.environment.packages),
        },
    }
    return _dump(document)


def _record(record: Any) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if value is not None}


def catalog_file(data: PackData) -> bytes:
    return _dump({"catalog": data.catalog_info.model_dump(mode="json"),
                  "digests": data.catalog_digests.model_dump(mode="json")})


def access_review_file(data: PackData) -> bytes | None:
    if data.access_review is None:
        return None
    review = data.access_review
    return _dump({**review.to_json(), "sha256": review.sha256()})


def vendors_file(data: PackData) -> bytes | None:
    if not data.vendors:
        return None
    return _dump([{"origin": v.origin, "verdict": v.verdict, "score": v.score,
                   "assessment": v.assessment.model_dump(mode="json")} for v in data.vendors])


def ledger_verification(data: PackData) -> bytes | None:
    if data.ledger is None or not data.ledger.verification:
        return None
    return _dump(data.ledger.verification)


def ledger_metrics(data: PackData) -> bytes | None:
    if data.ledger is None or data.ledger.metrics is None:
        return None
    return _dump(data.ledger.metrics)


def ledger_jobs(data: PackData) -> bytes | None:
    if data.ledger is None or data.ledger.jobs_csv is None:
        return None
    return data.ledger.jobs_csv.encode("utf-8")


SELFTEST_FILE = SELFTEST_PACK_PATH

# Further files of the pack, each ``(pack path, renderer)``; a renderer returning None writes
# nothing. (The OSCAL assessment results, one per repository, are ``oscal_files``.)
PACK_FILE_WRITERS: list[tuple[str, Callable[[PackData], bytes | None]]] = [
    ("catalog.json", catalog_file),
    ("governance/access-review.json", access_review_file),
    ("vendors/assessments.json", vendors_file),
    (LEDGER_VERIFICATION, ledger_verification),
    (LEDGER_METRICS, ledger_metrics),
    (LEDGER_JOBS, ledger_jobs),
]
