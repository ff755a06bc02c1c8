"""HTML for ``qgov vendor assess`` and ``qgov vendor compare``: Jinja2 templates from
``report_templates/`` (``vendor_*.html`` and ``vendor.css``), autoescaped, with the CSS inlined
and a content security policy that forbids every fetch, so the file opens offline and a
vendor name such as ``<script>`` stays text.

Templates receive plain view data built here (strings, numbers, lists), never models: what a
template can print is decided in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from scanner import __version__
from scanner.model import printable
from scanner.paths import data_dir
from scanner.vendors.assess import Assessment, Outcome
from scanner.vendors.compare import Comparison, Summary, Verdict, summarize
from scanner.vendors.report_text import SEVERITY_LETTER, VENDOR_KEYS, Symbols
from scanner.vendors.requirement_table import FAMILIES
from scanner.vendors.requirements import Status

_VERDICT_CLASS = {
    Verdict.APPROVABLE: "verdict-approvable",
    Verdict.WITH_CONTROLS: "verdict-with-controls",
    Verdict.NOT_APPROVABLE: "verdict-not-approvable",
}
_SYMBOLS = Symbols()


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(data_dir("report_templates"))),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _t(value: str) -> str:
    return printable(value, path=False)


def _link(text: str) -> dict[str, str | None]:
    """A source shown as a link only when it is a plain web address."""
    href = text if text.startswith(("https://", "http://")) and " " not in text else None
    return {"text": _t(text), "href": href}


def _cls(status: Status, severity: Any) -> str:
    if status is Status.MET:
        return "st-met"
    if status is Status.NOT_NEEDED or severity is None:
        return "st-not-needed"
    extra = " st-not-stated" if status is Status.NOT_STATED else ""
    return f"sev-{severity.value}{extra}"


def _mark(status: Status, severity: Any) -> str:
    letter = SEVERITY_LETTER[severity] if severity is not None else ""
    return f"{_SYMBOLS.status(status)}{letter}"


def _vendor(key: str, assessment: Assessment, summary: Summary) -> dict[str, Any]:
    vendor = assessment.vendor
    return {
        "key": key,
        "name": _t(vendor.name),
        "product": _t(vendor.product) if vendor.product else "",
        "profile_date": vendor.profile_date.isoformat() if vendor.profile_date else "",
        "fictional": vendor.fictional,
        "regions": [_t(r) for r in assessment.regions],
        "source": printable(assessment.source),
        "sources": [_link(s) for s in vendor.sources or ()],
        "data": ", ".join(d.value for d in assessment.data) or "none declared",
        "verdict": summary.verdict.value,
        "verdict_class": _VERDICT_CLASS[summary.verdict],
        "score": summary.score,
        "met": summary.met,
        "applicable": summary.applicable,
        "blocking": len(summary.blocking),
        "to_record": len(summary.to_record) - len(summary.blocking),
    }


def _gap(outcome: Outcome) -> dict[str, Any]:
    assert outcome.severity is not None
    risk = outcome.risk
    return {
        "cls": _cls(outcome.status, outcome.severity),
        "severity": outcome.severity.value,
        "status": "not stated" if outcome.status is Status.NOT_STATED else "gap",
        "title": outcome.title,
        "detail": _t(outcome.detail),
        "question": outcome.question,
        "fields": list(outcome.fields),
        "line": outcome.line,
        "rule_id": outcome.rule_id,
        "controls": list(outcome.controls),
        "frameworks": [(key, list(ids)) for key, ids in outcome.frameworks.items()],
        "compensating": list(outcome.compensating),
        "risk": None if risk is None else {
            "id": risk.id,
            "title": _t(risk.title),
            "owner": risk.owner,
            "severity": risk.severity.value,
            "review_date": risk.review_date.isoformat(),
            "treatment": _t(risk.treatment),
            "description": _t(risk.description),
        },
    }


def _common(assessments: Sequence[Assessment]) -> dict[str, Any]:
    first = assessments[0]
    data = sorted({d.value for a in assessments for d in a.data})
    return {
        "version": __version__,
        "tier": first.tier.value,
        "today": first.today.isoformat(),
        "data": ", ".join(data) or "none declared",
    }


def render_assessments_html(assessments: Sequence[Assessment]) -> str:
    vendors = []
    for assessment in assessments:
        view = _vendor("", assessment, summarize(assessment))
        view["gaps"] = [_gap(o) for o in assessment.gaps]
        view["met_titles"] = [o.title for o in assessment.outcomes if o.status is Status.MET]
        view["not_needed_titles"] = [
            o.title for o in assessment.outcomes if o.status is Status.NOT_NEEDED
        ]
        vendors.append(view)
    template = _environment().get_template("vendor_assess.html")
    return template.render(vendors=vendors, **_common(assessments))


def render_comparison_html(comparison: Comparison) -> str:
    assessments = comparison.assessments
    keys = [VENDOR_KEYS[i % len(VENDOR_KEYS)] for i in range(len(assessments))]
    vendors = [
        _vendor(key, a, s)
        for key, a, s in zip(keys, assessments, comparison.summaries, strict=True)
    ]
    families = []
    for family in FAMILIES:
        rows = [
            {
                "title": row.title,
                "question": row.question,
                "cells": [
                    {
                        "cls": _cls(c.status, c.severity),
                        "mark": _mark(c.status, c.severity),
                        "value": _t(c.short),
                        "detail": _t(c.detail),
                    }
                    for c in row.cells
                ],
            }
            for row in comparison.rows
            if row.family == family
        ]
        families.append({"name": family, "rows": rows})
    decisions = []
    for key, assessment, summary in zip(keys, assessments, comparison.summaries, strict=True):
        blocking = [o for o in assessment.gaps if o.blocking]
        to_record = [o for o in assessment.gaps if not o.blocking and o.risk is not None]
        shown = blocking or to_record
        heading = (
            "blocked by:" if blocking
            else "record in the risk register with compensating controls:" if to_record
            else ""
        )
        decisions.append({
            "key": key,
            "name": _t(assessment.vendor.name),
            "verdict": summary.verdict.value,
            "verdict_class": _VERDICT_CLASS[summary.verdict],
            "heading": heading,
            "gaps": [
                {
                    "cls": _cls(o.status, o.severity),
                    "mark": _mark(o.status, o.severity),
                    "title": o.title,
                    "detail": _t(o.detail),
                }
                for o in shown
            ],
            "rest": len(to_record) if blocking else 0,
        })
    template = _environment().get_template("vendor_compare.html")
    return template.render(vendors=vendors, families=families, decisions=decisions,
                           **_common(assessments))
