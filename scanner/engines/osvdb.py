"""An offline OSV database: load once, index by package, match exact versions.

Accepted layouts: a folder of OSV JSON files (searched recursively), or the zip OSV
publishes per ecosystem (``PyPI/all.zip``: one JSON advisory per member). Only entries
whose ``affected[].package.ecosystem`` is PyPI are kept; names are PEP 503-normalised.

A version is affected when it is listed in ``affected[].versions`` or falls inside an
``ECOSYSTEM`` range, evaluated as the OSV schema describes: events sorted by version,
``introduced`` opens, ``fixed`` closes at that version, ``last_affected`` closes after it.
A broken JSON file becomes an error entry and the rest of the database is still used.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from scanner.formats.manifests.model import normalise
from scanner.model import Severity

MAX_ADVISORY_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity | None
    fixed: tuple[str, ...] = ()  # fixed versions relevant to the matched version


@dataclass(frozen=True)
class _Event:
    kind: str  # introduced | fixed | last_affected | limit
    value: str


@dataclass(frozen=True)
class _Affected:
    advisory_id: str
    versions: frozenset[str]
    ranges: tuple[tuple[_Event, ...], ...]


@dataclass
class OsvDatabase:
    """Advisories indexed by normalised package name."""

    location: str = ""
    advisories: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> summary data
    by_package: dict[str, list[_Affected]] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file, message)
    # The newest `modified` among kept advisories: how current the snapshot is.
    newest_modified: datetime | None = None

    # --- loading -------------------------------------------------------------------------

    @classmethod
    def load(cls, location: Path) -> OsvDatabase:
        """Read a folder or zip; raises OSError/zipfile.BadZipFile if it cannot be opened."""
        database = cls(location=str(location))
        if location.is_dir():
            for path in sorted(location.rglob("*.json")):
                try:
                    if path.stat().st_size > MAX_ADVISORY_BYTES:
                        database.errors.append((str(path), "advisory file too large; skipped"))
                        continue
                    raw = path.read_bytes()
                except OSError as exc:
                    database.errors.append((str(path), f"cannot read ({exc.strerror})"))
                    continue
                database._add_raw(str(path.relative_to(location)), raw)
        else:
            with zipfile.ZipFile(location) as archive:
                for member in sorted(archive.infolist(), key=lambda m: m.filename):
                    if not member.filename.endswith(".json") or member.is_dir():
                        continue
                    if member.file_size > MAX_ADVISORY_BYTES:
                        database.errors.append((member.filename, "advisory too large; skipped"))
                        continue
                    database._add_raw(member.filename, archive.read(member))
        return database

    def _add_raw(self, name: str, raw: bytes) -> None:
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self.errors.append((name, f"invalid JSON: {exc}"))
            return
        except RecursionError:
            self.errors.append((name, "JSON nested too deeply"))
            return
        entries = data if isinstance(data, list) else [data]
        for entry in entries:
            problem = self.add(entry)
            if problem:
                self.errors.append((name, problem))

    def add(self, entry: Any) -> str | None:
        """Index one advisory; returns a problem description when it is unusable."""
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            return "not an OSV advisory (no 'id')"
        if entry.get("withdrawn"):
            return None
        advisory_id = entry["id"]
        affected = entry.get("affected")
        if not isinstance(affected, list):
            return f"{advisory_id}: 'affected' is missing or not a list"
        kept = False
        for item in affected:
            if not isinstance(item, dict):
                continue
            package = item.get("package") or {}
            if not isinstance(package, dict) or package.get("ecosystem") != "PyPI":
                continue
            name = package.get("name")
            if not isinstance(name, str):
                continue
            ranges = []
            for rng in item.get("ranges") or []:
                if not isinstance(rng, dict) or rng.get("type") != "ECOSYSTEM":
                    continue
                events = tuple(
                    _Event(kind, str(value))
                    for event in rng.get("events") or [] if isinstance(event, dict)
                    for kind, value in event.items()
                    if kind in {"introduced", "fixed", "last_affected", "limit"}
                )
                if events:
                    ranges.append(events)
            versions = frozenset(str(v) for v in item.get("versions") or [])
            self.by_package.setdefault(normalise(name), []).append(
                _Affected(advisory_id, versions, tuple(ranges))
            )
            kept = True
        if kept:
            modified = _timestamp(entry.get("modified"))
            if modified is not None and (
                self.newest_modified is None or modified > self.newest_modified
            ):
                self.newest_modified = modified
            aliases = entry.get("aliases") or []
            self.advisories[advisory_id] = {
                "aliases": tuple(str(a) for a in aliases if isinstance(a, str)),
                "summary": _summary(entry),
                "severity": advisory_severity(entry),
            }
        return None

    # --- matching ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.advisories)

    def lookup(self, name: str, version: str) -> list[Advisory]:
        """Advisories affecting ``name`` at exactly ``version`` (not yet alias-merged)."""
        try:
            parsed = Version(version)
        except InvalidVersion:
            return []
        found: dict[str, set[str]] = {}
        for affected in self.by_package.get(normalise(name), []):
            hit, fixed = _affects(affected, version, parsed)
            if hit:
                found.setdefault(affected.advisory_id, set()).update(fixed)
        results = []
        for advisory_id, fixed in sorted(found.items()):
            meta = self.advisories[advisory_id]
            results.append(
                Advisory(
                    id=advisory_id,
                    aliases=meta["aliases"],
                    summary=meta["summary"],
                    severity=meta["severity"],
                    fixed=tuple(sorted(fixed, key=_version_key)),
                )
            )
        return results


def _timestamp(value: Any) -> datetime | None:
    """An OSV RFC 3339 time (``2024-05-01T12:00:00Z``) as an aware datetime, else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _version_key(text: str) -> tuple[int, Version | str]:
    if text == "0":
        return (0, Version("0"))
    try:
        return (1, Version(text))
    except InvalidVersion:
        return (2, text)


