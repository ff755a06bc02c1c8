"""OSCAL 1.2.1 assessment results of one scan: ``render_oscal(report) -> str``.

The document is built as OSCAL's JSON and validated by compliance-trestle's pydantic models
(``trestle.oscal.assessment_results``) before it is written: a document the models refuse is
an error, never a file. trestle is imported only here, when an OSCAL report is asked for (it
takes about 0.35 s to import; bench/RESULTS.md). How it reads:

- ``metadata``: title naming the scanned roots; ``published``, ``last-modified`` and
  ``version`` are the report time (``SOURCE_DATE_EPOCH`` when set: a scan is one revision);
  ``oscal-version`` is trestle's (1.2.1, the schema's).
- ``import-ap``: qgov has no separate OSCAL assessment plan: its plan is the control catalog
  and rules. ``href`` is ``#<uuid>`` of a back-matter resource that describes that catalog
  (counts, SHA-256 of its content, tier, disabled rules) and says so.
- ``results[0]``: ``start``/``end`` (the scan's duration before the report time; both the
  pinned time when ``SOURCE_DATE_EPOCH`` or ``generated_at`` pins it), props with the tier
  and counts, qgov as the assessment tool (a ``software`` component in
  ``local-definitions.assessment-assets``, the actor of every origin), ``reviewed-controls``
  (every control that applies at the tier; not-applicable ones are excluded with their
  reason), ``observations`` and ``findings``/``risks`` (``observations.py``, ``findings.py``).
- Methods, after NIST SP 800-53A: a scan reads specifications and code without running
  them, which is ``EXAMINE`` (OSCAL's ``TEST`` is exercising a mechanism); the governed-job
  self-test exercises one, ``TEST``; an attestation is a person's statement, ``INTERVIEW``.
- Control ids are used as they are (``IAM-01``): qgov's ids (``^[A-Z]{2,5}-\\d{2,3}$``) are
  already OSCAL tokens, and the same id in every qgov output keeps them easy to match.
- qgov's own vocabulary (statuses OSCAL lacks such as accepted-risk, attested,
  control-test-passed and not-assessed; rule ids, fingerprints, severities) is in props with
  ``ns`` https://qgov.dev/ns/oscal.
- Text from scanned or user-supplied files (paths, messages, evidence, statements, owners)
  sits in Markdown code spans or is escaped, so no file name adds markup; hrefs are
  percent-encoded; evidence is the masked form findings already hold, never a secret.
- UUIDs are version 5: the document's from the report time, the scanned roots, the catalog
  and every control status and finding fingerprint; everything else's from the document's
  and what it stands for. The same scan at the same time gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from scanner import __version__
from scanner.catalog import Catalog
from scanner.clock import report_time, source_date_epoch
from scanner.model import printable
from scanner.reports.oscal.common import (
    OSCAL_NS,
    TOOL_TITLE,
    TOOL_UUID,
    Ids,
    code,
    compact,
    escaped,
    prop,
    props,
    stamp,
)
from scanner.reports.oscal.findings import control_findings, in_scope, reviewed_controls
from scanner.reports.oscal.observations import collect
from scanner.reports.report import ScanReport, skipped_count
from scanner.status.statuses import ControlStatus

__all__ = ["OSCAL_NS", "render_oscal"]


def render_oscal(report: ScanReport, *, generated_at: dt.datetime | None = None) -> str:
    """OSCAL assessment-results JSON (two-space indent, OSCAL's key order, a final newline).
    ``generated_at`` (an aware time) pins the report time; default now, or
    ``SOURCE_DATE_EPOCH`` when set."""
    # Imported here: trestle's models take a third of a second to load, and only this
    # report needs them.
    from trestle.oscal.assessment_results import AssessmentResults

    document = build_document(report, generated_at)
    # Validation only: the document is already in the form trestle's model dumps to (a test
    # holds the two equal), and dumping the model again costs more than building it.
    AssessmentResults.model_validate(document)
    return json.dumps({"assessment-results": document}, indent=2, ensure_ascii=False) + "\n"


def build_document(report: ScanReport, generated_at: dt.datetime | None = None) -> dict[str, Any]:
    pinned = generated_at is not None or source_date_epoch() is not None
    end = (generated_at or report_time()).replace(microsecond=0)
    start = end if pinned else end - dt.timedelta(seconds=round(report.result.duration_seconds))
    when = stamp(end)
    ids = Ids(_seed(report, when))
    evidence = collect(report, ids, when)
    findings, risks = control_findings(report.compliance, report.catalog, evidence, ids)
    catalog_resource = ids("resource", "catalog")
    roots = ", ".join(code(root) for root in report.result.roots) or "nothing"
    return {
        "uuid": ids.document,
        "metadata": {
            "title": f"qgov assessment results: {roots}",
            "published": when,
            "last-modified": when,
            "version": when,
            "oscal-version": _oscal_version(),
            "props": props(prop("tool", "qgov"), prop("tool-version", __version__)),
            "remarks": "Written by qgov from one scan. The qgov status of each control is "
            "in its finding's `status` prop (namespace " + OSCAL_NS + ").",
        },
        "import-ap": {
            "href": f"#{catalog_resource}",
            "remarks": "qgov follows no separate OSCAL assessment plan: the plan is its control "
            "catalog and rules, described by the back-matter resource this points to.",
        },
        "results": [_result(report, ids, start, end, evidence.observations, findings, risks,
                            roots)],
        "back-matter": {"resources": [_catalog_resource(report, catalog_resource),
                                      *evidence.resources]},
    }


def _result(
    report: ScanReport, ids: Ids, start: dt.datetime, end: dt.datetime,
    observations: list[dict[str, Any]], findings: list[dict[str, Any]],
    risks: list[dict[str, Any]], roots: str,
) -> dict[str, Any]:
    result = report.result
    status = report.compliance
    tier = result.coverage.tier.value if result.coverage else "unknown"
    counts = status.counts()
    shown = ", ".join(f"{n} {ControlStatus(key).label}" for key, n in counts.items() if n)
    return compact({
        "uuid": ids("result"),
        "title": f"qgov scan of {roots}",
        "description": (
            f"qgov read {result.files_scanned} files under {roots} as data (nothing in them "
            f"was run) and checked them against its control catalog at tier {tier}. "
            f"Controls: {shown or 'none'}. {len(in_scope(status))} controls apply at this "
            "tier and each has a finding; the rest are excluded from reviewed-controls as "
            "not applicable."
        ),
        "start": stamp(start),
        "end": stamp(end),
        "props": props(
            prop("tier", tier),
            prop("data-class", result.inventory.data_class or ""),
            prop("files-scanned", result.files_scanned),
            prop("files-excluded", result.files_excluded),
            prop("files-skipped", skipped_count(result)),
            prop("scan-errors", len(result.errors)),
            prop("findings-open", len(result.active_findings)),
            prop("findings-suppressed", len(result.findings) - len(result.active_findings)),
            *(prop("control-count", n, cls=key) for key, n in counts.items()),
        ),
        "local-definitions": {"assessment-assets": {
            "components": [{
                "uuid": TOOL_UUID,
                "type": "software",
                "title": "qgov",
                "description": "The compliance-as-code scanner that produced these results. "
                "It reads the scanned files as data and never runs them; a satisfied control "
                "means its rules ran without a finding, its self-test checks passed, or a "
                "current attestation covers it.",
                "props": props(prop("version", __version__)),
                "status": {"state": "operational"},
            }],
            "assessment-platforms": [{
                "uuid": ids("platform"),
                "title": TOOL_TITLE,
                "uses-components": [{"component-uuid": TOOL_UUID}],
            }],
        }},
        "reviewed-controls": reviewed_controls(status, tier),
        "observations": observations,
        "risks": risks,
        "findings": findings,
        "remarks": "What this does not claim: qgov saw only the files scanned (not running "
        "systems or cloud accounts), a rule that did not run proves nothing (those controls "
        "are not-satisfied with the reason), and an attestation is a person's word backed by "
        "hashed files.",
    })


def _catalog_resource(report: ScanReport, uid: str) -> dict[str, Any]:
    catalog = report.catalog
    coverage = report.result.coverage
    frameworks = ", ".join(f"{fw.name} ({key})" for key, fw in sorted(catalog.frameworks.items()))
    disabled = ", ".join(coverage.disabled_rules) if coverage and coverage.disabled_rules else ""
    return compact({
        "uuid": uid,
        "title": f"qgov control catalog ({TOOL_TITLE})",
        "description": (
            f"The plan these results follow: {len(catalog.controls)} controls and "
            f"{len(catalog.rules)} rules, mapped to {escaped(frameworks) or 'no framework'}. "
            "Each control names how it is verified: automated (scan rules that can fail it), "
            "control-test (a governed-job self-test check), attested (a person's statement "
            "with evidence) or not-assessed (nothing checks it yet)."
            + (f" Rules disabled in this scan: {escaped(disabled)}." if disabled else "")
        ),
        "props": props(
            prop("catalog-sha256", _catalog_digest(catalog)),
            prop("tier", coverage.tier.value if coverage else ""),
            *(prop("disabled-rule", rule) for rule in (coverage.disabled_rules if coverage
                                                        else ())),
        ),
    })


def _catalog_digest(catalog: Catalog) -> str:
    content = {
        "controls": [c.model_dump(mode="json") for c in catalog.controls.values()],
        "rules": [r.model_dump(mode="json") for r in catalog.rules.values()],
        "frameworks": [f.model_dump(mode="json") for f in catalog.frameworks.values()],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _seed(report: ScanReport, when: str) -> str:
    """What makes this document this one: the time, what was scanned, against which
    catalog, and what was found."""
    status = report.compliance
    content = {
        "time": when,
        "roots": [printable(root) for root in report.result.roots],
        "catalog": _catalog_digest(report.catalog),
        "controls": [[r.control.id, r.status.value, r.reason] for r in status.controls],
        "findings": [[f.fingerprint, f.line, f.suppressed] for f in report.result.findings],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _oscal_version() -> str:
    from trestle.oscal import OSCAL_VERSION

    return str(OSCAL_VERSION)
