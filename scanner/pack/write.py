"""Writing an audit pack: all or nothing, the same bytes for the same inputs.

The pack is written into a temporary folder beside ``--out`` (``.NAME.partial-…``) and
renamed into place only when every file, the manifest and its signature are complete. With
``--force`` an existing pack is moved aside first and removed only after the new one is in
place; any failure removes the temporary folder and leaves ``--out`` as it was.

Reproducible: every time comes from the pack's clock (``SOURCE_DATE_EPOCH``), file content
never holds the temporary folder's name, JSON keys and lists are in a fixed order, the zip
has sorted entries with fixed timestamps and permissions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from scanner.fs import FileRefused, copy_user_file
from scanner.pack import files as pack_files
from scanner.pack.collect import Collected
from scanner.pack.evidence import FileCopy
from scanner.pack.manifest import MANIFEST_FILE, build_manifest
from scanner.pack.model import PackData
from scanner.pack.signing import (
    SIGNATURE_FILE,
    SigningKeyError,
    load_private_key,
    signature_document,
)

FILE_MODE = 0o644
DIR_MODE = 0o755
_ZIP_EPOCH = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)  # the earliest time a zip can hold


class PackWriteError(Exception):
    """The pack could not be written; nothing was left behind. One line."""


@dataclass(frozen=True)
class WrittenPack:
    path: Path
    files: int
    key_id: str | None
    zipped: bool
    data: PackData

    def summary_lines(self) -> list[str]:
        data = self.data
        counts = data.rollup.counts()
        what = "zip" if self.zipped else "folder"
        lines = [
            f"qgov: wrote the audit pack ({self.files} files) to the {what} {self.path}",
            f"  {len(data.repositories)} repositor{'y' if len(data.repositories) == 1 else 'ies'}"
            f", {data.findings_total()} open findings; controls: "
            + ", ".join(f"{n} {k.replace('-', ' ')}" for k, n in counts.items() if n),
        ]
        for matrix in data.rollup.frameworks:
            summary = ", ".join(f"{n} {k.replace('-', ' ')}" for k, n in matrix.counts().items()
                                if n)
            lines.append(f"  {matrix.name}: {summary}")
        if data.problems:
            lines.append(f"  {len(data.problems)} problem(s) with the inputs, listed in the "
                         "report:")
            lines += [f"    {p.source}: {p.message}" for p in data.problems[:10]]
        signed = (f"signed with key {self.key_id[:16]}…" if self.key_id
                  else "not signed (--sign-key)")
        lines.append(f"  manifest.json {signed}; check it with: qgov pack verify {self.path}"
                     + (" --public-key KEY.pub" if self.key_id else ""))
        return lines


def _targets(out: Path, zip_output: bool) -> Path:
    if zip_output or out.suffix.lower() == ".zip":
        return out if out.suffix.lower() == ".zip" else out.with_name(out.name + ".zip")
    return out


def _preflight(target: Path, force: bool, zipped: bool) -> None:
    if target.is_symlink():
        raise PackWriteError(f"{target} is a symlink; give the pack a real path")
    if not target.exists():
        return
    if zipped:
        if target.is_dir():
            raise PackWriteError(f"{target} is a folder, not a zip file")
        if not force:
            raise PackWriteError(f"{target} exists; pass --force to replace it")
        return
    if not target.is_dir():
        raise PackWriteError(f"{target} exists and is not a folder")
    if any(target.iterdir()) and not force:
        raise PackWriteError(f"{target} is not empty; pass --force to replace it (the old "
                             "pack is removed only once the new one is complete)")


def generated_files(data: PackData) -> tuple[PackData, dict[str, bytes]]:
    """Every file the pack renders (not the copies of evidence, not the manifest), and the
    data with ``files`` naming them for the report."""
    from scanner.pack.html import render_report_html
    from scanner.pack.pdf import render_pdf

    rendered: dict[str, bytes] = {}
    rendered.update(pack_files.findings_files(data))
    rendered.update(pack_files.oscal_files(data))
    rendered["findings.sarif"] = pack_files.sarif(data)
    rendered["junit.xml"] = pack_files.junit(data)
    rendered["control-matrix.csv"] = pack_files.control_matrix(data)
    rendered["pack.json"] = pack_files.pack_summary(data)
    for name, writer in pack_files.PACK_FILE_WRITERS:
        content = writer(data)
        if content is not None:
            rendered[name] = content
    names = {name.replace("/", "-"): name for name in sorted(rendered)}
    data = replace(data, files=names)
    html = render_report_html(data)
    rendered["report.html"] = html.encode("utf-8")
    rendered["report.pdf"] = render_pdf(html, data)
    return data, rendered


def _safe_pack_path(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\\" in name:
        raise PackWriteError(f"internal: unsafe pack path {name!r}")
    return path.as_posix()


def _write(folder: Path, name: str, content: bytes) -> None:
    target = folder / _safe_pack_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as handle:
        handle.write(content)
    os.chmod(target, FILE_MODE)


def _copy(folder: Path, copy: FileCopy) -> None:
    target = folder / _safe_pack_path(copy.pack_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        digest, _ = copy_user_file(copy.source, target, max_bytes=copy.max_bytes,
                                   what=copy.what)
    except FileRefused as exc:
        raise PackWriteError(f"{exc.message}; the pack was not written") from exc
    if copy.sha256 is not None and digest != copy.sha256:
        raise PackWriteError(f"{copy.what} {copy.source} changed while the pack was made "
                             "(its SHA-256 differs from the one the statuses rest on); "
                             "the pack was not written")
    os.chmod(target, FILE_MODE)


def walk_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(pack path, file) for every file under ``folder``, sorted by pack path."""
    found = []
    for directory, subdirs, names in os.walk(folder):
        subdirs.sort()
        for name in names:
            path = Path(directory) / name
            found.append((path.relative_to(folder).as_posix(), path))
    yield from sorted(found)


