"""What the readable report shows, decided in one place: ``report_view(data)`` turns
``PackData`` into plain view data (strings, numbers, lists, small dataclasses) that the
templates in ``report_templates/pack/`` only lay out.

Sorting, grouping, capping and the chart's geometry live here and in the ``view_*``
modules, so the templates stay simple and every order is deterministic. Anchors inside
the page are made from positions (``c-3``, ``fw-1``), never from input text.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from scanner.clock import iso_utc
from scanner.model import Severity
from scanner.pack.caps import DEFAULT_CAPS, Caps
from scanner.pack.chart import requirement_chart
from scanner.pack.legend import (
    CONTROL_ORDER,
    REQUIREMENT_ORDER,
    SEVERITIES,
    SEVERITY_COLOURS,
    STATUSES,
    chip,
    legend,
)
from scanner.pack.model import PackData, RepositorySection
from scanner.pack.view_evidence import attestations_view, ledger_view, selftest_view
from scanner.pack.view_findings import findings_view
from scanner.pack.view_governance import (
    access_view,
    exceptions_view,
    suppressions_view,
    vendors_view,
)
from scanner.status.statuses import ControlStatus

# The machine-readable files of a pack, by the names the writer gives them.
STANDARD_FILES = ("findings.json", "assessment-results.json", "findings.sarif", "junit.xml",
                  "control-matrix.csv")
_SOURCE = {"scan": "folder scanned for this pack", "scan-json": "scan JSON from another run"}
_FAILING = (ControlStatus.FAILING, ControlStatus.CONTROL_TEST_FAILED)


def _file(data: PackData, name: str) -> str:
    """A machine-readable file's path in the pack (the standard name before it is known)."""
    return data.files.get(name.replace("/", "-"), name)


# --- cover -------------------------------------------------------------------------------------


def _repository_scope(repository: RepositorySection) -> dict[str, Any]:
    scan = repository.scan
    result = repository.result
    targets = [
        {
            "path": target.path,
            "commit": target.git.commit if target.git else None,
            "dirty": bool(target.git and target.git.dirty),
        }
        for target in (scan.targets if scan else ())
    ] or [{"path": root, "commit": None, "dirty": False} for root in result.roots]
    return {
        "name": repository.name,
        "source": _SOURCE.get(repository.source, repository.source),
        "origin": repository.origin,
        "origin_sha256": repository.origin_sha256,
        "targets": targets,
        # "2026-11-29 12:00:00Z": a space lets a narrow column wrap between day and time.
        "scanned_at": scan.scanned_at.replace("T", " ") if scan else "unknown (no scan section)",
        "scan_tool": scan.tool_version if scan else None,
        "findings": len(repository.active_findings),
        "suppressed": len(result.findings) - len(repository.active_findings),
        "files_scanned": result.files_scanned,
        "files_excluded": result.files_excluded,
        "errors": len(result.errors),
        "notes": list(repository.notes),
    }


def _osv(repository: RepositorySection) -> str:
    scan = repository.scan
    if scan is None:
        return "unknown"
    osv = scan.config.osv
    if osv is None:
        return "off (the known-vulnerability check did not run)"
    if osv.snapshot is None:
        return f"{osv.service}: no snapshot date"
    age = f", {osv.age_days} days old" if osv.age_days is not None else ""
    stale = (" — older than the allowed " f"{osv.max_age_days} days"
             if osv.age_days is not None and osv.age_days > osv.max_age_days else "")
    return f"{osv.service} snapshot {osv.snapshot[:10]}{age}{stale}"


def _config(repository: RepositorySection) -> dict[str, Any]:
    scan = repository.scan
    coverage = repository.result.coverage
    if scan is None:
        return {"name": repository.name, "known": False,
                "tier": coverage.tier.value if coverage else "unknown"}
    config = scan.config
    return {
        "name": repository.name,
        "known": True,
        "tier": config.tier.value,
        "data_class": config.data_class,
        "fail_on": config.fail_on + (" (strict)" if config.strict else ""),
        "disabled": list(config.disabled_rules),
        "exclude": list(config.exclude),
        "engines": [(name, on) for name, on in sorted(config.engines.items())],
        "osv": _osv(repository),
        "osv_stale": bool(config.osv and config.osv.age_days is not None
                          and config.osv.age_days > config.osv.max_age_days),
        "config_file": config.config_file,
        "baseline": config.baseline,
        "policy": config.policy,
        "attestations": config.attestations,
        "custom_catalog": list(config.custom_catalog),
    }


