"""Reading a qgov scan JSON file back: the findings, scan errors, inventory, coverage and
``scan`` section another run (a repository's CI) wrote, as a ``ScanResult`` plus its
``ScanInfo``, so ``qgov report`` can roll many repositories into one audit pack.

The file goes through the safe reader (regular files only, size-capped) and is validated with
pydantic. A foreign, truncated, malformed or newer-major-version file is a ``ScanJsonError``
whose message is one line naming the file. Files of the same major version are read whatever
their minor version: fields a later minor version adds to the top level, findings, errors and
the ``scan`` section are ignored.

Findings keep the fingerprint they were written with: it is derived from a hash of the
offending content, which the JSON contract does not carry, so a ``StoredFinding`` holds it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scanner.fs import FileRefused, read_user_file
from scanner.model import (
    Confidence,
    Coverage,
    Domain,
    Finding,
    Inventory,
    ScanError,
    ScanErrorReason,
    ScanResult,
    Severity,
    Suppression,
    SuppressionKind,
    printable,
)
from scanner.reports.report import JSON_FORMAT_VERSION, TOOL_NAME
from scanner.scan_info import ScanInfo

MAX_SCAN_JSON_BYTES = 256 * 1024 * 1024
_FINGERPRINT = r"^[0-9a-f]{32}$"


class ScanJsonError(Exception):
    """The file is not a qgov scan JSON this version can read; the message is one line."""


class StoredFinding(Finding):
    """A finding read back from a scan JSON file, with the fingerprint it was written with."""

    stored_fingerprint: str = Field(pattern=_FINGERPRINT)

    @property
    def fingerprint(self) -> str:
        return self.stored_fingerprint


class _Tool(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    version: str = ""


class _Suppression(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: SuppressionKind
    reason: str | None = None
    until: str | None = None
    id: str | None = None
    owner: str | None = None


class _Finding(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rule_id: str
    title: str = ""
    control_ids: tuple[str, ...] = ()
    domain: Domain | None = None
    severity: Severity
    confidence: Confidence = Confidence.HIGH
    path: str
    line: int | None = None
    cell: int | None = None
    message: str
    evidence: str | None = None
    remediation: str | None = None
    fingerprint: str = Field(pattern=_FINGERPRINT)
    frameworks: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    engine: str = "qgov"
    suppressed: bool = False
    suppression: _Suppression | None = None

    def to_finding(self) -> StoredFinding:
        suppression = (
            Suppression(**self.suppression.model_dump()) if self.suppression is not None
            else None
        )
        return StoredFinding(
            rule_id=self.rule_id,
            title=self.title,
            control_ids=self.control_ids,
            domain=self.domain,
            severity=self.severity,
            confidence=self.confidence,
            path=self.path,
            line=self.line,
            cell=self.cell,
            message=self.message,
            evidence=self.evidence,
            remediation=self.remediation,
            frameworks=tuple(sorted(self.frameworks.items())),
            engine=self.engine,
            suppression=suppression,
            stored_fingerprint=self.fingerprint,
        )


class _ScanErrorEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    path: str
    reason: ScanErrorReason
    message: str
    line: int | None = None


class _Summary(BaseModel):
    model_config = ConfigDict(extra="ignore")

    files_scanned: int = Field(default=0, ge=0)
    files_excluded: int = Field(default=0, ge=0)
    duration_seconds: float = 0.0


class _Document(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tool: _Tool
    format_version: str = JSON_FORMAT_VERSION  # files from before the contract had one
    scan: ScanInfo | None = None
    roots: tuple[str, ...]
    findings: tuple[_Finding, ...]
    scan_errors: tuple[_ScanErrorEntry, ...] = ()
    notices: tuple[str, ...] = ()
    inventory: Inventory = Inventory()
    coverage: Coverage | None = None
    summary: _Summary

    @field_validator("roots", "notices")
    @classmethod
    def _printable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(printable(item, path=False) for item in value)


@dataclass(frozen=True)
class LoadedScan:
    path: Path
    sha256: str
    size: int
    tool_version: str
    format_version: str
    result: ScanResult
    scan: ScanInfo | None  # None: written before the contract carried a scan section
    # Control id -> status as the run that wrote the file computed it (its ``controls``).
    recorded_statuses: dict[str, str]


def _major(version: str) -> int | None:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
    # Never the value: a hand-edited file could hold anything.
    return f"field '{where}': {error['msg']}{tail}"


def load_scan_json(path: Path) -> LoadedScan:
    label = f"scan JSON {printable(str(path))}"
    try:
        raw = read_user_file(path, max_bytes=MAX_SCAN_JSON_BYTES, what="scan JSON")
    except FileRefused as exc:
        raise ScanJsonError(exc.message) from exc
    try:
        document: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScanJsonError(f"{label}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(raw.rstrip()) - 1
        why = "it ends early (truncated?)" if cut else f"line {exc.lineno}: {exc.msg}"
        raise ScanJsonError(f"{label}: not valid JSON: {why}") from exc
    except RecursionError as exc:
        raise ScanJsonError(f"{label}: nested too deeply") from exc
    if not isinstance(document, dict):
        raise ScanJsonError(f"{label}: not a qgov scan report (expected a JSON object)")
    tool = document.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != TOOL_NAME or "findings" not in document:
        raise ScanJsonError(
            f"{label}: not a qgov scan report (write one with qgov scan --format json)"
        )
    version = document.get("format_version", JSON_FORMAT_VERSION)
    major = _major(version) if isinstance(version, str) else None
    if major is None:
        raise ScanJsonError(f"{label}: format_version is not a version like '1.0'")
    ours = _major(JSON_FORMAT_VERSION)
    if major != ours:
        newer = "a newer" if ours is not None and major > ours else "an older"
        raise ScanJsonError(
            f"{label}: written by {newer} qgov (format {version}); this qgov reads format "
            f"{ours}.x"
        )
    try:
        parsed = _Document.model_validate(document)
    except ValidationError as exc:
        raise ScanJsonError(f"{label}: {_first_problem(exc)}") from exc
    try:
        findings = tuple(entry.to_finding() for entry in parsed.findings)
        errors = tuple(ScanError(**entry.model_dump()) for entry in parsed.scan_errors)
    except ValidationError as exc:
        raise ScanJsonError(f"{label}: {_first_problem(exc)}") from exc
    result = ScanResult(
        roots=parsed.roots,
        findings=findings,
        errors=errors,
        files_scanned=parsed.summary.files_scanned,
        files_excluded=parsed.summary.files_excluded,
        duration_seconds=parsed.summary.duration_seconds,
        notices=parsed.notices,
        inventory=parsed.inventory,
        coverage=parsed.coverage,
    )
    return LoadedScan(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        tool_version=printable(parsed.tool.version, path=False),
        format_version=version,
        result=result,
        scan=parsed.scan,
        recorded_statuses=_recorded_statuses(document.get("controls")),
    )


def _recorded_statuses(controls: Any) -> dict[str, str]:
    if not isinstance(controls, list):
        return {}
    return {
        entry["id"]: entry["status"] for entry in controls
        if isinstance(entry, dict) and isinstance(entry.get("id"), str)
        and isinstance(entry.get("status"), str)
    }
