"""Known vulnerabilities in pinned dependencies (rule QG-DEP-007).

Sources, chosen by settings:
- ``osv_db``: an offline OSV database (folder of JSON files or an ecosystem zip such as
  ``PyPI/all.zip``), loaded once per scan and indexed by package;
- ``vuln_service: online``: pip-audit's OSV service, only when asked for. When it cannot
  be reached the scan says so in an error entry and carries on with the offline database
  if there is one.
With neither, the engine emits a single notice and nothing else.

Only exact pins are matched (``==``/``===`` in requirements and the files they include
with ``-r``/``-c``, lock-file versions, exact conda pins, ``%pip install x==1.2`` in
notebooks), each reported at the line that pins it; ranges are the dependency
detector's business and are never guessed at. Advisories that are aliases of each other
are reported once, under the PYSEC id when there is one.

Options (``VulnerabilityOptions``, built from the settings by the engine registry): the
database path and how the user wrote it, whether to ask the online service, its timeout,
and how old the offline database may be.

A database's age is measured from its newest advisory's ``modified`` time, not the file's
mtime: a copy, a checkout or a CI cache restore gives a stale snapshot a fresh mtime, while
OSV updates some PyPI advisory nearly every day, so the newest ``modified`` is close to the
day the snapshot was taken. Older than ``max_age_days`` (``vuln_db_max_age``) is a
``stale-database`` scan error: listed as a problem, and a gate failure under ``--strict``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from scanner.engines.interface import Engine, EngineOutput
from scanner.engines.osvdb import Advisory, OsvDatabase, merge_aliases
from scanner.formats.errors import ParseError
from scanner.formats.manifests import MANIFEST_KINDS, Pin, normalise, parse_pip_install_args
from scanner.formats.notebook import cell_line_numbers
from scanner.formats.pip_args import PIP_INSTALL_LINE
from scanner.model import Confidence, FileKind, Issue, ScanError, VulnDatabase
from scanner.source import SourceFile

if TYPE_CHECKING:
    from pip_audit._service.interface import VulnerabilityService

NO_DATABASE_NOTICE = (
    "no vulnerability database configured (set osv_db or enable online lookup); "
    "known-vulnerability check skipped"
)


class VulnerabilitySource(Protocol):
    """Anything that can answer: which advisories affect this exact version?"""

    name: str

    def lookup(self, name: str, version: str) -> list[Advisory]: ...


@dataclass(frozen=True)
class PinnedPackage:
    name: str
    version: str
    path: str
    line: int
    display: str
    cell: int | None = None
    ecosystem: str = "PyPI"


class PipAuditSource:
    """pip-audit's online OSV service behind our ``VulnerabilitySource`` shape."""

    name = "online OSV service (pip-audit)"

    def __init__(self, service: VulnerabilityService | None = None, timeout: int = 15) -> None:
        if service is None:
            from pip_audit._service.osv import OsvService

            service = OsvService(timeout=timeout)
        self._service = service

    def lookup(self, name: str, version: str) -> list[Advisory]:
        from packaging.version import Version
        from pip_audit._service.interface import ResolvedDependency

        _dep, results = self._service.query(
            ResolvedDependency(name=name, version=Version(version))
        )
        return [
            Advisory(
                id=str(result.id),
                aliases=tuple(sorted(str(a) for a in result.aliases)),
                summary=" ".join(str(result.description).split())[:160],
                severity=None,
                fixed=tuple(str(v) for v in sorted(result.fix_versions)[:1]),
            )
            for result in results
        ]


@dataclass(frozen=True)
class VulnerabilityOptions:
    database: Path | None = None  # resolved path of the offline OSV folder or zip
    database_label: str | None = None  # as the user wrote it, for messages
    online: bool = False  # also ask pip-audit's OSV service
    timeout: int = 15  # seconds for the online service
    max_age_days: int = 7  # older offline databases are reported as stale
    now: datetime | None = None  # tests pin the clock


def database_problem(path: Path) -> str | None:
    """Why ``path`` cannot be an OSV database (None when it may be one): checked before the
    scan, so a mistyped path is a usage error rather than a skipped check."""
    if not path.exists():
        return "no such file or directory"
    if path.is_dir():
        return None
    if not path.is_file() or not zipfile.is_zipfile(path):
        return "not a folder of OSV JSON files nor an OSV zip"
    return None