def _cover(data: PackData) -> dict[str, Any]:
    info = data.catalog_info
    frameworks = [(m.key, m.name, m.version) for m in data.rollup.frameworks]
    return {
        "generated": iso_utc(data.generated_at),
        "today": data.today.isoformat(),
        "tool_version": data.tool_version,
        "catalog": {
            "version": info.version + (" with custom catalog folders" if info.custom else ""),
            "digest": info.digest,
            "controls": info.controls,
            "rules": info.rules,
        },
        "frameworks": frameworks,
        "repositories": [_repository_scope(r) for r in data.repositories],
        "configs": [_config(r) for r in data.repositories],
        "policy": data.policy,
        "inputs": [
            {"kind": i.kind, "path": i.path, "sha256": i.sha256, "commit": i.git_commit,
             "dirty": i.git_dirty}
            for i in data.inputs
        ],
    }


# --- executive summary -------------------------------------------------------------------------


def _finding_counts(data: PackData) -> tuple[Counter[str], dict[str, int]]:
    """Active findings naming each control, and each control's worst severity rank."""
    counts: Counter[str] = Counter()
    worst: dict[str, int] = {}
    for repository in data.repositories:
        for finding in repository.active_findings:
            for control_id in finding.control_ids:
                counts[control_id] += 1
                worst[control_id] = max(worst.get(control_id, -1), finding.severity.rank)
    return counts, worst


def _summary(data: PackData, caps: Caps, anchors: dict[str, str]) -> dict[str, Any]:
    counts, worst = _finding_counts(data)
    severity_name = {s.rank: s.value for s in Severity}
    failing = [c for c in data.rollup.controls if c.status in _FAILING]
    failing.sort(key=lambda c: (-worst.get(c.id, -1), -counts.get(c.id, 0), c.id))
    top = [
        {
            "id": c.id,
            "title": c.title,
            "status": chip(c.status.value),
            "findings": counts.get(c.id, 0),
            "worst": severity_name.get(worst.get(c.id, -1)),
            "anchor": anchors.get(c.id),
            "repositories": [name for name, status in c.by_repository if status in _FAILING],
        }
        for c in failing[: caps.top_failing_controls]
    ]
    control_counts = data.rollup.counts()
    frameworks: list[dict[str, Any]] = [
        {"key": m.key, "label": m.key.upper(), "name": m.name, "counts": m.counts(),
         "total": len(m.requirements)}
        for m in data.rollup.frameworks
    ]
    repositories = [
        {
            "name": r.name,
            "source": "scan JSON" if r.source == "scan-json" else "scanned",
            "failing": r.failing_controls,
            "not_assessed": r.status.counts()[ControlStatus.NOT_ASSESSED.value],
            "severity": r.severity_counts(),
            "findings": len(r.active_findings),
        }
        for r in data.repositories
    ]
    return {
        "problems": [{"source": p.source, "message": p.message} for p in data.problems],
        "findings": data.findings_total(),
        "suppressed": sum(len(r.result.findings) - len(r.active_findings)
                          for r in data.repositories),
        "severity": data.severity_counts(),
        "controls_total": len(data.rollup.controls),
        "controls": [(status, control_counts.get(status, 0)) for status in CONTROL_ORDER],
        "failing_total": len(failing),
        "top": top,
        "top_more": max(0, len(failing) - len(top)),
        "frameworks": frameworks,
        "chart": requirement_chart([(f["label"], f["name"], f["counts"]) for f in frameworks]),
        "repositories": repositories,
    }


# --- frameworks and controls -------------------------------------------------------------------


def _frameworks(data: PackData, control_rows: dict[str, str]) -> list[dict[str, Any]]:
    views = []
    for index, matrix in enumerate(data.rollup.frameworks, start=1):
        rows = [
            {
                "id": row.id,
                "title": row.title,
                "note": row.note,
                "status": chip(row.status.value),
                "controls": [(cid, chip(status.value), control_rows.get(cid))
                             for cid, status in row.controls],
            }
            for row in matrix.requirements
        ]
        counts = matrix.counts()
        views.append({
            "anchor": f"fw-{index}",
            "key": matrix.key,
            "name": matrix.name,
            "version": matrix.version,
            "total": len(rows),
            "counts": [(chip(status), counts.get(status, 0)) for status in REQUIREMENT_ORDER
                       if counts.get(status, 0)],
            "rows": rows,
        })
    return views


