"""The result cache: what detection and the engines found in a file, kept by content.

An entry is keyed by a SHA-256 over the *rule set* — the qgov version, a digest of the
scanner package's own files (code, rules, bandit map, semgrep rules, provider table), the
detector options (tier, regulated paths, custom rules), and per engine its version and
options — and the unit's files: each one's path, kind and content hash (a Terraform
module's entry covers every file of the module). Files whose checks read the date
(governance policies, exceptions registers, vendor profiles) add the scan's day. An entry
holds everything detection returns for the unit (issues, provider facts, scan errors,
suppression directives), or one engine's issues and errors for one file, plus the hashes
of any file a requirements ``-r``/``-c`` include read, checked again on every hit.

Entries are JSON (a cache folder can be written by others on a shared runner: nothing in
it is ever executed or unpickled, and every entry is checked field by field; one that does
not read as an entry is deleted and counted in a notice, never an error). They hold no
credential and no quoted content: an issue's ``material`` and ``secret`` are replaced by
their hashes and masked form (``Sealed``). Entries are grouped in 256 shard files; a scan
writes the shards it changed once, at its end, each to a temporary file renamed into place
(over what a concurrent scan wrote meanwhile), so no scan ever reads half a shard. The
folder is kept under ``max_bytes`` by dropping the least recently used entries; a folder
that another user owns or can write to is not used.

Location: ``--cache-dir``, else ``$QGOV_CACHE_DIR``, else the platform's cache folder:
``$XDG_CACHE_HOME/qgov`` or ``~/.cache/qgov``, ``~/Library/Caches/qgov`` on macOS,
``%LOCALAPPDATA%\\qgov\\Cache`` on Windows.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scanner import __version__
from scanner.detectors.interface import Detector
from scanner.detectors.registry import DetectorOptions
from scanner.engines.bandit_engine import BanditEngine
from scanner.engines.interface import Engine
from scanner.engines.osv import VulnerabilityEngine
from scanner.engines.semgrep_engine import SemgrepEngine, find_semgrep
from scanner.fs import FileRefused, ScanRoot
from scanner.masking import mask
from scanner.model import (
    Confidence,
    FileKind,
    Issue,
    ProviderUse,
    ScanError,
    Sealed,
    Severity,
    UseKind,
    VulnDatabase,
    content_digest,
)
from scanner.source import MAX_INCLUDE_BYTES, SourceFile
from scanner.suppress.inline import Directive

FORMAT = 3
ENV_DIR = "QGOV_CACHE_DIR"
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
# Pruning walks the whole folder, so it runs at most this often.
PRUNE_EVERY_SECONDS = 600.0
# A hit refreshes its entry's time (for eviction) at most this often.
TOUCH_AFTER_SECONDS = 86400.0
# A shard holds 1/256 of the cache; a bigger file is not read.
MAX_SHARD_BYTES = 64 * 1024 * 1024


def default_dir() -> Path:
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "qgov"
    if os.name == "nt":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "qgov" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".cache"
    return base / "qgov"


@cache
def code_digest() -> str:
    """A digest of the scanner package's files: any change to code or shipped rules makes
    every entry a miss, installed release or working copy alike."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in {".py", ".yaml", ".yml", ".json"} and path.is_file():
            digest.update(path.relative_to(package).as_posix().encode() + b"\x00")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def _hash(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _stat_signature(path: Path) -> list[object]:
    """What identifies a file or folder's content cheaply: sizes and modification times
    (a folder: of every file under it)."""
    try:
        if path.is_dir():
            return [
                [p.relative_to(path).as_posix(), p.stat().st_size, p.stat().st_mtime_ns]
                for p in sorted(path.rglob("*"))
                if p.is_file()
            ]
        info = path.stat()
    except OSError:
        return ["unreadable", str(path)]
    return [str(path), info.st_size, info.st_mtime_ns]


def detection_key(options: DetectorOptions) -> str:
    return _hash({
        "format": FORMAT,
        "qgov": __version__,
        "code": code_digest(),
        "regulated_paths": list(options.regulated_paths),
        "tier": options.tier.value,
        "only": list(options.only),
        "custom_rules": [rule.model_dump(mode="json") for rule in options.custom_rules],
    })


def engine_key(engine: Engine) -> str | None:
    """The rule-set key of one engine's per-file results; None when they must not be kept
    (an online service answers differently from day to day)."""
    common: dict[str, object] = {"format": FORMAT, "qgov": __version__, "code": code_digest(),
                                 "engine": engine.name}
    if isinstance(engine, BanditEngine):
        common.update(bandit=_version("bandit"), skip_in_tests=engine.skip_in_tests)
    elif isinstance(engine, SemgrepEngine):
        executable = engine._executable or find_semgrep()  # noqa: SLF001 - its one option
        signature = _stat_signature(Path(os.path.realpath(executable))) if executable else None
        common.update(semgrep=_version("semgrep"), executable=signature)
    elif isinstance(engine, VulnerabilityEngine):
        if engine.options.online:
            return None
        database = engine.options.database
        # Staleness is part of the answer: it depends on the allowed age and on the day.
        now = engine.options.now or datetime.now(UTC)
        common.update(database=_stat_signature(database) if database else None,
                      max_age=engine.options.max_age_days, day=now.date().isoformat())
    else:
        return None  # an engine this cache does not know: always run it
    return _hash(common)


def dated_kinds(detectors: Iterable[Detector]) -> frozenset[FileKind]:
    """Kinds some detector measures against the scan's day (role and exception expiry,
    certification dates: the detectors that take ``today``): their entries are valid for
    that day only."""
    return frozenset(k for d in detectors if hasattr(d, "today") for k in d.kinds)


def unit_key(
    ruleset: str, unit: Sequence[SourceFile], today: date, dated: frozenset[FileKind]
) -> str:
    files = sorted([s.path, s.kind.value, content_digest_full(s.text)] for s in unit)
    day = today.isoformat() if any(s.kind in dated for s in unit) else ""
    return _hash([ruleset, day, files])


def content_digest_full(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- what an entry holds ---------------------------------------------------------------------


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


def includes_hold(includes: Iterable[Include], sources: Mapping[str, SourceFile]) -> bool:
    """Whether every file an include read still reads the same."""
    for including, rel, digest in includes:
        source = sources.get(including)
        root: ScanRoot | None = source.root if source is not None else None
        if root is None:
            return False
        try:
            now: str | None = content_digest_full(
                root.read_text(rel, max_bytes=MAX_INCLUDE_BYTES)
            )
        except FileRefused:
            now = None
        if now != digest:
            return False
    return True


# --- the folder ------------------------------------------------------------------------------

# Entries live in 256 shard files (by the key's first two hex digits): a warm scan of 10,000
# files reads 256 files instead of 10,000, a cold one writes 256, and a pre-commit run reads
# the few shards its files fall in.
Shard = dict[str, Any]  # key -> {"t": last used (unix seconds), "v": the entry}


@dataclass
class ResultCache:
    """Entries under ``folder/v<FORMAT>/<xx>.json``; changes are written by ``flush``."""

    folder: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    discarded: int = 0
    hits: int = 0
    misses: int = 0
    written: int = 0
    write_failed: bool = False
    _shards: dict[str, Shard] = field(default_factory=dict, repr=False)
    # Per shard, what this scan changed: key -> entry, or None for an entry it dropped.
    _changes: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ResultCache | str:
        """The cache in ``folder``, or a notice saying why it cannot be used."""
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = folder.stat()
        except OSError as exc:
            return f"result cache not used: cannot create {folder} ({exc.strerror or exc})"
        if not stat.S_ISDIR(info.st_mode):
            return f"result cache not used: {folder} is not a folder"
        if hasattr(os, "getuid") and (
            info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            # Anyone else who can write here could plant "nothing found" for a file.
            return (f"result cache not used: {folder} belongs to another user or others can "
                    "write to it (make it yours, mode 700, or pass --cache-dir)")
        return cls(folder, max_bytes)

    @property
    def entries(self) -> Path:
        return self.folder / f"v{FORMAT}"

    def _shard_path(self, shard: str) -> str:
        return os.path.join(self.folder, f"v{FORMAT}", f"{shard}.json")

    def _read(self, shard: str, missing: list[bool] | None = None) -> Shard | None:
        """A shard file's entries; None when it is missing (noted in ``missing``) or does
        not read as a shard."""
        try:
            with open(self._shard_path(shard), "rb") as handle:
                if os.fstat(handle.fileno()).st_size > MAX_SHARD_BYTES:
                    return None
                raw = handle.read()
        except FileNotFoundError:
            if missing is not None:
                missing.append(True)
            return None
        except OSError:
            return None
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError):
            return None
        if not isinstance(document, dict) or document.get("qgov_cache") != FORMAT:
            return None
        entries = document.get("entries")
        return entries if isinstance(entries, dict) else None

    def _load(self, shard: str) -> Shard:
        loaded = self._shards.get(shard)
        if loaded is None:
            missing: list[bool] = []
            loaded = self._read(shard, missing)
            if loaded is None:
                loaded = {}
                # Decided by the same open() that failed, not a second look: a concurrent
                # scan may create the shard in between, and that is a miss, not damage.
                if not missing:
                    # Unreadable as a whole: every entry in it counts as discarded.
                    self.discarded += 1
                    self._changes.setdefault(shard, {})
            self._shards[shard] = loaded
        return loaded

    def get(self, key: str, paths: Iterable[str] | None) -> Result | None:
        """The entry for ``key`` (None: a miss). ``paths``: the files the entry may name."""
        with self._lock:
            shard = self._load(key[:2])
            raw = shard.get(key)
            if raw is None:
                self.misses += 1
                return None
            try:
                if not isinstance(raw, dict) or not isinstance(raw.get("t"), (int, float)):
                    raise EntryError("not an entry")
                result = Result.from_json(raw.get("v"), paths)
            except (ValueError, RecursionError, TypeError):  # EntryError, enum values
                self.discarded += 1
                self.misses += 1
                del shard[key]
                self._changes.setdefault(key[:2], {})[key] = None
                return None
            now = time.time()
            if now - raw["t"] > TOUCH_AFTER_SECONDS:  # for eviction: used recently
                raw["t"] = int(now)
                self._changes.setdefault(key[:2], {})[key] = raw
            self.hits += 1
            return result

    def put(self, key: str, result: Result) -> None:
        entry = {"t": int(time.time()), "v": result.to_json()}
        with self._lock:
            self._load(key[:2])[key] = entry
            self._changes.setdefault(key[:2], {})[key] = entry
            self.written += 1

    def flush(self) -> None:
        """Write every changed shard: what is on disk now (a concurrent scan may have added
        entries since this one read it) with this scan's changes on top, to a temporary
        file renamed into place, so no reader ever sees half a shard."""
        with self._lock:
            changes, self._changes = self._changes, {}
        for shard, changed in changes.items():
            current = self._read(shard) or {}
            for key, entry in changed.items():
                if entry is None:
                    current.pop(key, None)
                else:
                    current[key] = entry
            self._write(shard, current)

    def _write(self, shard: str, entries: Shard) -> None:
        path = self._shard_path(shard)
        data = json.dumps({"qgov_cache": FORMAT, "entries": entries},
                          separators=(",", ":"), ensure_ascii=True).encode()
        temporary = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, path)  # atomic: readers see the old shard or the new
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            self.write_failed = True

    def notices(self) -> list[str]:
        notices = []
        if self.discarded:
            notices.append(
                f"result cache: discarded {self.discarded} unreadable entr"
                f"{'y' if self.discarded == 1 else 'ies'} (corrupt, truncated or from another "
                "version); those files were scanned afresh"
            )
        if self.write_failed:
            notices.append(f"result cache: could not write to {self.folder}; results not kept")
        return notices

    # -- size -------------------------------------------------------------------------------

    def maybe_prune(self) -> None:
        """Prune after a scan that wrote entries, at most every PRUNE_EVERY_SECONDS."""
        if not self.written:
            return
        marker = self.folder / ".pruned"
        try:
            if time.time() - marker.stat().st_mtime < PRUNE_EVERY_SECONDS:
                return
        except OSError:
            pass
        self.prune()
        try:
            marker.touch()
        except OSError:
            pass

    def prune(self) -> int:
        """Delete other formats' folders, stray temporary files, and the least recently
        used entries until the shards hold under ``max_bytes`` (down to 80 % of it, so the
        next scans do not prune again at once). Returns how many entries went."""
        for child in self.folder.glob("v*"):
            if child.is_dir() and child.name != f"v{FORMAT}" and child.name[1:].isdigit():
                _remove_tree(child)
        total = 0
        now = time.time()
        for path in self.entries.glob("*"):
            try:
                info = path.stat()
            except OSError:
                continue
            if ".tmp-" in path.name:
                if now - info.st_mtime > 3600:  # left by a scan that was killed
                    _unlink(path)
                continue
            total += info.st_size
        if total <= self.max_bytes:
            return 0
        sized: list[tuple[float, int, str, str]] = []
        shards: dict[str, Shard] = {}
        for path in sorted(self.entries.glob("??.json")):
            shard = path.name[:2]
            entries = self._read(shard) or {}
            shards[shard] = entries
            for key, entry in entries.items():
                used = entry.get("t", 0) if isinstance(entry, dict) else 0
                size = len(json.dumps(entry, separators=(",", ":")))
                sized.append((used if isinstance(used, (int, float)) else 0, size, shard, key))
        target = self.max_bytes * 0.8
        removed = 0
        touched: set[str] = set()
        for _used, size, shard, key in sorted(sized):
            if total <= target:
                break
            del shards[shard][key]
            touched.add(shard)
            total -= size
            removed += 1
        for shard in touched:
            self._write(shard, shards[shard])
        return removed


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except OSError:
        return 0
    return 1


def _remove_tree(folder: Path) -> int:
    removed = 0
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            try:
                path.rmdir()
            except OSError:
                pass
        else:
            removed += _unlink(path)
    try:
        folder.rmdir()
    except OSError:
        pass
    return removed
