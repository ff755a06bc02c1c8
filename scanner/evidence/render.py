"""Rendering answers for people: text tables and CSV (JSON is each result's ``to_json``).

Everything printed comes from the ledger, and a damaged ledger can hold anything: control and
format characters (terminal escapes, bidi overrides) are shown as ``\\u`` escapes, and a CSV
cell that a spreadsheet would run as a formula (leading ``= + - @``, tab or CR) is prefixed
with ``'``. Values the ledger stored scrubbed (``scrubbed:<kind>:<sha256>``) or as hashes are
printed as stored.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from scanner.evidence.job_row import JobRow
from scanner.evidence.metrics import Metrics
from scanner.evidence.query import QueryResult
from scanner.evidence.reading import LedgerEvent

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
UNVERIFIED_MARK = "!"


def clean(value: object) -> str:
    """``value`` as one line of harmless text."""
    if value is None:
        return "-"
    text = str(value)
    if text.isprintable():
        return text
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in text
    )


def csv_cell(value: object) -> str:
    text = "" if value is None else clean(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _short(digest: object, length: int = 12) -> str:
    return clean(digest)[:length] if isinstance(digest, str) else "-"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    body = [list(r) for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(headers)]
    render = [headers, *body]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in render]


def header_lines(result: QueryResult | Metrics) -> list[str]:
    """The verification verdict first: an answer never hides what it rests on."""
    ver = result.verification
    lines = []
    warning = result.warning()
    if warning is not None:
        lines.append(clean(warning))
        for problem in ver.report.problems[:10]:
            where = " ".join(
                p
                for p in (
                    f"line {problem.line}" if problem.line is not None else "",
                    f"(seq {problem.seq})" if problem.seq is not None else "",
                )
                if p
            )
            lines.append(f"  {where or 'ledger'}: {problem.kind}: {clean(problem.message)}")
        if len(ver.report.problems) > 10:
            lines.append(f"  ... and {len(ver.report.problems) - 10} more problem(s)")
    lines.append(clean(ver.headline()))
    lines += [f"  note: {clean(n)}" for n in result.stats.notes()]
    return lines


# -- query --------------------------------------------------------------------------------------


def _approvals(row: JobRow) -> list[str]:
    used = [*row.approvals, *(e["approval"] for e in row.exports if e.get("approval"))]
    out = []
    for approval in used:
        who = approval.get("approver") if approval.get("granted") else "NOT GRANTED"
        out.append(f"{clean(approval.get('id'))} ({clean(approval.get('action'))}, {clean(who)})")
    return out


def _exports(row: JobRow) -> str:
    if not row.exports:
        return "-"
    return ",".join(clean(e.get("decision")) for e in row.exports)


def _dataset(row: JobRow) -> str:
    ds = row.dataset
    if not ds:
        return "-"
    digest = ds.get("actual_sha256") or ds.get("sha256")
    return f"{clean(ds.get('name'))} {clean(ds.get('version'))} {_short(digest)}"


def _when(stamp: object) -> str:
    """A ledger time to the second, for tables (JSON and CSV keep it whole)."""
    text = clean(stamp)
    return text[:19] + "Z" if len(text) > 20 and text.endswith("Z") and text[10] == "T" else text


def _why(row: JobRow) -> str:
    parts = []
    if row.reason_codes:
        parts.append(",".join(clean(c) for c in dict.fromkeys(row.reason_codes)))
    parts.extend(
        "export: " + ",".join(clean(c) for c in export["reasons"])
        for export in row.exports
        if export.get("decision") != "allow" and export.get("reasons")
    )
    approvals = _approvals(row)
    if approvals:
        parts.append("approved: " + "; ".join(approvals))
    if row.alerts:
        parts.append("alert: " + ",".join(clean(a) for a in row.alerts))
    return " | ".join(parts) or "-"


def query_text(result: QueryResult) -> list[str]:
    lines = header_lines(result)
    lines.append(f"filters: {clean(result.filters.describe())}")
    lines += [f"note: {clean(n)}" for n in result.notes]
    if result.mode == "events":
        return lines + _events_text(result)
    summary = result.summary()
    if not result.jobs:
        return [*lines, "no job matches"]
    by_decision = summary["by_decision"]
    status = ", ".join(f"{n} {s}" for s, n in summary["by_status"].items())
    lines.append(
        f"{summary['jobs']} job(s) from {summary['subjects']} subject(s): "
        f"{by_decision.get('allow', 0)} allowed, {by_decision.get('deny', 0)} refused ({status}); "
        f"exports: {summary['exports']['allow']} allowed, {summary['exports']['deny']} refused"
    )
    marked = any(not r.verified for r in result.jobs)
    headers = [
        "SUBMITTED (UTC)",
        "WHO",
        "PROJECT",
        "ENV",
        "BACKEND",
        "DATASET (name version sha256)",
        "DECISION",
        "RESULT",
        "EXPORT",
        "JOB",
        "REASONS / APPROVALS",
    ]
    rows = []
    for row in result.jobs:
        who = clean(row.subject)
        if row.identity_verified is False:
            who += " (unverified)"
        rows.append(
            [
                (UNVERIFIED_MARK if not row.verified else "") + _when(row.submitted_at),
                who,
                clean(row.project),
                clean(row.environment),
                clean(row.backend),
                _dataset(row),
                clean(row.decision),
                clean(row.status),
                _exports(row),
                clean(row.job_name),
                _why(row),
            ]
        )
    lines += ["", *table(headers, rows)]
    if marked:
        lines.append(f"{UNVERIFIED_MARK}: the row rests on events verification does not vouch for")
    return lines


def _event_fields(event: LedgerEvent) -> list[str]:
    data = event.data
    reasons = data.get("reasons")
    codes = (
        ",".join(clean(r.get("code")) for r in reasons if isinstance(r, dict))
        if isinstance(reasons, list)
        else ""
    )
    approval = data.get("approval")
    if isinstance(approval, dict):
        approval = approval.get("id")
    return [
        clean(event.seq),
        _when(event.body.get("ts")),
        clean(event.type),
        clean(event.decision),
        clean(event.actor.get("subject")),
        clean(event.job_id),
        clean(event.subject.get("project")),
        clean(event.subject.get("backend") or data.get("backend")),
        clean(approval),
        codes or "-",
    ]


EVENT_HEADERS = [
    "SEQ",
    "TIME (UTC)",
    "TYPE",
    "DECISION",
    "ACTOR",
    "JOB ID",
    "PROJECT",
    "BACKEND",
    "APPROVAL",
    "REASONS",
]


def _events_text(result: QueryResult) -> list[str]:
    if not result.events:
        return ["no event matches"]
    rows = []
    for event in result.events:
        fields = _event_fields(event)
        fields[0] = (UNVERIFIED_MARK if not event.verified else "") + fields[0]
        rows.append(fields)
    lines = [f"{len(result.events)} event(s)", "", *table(EVENT_HEADERS, rows)]
    if any(not e.verified for e in result.events):
        lines.append(f"{UNVERIFIED_MARK}: an event verification does not vouch for")
    return lines


JOB_COLUMNS = [
    "verified",
    "submitted_at",
    "job_id",
    "job_name",
    "subject",
    "identity_kind",
    "identity_verified",
    "issuer",
    "source_channel",
    "source_host",
    "source_user",
    "policy_id",
    "policy_version",
    "policy_sha256",
    "project",
    "environment",
    "backend",
    "role",
    "shots",
    "dataset_name",
    "dataset_version",
    "dataset_classification",
    "dataset_sha256",
    "dataset_actual_sha256",
    "circuit_sha256",
    "spec_sha256",
    "decision",
    "decision_id",
    "reason_codes",
    "approvals",
    "status",
    "executed_at",
    "time_to_result_ms",
    "record_id",
    "record_sha256",
    "counts_sha256",
    "provider",
    "device",
    "provider_job_id",
    "exports",
    "alerts",
    "compliance",
    "ledger_seqs",
]


def _job_cells(row: JobRow) -> list[object]:
    ds, src, pol = row.dataset, row.source, row.policy
    return [
        row.verified,
        row.submitted_at,
        row.job_id,
        row.job_name,
        row.subject,
        row.actor_kind,
        row.identity_verified,
        row.issuer,
        src.get("channel"),
        src.get("host"),
        src.get("os_user"),
        pol.get("id"),
        pol.get("version"),
        pol.get("sha256"),
        row.project,
        row.environment,
        row.backend,
        row.role,
        row.shots,
        ds.get("name"),
        ds.get("version"),
        ds.get("classification"),
        ds.get("sha256"),
        ds.get("actual_sha256"),
        row.circuit_sha256,
        row.spec_sha256,
        row.decision,
        row.decision_id,
        " ".join(row.reason_codes),
        "; ".join(_approvals(row)),
        row.status,
        row.executed_at,
        row.time_to_result_ms,
        row.record_id,
        row.record_sha256,
        row.counts_sha256,
        row.provider,
        row.device,
        row.provider_job_id,
        " ".join(
            f"{e.get('decision')}:{' '.join(e.get('reasons') or []) or '-'}" for e in row.exports
        ),
        " ".join(row.alerts),
        row.compliance,
        " ".join(str(s) for s in row.seqs),
    ]


def query_csv(result: QueryResult) -> str:
    """One row per job (or event); the verification verdict is a column of every row, so a
    spreadsheet never shows answers without it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    verdict = result.verification.report.verdict
    if result.mode == "events":
        writer.writerow(["ledger_verdict", *(h.lower().replace(" ", "_") for h in EVENT_HEADERS),
                         "verified"])
        for event in result.events:
            writer.writerow(
                [csv_cell(verdict), *(csv_cell(c) for c in _event_fields(event)),
                 csv_cell(event.verified)]
            )
        return out.getvalue()
    writer.writerow(["ledger_verdict", *JOB_COLUMNS])
    for row in result.jobs:
        writer.writerow([csv_cell(verdict), *(csv_cell(c) for c in _job_cells(row))])
    return out.getvalue()


