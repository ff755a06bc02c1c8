"""Baselines: a committed list of fingerprints a team has accepted on adoption day.

The file holds fingerprints, rule ids and paths only — never evidence or secrets — so it is
safe to commit. Fingerprints carry no line numbers, so the baseline survives edits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from scanner.fs import FileRefused, read_user_file
from scanner.model import Finding, Suppression, SuppressionKind

BASELINE_VERSION = 1


class BaselineError(Exception):
    pass


def baseline_document(findings: Iterable[Finding], tool_version: str) -> dict[str, object]:
    entries = sorted(
        {(f.fingerprint, f.rule_id, f.path) for f in findings if not f.suppressed},
        key=lambda e: (e[2], e[1], e[0]),
    )
    return {
        "qgov_baseline": BASELINE_VERSION,
        "tool_version": tool_version,
        "findings": [
            {"fingerprint": fp, "rule_id": rule, "path": path} for fp, rule, path in entries
        ],
    }


# A baseline holds hashes and paths; tens of thousands of entries stay far below this.
MAX_BASELINE_BYTES = 64 * 1024 * 1024


def load_baseline(path: Path) -> frozenset[str]:
    try:
        raw = read_user_file(path, max_bytes=MAX_BASELINE_BYTES, what="baseline")
        data = json.loads(raw.decode("utf-8"))
    except FileRefused as exc:
        raise BaselineError(exc.message) from exc
    except UnicodeDecodeError as exc:
        raise BaselineError(f"{path}: baseline is not UTF-8 JSON text") from exc
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: baseline is not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise BaselineError(f"{path}: baseline is nested too deeply") from exc
    if not isinstance(data, dict) or data.get("qgov_baseline") != BASELINE_VERSION:
        raise BaselineError(f"{path}: not a qgov baseline file (version {BASELINE_VERSION})")
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: 'findings' must be a list")
    fingerprints = set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise BaselineError(f"{path}: every entry needs a 'fingerprint' string")
        fingerprints.add(entry["fingerprint"])
    return frozenset(fingerprints)


def apply_baseline(findings: Iterable[Finding], fingerprints: frozenset[str]) -> list[Finding]:
    marked = Suppression(kind=SuppressionKind.BASELINE, reason="accepted in baseline")
    return [
        f.model_copy(update={"suppression": marked})
        if not f.suppressed and f.fingerprint in fingerprints
        else f
        for f in findings
    ]
