"""``qgov pack diff OLD NEW``: what changed between two audits.

Both packs are verified first (``scanner.pack.verify``); the comparison reads their
``pack.json`` and ``catalog.json``:

- findings, per repository, by fingerprint (line moves are not changes): new, resolved,
  newly suppressed and no longer suppressed; repositories added and removed;
- the organisation's status of every selected framework requirement, and of every control;
- exceptions added, removed, and changed state (honoured → expired …);
- attestations added, removed and lapsed;
- the catalog: controls, rules and framework mappings added, removed or changed (by digest);
- self-test checks whose status changed, added or removed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from scanner.model import printable
from scanner.pack.verify import PackSource

MAX_PACK_JSON_BYTES = 256 * 1024 * 1024


class PackDiffError(Exception):
    """A pack that cannot be compared (one line)."""


def _load(source: PackSource, name: str) -> dict[str, Any]:
    raw = source.read(name, MAX_PACK_JSON_BYTES)
    if raw is None:
        raise PackDiffError(f"{printable(str(source.location))}: {name} is missing: not a qgov "
                            "audit pack, or one written before packs could be compared")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PackDiffError(f"{printable(str(source.location))}: {name} is not valid JSON") \
            from exc
    if not isinstance(document, dict):
        raise PackDiffError(f"{printable(str(source.location))}: {name} is not a JSON object")
    return document


@dataclass
class PackDiff:
    old: str
    new: str
    findings: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    repositories_added: list[str] = field(default_factory=list)
    repositories_removed: list[str] = field(default_factory=list)
    requirements: list[dict[str, str]] = field(default_factory=list)
    controls: list[dict[str, str]] = field(default_factory=list)
    exceptions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attestations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    catalog: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    selftest: list[dict[str, str | None]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            any(any(v for v in kinds.values()) for kinds in self.findings.values())
            or self.repositories_added or self.repositories_removed or self.requirements
            or self.controls or any(self.exceptions.values())
            or any(self.attestations.values())
            or any(any(v for v in kinds.values()) for kinds in self.catalog.values())
            or self.selftest
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "changed": self.changed,
            "repositories": {"added": self.repositories_added,
                             "removed": self.repositories_removed},
            "findings": self.findings,
            "requirements": self.requirements,
            "controls": self.controls,
            "exceptions": self.exceptions,
            "attestations": self.attestations,
            "catalog": self.catalog,
            "selftest": self.selftest,
        }

    def lines(self) -> list[str]:
        out = [f"qgov pack diff {self.old} -> {self.new}"]
        if not self.changed:
            out.append("no changes")
            return out
        out += [f"repository added: {name}" for name in self.repositories_added]
        out += [f"repository removed: {name}" for name in self.repositories_removed]
        for repository, kinds in self.findings.items():
            counts = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in kinds.items() if v)
            if not counts:
                continue
            out.append(f"findings in {repository}: {counts}")
            for kind in ("new", "resolved", "newly_suppressed", "unsuppressed"):
                for item in kinds[kind][:50]:
                    where = f"{item['path']}:{item['line']}" if item.get("line") else item["path"]
                    out.append(f"  {kind.replace('_', ' '):<16} {item['severity']:<8} "
                               f"{item['rule_id']:<12} {where}  [{item['fingerprint']}]")
                if len(kinds[kind]) > 50:
                    out.append(f"  … and {len(kinds[kind]) - 50} more {kind.replace('_', ' ')}")
        if self.requirements:
            out.append(f"framework requirements whose status changed ({len(self.requirements)}):")
            out += [f"  {r['framework']:<9} {r['requirement']:<22} {r['old']} -> {r['new']}"
                    for r in self.requirements]
        if self.controls:
            out.append(f"controls whose status changed ({len(self.controls)}):")
            out += [f"  {c['control']:<8} {c['old']} -> {c['new']}" for c in self.controls]
        for kind, items in self.exceptions.items():
            for item in items:
                extra = (f" ({item['old_state']} -> {item['state']})" if kind == "changed"
                         else f" ({item.get('state')})")
                out.append(f"exception {kind}: {item['id']} for {item.get('control')}"
                           f", expires {item.get('expires')}{extra}")
        for kind, items in self.attestations.items():
            out += [f"attestation {kind}: {item['control']} by {item['owner']} "
                    f"(dated {item['date']}, review {item['next_review']})" for item in items]
        for part, changes in self.catalog.items():
            for change, ids in changes.items():
                if ids:
                    out.append(f"catalog {part} {change}: {', '.join(ids)}")
        out += [f"self-test check {c['check']}: {c['old'] or 'absent'} -> {c['new'] or 'absent'}"
                for c in self.selftest]
        return out


def _finding_key(finding: dict[str, Any]) -> str:
    return str(finding.get("fingerprint"))


def _findings(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, list[Any]]:
    before = {_finding_key(f): f for f in old}
    after = {_finding_key(f): f for f in new}
    keep = ("fingerprint", "rule_id", "path", "line", "severity", "message")

    def brief(f: dict[str, Any]) -> dict[str, Any]:
        return {k: f.get(k) for k in keep}

    return {
        "new": [brief(f) for k, f in after.items() if k not in before],
        "resolved": [brief(f) for k, f in before.items() if k not in after],
        "newly_suppressed": [brief(f) for k, f in after.items()
                             if k in before and f.get("suppressed")
                             and not before[k].get("suppressed")],
        "unsuppressed": [brief(f) for k, f in after.items()
                         if k in before and not f.get("suppressed")
                         and before[k].get("suppressed")],
    }


def _natural(text: str) -> list[Any]:
    """A.8.9 before A.8.32."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", text)]


