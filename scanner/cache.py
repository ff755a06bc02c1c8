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

Entries are JSON, checked field by field and free of credentials and quoted content (see
:mod:`scanner.cache_entry`); one that does not read as an entry is deleted and counted in a
notice, never an error. Entries are grouped in 256 shard files; a scan
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

from scanner import __version__
from scanner.cache_entry import EntryError, Include, Result
from scanner.detectors.interface import Detector
from scanner.detectors.registry import DetectorOptions
from scanner.engines.bandit_engine import BanditEngine
from scanner.engines.interface import Engine
from scanner.engines.osv import VulnerabilityEngine
from scanner.engines.semgrep_engine import SemgrepEngine, find_semgrep
from scanner.fs import FileRefused, ScanRoot
from scanner.model import FileKind
from scanner.source import MAX_INCLUDE_BYTES, SourceFile

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

    def _read(self, shard: str) -> Shard | None:
        """A shard file's entries (none when there is no such file yet); None when it does
        not read as a shard."""
        try:
            with open(self._shard_path(shard), "rb") as handle:
                if os.fstat(handle.fileno()).st_size > MAX_SHARD_BYTES:
                    return None
                raw = handle.read()
        except FileNotFoundError:
            # Decided by this open(), not a second look: a concurrent scan may create the
            # shard just after, and that is a miss, not damage.
            return {}
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
            loaded = self._read(shard)
            if loaded is None:
                # Unreadable as a whole: every entry in it counts as discarded.
                loaded = {}
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
