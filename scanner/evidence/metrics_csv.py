"""`qgov ledger metrics --format csv`: the telemetry as one long table (metric, item, value).

Flattened from :meth:`Metrics.to_json`, so the CSV cannot drift from the JSON: nested keys
become a dotted metric name (``jobs.success_rate``, ``approvals.latency.grant_to_use.p95_ms``)
and list entries are keyed by what names them (a reason code, a project, an exception id) in
the ``item`` column; an empty section is one row with the value ``none``. Like the query
CSV, every row carries the ledger's verdict, so a spreadsheet never shows a number without
what it rests on."""

from __future__ import annotations

import csv
import io
from typing import Any

from scanner.evidence.metrics import Metrics
from scanner.evidence.render import csv_cell

COLUMNS = ("ledger_verdict", "verified", "metric", "item", "value")
# Where the answer comes from, not telemetry: the verdict columns already say it.
_NOT_METRICS = ("warning", "ledger", "verification", "reading")
# The field that names a list entry, first found.
_ITEM_KEYS = ("code", "project", "id", "subject", "reviewer")


def _flatten(prefix: str, item: str, value: Any, rows: list[tuple[str, str, Any]]) -> None:
    if isinstance(value, dict | list) and not value:
        rows.append((prefix, item, "none"))  # an empty section still has its row
    elif isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, inner, rows)
    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
        for index, entry in enumerate(value):
            key = next((k for k in _ITEM_KEYS if k in entry), None)
            name = str(entry[key]) if key is not None else str(index)
            rest = {k: v for k, v in entry.items() if k != key}
            _flatten(prefix, f"{item}/{name}" if item else name, rest, rows)
    elif isinstance(value, list):
        rows.append((prefix, item, " ".join(str(v) for v in value)))
    else:
        rows.append((prefix, item, value))


def metrics_rows(result: Metrics) -> list[tuple[str, str, Any]]:
    """(metric, item, value) for every number and name the JSON form holds."""
    document = result.to_json()
    rows: list[tuple[str, str, Any]] = []
    for key, value in document.items():
        if key not in _NOT_METRICS:
            _flatten(key, "", value, rows)
    return rows


def metrics_csv(result: Metrics) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    verdict = csv_cell(result.verification.report.verdict)
    verified = csv_cell(result.intact)
    for metric, item, value in metrics_rows(result):
        writer.writerow([verdict, verified, csv_cell(metric), csv_cell(item), csv_cell(value)])
    return out.getvalue()
