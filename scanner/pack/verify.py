"""``qgov pack verify DIR|ZIP``: is this pack exactly what was written?

Every file's SHA-256 and size against ``manifest.json``; every changed, missing and extra file
named; the signature over the manifest's bytes checked against a trusted public key. A pack is
treated as hostile input: nothing in it is followed or extracted. In a folder, symlinks and
special files are reported (never opened), files are opened without following links; in a zip,
members are read as streams (never written to disk), and entries with absolute paths, ``..``,
backslashes, duplicate names or symlink modes are reported. Sizes are capped by what the
manifest says, so a zip bomb or a huge planted file is not read to its end.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import ValidationError

from scanner.model import printable
from scanner.pack.manifest import MANIFEST_FILE, Manifest
from scanner.pack.signing import SIGNATURE_FILE, check_signature

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_SIGNATURE_BYTES = 64 * 1024
MAX_MEMBERS = 100_000
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class PackUnreadable(Exception):
    """The pack cannot be examined at all (exit 2): no such path, not a folder or zip."""


@dataclass
class Entry:
    """A file found in the pack, or why it is not a plain file."""

    path: str
    size: int | None = None
    problem: str | None = None  # a symlink, a special file, an unsafe zip name …


class PackSource:
    """A pack folder or zip, read without following or extracting anything."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.is_zip = location.is_file() and zipfile.is_zipfile(location)
        self._zip: zipfile.ZipFile | None = None
        self.entries: dict[str, Entry] = {}
        if location.is_symlink():
            raise PackUnreadable(f"{location}: is a symlink; give the pack itself")
        if self.is_zip:
            self._open_zip()
        elif location.is_dir():
            self._walk()
        elif location.exists():
            raise PackUnreadable(f"{location}: neither a pack folder nor a zip file")
        else:
            raise PackUnreadable(f"{location}: no such file or directory")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> PackSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _walk(self) -> None:
        root = self.location
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                children = list(os.scandir(folder))
            except OSError as exc:
                raise PackUnreadable(f"{folder}: cannot be listed ({exc.strerror})") from exc
            for child in children:
                rel = Path(child.path).relative_to(root).as_posix()
                if child.is_symlink():
                    self.entries[rel] = Entry(rel, problem="a symlink (not followed)")
                elif child.is_dir(follow_symlinks=False):
                    stack.append(Path(child.path))
                elif child.is_file(follow_symlinks=False):
                    self.entries[rel] = Entry(rel, child.stat(follow_symlinks=False).st_size)
                else:
                    self.entries[rel] = Entry(rel, problem="not a regular file")
                if len(self.entries) > MAX_MEMBERS:
                    raise PackUnreadable(f"{root}: more than {MAX_MEMBERS:,} files")

    def _open_zip(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self.location)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise PackUnreadable(f"{self.location}: not a readable zip ({exc})") from exc
        if len(infos) > MAX_MEMBERS:
            raise PackUnreadable(f"{self.location}: more than {MAX_MEMBERS:,} entries")
        for info in infos:
            name = info.filename
            shown = printable(name)
            if info.is_dir():
                continue
            problem = _unsafe_name(name)
            mode = info.external_attr >> 16
            if problem is None and info.create_system == 3 and stat.S_ISLNK(mode):
                problem = "a symlink entry (not followed)"
            if shown in self.entries:
                problem = "a second entry with the same name"
            self.entries[shown] = Entry(shown, info.file_size, problem)

    def open(self, path: str, limit: int) -> IO[bytes] | None:
        """A stream of a plain file at ``path`` (None when it is not one), read at most to
        ``limit`` + 1 bytes by the caller."""
        entry = self.entries.get(path)
        if entry is None or entry.problem is not None:
            return None
        if self._zip is not None:
            return self._zip.open(path)  # a stream: nothing is extracted
        fd = _open_inside(self.location, path)
        return os.fdopen(fd, "rb")

    def read(self, path: str, limit: int) -> bytes | None:
        """A plain file's bytes, or None when it is not one or is larger than ``limit``."""
        try:
            handle = self.open(path, limit)
        except OSError:
            return None
        if handle is None:
            return None
        with handle:
            data = handle.read(limit + 1)
        return None if len(data) > limit else data


def _unsafe_name(name: str) -> str | None:
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute or Windows path (zip slip; not extracted)"
    if any(part == ".." for part in PurePosixPath(name).parts):
        return "a path climbing out with .. (zip slip; not extracted)"
    if any(ord(c) < 32 for c in name):
        return "a name with control characters"
    return None


