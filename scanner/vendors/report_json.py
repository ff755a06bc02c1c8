"""JSON for ``qgov vendor assess`` and ``qgov vendor compare``: one object, keys in a fixed
order, so the same inputs give the same bytes.

- assess:  ``{"tool", "kind": "vendor-assessment", "tier", "today", "verdict_rule",
  "assessments": [{"source", "vendor", "data", "regions", "summary", "outcomes",
  "risk_register"}]}``
- compare: ``{"tool", "kind": "vendor-comparison", "tier", "today", "verdict_rule",
  "vendors": [{"key", "source", "vendor", "data", "regions", "summary"}],
  "rows": [{"requirement", "family", "title", "question", "cells": [{"vendor", "status",
  "severity", "value", "detail"}]}]}``
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from scanner import __version__
from scanner.vendors.assess import Assessment, Outcome
from scanner.vendors.compare import Comparison, Summary, summarize
from scanner.vendors.report_text import VENDOR_KEYS

VERDICT_RULE = (
    "not approvable: any gap or unanswered question rated high or critical at the tier; "
    "approvable with compensating controls: none of those, but at least one rated medium; "
    "approvable: nothing rated above low"
)


def _tool() -> dict[str, str]:
    return {"name": "qgov", "version": __version__}


def _summary(summary: Summary) -> dict[str, Any]:
    data = summary.model_dump(mode="json")
    data["by_severity"] = {
        s.value: summary.by_severity[s]
        for s in sorted(summary.by_severity, key=lambda s: -s.rank)
    }
    return data


def _outcome(outcome: Outcome) -> dict[str, Any]:
    data = outcome.model_dump(mode="json", exclude={"risk"})
    data["frameworks"] = {key: list(ids) for key, ids in outcome.frameworks.items()}
    return data


def _vendor(assessment: Assessment) -> dict[str, Any]:
    return {
        "source": assessment.source,
        "vendor": assessment.vendor.model_dump(mode="json"),
        "data": [d.value for d in assessment.data],
        "regions": list(assessment.regions),
    }


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def render_assessments_json(assessments: Sequence[Assessment]) -> str:
    first = assessments[0]
    return _dump({
        "tool": _tool(),
        "kind": "vendor-assessment",
        "tier": first.tier.value,
        "today": first.today.isoformat(),
        "verdict_rule": VERDICT_RULE,
        "assessments": [
            {
                **_vendor(a),
                "summary": _summary(summarize(a)),
                "outcomes": [_outcome(o) for o in a.outcomes],
                "risk_register": [r.model_dump(mode="json") for r in a.risks],
            }
            for a in assessments
        ],
    })


def render_comparison_json(comparison: Comparison) -> str:
    keys = [VENDOR_KEYS[i % len(VENDOR_KEYS)] for i in range(len(comparison.assessments))]
    return _dump({
        "tool": _tool(),
        "kind": "vendor-comparison",
        "tier": comparison.tier.value,
        "today": comparison.today.isoformat(),
        "verdict_rule": VERDICT_RULE,
        "vendors": [
            {"key": key, **_vendor(a), "summary": _summary(s)}
            for key, a, s in zip(keys, comparison.assessments, comparison.summaries, strict=True)
        ],
        "rows": [
            {
                "requirement": row.requirement,
                "family": row.family,
                "title": row.title,
                "question": row.question,
                "cells": [
                    {
                        "vendor": key,
                        "status": cell.status.value,
                        "severity": cell.severity.value if cell.severity else None,
                        "value": cell.short,
                        "detail": cell.detail,
                    }
                    for key, cell in zip(keys, row.cells, strict=True)
                ],
            }
            for row in comparison.rows
        ],
    })
