"""Dependency manifests: pins, hashes and package sources.

Rules: QG-DEP-001..006 (metadata in ``scanner/rules/dependencies.yaml``): missing pins,
ranges, missing hashes where the tier requires hash-checked installs (or a hash-checking
file with gaps), extra indexes, insecure package sources, unpinned URL/VCS dependencies.

Severity depends on what the manifest does: files that install exactly what they list
(requirements.txt, conda environments, lock files) get medium for a missing pin and low
for a range; files that only declare what a resolver may pick (pyproject.toml, Pipfile,
requirements.in) get low and info, because their lock file is where pins belong.
An entry that a ``-c`` constraints file pins exactly counts as pinned.

Known vulnerabilities are the vulnerability engine's job (``scanner/engines/osv.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.classify import classify
from scanner.detectors.interface import Detector
from scanner.formats.errors import ParseError
from scanner.formats.manifests import (
    MANIFEST_KINDS,
    Dependency,
    IndexOption,
    Manifest,
    Pin,
    Role,
)
from scanner.masking import redact_url
from scanner.model import FileKind, Issue, Severity, Tier
from scanner.source import SourceFile

_SEVERITY = {
    # (rule, declares-only?) -> severity
    ("QG-DEP-001", False): Severity.MEDIUM,
    ("QG-DEP-001", True): Severity.LOW,
    ("QG-DEP-002", False): Severity.LOW,
    ("QG-DEP-002", True): Severity.INFO,
    ("QG-DEP-006", False): Severity.MEDIUM,
    ("QG-DEP-006", True): Severity.LOW,
}


class DependenciesDetector(Detector):
    name = "dependencies"
    kinds = MANIFEST_KINDS
    rules = frozenset(f"QG-DEP-{n:03d}" for n in range(1, 7))

    def __init__(self, tier: Tier | str = Tier.INTERNAL_PILOT) -> None:
        self.tier = Tier(tier)

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        manifest = source.manifest
        if manifest is None:
            return
        own = [d for d in manifest.dependencies if self._reports(source, d.path)]
        declares = manifest.role is Role.DECLARE
        for dep in own:
            yield from self._pin_findings(dep, manifest, declares)
        yield from self._hash_findings(source, manifest, own)
        for option in manifest.indexes:
            if self._reports(source, option.path):
                yield from self._index_findings(option)
        trouble = [*manifest.errors, *manifest.problems]
        if trouble:
            path, line, message = trouble[0]
            where = f"line {line}" if path == source.path else f"{path}:{line}"
            more = f" (and {len(trouble) - 1} more)" if len(trouble) > 1 else ""
            raise ParseError(
                redact_url(f"{where}: {message}{more}"), line if path == source.path else None
            )

    @staticmethod
    def _reports(source: SourceFile, path: str) -> bool:
        """Entries of an included file are reported here only when the walk would not
        scan that file on its own (e.g. ``-r base.txt``); otherwise its own scan does."""
        return path == source.path or classify(path, "") is not FileKind.REQUIREMENTS

    def _pin_findings(
        self, dep: Dependency, manifest: Manifest, declares: bool
    ) -> Iterator[Issue]:
        if dep.pin in {Pin.NONE, Pin.RANGE} and dep.name in manifest.constraints:
            return  # a -c constraints file pins it exactly
        if dep.pin is Pin.NONE:
            rule, text = "QG-DEP-001", f"{dep.display!r} has no version pin"
        elif dep.pin is Pin.RANGE:
            rule, text = "QG-DEP-002", f"{dep.display!r} allows a range of versions, not one"
        elif dep.pin is Pin.URL:
            rule, text = (
                "QG-DEP-006",
                f"{dep.display!r} installs from a URL or VCS ref that can change "
                "(pin a commit id or add a hash)",
            )
        else:
            return
        where = " (declared; pin it in the lock file)" if declares and rule != "QG-DEP-006" else ""
        yield Issue(
            rule_id=rule,
            message=text + where,
            path=dep.path,
            line=dep.line,
            severity=_SEVERITY[(rule, declares)],
            evidence=dep.display,
            material=f"{dep.name}\x00{dep.display}",
        )

    def _hash_findings(
        self, source: SourceFile, manifest: Manifest, own: list[Dependency]
    ) -> Iterator[Issue]:
        installable = [
            d for d in own
            if d.role in {Role.INSTALL, Role.LOCK} and d.pin in {Pin.EXACT, Pin.URL, Pin.URL_PINNED}
        ]
        if not installable:
            return
        missing = [d for d in installable if not d.hashes]
        if not missing:
            return
        # pip's hash-checking mode (any --hash, or --require-hashes) refuses unhashed
        # entries; lock files are read by their own tools, which do not, so for them only
        # the tier decides.
        hash_mode = manifest.role is not Role.LOCK and (
            manifest.require_hashes or any(d.hashes for d in installable)
        )
        required = self.tier.regulated
        if not hash_mode and not required:
            return
        is_conda = any(d.ecosystem == "conda" for d in installable)
        if hash_mode:
            for dep in missing:
                yield Issue(
                    rule_id="QG-DEP-003",
                    message=(
                        f"{dep.display!r} has no hash although the file is installed in "
                        "hash-checking mode (pip will refuse it)"
                    ),
                    path=dep.path,
                    line=dep.line,
                    severity=Severity.MEDIUM if required else Severity.LOW,
                    evidence=dep.display,
                    material=f"nohash\x00{dep.name}\x00{dep.display}",
                )
            return
        first = missing[0]
        if is_conda:
            detail = (
                "conda environment files cannot carry hashes; install from a conda-lock / "
                "explicit spec file with checksums"
            )
        else:
            detail = "no entry carries a --hash (use pip-compile --generate-hashes)"
        yield Issue(
            rule_id="QG-DEP-003",
            message=(
                f"{len(missing)} dependenc{'y' if len(missing) == 1 else 'ies'} installed without "
                f"hash verification, required at tier {self.tier.value}: {detail}"
            ),
            path=first.path,
            line=first.line,
            material=f"nohash-file\x00{source.path}",
        )

    @staticmethod
    def _index_findings(option: IndexOption) -> Iterator[Issue]:
        shown = redact_url(option.value)
        insecure = option.value.lower().startswith("http://")
        if option.option == "--trusted-host":
            insecure_source: tuple[str, str, str] | None = (
                f"--trusted-host {shown} turns off TLS verification for that index",
                f"--trusted-host {shown}",
                "trusted-host",
            )
        elif option.option == "verify_ssl=false":
            insecure_source = (
                f"package source {shown} has verify_ssl = false", shown, "verify-ssl"
            )
        elif insecure:
            insecure_source = (
                f"packages are fetched over plain HTTP from {shown} ({option.option})",
                shown,
                "http-index",
            )
        else:
            insecure_source = None
        if insecure_source is not None:
            message, evidence, tag = insecure_source
            yield Issue(
                rule_id="QG-DEP-005",
                message=message,
                path=option.path,
                line=option.line,
                evidence=evidence,
                material=f"{tag}\x00{option.value}",
            )
        if option.option == "--extra-index-url":
            yield Issue(
                rule_id="QG-DEP-004",
                message=(
                    f"--extra-index-url {shown}: pip picks the highest version from any index, "
                    "so a public package can shadow an internal one (dependency confusion)"
                ),
                path=option.path,
                line=option.line,
                evidence=f"--extra-index-url {shown}",
                material=f"extra-index\x00{option.value}",
            )
