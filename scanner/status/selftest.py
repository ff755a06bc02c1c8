"""Self-test evidence: the ``selftest.json`` that ``qgov job selftest --out DIR`` writes.

Each check in it names the catalog controls it exercises and passed, failed or was not
exercised (the policy it ran against gave it nothing to try); a control with a failed check is
``control-test-failed``, one with a check that passed and exercised it
``control-test-passed``. The file is our own output, so fields added by later versions are
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
    # not-exercised: the policy it ran against gave the check nothing to try (e.g. no role
    # may submit), so it is evidence of nothing.
    status: Literal["pass", "fail", "not-exercised"]
    detail: StrictStr = ""
    # Controls a passing check names but did not exercise (a part the policy skipped).
    controls_not_evidenced: tuple[StrictStr, ...] = ()

    @field_validator("id", "title", "detail")
    @classmethod
    def _printable(cls, value: str) -> str:
        # Shown in text, XML and HTML: no control characters from a hand-edited file.
        return printable(value, path=False)

    def evidences(self, control_id: str) -> bool:
        """Whether this check's pass shows ``control_id`` working."""
        return self.status == "pass" and control_id not in self.controls_not_evidenced

    @field_validator("control_ids", "controls_not_evidenced")
    @classmethod
    def _printable_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(printable(item, path=False) for item in value)


class _Tool(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: StrictStr
    version: StrictStr = ""
    component: StrictStr = ""


class SelftestPolicy(BaseModel):
    """Which policy the checks ran against (``selftest.json``'s ``policy``): the
    organisation's (``qgov job selftest --policy FILE``) or qgov's built-in demo policy."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    source: StrictStr  # "organisation" or "built-in"
    id: StrictStr = ""
    version: StrictStr = ""
    sha256: StrictStr = ""
    file: StrictStr = ""

    @field_validator("source", "id", "version", "sha256", "file")
    @classmethod
    def _printable(cls, value: str) -> str:
        return printable(value, path=False)

    @property
    def built_in(self) -> bool:
        return self.source != "organisation"


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    tool: _Tool
    generated_at: StrictStr
    # None: written before qgov recorded it (then which policy is unknown).
    policy: SelftestPolicy | None = None
    checks: tuple[SelftestCheck, ...]


@dataclass(frozen=True)
class SelftestEvidence:
    path: Path
    sha256: str
    generated_at: str
    version: str
    checks: tuple[SelftestCheck, ...]
    policy: SelftestPolicy | None = None

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
        policy=report.policy,
    )
