"""The evidence sections of the report: governed-job control tests, the audit ledger (its
verification, metrics and jobs) and attestations, as plain view data for the templates.

The ledger's metrics and jobs are open JSON (``qgov ledger metrics`` / ``query``); they are
rendered generically: nested mappings flattened into labelled rows, lists capped, so a
field added later still shows without a template change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from scanner.pack.caps import Caps
from scanner.pack.legend import chip
from scanner.pack.model import AttestationSection, LedgerSection, SelftestSection

# --- governed-job control tests ----------------------------------------------------------------


def _tested_policy(section: SelftestSection,
                   pack_policy: tuple[str, str] | None) -> dict[str, Any]:
    """Which policy the control tests ran against, said so that the built-in demo policy is
    never mistaken for the organisation's, and whether it is the pack's ``--policy``."""
    assert section.evidence is not None
    tested = section.evidence.policy
    if tested is None:
        return {"kind": "unknown"}
    same = None
    if pack_policy is not None and tested.sha256:
        same = tested.sha256 == pack_policy[1]
    return {
        "kind": "demo" if tested.built_in else "organisation",
        "id": tested.id,
        "version": tested.version,
        "sha256": tested.sha256,
        "pack_policy": pack_policy[0] if pack_policy else None,
        "same_as_pack_policy": same,
    }


def selftest_view(section: SelftestSection,
                  pack_policy: tuple[str, str] | None = None) -> dict[str, Any]:
    """The control-test results; ``pack_policy`` (shown path, SHA-256) is the organisation
    policy given to the pack, compared with the one the tests ran against."""
    evidence = section.evidence
    if evidence is None:
        return {"present": False, "why_missing": section.why_missing or "not given"}
    checks = [
        {
            "id": check.id,
            "title": check.title,
            "controls": list(check.control_ids),
            "status": chip(check.status, "passed" if check.status == "pass" else "failed"),
            "detail": check.detail,
        }
        for check in evidence.checks
    ]
    failed = sum(1 for check in evidence.checks if check.status == "fail")
    return {
        "present": True,
        "origin": section.origin or str(evidence.path),
        "how": {"given": "given with --selftest", "run": "run by qgov report against --policy"}
        .get(section.how or "", "given"),
        "pack_path": section.pack_path,
        "sha256": evidence.sha256,
        "generated_at": evidence.generated_at,
        "version": evidence.version,
        "total": len(checks),
        "failed": failed,
        "policy": _tested_policy(section, pack_policy),
        "checks": checks,
    }


# --- the ledger --------------------------------------------------------------------------------

_FACTS = (
    ("ledger_id", "ledger id"),
    ("format", "format"),
    ("events", "events"),
    ("last_seq", "last sequence number"),
    ("signed_through", "signed through sequence number"),
    ("unsigned_events", "events not covered by a signature"),
    ("head_status", "signed head"),
    ("checkpoints", "checkpoints"),
    ("checkpoints_verified", "checkpoints verified"),
    ("head_hash", "head hash"),
)
# Shown elsewhere in the section (or the ledger's own path, or how it was read): not repeated
# among the metrics. ``warning`` is always None: metrics are only taken from a verified ledger.
# The window and the time of the answers are facts of the section instead.
_METRICS_SKIPPED = ("warning", "verification", "ledger", "reading", "window",
                    "events_in_window")
# An ISO time's fraction of a second, left out on the page (the files keep it).
_FRACTION = re.compile(r"(\d{2}:\d{2}:\d{2})\.\d{1,9}(Z|[+-]\d{2}:\d{2})")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
# The columns a jobs table prefers, when the rows have them (the rest is in jobs.csv): who
# ran what where with which data, the decision with its reasons, the outcome.
_JOB_COLUMNS = (
    ("job_id", "job"), ("submitted_at", "submitted"), ("who.subject", "who"),
    ("backend", "backend"), ("dataset", "dataset"), ("decision", "decision"),
    ("status", "status"), ("verified", "verified"),
)


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, str):
        value = _FRACTION.sub(r"\1\2", value)
        # "2026-11-29 12:00:00Z": a space lets a narrow column wrap between day and time.
        return value.replace("T", " ", 1) if _ISO_TIME.fullmatch(value) else value
    return str(value)


def _compact(value: Any, limit: int = 300) -> str:
    """A nested value as one short line of text: a mapping's ``key: value`` pairs, a list's
    items, cut at ``limit`` characters; empty ones "none"."""
    if not isinstance(value, dict | list):
        return _scalar(value)
    if not value:
        return "none"
    if isinstance(value, dict):
        text = ", ".join(f"{str(k).replace('_', ' ')}: {_compact(v, limit)}"
                         for k, v in value.items())
    elif all(not isinstance(v, dict | list) for v in value):
        text = ", ".join(_scalar(v) for v in value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + " …"


def _item(value: Any) -> str:
    return _compact(value)


def _cell(row: Mapping[str, Any], path: str) -> str:
    """A jobs-table cell: the dataset as name@version (classification), a decision with its
    reason codes."""
    value = _lookup(row, path)
    if path == "dataset" and isinstance(value, Mapping) and value.get("name"):
        version = f"@{value['version']}" if value.get("version") else ""
        kind = f" ({value['classification']})" if value.get("classification") else ""
        return f"{value['name']}{version}{kind}"
    reasons = row.get("reasons")
    if path == "decision" and value == "deny" and isinstance(reasons, list) and reasons:
        codes = [str(r.get("code")) for r in reasons if isinstance(r, Mapping)]
        return "deny: " + ", ".join(codes)
    return _compact(value, 120)


def _value(key: str, value: Any) -> str:
    if isinstance(value, float) and "rate" in key and 0 <= value <= 1:
        return f"{value * 100:.1f} %"
    return _compact(value)


def metric_rows(metrics: Mapping[str, Any], caps: Caps) -> list[dict[str, Any]]:
    """Rows of {group, label, values} from the metrics' JSON: mappings are walked (three
    levels deep), lists become capped lists of values, everything else one value."""
    rows: list[dict[str, Any]] = []
    limit = caps.metric_items * 2

    def walk(group: str, label: tuple[str, ...], value: Any, depth: int) -> None:
        shown = " › ".join(part.replace("_", " ") for part in label) or "value"
        if isinstance(value, dict) and value and depth < 3:
            for key, inner in list(value.items())[:limit]:
                walk(group, (*label, str(key)), inner, depth + 1)
            if len(value) > limit:
                rows.append({"group": group, "label": shown,
                             "values": [f"and {len(value) - limit} more"]})
        elif isinstance(value, list):
            items = [_item(v) for v in value[: caps.metric_items]]
            if len(value) > caps.metric_items:
                items.append(f"and {len(value) - caps.metric_items} more")
            rows.append({"group": group, "label": shown, "values": items or ["none"]})
        else:
            key = label[-1] if label else group
            # A number of its own (not inside a mapping): the area names it.
            rows.append({"group": group, "label": shown if label else "",
                         "values": [_value(key, value)]})

    for key, value in metrics.items():
        if key not in _METRICS_SKIPPED:
            walk(key.replace("_", " "), (), value, 0)
    return rows


def _lookup(row: Mapping[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _has(rows: Sequence[Mapping[str, Any]], path: str) -> bool:
    return any(_lookup(row, path) is not None for row in rows)


def jobs_table(jobs: Sequence[Mapping[str, Any]], caps: Caps) -> dict[str, Any]:
    shown = list(jobs[: caps.ledger_jobs])
    columns = [(path, label) for path, label in _JOB_COLUMNS if _has(shown, path)]
    if not columns:  # not the shape qgov ledger query writes: its first scalar fields
        keys: dict[str, None] = {}
        for row in shown:
            keys.update((k, None) for k, v in row.items() if not isinstance(v, dict | list))
        columns = [(k, k.replace("_", " ")) for k in list(keys)[:8]]
    return {
        "columns": [label for _, label in columns],
        "rows": [[_cell(row, path) for path, _ in columns] for row in shown],
        "total": len(jobs),
        "more": len(jobs) - len(shown),
    }


def _verdict_kind(section: LedgerSection) -> str:
    if not section.intact:
        return "bad"  # TAMPERED, UNREADABLE
    return "good" if section.verdict == "INTACT" else "qualified"


def ledger_view(section: LedgerSection | None, caps: Caps) -> dict[str, Any] | None:
    if section is None:
        return None
    verification = section.verification
    anchor = verification.get("trust_anchor") if isinstance(verification, dict) else None
    facts = [(label, _scalar(verification[key])) for key, label in _FACTS
             if key in verification]
    if isinstance(anchor, dict):
        facts.append(("trust anchor", f"{anchor.get('kind', '?')}: {anchor.get('source', '?')}"
                      + ("" if anchor.get("anchored") else " (not an anchor)")))
    metrics = section.metrics
    if isinstance(metrics, dict):
        window = metrics.get("window") or {}
        events = metrics.get("events_in_window") or {}
        if window.get("as_of"):
            facts.append(("metrics and jobs as of", _scalar(window["as_of"])))
        if events.get("first"):
            facts.append(("events answered from", f"{_scalar(events['first'])} to "
                          f"{_scalar(events.get('last'))} (the whole ledger)"))
    return {
        "origin": section.origin,
        "pack_path": section.pack_path,
        "verdict": section.verdict,
        "kind": _verdict_kind(section),
        "intact": section.intact,
        "facts": facts,
        "proven": list(section.proven),
        "not_proven": list(section.not_proven),
        "problems": list(section.problems[: caps.ledger_problems]),
        "problems_more": max(0, len(section.problems) - caps.ledger_problems),
        # Metrics and jobs are only ever from a ledger that verified (scanner.pack.evidence):
        # otherwise there are none, and this says why.
        "withheld": section.answers_withheld,
        "metrics": metric_rows(metrics, caps) if metrics else [],
        "jobs": jobs_table(section.jobs, caps) if section.jobs else None,
        "extra_files": list(section.extra_files),
    }


# --- attestations ------------------------------------------------------------------------------


def attestations_view(sections: Sequence[AttestationSection]) -> list[dict[str, Any]]:
    views = []
    for section in sections:
        records = []
        for record in section.records:
            entry = record.attestation.entry
            if record.current:
                state = chip("current", "current")
            elif record.lapsed:
                state = chip("lapsed", "lapsed")
            else:
                state = chip("not counted", "not counted")
            records.append({
                "control": entry.control,
                "statement": entry.statement,
                "owner": entry.owner,
                "date": entry.date.isoformat(),
                "next_review": entry.next_review.isoformat(),
                "line": record.attestation.line,
                "state": state,
                "why": record.state,
                "files": [
                    {"source": f.source, "pack_path": f.pack_path, "sha256": f.sha256,
                     "size": f.size, "problem": f.problem}
                    for f in record.files
                ],
            })
        views.append({
            "source": section.source,
            "sha256": section.sha256,
            "pack_path": section.pack_path,
            "repositories": list(section.repositories),
            "records": records,
            "current": sum(1 for r in section.records if r.current),
        })
    return views
