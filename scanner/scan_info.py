"""What a scan was: its targets and their git commits, when it ran, with which tool, catalog
and effective configuration. The JSON report carries it as ``scan``; an audit pack's cover
is made from it, for a folder scanned there and for a scan JSON file read back alike.

Paths are shown the way a reader can use them without learning anything about the machine:
relative to the working folder when inside it, with ``~`` for the home folder otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from scanner import __version__
from scanner.catalog import Catalog
from scanner.catalog_digest import CatalogInfo, catalog_info
from scanner.clock import iso_utc
from scanner.config import Settings
from scanner.fs import FileRefused, read_user_file
from scanner.gitinfo import GitState, git_state
from scanner.model import ScanResult, Severity, Tier, printable


def display_path(path: str | Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (the working folder) when inside it, else with the home
    folder written ``~``; POSIX separators, unprintable characters escaped."""
    text = str(path)
    if not text:
        return text
    try:
        absolute = Path(os.path.abspath(text))
        here = Path(os.path.abspath(base or Path.cwd()))
    except (OSError, ValueError):
        return printable(text)
    if absolute == here or here in absolute.parents:
        shown = absolute.relative_to(here).as_posix() or "."
        return printable(shown)
    home = Path(os.path.expanduser("~"))
    if Path(text).is_absolute() and str(home) not in ("/", "") and home in absolute.parents:
        return printable("~/" + absolute.relative_to(home).as_posix())
    return printable(Path(text).as_posix())


# Unknown fields are ignored: a scan JSON written by a later minor version still reads.


class ScanTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    path: str
    git: GitState | None = None  # None: not in a git work tree (or git could not tell)


class OsvInfo(BaseModel):
    """The known-vulnerability check's database: where, how current, how old at scan time."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    service: str  # offline | online
    path: str | None = None
    snapshot: str | None = None  # the newest advisory's modified time
    age_days: int | None = None  # snapshot to scan time
    max_age_days: int


class EffectiveConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    config_file: str | None = None
    tier: Tier
    data_class: str | None = None
    fail_on: str
    strict: bool = False
    disabled_rules: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    engines: dict[str, bool]
    baseline: str | None = None
    policy: str | None = None
    attestations: str | None = None
    custom_catalog: tuple[str, ...] = ()
    osv: OsvInfo | None = None  # None: the vulnerability check was turned off


class ScanInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    targets: tuple[ScanTarget, ...]
    scanned_at: str  # ISO 8601 UTC; SOURCE_DATE_EPOCH pins it
    tool_version: str
    catalog: CatalogInfo
    config: EffectiveConfig
    # SHA-256 of everything that decides the results besides the scanned content: qgov's
    # version, the catalog, every setting and the files they name (baseline, policy,
    # attestations). `qgov org scan` skips a repository whose commit and digest are unchanged.
    config_digest: str | None = None


# Settings that change how a scan runs, not what it finds.
_RUN_ONLY_SETTINGS = ("jobs", "format", "cache")
_MAX_DIGESTED_BYTES = 64 * 1024 * 1024


def config_digest(settings: Settings, catalog: CatalogInfo) -> str:
    """The ``config_digest`` of a scan with ``settings`` and ``catalog``."""
    files: dict[str, str | None] = {}
    for name in ("baseline", "policy", "attestations"):
        value = getattr(settings, name)
        if value:
            try:
                data = read_user_file(settings.resolve(value), max_bytes=_MAX_DIGESTED_BYTES,
                                      what=name)
                files[name] = hashlib.sha256(data).hexdigest()
            except FileRefused:
                files[name] = None
    document = {
        "tool_version": __version__,
        "catalog": catalog.digest,
        "settings": settings.model_dump(mode="json", exclude=set(_RUN_ONLY_SETTINGS)),
        "files": files,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _age(snapshot: str | None, now: dt.datetime) -> int | None:
    if snapshot is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(snapshot.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0, (now - moment).days)


def describe_scan(
    roots: Sequence[Path],
    settings: Settings,
    catalog: Catalog,
    result: ScanResult,
    *,
    now: dt.datetime,
    config_file: Path | None,
) -> ScanInfo:
    """The ``scan`` section for a scan of ``roots`` with ``settings`` that gave ``result``."""

    def shown(value: str | None) -> str | None:
        return display_path(settings.resolve(value)) if value else None

    osv = None
    if settings.engines.vulnerabilities:
        used = result.coverage.vuln_db if result.coverage else None
        osv = OsvInfo(
            service=settings.vuln_service,
            path=display_path(used.path) if used else shown(settings.osv_db),
            snapshot=used.snapshot if used else None,
            age_days=_age(used.snapshot, now) if used else None,
            max_age_days=settings.vuln_db_max_age,
        )
    config = EffectiveConfig(
        config_file=display_path(config_file) if config_file else None,
        tier=settings.tier,
        data_class=settings.data_class,
        fail_on=str(settings.fail_on.value if isinstance(settings.fail_on, Severity)
                    else settings.fail_on),
        strict=settings.strict,
        disabled_rules=tuple(settings.disable_rules),
        exclude=tuple(settings.exclude),
        engines=settings.engines.model_dump(),
        baseline=shown(settings.baseline),
        policy=shown(settings.policy),
        attestations=shown(settings.attestations),
        custom_catalog=tuple(display_path(settings.resolve(p)) for p in settings.custom_catalog),
        osv=osv,
    )
    catalog_summary = catalog_info(catalog, custom=bool(settings.custom_catalog))
    return ScanInfo(
        targets=tuple(ScanTarget(path=display_path(root), git=git_state(root)) for root in roots),
        scanned_at=iso_utc(now),
        tool_version=__version__,
        catalog=catalog_summary,
        config=config,
        config_digest=config_digest(settings, catalog_summary),
    )
