"""``attestations.yaml``: what a person states about a control, with evidence files.

```yaml
attestations:                      # or the list alone at the top level
  - control: IAM-02
    statement: Every quantum console and notebook service signs in through Okta with MFA.
    owner: identity-team@example.org
    date: 2026-10-15               # when it was stated
    evidence: [evidence/okta-app-policies.md]   # relative to this file
    next_review: 2027-10-15        # the attestation lapses after this day
```

The file is validated strictly (unknown fields, wrong types and impossible dates are errors
naming the file, the line and the field; a control the catalog does not know is one too).
Evidence files are hashed with SHA-256 so a pack can show exactly what was relied on; a
missing, unreadable or oversized evidence file is a problem of that attestation, reported
with it, and the attestation does not count. Reused by ``qgov report``.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import stat
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from scanner.formats.errors import ParseError
from scanner.formats.yaml import (
    DocumentError,
    LineDict,
    LineList,
    load_all_with_lines,
    load_yaml_model,
)
from scanner.fs import FileRefused, read_user_file
from scanner.governed.errors import FieldProblem
from scanner.model import printable

MAX_ATTESTATIONS_BYTES = 2 * 1024 * 1024
# Evidence is hashed, never parsed; exports and PDFs can be large, but a "file" of many
# gigabytes is a mistake (or a device), not evidence.
MAX_EVIDENCE_BYTES = 512 * 1024 * 1024
_CHUNK = 1 << 20


class AttestationError(Exception):
    """The attestations file cannot be used; the message names the file, line and field."""


def _day(value: Any) -> dt.date:
    """Dates as YAML writes them, or quoted ISO days; never numbers or timestamps."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a day (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected a day as YYYY-MM-DD") from None
    raise ValueError("expected a day as YYYY-MM-DD")


Day = Annotated[dt.date, BeforeValidator(_day)]


class Attestation(BaseModel):
    # Unknown fields refused and no type coercion: a number is not an owner, a list of one
    # path is not a path.
    model_config = ConfigDict(frozen=True, extra="forbid")

    control: StrictStr = Field(pattern=r"^[A-Z]{2,5}-\d{2,3}$")
    statement: StrictStr = Field(min_length=1, max_length=4000)
    owner: StrictStr = Field(min_length=1, max_length=200)
    date: Day
    evidence: tuple[StrictStr, ...] = Field(min_length=1, max_length=100)
    next_review: Day

    @field_validator("statement", "owner")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return printable(value.strip(), path=False)

    @field_validator("evidence", mode="before")
    @classmethod
    def _a_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError("expected a list of file paths, e.g. [evidence/review.pdf]")
        return value

    @field_validator("evidence")
    @classmethod
    def _relative_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            if not path.strip() or "\x00" in path:
                raise ValueError("an evidence path is empty")
            if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute():
                raise ValueError(f"evidence path {printable(path)} must be relative to the file")
        return value

    @model_validator(mode="after")
    def _review_after_statement(self) -> Attestation:
        if self.next_review <= self.date:
            raise FieldProblem("next_review", "must be later than date")
        return self


class AttestationsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    attestations: tuple[Attestation, ...]

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        return {"attestations": value} if isinstance(value, list) else value


@dataclass(frozen=True)
class EvidenceFile:
    path: str  # as written, relative to the attestations file
    sha256: str | None = None
    size: int | None = None
    problem: str | None = None  # why it could not be hashed

    def to_json(self) -> dict[str, Any]:
        return {"path": printable(self.path), "sha256": self.sha256, "size": self.size,
                "problem": self.problem}


@dataclass(frozen=True)
class LoadedAttestation:
    entry: Attestation
    line: int
    evidence: tuple[EvidenceFile, ...]

    @property
    def problems(self) -> list[str]:
        return [f"evidence {printable(e.path)}: {e.problem}" for e in self.evidence if e.problem]

    def state(self, today: dt.date) -> str | None:
        """None when it counts today, else why not (in a few words)."""
        entry = self.entry
        if self.problems:
            return "; ".join(self.problems)
        if entry.date > today:
            return f"it is dated {entry.date}, after today"
        if entry.next_review < today:
            return f"it lapsed: its review was due on {entry.next_review}"
        return None

    def to_json(self, today: dt.date) -> dict[str, Any]:
        state = self.state(today)
        return {
            "control": self.entry.control,
            "statement": self.entry.statement,
            "owner": self.entry.owner,
            "date": self.entry.date.isoformat(),
            "next_review": self.entry.next_review.isoformat(),
            "line": self.line,
            "current": state is None,
            "problem": state,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True)