def _open_inside(root: Path, rel: str) -> int:
    """Open ``root/rel`` for reading, refusing a symlink at any step of the path."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        parts = rel.split("/")
        for part in parts[:-1]:
            next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | _O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        file_fd = os.open(parts[-1], os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK, dir_fd=fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise OSError("not a regular file")
    return file_fd


@dataclass
class Verification:
    pack: str
    manifest_ok: bool = False
    manifest_problem: str | None = None
    files_checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)  # entries not followed, with why
    signature: dict[str, Any] | None = None  # check_signature's answer; None: not signed
    signature_expected: bool = False  # the manifest names a signer or a key was given
    trusted_key: bool = False
    manifest: Manifest | None = None

    @property
    def intact(self) -> bool:
        signature_ok = self.signature is None and not self.signature_expected or (
            self.signature is not None and self.signature["valid"])
        return (self.manifest_ok and not (self.changed or self.missing or self.extra
                                          or self.unsafe) and signature_ok)

    @property
    def verdict(self) -> str:
        return "INTACT" if self.intact else "ALTERED"

    def lines(self) -> list[str]:
        out = [f"{self.verdict}: {self.pack}"]
        if not self.manifest_ok:
            out.append(f"  manifest.json: {self.manifest_problem}")
            out.extend(f"  unsafe: {u}" for u in self.unsafe)
            return out
        out.append(f"  files: {self.files_checked} checked against manifest.json"
                   + ("" if self.changed or self.missing or self.extra else ", all match"))
        out += [f"  changed: {p}" for p in self.changed]
        out += [f"  missing: {p}" for p in self.missing]
        out += [f"  extra:   {p}" for p in self.extra]
        out += [f"  unsafe:  {u}" for u in self.unsafe]
        out.append(f"  signature: {self._signature_text()}")
        return out

    def _signature_text(self) -> str:
        sig = self.signature
        if sig is None:
            if self.signature_expected:
                return f"MISSING: {SIGNATURE_FILE} is not in the pack but a signature was " \
                    "expected"
            return "none (the pack was not signed: the hashes show consistency, not origin)"
        if not sig["valid"]:
            return f"INVALID: {sig['problem']}"
        key = str(sig["key_id"])[:16]
        if sig["trusted"]:
            return f"valid, by the trusted key {key}…"
        return (f"valid for the key inside the pack ({key}…) but NOT checked against a trusted "
                "key: a signature checked only against a key the pack carries proves nothing "
                "(whoever altered the pack could re-sign it); pass --public-key")

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "verdict": self.verdict,
            "intact": self.intact,
            "manifest": {"ok": self.manifest_ok, "problem": self.manifest_problem},
            "files_checked": self.files_checked,
            "changed": self.changed,
            "missing": self.missing,
            "extra": self.extra,
            "unsafe": self.unsafe,
            "signature": self.signature,
            "signature_expected": self.signature_expected,
            "trusted_key": self.trusted_key,
        }


def _hash_stream(handle: IO[bytes], limit: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(1 << 20):
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
    return digest.hexdigest(), size


def verify_pack(source: PackSource, trusted: ed25519.Ed25519PublicKey | None) -> Verification:
    result = Verification(pack=printable(str(source.location)), trusted_key=trusted is not None)
    result.unsafe = [f"{e.path}: {e.problem}" for e in sorted(source.entries.values(),
                                                               key=lambda e: e.path)
                     if e.problem]
    raw = source.read(MANIFEST_FILE, MAX_MANIFEST_BYTES)
    if raw is None:
        result.manifest_problem = "missing or not a plain file: this is no qgov pack, or its " \
            "manifest was removed"
        return result
    try:
        manifest = Manifest.model_validate(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        result.manifest_problem = "not valid JSON (altered)"
        return result
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        result.manifest_problem = f"unusable ({where}: {error['msg']}): altered or hostile"
        return result
    result.manifest_ok = True
    result.manifest = manifest
    listed = {f.path: f for f in manifest.files}
    for path in sorted(listed):
        expected = listed[path]
        entry = source.entries.get(path)
        if entry is None:
            result.missing.append(path)
            continue
        if entry.problem is not None:
            result.changed.append(f"{path} ({entry.problem})")
            continue
        if entry.size is not None and entry.size != expected.size:
            result.changed.append(f"{path} (size {entry.size:,}, manifest says "
                                  f"{expected.size:,})")
            continue
        try:
            handle = source.open(path, expected.size)
        except OSError as exc:
            result.changed.append(f"{path} (cannot be read: {exc.strerror or exc})")
            continue
        if handle is None:
            result.missing.append(path)
            continue
        with handle:
            digest, size = _hash_stream(handle, expected.size)
        result.files_checked += 1
        if size != expected.size or digest != expected.sha256:
            result.changed.append(path)
    for path in sorted(source.entries):
        if path not in listed and path not in (MANIFEST_FILE, SIGNATURE_FILE) \
                and source.entries[path].problem is None:
            result.extra.append(path)
    if SIGNATURE_FILE in source.entries and source.entries[SIGNATURE_FILE].problem is None:
        signature = source.read(SIGNATURE_FILE, MAX_SIGNATURE_BYTES)
        result.signature = check_signature(signature or b"", raw, trusted)
        named = manifest.signature.key_id if manifest.signature else None
        if result.signature["valid"] and named != result.signature["key_id"]:
            result.signature["valid"] = False
            result.signature["problem"] = "manifest.json does not name the key that signed it"
    result.signature_expected = manifest.signature is not None or trusted is not None
    return result