def _affects(affected: _Affected, raw: str, version: Version) -> tuple[bool, set[str]]:
    """Whether ``version`` is affected, plus fixed versions above it in matching ranges."""
    fixed_above: set[str] = set()
    listed = raw in affected.versions or any(
        _same(version, listed_version) for listed_version in affected.versions
    )
    in_range = False
    for events in affected.ranges:
        try:
            ordered = sorted(
                events, key=lambda e: (Version("0") if e.value == "0" else Version(e.value))
            )
        except InvalidVersion:
            continue  # a range we cannot order is not guessed at
        vulnerable = False
        for event in ordered:
            if event.kind == "introduced":
                if event.value == "0" or version >= Version(event.value):
                    vulnerable = True
            elif event.kind == "fixed":
                if version >= Version(event.value):
                    vulnerable = False
            elif event.kind == "last_affected":
                if version > Version(event.value):
                    vulnerable = False
            elif event.kind == "limit" and version >= Version(event.value):
                vulnerable = False
        if vulnerable:
            in_range = True
            fixed_above.update(
                e.value for e in ordered if e.kind == "fixed" and Version(e.value) > version
            )
    if listed or in_range:
        first_fix = sorted(fixed_above, key=_version_key)[:1]
        return True, set(first_fix)
    return False, set()


def _same(version: Version, text: str) -> bool:
    try:
        return Version(text) == version
    except InvalidVersion:
        return False


def _summary(entry: dict[str, Any]) -> str:
    text = entry.get("summary") or entry.get("details") or ""
    text = " ".join(str(text).split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return first if len(first) <= 160 else first[:157] + "..."


# --- severity ---------------------------------------------------------------------------------

_GHSA_SEVERITY = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}


def advisory_severity(entry: dict[str, Any]) -> Severity | None:
    """GitHub's rating when present, else the CVSS v3 base score, else None."""
    specific = entry.get("database_specific")
    if isinstance(specific, dict):
        rated = _GHSA_SEVERITY.get(str(specific.get("severity", "")).upper())
        if rated is not None:
            return rated
    for item in entry.get("severity") or []:
        if isinstance(item, dict) and item.get("type") == "CVSS_V3":
            score = cvss3_base_score(str(item.get("score", "")))
            if score is not None:
                return severity_from_score(score)
    return None


def severity_from_score(score: float) -> Severity:
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


_CVSS_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}


def _roundup(value: float) -> float:
    """CVSS v3.1 Roundup: the smallest one-decimal number >= value, float-safe."""
    scaled = round(value * 100000)
    if scaled % 10000 == 0:
        return scaled / 100000.0
    return (math.floor(scaled / 10000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """Base score of a ``CVSS:3.x/AV:…`` vector; None when the vector is incomplete."""
    if not vector.startswith("CVSS:3"):
        return None
    metrics = dict(part.split(":", 1) for part in vector.split("/")[1:] if ":" in part)
    try:
        scope = metrics["S"]
        av, ac, ui = (_CVSS_WEIGHTS[k][metrics[k]] for k in ("AV", "AC", "UI"))
        c, i, a = (_CVSS_WEIGHTS[k][metrics[k]] for k in ("C", "I", "A"))
        pr = _PR[scope][metrics["PR"]]
    except KeyError:
        return None
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    if scope == "U":
        impact = 6.42 * iss
    else:
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    exploitability = 8.22 * av * ac * pr * ui
    if impact <= 0:
        return 0.0
    if scope == "U":
        return _roundup(min(impact + exploitability, 10))
    return _roundup(min(1.08 * (impact + exploitability), 10))


# --- alias merging ------------------------------------------------------------------------------

_ID_PREFERENCE = ("PYSEC-", "GHSA-", "CVE-")


def _preference(advisory_id: str) -> tuple[int, str]:
    for rank, prefix in enumerate(_ID_PREFERENCE):
        if advisory_id.startswith(prefix):
            return rank, advisory_id
    return len(_ID_PREFERENCE), advisory_id


def merge_aliases(advisories: Iterable[Advisory]) -> list[Advisory]:
    """One advisory per vulnerability: entries that name each other (directly or through
    a shared alias such as a CVE id) are merged; the primary id prefers PYSEC, then GHSA,
    then CVE."""
    items = list(advisories)
    parent = list(range(len(items)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    owner: dict[str, int] = {}
    for index, advisory in enumerate(items):
        for name in (advisory.id, *advisory.aliases):
            if name in owner:
                parent[find(index)] = find(owner[name])
            else:
                owner[name] = index
    groups: dict[int, list[Advisory]] = {}
    for index, advisory in enumerate(items):
        groups.setdefault(find(index), []).append(advisory)
    merged = []
    for group in groups.values():
        names = {a.id for a in group}
        for advisory in group:
            names.update(advisory.aliases)
        # Chosen over ids and aliases alike, so the same vulnerability gets the same
        # primary id (and fingerprint) whichever database reported it.
        primary = min(names, key=_preference)
        names.discard(primary)
        severities = [a.severity for a in group if a.severity is not None]
        fixed = sorted({f for a in group for f in a.fixed}, key=_version_key)
        summary = next((a.summary for a in sorted(group, key=lambda a: _preference(a.id)[0] != 1)
                        if a.summary), "")
        merged.append(
            Advisory(
                id=primary,
                aliases=tuple(sorted(names, key=_preference)),
                summary=summary,
                severity=max(severities, key=lambda s: s.rank) if severities else None,
                fixed=tuple(fixed[:1]),
            )
        )
    return sorted(merged, key=lambda a: _preference(a.id))