class AttestationSet:
    path: Path
    sha256: str
    entries: tuple[LoadedAttestation, ...]

    def for_control(self, control_id: str) -> list[LoadedAttestation]:
        return [a for a in self.entries if a.entry.control == control_id]

    def problems(self) -> list[str]:
        return [
            f"{self.path}:{a.line}: attestation for {a.entry.control}: {problem}"
            for a in self.entries for problem in a.problems
        ]

    def to_json(self, today: dt.date) -> dict[str, Any]:
        return {
            "file": printable(str(self.path)),
            "sha256": self.sha256,
            "attestations": [a.to_json(today) for a in self.entries],
        }


def load_attestations(path: Path, known_controls: Collection[str] | None = None) -> AttestationSet:
    """Read, validate and hash ``path`` and its evidence; ``AttestationError`` when the file
    itself is unusable (evidence problems are kept with each attestation instead)."""
    label = f"attestations {path}"
    try:
        parsed, raw = load_yaml_model(
            path, AttestationsFile, what="attestations", max_bytes=MAX_ATTESTATIONS_BYTES,
            require_mapping=False,
        )
    except DocumentError as exc:
        cause = exc.__cause__
        if isinstance(cause, ValidationError):
            raise AttestationError(_describe(label, cause, _lines_of(path))) from exc
        raise AttestationError(str(exc)) from exc
    lines = _lines_of(path, raw)
    entries = []
    for index, entry in enumerate(parsed.attestations):
        line = lines(("attestations", index))
        if known_controls is not None and entry.control not in known_controls:
            raise AttestationError(
                f"{label}: line {line}: field 'attestations.{index}.control': "
                f"{entry.control} is not a control in the catalog"
            )
        evidence = tuple(hash_evidence(path.parent, item) for item in entry.evidence)
        entries.append(LoadedAttestation(entry, line, evidence))
    return AttestationSet(path, hashlib.sha256(raw).hexdigest(), tuple(entries))


def hash_evidence(base: Path, relative: str) -> EvidenceFile:
    """SHA-256 of one evidence file, read the way qgov reads any file it is pointed at:
    opened without blocking (a FIFO never hangs the scan), regular files only, size-capped."""
    target = base / relative
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        missing = exc.errno in (errno.ENOENT, errno.ENOTDIR)
        return EvidenceFile(relative, problem="missing" if missing
                            else f"cannot be read ({exc.strerror or type(exc).__name__})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return EvidenceFile(relative, problem="not a regular file (a folder, pipe or device)")
        if info.st_size > MAX_EVIDENCE_BYTES:
            return EvidenceFile(
                relative, size=info.st_size,
                problem=f"larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB, not hashed",
            )
        digest = hashlib.sha256()
        size = 0
        while chunk := os.read(fd, _CHUNK):
            size += len(chunk)
            if size > MAX_EVIDENCE_BYTES:  # grew while being read
                return EvidenceFile(relative, problem="grew past the size limit while hashed")
            digest.update(chunk)
    except OSError as exc:
        return EvidenceFile(relative, problem=f"cannot be read ({exc.strerror or exc})")
    finally:
        os.close(fd)
    return EvidenceFile(relative, sha256=digest.hexdigest(), size=size)


LineLookup = Any  # Callable[[tuple[str | int, ...]], int]


def _lines_of(path: Path, raw: bytes | None = None) -> LineLookup:
    """A function from a field location to its line in the file (0 when unknown)."""
    try:
        if raw is None:
            raw = read_user_file(path, max_bytes=MAX_ATTESTATIONS_BYTES, what="attestations")
        documents = load_all_with_lines(raw.decode("utf-8"))
    except (FileRefused, UnicodeDecodeError, ParseError):
        documents = []
    root = documents[0] if documents else None

    def line(location: tuple[str | int, ...]) -> int:
        node, found = root, 0
        parts = list(location)
        if isinstance(node, LineList) and parts[:1] == ["attestations"]:
            parts = parts[1:]  # the file is the bare list
        for part in parts:
            if isinstance(node, LineDict) and part in node:
                found, node = node.line_of(part), node[part]
            elif isinstance(node, LineList) and isinstance(part, int) and part < len(node):
                found, node = node.line_of(part), node[part]
            else:
                break
        return found

    return line


def _describe(label: str, exc: ValidationError, lines: LineLookup, limit: int = 8) -> str:
    """One line per problem, naming line and field; never the value (it might be a secret)."""
    out = []
    for error in exc.errors()[:limit]:
        location = tuple(part for part in error["loc"] if isinstance(part, str | int))
        message = error["msg"]
        problem = (error.get("ctx") or {}).get("error")
        field = getattr(problem, "field", None)
        if isinstance(field, str):
            location = (*location, field)
            message = str(getattr(problem, "message", message))
        where = lines(location)
        dotted = ".".join(str(part) for part in location) or "(top level)"
        out.append(f"{label}: " + (f"line {where}: " if where else "") + f"field '{dotted}': "
                   + message)
    hidden = len(exc.errors()) - limit
    if hidden > 0:
        out.append(f"{label}: ... and {hidden} more problem(s)")
    return "\n".join(out)