def _statuses(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(key, str(old.get(key, "absent")), str(new.get(key, "absent")))
            for key in sorted(set(old) | set(new), key=_natural) if old.get(key) != new.get(key)]


def _exception_key(entry: dict[str, Any]) -> str:
    return f"{entry.get('register')}#{entry.get('id')}#{entry.get('control')}"


def _attestations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for file in document.get("attestations") or []:
        for entry in file.get("attestations") or []:
            key = f"{entry.get('control')}|{entry.get('owner')}|{entry.get('date')}"
            found[key] = entry
    return found


def _catalog_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    changes = {}
    for part in ("controls", "rules", "frameworks"):
        before = (old.get("digests") or {}).get(part) or {}
        after = (new.get("digests") or {}).get(part) or {}
        changes[part] = {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k]),
        }
    return changes


def diff_packs(old_source: PackSource, new_source: PackSource) -> PackDiff:
    old, new = _load(old_source, "pack.json"), _load(new_source, "pack.json")
    result = PackDiff(old=printable(str(old_source.location)),
                      new=printable(str(new_source.location)))
    old_repos = {r["name"]: r for r in old.get("repositories") or []}
    new_repos = {r["name"]: r for r in new.get("repositories") or []}
    result.repositories_added = sorted(set(new_repos) - set(old_repos))
    result.repositories_removed = sorted(set(old_repos) - set(new_repos))
    for name in sorted(set(old_repos) | set(new_repos)):
        result.findings[name] = _findings(
            (old_repos.get(name) or {}).get("findings") or [],
            (new_repos.get(name) or {}).get("findings") or [],
        )
    old_roll, new_roll = old.get("rollup") or {}, new.get("rollup") or {}
    old_req, new_req = old_roll.get("requirements") or {}, new_roll.get("requirements") or {}
    for framework in sorted(set(old_req) & set(new_req)):
        result.requirements += [
            {"framework": framework, "requirement": req, "old": before, "new": after}
            for req, before, after in _statuses(old_req[framework], new_req[framework])
        ]
    result.controls = [{"control": cid, "old": before, "new": after} for cid, before, after
                       in _statuses(old_roll.get("controls") or {}, new_roll.get("controls") or {})]
    old_exc = {_exception_key(e): e for e in old.get("exceptions") or []}
    new_exc = {_exception_key(e): e for e in new.get("exceptions") or []}
    result.exceptions = {
        "added": [new_exc[k] for k in sorted(set(new_exc) - set(old_exc))],
        "removed": [old_exc[k] for k in sorted(set(old_exc) - set(new_exc))],
        "changed": [{**new_exc[k], "old_state": old_exc[k].get("state")}
                    for k in sorted(set(old_exc) & set(new_exc))
                    if old_exc[k].get("state") != new_exc[k].get("state")],
    }
    old_att, new_att = _attestations(old), _attestations(new)
    result.attestations = {
        "added": [new_att[k] for k in sorted(set(new_att) - set(old_att))],
        "removed": [old_att[k] for k in sorted(set(old_att) - set(new_att))],
        "lapsed": [new_att[k] for k in sorted(set(old_att) & set(new_att))
                   if new_att[k].get("lapsed") and not old_att[k].get("lapsed")],
    }
    result.catalog = _catalog_changes(_load(old_source, "catalog.json"),
                                      _load(new_source, "catalog.json"))
    old_checks = (old.get("selftest") or {}).get("checks") or {}
    new_checks = (new.get("selftest") or {}).get("checks") or {}
    result.selftest = [
        {"check": check, "old": old_checks.get(check), "new": new_checks.get(check)}
        for check in sorted(set(old_checks) | set(new_checks))
        if old_checks.get(check) != new_checks.get(check)
    ]
    return result