# -- metrics ------------------------------------------------------------------------------------


def _ms(value: int | None) -> str:
    if value is None:
        return "-"
    if value < 1000:
        return f"{value} ms"
    if value < 120_000:
        return f"{value / 1000:.1f} s"
    if value < 7_200_000:
        return f"{value / 60_000:.1f} min"
    return f"{value / 3_600_000:.1f} h"


def _spread(stats: dict[str, Any]) -> str:
    if not stats["count"]:
        return "none measured"
    return (
        f"median {_ms(stats['median_ms'])}, p95 {_ms(stats['p95_ms'])}, "
        f"max {_ms(stats['max_ms'])} ({stats['count']})"
    )


def metrics_text(result: Metrics) -> list[str]:
    doc = result.to_json()
    lines = header_lines(result)
    window = doc["events_in_window"]
    span = (
        f"{_when(window['first'])} .. {_when(window['last'])}" if window["first"] else "none"
    )
    as_of = doc["window"]["as_of"]
    lines.append(f"window: {result.window.describe()} (events {span}); as of {as_of}")
    if result.unverified_events_used:
        lines.append(f"  {result.unverified_events_used} counted event(s) are not verified")
    jobs = doc["jobs"]
    rate = jobs["success_rate"]
    lines += [
        "",
        f"jobs:                {jobs['submitted']} submitted: {jobs['allowed']} allowed, "
        f"{jobs['refused']} refused",
        "job success rate:    "
        + ("- (no allowed job)" if rate is None else f"{rate * 100:.1f} %")
        + f" ({jobs['completed']} completed / {jobs['allowed']} allowed; {jobs['failed']} failed,"
        f" {jobs['not_run']} not run)",
        f"time to result:      {_spread(doc['time_to_result'])} (decision -> job.executed)",
    ]
    approvals = doc["approvals"]
    latency = approvals["latency"]
    lines += [
        f"approvals:           {approvals['granted']} granted, {approvals['refused']} refused, "
        f"{approvals['used']} used, {approvals['unused']} unused "
        f"({approvals['expired_unused']} expired unused)",
        f"approval latency:    request -> grant: {_spread(latency['request_to_grant'])}",
        f"                     grant -> use:     {_spread(latency['grant_to_use'])}",
    ]
    denials = doc["denials"]
    if not denials:
        lines.append("denials by reason:   none")
    else:
        lines.append("denials by reason:")
        for kind, entry in denials.items():
            codes = ", ".join(f"{clean(d['code'])} {d['count']}" for d in entry["by_reason"])
            lines.append(f"  {kind:<8} {entry['requests']:>5} refused: {codes}")
    revoked = ", ".join(f"{k} {v}" for k, v in doc["revocations_hit"].items()) or "none"
    exports = doc["exports"]
    lines += [
        f"token replays:       {doc['token_replays_refused']} refused",
        f"revocations hit:     {revoked}",
        f"exports:             {exports.get('allowed', 0)} allowed, {exports.get('refused', 0)} "
        "refused",
        "cost anomalies:      "
        + (", ".join(f"{clean(k)} {v}" for k, v in doc["cost_anomalies"].items()) or "none"),
    ]
    reviews = doc["access_reviews"]
    latest = reviews["latest"][-1] if reviews["latest"] else None
    lines.append(
        f"access reviews:      {reviews['recorded']} recorded"
        + (
            f" (latest {clean(latest['at'])} by {clean(latest['reviewer'])}: "
            f"{clean(latest['outcome'])})"
            if latest
            else ""
        )
    )
    exceptions = doc["exceptions"]
    if exceptions is None:
        lines.append("exceptions:          - (pass --policy to read the exceptions register)")
    else:
        active = ", ".join(
            f"{clean(e['id'])} ({clean(e['control'])}, until {clean(e['expires'] or 'open-ended')})"
            for e in exceptions["entries"]["in_force"]
        )
        lines.append(
            f"exceptions:          {exceptions['in_force']} in force, {exceptions['expired']} "
            f"expired" + (f": {active}" if active else "")
        )
    quota = doc["quota"]
    lines.append(f"quota use:           {clean(quota['basis'])}")
    for entry in quota["projects"]:
        lines.append("  " + _quota_line(entry))
    if not quota["projects"]:
        lines.append("  none")
    return lines


def _quota_line(entry: dict[str, Any]) -> str:
    name = clean(entry["project"])
    limits = entry.get("quota")
    used = f"{entry['shots']:,} shots, {entry['cost_units']:,} cost units, {entry['jobs']} job(s)"
    if not limits:
        suffix = " (not in the policy)" if entry.get("not_in_policy") else ""
        return f"{name}: {used}{suffix}"
    parts = []
    for unit, key in (("shots", "shots_used_percent"), ("cost units", "cost_units_used_percent")):
        limit = limits["shots" if unit == "shots" else "cost_units"]
        used_value = entry["shots" if unit == "shots" else "cost_units"]
        if limit:
            parts.append(f"{used_value:,} / {limit:,} {unit} ({entry[key]} %)")
        else:
            parts.append(f"{used_value:,} {unit} (no quota)")
    since = f" since {entry['period_start']}" if entry.get("period_start") else ""
    return f"{name} ({entry['period']}{since}): " + ", ".join(parts) + f", {entry['jobs']} job(s)"
