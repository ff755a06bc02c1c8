"""Baselines: a committed list of fingerprints a team has accepted on adoption day.

The file holds fingerprints, rule ids and paths only — never evidence or secrets — so it is
safe to commit. Fingerprints carry no line numbers, so the baseline survives edits.

An entry may also say who accepted it and until when (SDL-04): ``owner``, ``reason`` and
``expires`` (YYYY-MM-DD, valid through that day). An entry past its expiry suppresses
nothing: its finding is reported again, with a notice naming the entry. ``qgov baseline
create`` over an existing file keeps these three fields for every fingerprint still found
(and drops entries whose finding is gone); ``update`` adds new findings and drops nothing;
``prune`` drops entries whose finding is gone and adds nothing; ``qgov baseline check`` lists
expired entries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from scanner.fs import FileRefused, read_user_file
from scanner.model import Finding, Suppression, SuppressionKind

BASELINE_VERSION = 1
_FIELDS = frozenset({"fingerprint", "rule_id", "path", "owner", "reason", "expires"})


class BaselineError(Exception):
    pass


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    rule_id: str | None = None
    path: str | None = None
    owner: str | None = None
    reason: str | None = None
    expires: date | None = None
    line: int | None = None  # in the baseline file, for messages

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def describe(self) -> str:
        return f"{self.rule_id or '?'} in {self.path or '?'} ({self.fingerprint[:12]})"


@dataclass(frozen=True)
class Baseline:
    entries: Mapping[str, BaselineEntry] = field(default_factory=dict)
    path: Path | None = None

    def __bool__(self) -> bool:
        return bool(self.entries)

    @classmethod
    def of(cls, fingerprints: Iterable[str]) -> Baseline:
        """A baseline of bare fingerprints (no owner, reason or expiry)."""
        return cls({fp: BaselineEntry(fp) for fp in fingerprints})

    def expired(self, today: date) -> list[BaselineEntry]:
        return [e for e in self.entries.values() if e.expired(today)]


def baseline_document(
    findings: Iterable[Finding], tool_version: str, previous: Baseline | None = None
) -> dict[str, object]:
    """The baseline for ``findings``; an entry of ``previous`` whose fingerprint is still
    found passes on its owner, reason and expiry."""
    kept = previous.entries if previous is not None else {}
    found = _found(findings)
    return _document([_merged(entry, kept.get(fp)) for fp, entry in found.items()], tool_version)


@dataclass(frozen=True)
class BaselineChange:
    added: int = 0
    dropped: int = 0
    kept: int = 0
    gone: int = 0  # kept entries whose finding this scan did not see
    unchecked: int = 0  # kept because this scan could not have seen their finding


def updated_document(
    previous: Baseline, findings: Iterable[Finding], tool_version: str
) -> tuple[dict[str, object], BaselineChange]:
    """``previous`` with every entry kept as it is, plus the findings it lacks."""
    found = _found(findings)
    new = [entry for fp, entry in found.items() if fp not in previous.entries]
    document = _document([*previous.entries.values(), *new], tool_version)
    gone = sum(1 for fp in previous.entries if fp not in found)
    return document, BaselineChange(added=len(new), kept=len(previous.entries), gone=gone)


def pruned_document(
    previous: Baseline,
    findings: Iterable[Finding],
    tool_version: str,
    unchecked: Callable[[BaselineEntry], bool] = lambda _entry: False,
) -> tuple[dict[str, object], BaselineChange]:
    """``previous`` without the entries whose finding is gone; an entry ``unchecked`` says
    this scan could not have found stays."""
    found = _found(findings)
    kept, spared = [], 0
    for fp, entry in previous.entries.items():
        if fp in found:
            kept.append(entry)
        elif unchecked(entry):
            kept.append(entry)
            spared += 1
    change = BaselineChange(
        dropped=len(previous.entries) - len(kept), kept=len(kept), unchecked=spared
    )
    return _document(kept, tool_version), change


def _found(findings: Iterable[Finding]) -> dict[str, BaselineEntry]:
    """Open findings as bare entries by fingerprint (suppressed ones need no baseline)."""
    return {
        f.fingerprint: BaselineEntry(f.fingerprint, rule_id=f.rule_id, path=f.path)
        for f in findings
        if not f.suppressed
    }


def _merged(entry: BaselineEntry, old: BaselineEntry | None) -> BaselineEntry:
    if old is None:
        return entry
    return replace(entry, owner=old.owner, reason=old.reason, expires=old.expires)


def _document(entries: Iterable[BaselineEntry], tool_version: str) -> dict[str, object]:
    ordered = sorted(entries, key=lambda e: (e.path or "", e.rule_id or "", e.fingerprint))
    return {
        "qgov_baseline": BASELINE_VERSION,
        "tool_version": tool_version,
        "findings": [_row(entry) for entry in ordered],
    }


def _row(entry: BaselineEntry) -> dict[str, object]:
    row: dict[str, object] = {"fingerprint": entry.fingerprint}
    row.update(
        (key, value)
        for key, value in (
            ("rule_id", entry.rule_id),
            ("path", entry.path),
            ("owner", entry.owner),
            ("reason", entry.reason),
            ("expires", entry.expires.isoformat() if entry.expires else None),
        )
        if value is not None
    )
    return row


# A baseline holds hashes and paths; tens of thousands of entries stay far below this.
MAX_BASELINE_BYTES = 64 * 1024 * 1024


def load_baseline(path: Path) -> Baseline:
    try:
        raw = read_user_file(path, max_bytes=MAX_BASELINE_BYTES, what="baseline")
        text = raw.decode("utf-8")
        data = json.loads(text)
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
    rows = data.get("findings")
    if not isinstance(rows, list):
        raise BaselineError(f"{path}: 'findings' must be a list")
    entries: dict[str, BaselineEntry] = {}
    for index, row in enumerate(rows):
        entry = _entry(row, index, path, text)
        entries[entry.fingerprint] = entry
    return Baseline(entries, path)


def _entry(row: Any, index: int, path: Path, text: str) -> BaselineEntry:
    if not isinstance(row, dict) or not isinstance(row.get("fingerprint"), str):
        raise BaselineError(f"{path}: every entry needs a 'fingerprint' string (entry {index})")
    fingerprint = row["fingerprint"]
    line = _line_of(text, fingerprint)

    def problem(name: str, message: str) -> BaselineError:
        where = f" line {line}:" if line else ""
        return BaselineError(f"{path}:{where} findings.{index}.{name}: {message}")

    unknown = sorted(set(row) - _FIELDS)
    if unknown:
        raise problem(unknown[0], "unknown field (known: rule_id, path, owner, reason, expires)")
    for name in ("rule_id", "path", "owner", "reason"):
        if row.get(name) is not None and not isinstance(row[name], str):
            raise problem(name, "must be a string")
    expires = row.get("expires")
    day: date | None = None
    if expires is not None:
        try:
            day = date.fromisoformat(expires) if isinstance(expires, str) else None
        except ValueError:
            day = None
        if day is None or len(expires) != 10:
            raise problem("expires", "not a YYYY-MM-DD date")
    return BaselineEntry(
        fingerprint,
        rule_id=row.get("rule_id"),
        path=row.get("path"),
        owner=row.get("owner"),
        reason=row.get("reason"),
        expires=day,
        line=line,
    )


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(f'"{needle}"')
    return text.count("\n", 0, at) + 1 if at != -1 else None


def apply_baseline(
    findings: Iterable[Finding], baseline: Baseline, today: date
) -> tuple[list[Finding], list[str]]:
    """``(findings, notices)``: findings of live entries marked suppressed; a notice for each
    expired entry whose finding is back."""
    marked: list[Finding] = []
    notices: dict[str, str] = {}
    for finding in findings:
        entry = None if finding.suppressed else baseline.entries.get(finding.fingerprint)
        if entry is not None and entry.expired(today):
            assert entry.expires is not None
            owner = f" (owner {entry.owner})" if entry.owner else ""
            notices[entry.fingerprint] = (
                f"baseline entry for {finding.rule_id} in {finding.path}{owner} expired on "
                f"{entry.expires.isoformat()}; the finding is reported again"
            )
        elif entry is not None:
            finding = finding.model_copy(
                update={
                    "suppression": Suppression(
                        kind=SuppressionKind.BASELINE,
                        reason=entry.reason or "accepted in baseline",
                        until=entry.expires.isoformat() if entry.expires else None,
                        owner=entry.owner,
                    )
                }
            )
        marked.append(finding)
    return marked, list(notices.values())