class VulnerabilityEngine(Engine):
    name = "vulnerabilities"
    kinds = MANIFEST_KINDS | frozenset({FileKind.NOTEBOOK})
    rules = frozenset({"QG-DEP-007"})

    def __init__(
        self,
        options: VulnerabilityOptions | None = None,
        online_factory: Callable[[int], VulnerabilitySource] | None = None,
    ) -> None:
        self.options = options or VulnerabilityOptions()
        # Tests inject a factory; by default the online source is pip-audit's service.
        self._online_factory = online_factory or (lambda timeout: PipAuditSource(timeout=timeout))

    def run(self, sources: list[SourceFile]) -> EngineOutput:
        output = EngineOutput()
        backends = self._backends(output)
        if not backends:
            if not output.errors:
                output.notices.append(NO_DATABASE_NOTICE)
            output.not_run[self.name] = (
                "the vulnerability database could not be opened" if output.errors
                else "no vulnerability database was given (--osv-db, osv_db:)"
            )
            return output
        packages = list(_pinned_packages(sources))
        cache: dict[tuple[str, str], list[Advisory]] = {}
        failed: set[str] = set()
        for package in packages:
            key = (package.name, package.version)
            if key not in cache:
                found: list[Advisory] = []
                for backend in backends:
                    if backend.name in failed:
                        continue
                    try:
                        found.extend(backend.lookup(*key))
                    except Exception as exc:  # network and service failures
                        # An unreachable service is a fact about this run, not a problem
                        # with any file: say it once and carry on with what answered.
                        failed.add(backend.name)
                        output.notices.append(
                            f"{backend.name} could not be reached "
                            f"({exc.__class__.__name__}); its lookups were skipped"
                        )
                cache[key] = merge_aliases(found)
            output.issues.extend(_issue(package, advisory) for advisory in cache[key])
        if failed and len(failed) == len(backends):
            output.not_run[self.name] = "no vulnerability source answered"
        return output

    def _backends(self, output: EngineOutput) -> list[VulnerabilitySource]:
        options = self.options
        backends: list[VulnerabilitySource] = []
        if options.database is not None:
            label = options.database_label or str(options.database)
            try:
                database = OsvDatabase.load(options.database)
            except (OSError, zipfile.BadZipFile) as exc:
                detail = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
                output.errors.append(
                    ScanError(
                        path=label,
                        reason="engine-unavailable",
                        message=(
                            f"vulnerability database {label} cannot be opened ({detail}); "
                            "known-vulnerability check skipped"
                        ),
                    )
                )
            else:
                output.errors.extend(
                    ScanError(
                        path=label,
                        reason="engine-error",
                        message=f"vulnerability database entry {name}: {message}; entry ignored",
                    )
                    for name, message in database.errors
                )
                newest = database.newest_modified
                output.vuln_db = VulnDatabase(
                    path=label,
                    snapshot=newest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                    if newest is not None else None,
                    advisories=len(database),
                )
                stale = _staleness(database, label, options)
                if stale is not None:
                    output.errors.append(stale)
                backends.append(_OfflineSource(database))
        if options.online:
            backends.append(self._online_factory(options.timeout))
        return backends


def _staleness(
    database: OsvDatabase, label: str, options: VulnerabilityOptions
) -> ScanError | None:
    newest = database.newest_modified
    if newest is None:
        return ScanError(
            path=label,
            reason="stale-database",
            message=f"vulnerability database {label} holds no PyPI advisory with a 'modified' "
            "date, so its age is unknown; download a current snapshot",
        )
    now = options.now or datetime.now(UTC)
    age = (now - newest).days
    if age <= options.max_age_days:
        return None
    return ScanError(
        path=label,
        reason="stale-database",
        message=f"vulnerability database {label} is {age} days old (newest advisory modified "
        f"{newest.date().isoformat()}; vuln_db_max_age is {options.max_age_days}); advisories "
        "published since are not checked: download a current snapshot",
    )


class _OfflineSource:
    def __init__(self, database: OsvDatabase) -> None:
        self.database = database
        self.name = f"offline OSV database ({database.location})"

    def lookup(self, name: str, version: str) -> list[Advisory]:
        return self.database.lookup(name, version)


def _pinned_packages(sources: Iterable[SourceFile]) -> Iterable[PinnedPackage]:
    seen: set[tuple[str, int, str, str]] = set()
    for source in sources:
        if source.kind is FileKind.NOTEBOOK:
            packages: Iterable[PinnedPackage] = _notebook_pins(source)
        else:
            packages = _manifest_pins(source)
        for package in packages:
            key = (package.path, package.line, package.name, package.version)
            if key not in seen:
                seen.add(key)
                yield package


def _manifest_pins(source: SourceFile) -> Iterable[PinnedPackage]:
    try:
        manifest = source.manifest
    except ParseError:
        return  # the dependency detector reports the broken file
    if manifest is None:
        return
    # Entries of -r/-c included files come with their own path and line, so a version a
    # constraints file pins is reported where it is pinned, once.
    for dep in manifest.dependencies:
        if dep.pin is not Pin.EXACT or dep.version is None or dep.parsed_version is None:
            continue
        yield PinnedPackage(
            name=dep.name, version=dep.version, path=dep.path, line=dep.line,
            display=dep.display, ecosystem=dep.ecosystem,
        )


def _notebook_pins(source: SourceFile) -> Iterable[PinnedPackage]:
    if "install" not in source.text:
        return
    try:
        cells = source.notebook_cells
    except ParseError:
        return
    for cell in cells:
        if cell.cell_type != "code" or "install" not in cell.source:
            continue
        numbers = cell_line_numbers(source, cell)
        for index, line in enumerate(cell.source.split("\n")):
            if not PIP_INSTALL_LINE.match(line):
                continue
            for requirement in parse_pip_install_args(line):
                specs = list(requirement.specifier)
                if len(specs) != 1 or specs[0].operator not in {"==", "==="}:
                    continue
                if "*" in specs[0].version:
                    continue
                yield PinnedPackage(
                    name=normalise(requirement.name),
                    version=specs[0].version,
                    path=source.path,
                    line=numbers[min(index, len(numbers) - 1)],
                    display=str(requirement),
                    cell=cell.index,
                )


def _issue(package: PinnedPackage, advisory: Advisory) -> Issue:
    aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
    fixed = (
        f"fixed in {advisory.fixed[0]}" if advisory.fixed else "no fixed version is published"
    )
    summary = f": {advisory.summary}" if advisory.summary else ""
    conda = (
        " [conda package matched against PyPI advisories]" if package.ecosystem == "conda" else ""
    )
    return Issue(
        rule_id="QG-DEP-007",
        message=(
            f"{package.name} {package.version} is affected by {advisory.id}{aliases}{summary}; "
            f"{fixed}{conda}"
        ),
        path=package.path,
        line=package.line,
        cell=package.cell,
        confidence=Confidence.MEDIUM if package.ecosystem == "conda" else Confidence.HIGH,
        evidence=f"{package.name}=={package.version}",
        material=f"{package.name}\x00{package.version}\x00{advisory.id}",
        severity=advisory.severity,
        engine="osv",
    )
