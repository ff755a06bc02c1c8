"""What a result-cache entry holds (:class:`Result`), and its JSON form.

Entries are JSON (a cache folder can be written by others on a shared runner: nothing in it is
ever executed or unpickled, and every entry is checked field by field -- one that does not read
as an entry raises :class:`EntryError`). They hold no credential and no quoted content: an
issue's ``material`` and ``secret`` are replaced by their hashes and masked form (``Sealed``).
The store itself is :mod:`scanner.cache`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from scanner.masking import mask
from scanner.model import (
    Confidence,
    Issue,
    ProviderUse,
    ScanError,
    Sealed,
    Severity,
    UseKind,
    VulnDatabase,
    content_digest,
)
from scanner.suppress.inline import Directive


class EntryError(ValueError):
    """An entry that does not read as one (corrupt, truncated, forged, another format)."""


def _opt(value: Any, kind: type) -> Any:
    if value is not None and not isinstance(value, kind):
        raise EntryError(f"expected {kind.__name__}")
    return value


def _req(value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise EntryError(f"expected {kind.__name__}")
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else _req(value, int)


def issue_to_json(issue: Issue) -> dict[str, Any]:
    """An issue with its quoted content replaced by hashes (see ``Sealed``)."""
    sealed = issue.sealed
    if issue.secret is not None or issue.material:
        secret = issue.secret
        sealed = Sealed(
            digest=content_digest(issue.material or secret or ""),
            masked=mask(secret) if secret is not None else None,
            secret_sha256=hashlib.sha256(
                secret.strip().encode("utf-8", "surrogatepass")
            ).hexdigest() if secret is not None else None,
        )
    return {
        "rule_id": issue.rule_id,
        "message": issue.message,
        "line": issue.line,
        "path": issue.path,
        "cell": issue.cell,
        "end_line": issue.end_line,
        "column": issue.column,
        "severity": issue.severity.value if issue.severity else None,
        "confidence": issue.confidence.value,
        "evidence": issue.evidence,
        "control_ids": list(issue.control_ids),
        "engine": issue.engine,
        "sealed": [sealed.digest, sealed.masked, sealed.secret_sha256] if sealed else None,
    }


def issue_from_json(raw: Any) -> Issue:
    data = _req(raw, dict)
    sealed_raw = _opt(data.get("sealed"), list)
    sealed = None
    if sealed_raw is not None:
        if len(sealed_raw) != 3:
            raise EntryError("sealed")
        sealed = Sealed(_req(sealed_raw[0], str), _opt(sealed_raw[1], str),
                        _opt(sealed_raw[2], str))
    severity = _opt(data.get("severity"), str)
    try:
        return Issue(
            rule_id=_req(data["rule_id"], str),
            message=_req(data["message"], str),
            line=_opt_int(data.get("line")),
            path=_opt(data.get("path"), str),
            cell=_opt_int(data.get("cell")),
            end_line=_opt_int(data.get("end_line")),
            column=_opt_int(data.get("column")),
            severity=Severity(severity) if severity is not None else None,
            confidence=Confidence(_req(data["confidence"], str)),
            evidence=_opt(data.get("evidence"), str),
            control_ids=tuple(_req(c, str) for c in _req(data.get("control_ids", []), list)),
            engine=_req(data["engine"], str),
            sealed=sealed,
        )
    except KeyError as exc:
        raise EntryError(f"missing {exc}") from exc


def _fact_to_json(fact: ProviderUse) -> dict[str, Any]:
    return {"provider": fact.provider, "kind": fact.kind.value, "detail": fact.detail,
            "region": fact.region, "path": fact.path, "line": fact.line, "cell": fact.cell,
            "vendor": fact.vendor}


def _fact_from_json(raw: Any) -> ProviderUse:
    data = _req(raw, dict)
    try:
        return ProviderUse(
            provider=_req(data["provider"], str),
            kind=UseKind(_req(data["kind"], str)),
            detail=_req(data["detail"], str),
            region=_opt(data.get("region"), str),
            path=_opt(data.get("path"), str),
            line=_opt_int(data.get("line")),
            cell=_opt_int(data.get("cell")),
            vendor=_opt(data.get("vendor"), str),
        )
    except KeyError as exc:
        raise EntryError(f"missing {exc}") from exc


def _directive_to_json(directive: Directive) -> dict[str, Any]:
    return {"path": directive.path, "line": directive.line, "covers": sorted(directive.covers),
            "cell": directive.cell, "rule_ids": sorted(directive.rule_ids),
            "reason": directive.reason,
            "until": directive.until.isoformat() if directive.until else None,
            "problem": directive.problem}


def _directive_from_json(raw: Any) -> Directive:
    data = _req(raw, dict)
    until = _opt(data.get("until"), str)
    try:
        return Directive(
            path=_req(data["path"], str),
            line=_req(data["line"], int),
            covers=frozenset(_req(n, int) for n in _req(data["covers"], list)),
            cell=_opt_int(data.get("cell")),
            rule_ids=frozenset(_req(r, str) for r in _req(data["rule_ids"], list)),
            reason=_opt(data.get("reason"), str),
            until=date.fromisoformat(until) if until else None,
            problem=_opt(data.get("problem"), str),
        )
    except KeyError as exc:
        raise EntryError(f"missing {exc}") from exc


def _error_from_json(raw: Any) -> ScanError:
    try:
        return ScanError.model_validate(_req(raw, dict))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise EntryError("scan error") from exc


# A file an include read: (including file, the include's path under the root, its content
# hash or None when it could not be read).
Include = tuple[str, str, str | None]


@dataclass
class Result:
    """One cached unit's (or one engine's per-file) results."""

    issues: list[Issue] = field(default_factory=list)
    facts: list[ProviderUse] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    # Files each detector analysed to the end, by detector and kind (``Outcome.examined``):
    # a warm scan must say as truthfully as a cold one which rules checked something.
    examined: dict[str, dict[str, int]] = field(default_factory=dict)
    # The OSV snapshot a whole-set vulnerability result came from: the report names it.
    vuln_db: VulnDatabase | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "examined": self.examined,
            "vuln_db": self.vuln_db.model_dump(mode="json") if self.vuln_db else None,
            "issues": [issue_to_json(i) for i in self.issues],
            "facts": [_fact_to_json(f) for f in self.facts],
            "errors": [e.model_dump(mode="json") for e in self.errors],
            "directives": [_directive_to_json(d) for d in self.directives],
            "includes": [list(i) for i in self.includes],
        }

    @classmethod
    def from_json(cls, raw: Any, paths: Iterable[str] | None) -> Result:
        data = _req(raw, dict)
        result = cls(
            issues=[issue_from_json(i) for i in _req(data.get("issues", []), list)],
            facts=[_fact_from_json(f) for f in _req(data.get("facts", []), list)],
            errors=[_error_from_json(e) for e in _req(data.get("errors", []), list)],
            directives=[_directive_from_json(d) for d in _req(data.get("directives", []), list)],
            includes=[_include_from_json(i) for i in _req(data.get("includes", []), list)],
            examined=_examined_from_json(data.get("examined", {})),
            vuln_db=_vuln_db_from_json(data.get("vuln_db")),
        )
        if paths is None:  # an entry for a whole set of files (see scanner.incremental)
            return result
        # An entry speaks only of its own files (and the includes they read, which
        # ``includes_hold`` checks): one naming another file is not ours.
        allowed = set(paths) | {rel for _including, rel, _digest in result.includes}
        named = [i.path for i in result.issues] + [f.path for f in result.facts] + [
            e.path for e in result.errors] + [d.path for d in result.directives] + [
            i[0] for i in result.includes]
        if any(path not in allowed for path in named):
            raise EntryError("an entry names a file outside its unit")
        return result


def _vuln_db_from_json(raw: Any) -> VulnDatabase | None:
    if raw is None:
        return None
    try:
        return VulnDatabase.model_validate(_req(raw, dict))
    except ValidationError as exc:
        raise EntryError("vuln_db") from exc


def _examined_from_json(raw: Any) -> dict[str, dict[str, int]]:
    examined: dict[str, dict[str, int]] = {}
    for name, per_kind in _req(raw, dict).items():
        counts = examined.setdefault(_req(name, str), {})
        for kind, count in _req(per_kind, dict).items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise EntryError("examined")
            counts[_req(kind, str)] = count
    return examined


def _include_from_json(raw: Any) -> Include:
    items = _req(raw, list)
    if len(items) != 3:
        raise EntryError("include")
    return _req(items[0], str), _req(items[1], str), _opt(items[2], str)