def _controls(data: PackData, control_rows: dict[str, str],
              finding_anchors: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for control in data.rollup.controls:
        definition = data.catalog.controls.get(control.id)
        kinds = [k.value for k in definition.kinds] if definition is not None else []
        rows.append({
            "id": control.id,
            "anchor": control_rows[control.id],
            "title": control.title,
            "verification": ", ".join(kinds) or "—",
            "status": chip(control.status.value),
            "reason": control.reason,
            "findings_anchor": finding_anchors.get(control.id),
        })
    return rows


# --- appendix ----------------------------------------------------------------------------------


def _appendix(data: PackData, caps: Caps) -> dict[str, Any]:
    info = data.catalog_info
    errors = []
    for repository in data.repositories:
        found = repository.result.errors
        if found:
            errors.append({
                "repository": repository.name,
                "total": len(found),
                "rows": [{"path": e.path, "reason": e.reason, "message": e.message,
                          "line": e.line} for e in found[: caps.scan_errors]],
                "more": max(0, len(found) - caps.scan_errors),
            })
    files = sorted(data.files.values()) if data.files else list(STANDARD_FILES)
    return {
        "environment": data.environment,
        "catalog": [
            ("version", info.version), ("custom catalog folders", "yes" if info.custom else "no"),
            ("digest", info.digest), ("controls digest", info.controls_digest),
            ("rules digest", info.rules_digest), ("mappings digest", info.mappings_digest),
            ("controls", str(info.controls)), ("rules", str(info.rules)),
        ],
        "framework_versions": [(key, version or "—") for key, version in
                               sorted(info.frameworks.items())],
        "files": files,
        "files_known": bool(data.files),
        "errors": errors,
        "caps": caps,
    }


# --- the whole report --------------------------------------------------------------------------


def report_view(data: PackData, caps: Caps = DEFAULT_CAPS) -> dict[str, Any]:
    control_rows = {c.id: f"c-{n}" for n, c in enumerate(data.rollup.controls, start=1)}
    ids = [c.id for c in data.rollup.controls]
    ids += sorted({cid for r in data.repositories for f in r.active_findings
                   for cid in f.control_ids} - set(ids))
    group_anchors = {cid: f"f-{n}" for n, cid in enumerate(ids, start=1)}
    full_list = (_file(data, "findings.json"), _file(data, "findings.sarif"))
    findings = findings_view(data, caps, group_anchors, full_list)
    finding_anchors = {g.id: g.anchor for g in findings.controls}
    frameworks = _frameworks(data, control_rows)
    appendix = _appendix(data, caps)
    toc = [
        ("summary", "Executive summary", [("legend", "Status legend")]),
        ("frameworks", "Framework requirements",
         [(f["anchor"], f["name"]) for f in frameworks]),
        ("controls", "Control status", []),
        ("findings", "Findings by control", []),
        ("selftest", "Governed-job control tests", []),
        ("ledger", "Audit ledger", []),
        ("exceptions", "Exceptions register and suppressions",
         [("exceptions-register", "Exceptions register"), ("suppressions", "Suppressions")]),
        ("attestations", "Attestations", []),
        ("vendors", "Vendor assessments", []),
        ("access", "Access review", []),
        ("appendix", "Appendix", [("environment", "Environment"), ("catalog", "Catalog"),
                                  ("files", "Machine-readable files"),
                                  ("scan-errors", "Scan errors")]),
    ]
    # A major section starts a new page; the short ones after it follow on the same page.
    minor = {"ledger", "attestations", "access"}
    sections = [{"id": i, "number": n, "title": t, "children": c, "major": i not in minor}
                for n, (i, t, c) in enumerate(toc, start=1)]
    return {
        "title": data.title,
        "multi": data.multi_repository,
        "toc": sections,
        "section": {s["id"]: s for s in sections},
        "cover": _cover(data),
        "summary": _summary(data, caps, finding_anchors),
        "legend": legend(),
        "legend_by_key": {style.key: chip(style.key) for style in STATUSES},
        "requirement_order": REQUIREMENT_ORDER,
        "exception_states": {state: chip(state, state)
                             for state in ("honoured", "expired", "incomplete")},
        "statuses": STATUSES,
        "severities": SEVERITIES,
        "severity_colours": SEVERITY_COLOURS,
        "frameworks": frameworks,
        "controls": _controls(data, control_rows, finding_anchors),
        "findings": findings,
        "selftest": selftest_view(data.selftest, data.policy),
        "ledger": ledger_view(data.ledger, caps),
        "exceptions": exceptions_view(data.exceptions),
        "suppressions": suppressions_view(data.suppressions, caps, data.multi_repository),
        "attestations": attestations_view(data.attestations),
        "vendors": vendors_view(data.vendors, caps),
        "access": access_view(data.access_review, caps),
        "appendix": appendix,
        "paths": {
            "vendors": _file(data, "vendors/assessments.json"),
            "access": _file(data, "governance/access-review.json"),
            "findings": _file(data, "findings.json"),
        },
    }