def _fill(folder: Path, collected: Collected, sign_key: Any) -> tuple[int, str | None]:
    data, rendered = generated_files(collected.data)
    for name, content in sorted(rendered.items()):
        _write(folder, name, content)
    for copy in collected.copies:
        if copy.pack_path in rendered:
            raise PackWriteError(f"internal: {copy.pack_path} would be written twice")
        _copy(folder, copy)
    listed = []
    for name, path in walk_files(folder):
        content_hash = hashlib.sha256()
        size = 0
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                content_hash.update(chunk)
                size += len(chunk)
        listed.append((name, content_hash.hexdigest(), size))
    manifest, key_id = build_manifest(data, listed, sign_key)
    _write(folder, MANIFEST_FILE, manifest)
    if sign_key is not None:
        _write(folder, SIGNATURE_FILE, signature_document(sign_key, manifest))
    for directory, _, _ in os.walk(folder):
        os.chmod(directory, DIR_MODE)
    return len(listed) + 1 + (1 if sign_key is not None else 0), key_id


def write_zip(folder: Path, target: Path, moment: dt.datetime) -> None:
    """``folder`` as a zip: sorted entries, one timestamp, fixed permissions, no folders."""
    stamp = max(moment, _ZIP_EPOCH).astimezone(dt.UTC)
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute,
                 stamp.second - stamp.second % 2)
    with zipfile.ZipFile(target, "x", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in walk_files(folder):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the permissions below are read
            info.external_attr = (0o100000 | FILE_MODE) << 16
            with open(path, "rb") as handle, zf.open(info, "w") as entry:
                shutil.copyfileobj(handle, entry, 1 << 20)


def write_pack(
    collected: Collected,
    out: Path,
    *,
    zip_output: bool = False,
    force: bool = False,
    sign_key: Path | None = None,
) -> WrittenPack:
    target = _targets(out, zip_output)
    zipped = target.suffix.lower() == ".zip"
    _preflight(target, force, zipped)
    try:
        key = load_private_key(sign_key) if sign_key is not None else None
    except SigningKeyError as exc:
        raise PackWriteError(str(exc)) from exc
    parent = target.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent))
    except OSError as exc:
        raise PackWriteError(f"{target}: cannot create the pack ({exc.strerror or exc})") from exc
    partial_zip: Path | None = None
    try:
        count, key_id = _fill(staging, collected, key)
        if zipped:
            partial_zip = staging.with_name(staging.name + ".zip")
            write_zip(staging, partial_zip, collected.data.generated_at)
            os.chmod(partial_zip, FILE_MODE)
            os.replace(partial_zip, target)
            partial_zip = None
            shutil.rmtree(staging)
        else:
            _move_into_place(staging, target)
    except PackWriteError:
        _clean(staging, partial_zip)
        raise
    except OSError as exc:
        _clean(staging, partial_zip)
        raise PackWriteError(f"{target}: cannot write the pack ({exc.strerror or exc}); "
                             "nothing was written") from exc
    except Exception as exc:
        _clean(staging, partial_zip)
        raise PackWriteError(f"{target}: the pack could not be made "
                             f"({type(exc).__name__}); nothing was written") from exc
    except BaseException:
        _clean(staging, partial_zip)
        raise
    return WrittenPack(path=target, files=count, key_id=key_id, zipped=zipped,
                       data=collected.data)


def _move_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    # --force (checked before): keep the old pack until the new one is in place.
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.absolute().parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _clean(staging: Path, partial_zip: Path | None) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    if partial_zip is not None:
        partial_zip.unlink(missing_ok=True)
