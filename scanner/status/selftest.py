"""Self-test evidence: the ``selftest.json`` that ``qgov job selftest --out DIR`` writes.

Each check in it names the catalog controls it exercises and passed or failed; a control
whose checks all passed is ``control-test-passed``, one with a failed check
``control-test-failed``. The file is our own output, so fields added by later versions are
ignored, but what status needs must be there and well typed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError, field_validator

from scanner.formats.yaml import describe_validation_error
from scanner.fs import FileRefused, read_user_file
from scanner.model import printable

MAX_SELFTEST_BYTES = 16 * 1024 * 1024
SELFTEST_COMPONENT = "governed-job selftest"


class SelftestError(Exception):
    """The self-test evidence cannot be used; the message names the file and the field."""


class SelftestCheck(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: StrictStr
    title: StrictStr = ""
    control_ids: tuple[StrictStr, ...]
    status: Literal["pass", "fail"]
    detail: StrictStr = ""

    @field_validator("id", "title", "detail")
    @classmethod
    def _printable(cls, value: str) -> str:
        # Shown in text, XML and HTML: no control characters from a hand-edited file.
        return printable(value, path=False)

    @field_validator("control_ids")
    @classmethod
    def _printable_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(printable(item, path=False) for item in value)


class _Tool(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: StrictStr
    version: StrictStr = ""
    component: StrictStr = ""


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    tool: _Tool
    generated_at: StrictStr
    checks: tuple[SelftestCheck, ...]


@dataclass(frozen=True)
class SelftestEvidence:
    path: Path
    sha256: str
    generated_at: str
    version: str
    checks: tuple[SelftestCheck, ...]

    def for_control(self, control_id: str) -> list[SelftestCheck]:
        return [check for check in self.checks if control_id in check.control_ids]

    def to_json(self) -> dict[str, Any]:
        failed = sum(1 for check in self.checks if check.status == "fail")
        return {
            "file": printable(str(self.path)),
            "sha256": self.sha256,
            "generated_at": self.generated_at,
            "qgov_version": self.version,
            "checks": len(self.checks),
            "failed": failed,
        }


def load_selftest(path: Path) -> SelftestEvidence:
    label = f"self-test evidence {path}"
    try:
        raw = read_user_file(path, max_bytes=MAX_SELFTEST_BYTES, what="self-test evidence")
    except FileRefused as exc:
        raise SelftestError(exc.message) from exc
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise SelftestError(f"{label}: not a JSON document (write it with qgov job selftest)") \
            from exc
    try:
        report = _Report.model_validate(document)
    except ValidationError as exc:
        raise SelftestError(describe_validation_error(label, exc)) from exc
    if report.tool.name != "qgov" or report.tool.component != SELFTEST_COMPONENT:
        raise SelftestError(f"{label}: not the report of qgov job selftest")
    return SelftestEvidence(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        generated_at=printable(report.generated_at, path=False),
        version=printable(report.tool.version, path=False),
        checks=report.checks,
    )
