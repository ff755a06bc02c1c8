"""The execution record: everything needed to explain and replay one run, and nothing secret.

It holds the circuit hash (see :mod:`circuits` for which bytes and why), library, Python and
platform versions, backend name and configuration, seeds, shots, dataset version and hash,
the policy decision id, timings and the hash of the result counts. It does not hold the
counts themselves: handing results out is an export, which is separately authorised and
logged. ``record_sha256`` (canonical JSON of the record) goes into the ledger, so an edited
record is caught on replay.

Schema 2 adds what the seed's immutable execution record lists beyond that: ``provenance``
(the code commit of the spec's work tree, the container image digest, the hash of every
installed distribution -- see :mod:`.environment`) and, in ``backend``, the provider, its
device, the provider's job id, the backend version and its calibration reference. The added
fields are left out when absent, so a schema-1 record keeps its hash.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scanner.formats.yaml import describe_validation_error
from scanner.governed.canonical import canonical_json, sha256_hex
from scanner.governed.errors import SpecError


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CircuitInfo(_Strict):
    path: str
    hash_format: str
    hash_note: str
    sha256: str
    source_format: str
    source_sha256: str
    source_bytes: int
    num_qubits: int
    num_clbits: int
    depth: int
    size: int
    ops: dict[str, int]


class DatasetInfo(_Strict):
    name: str
    version: str
    classification: str
    sha256: str
    path: str
    size_bytes: int | None = None


class BackendInfo(_Strict):
    policy_name: str
    simulator: str  # the backend's own name (Aer's, the fake device's, Braket's simulator)
    method: str
    effective_method: str | None = None
    regulated: bool
    options: dict[str, Any]
    # Schema 2:
    provider: str | None = None
    device: str | None = None
    provider_job_id: str | None = None
    backend_version: str | None = None
    calibration: dict[str, Any] | None = None


class CodeInfo(_Strict):
    commit: str | None
    ref: str | None
    source: str


class ContainerInfo(_Strict):
    in_container: bool
    image_digest: str | None
    source: str


class EnvironmentDigest(_Strict):
    sha256: str
    distributions: int
    method: str


class Provenance(_Strict):
    code: CodeInfo
    container: ContainerInfo
    environment: EnvironmentDigest


class Seeds(_Strict):
    simulator: int
    transpiler: int
    optimization_level: int


class Timings(_Strict):
    submitted_at: str
    started_at: str
    finished_at: str
    transpile_ms: int
    run_ms: int
    total_ms: int


class ResultInfo(_Strict):
    counts_sha256: str | None
    counts_hash_note: str
    total_shots: int | None
    distinct_outcomes: int | None


class Failure(_Strict):
    type: str
    message: str


class ExecutionRecord(_Strict):
    schema_: Literal["qgov.execution-record/1", "qgov.execution-record/2"] = Field(
        default="qgov.execution-record/2", alias="schema"
    )
    record_id: str
    status: Literal["completed", "failed"]
    job: dict[str, str]
    submitter: dict[str, Any]
    policy: dict[str, str] | None
    decision_id: str
    circuit: CircuitInfo
    dataset: DatasetInfo
    backend: BackendInfo
    shots: int
    seeds: Seeds
    environment: dict[str, str | None]
    timings: Timings
    result: ResultInfo
    failure: Failure | None = None
    provenance: Provenance | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", by_alias=True)
        # Fields added in schema 2 are left out when empty: a schema-1 record read back must
        # hash as it did when the ledger logged it.
        if data["provenance"] is None:
            del data["provenance"]
        for key in _BACKEND_ADDED:
            if data["backend"][key] is None:
                del data["backend"][key]
        return data

    @property
    def sha256(self) -> str:
        return sha256_hex(canonical_json(self.to_json()))


_BACKEND_ADDED = ("provider", "device", "provider_job_id", "backend_version", "calibration")


def display_path(path: Path) -> str:
    """A path as records and events show it: relative to the working directory when below
    it, else absolute (POSIX form)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def write_record(record: ExecutionRecord, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{record.record_id}.json"
    text = json.dumps(record.to_json(), indent=2, sort_keys=True) + "\n"
    # An exclusive, unpredictable temporary name: nothing planted in the folder is followed.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), 0o644)  # mkstemp makes 0600; a record is no secret
        if path.is_symlink():
            raise OSError(f"{path} is a symlink; refusing to replace it")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def read_record(path: Path) -> ExecutionRecord:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"record {path}: cannot read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise SpecError(f"record {path}: not JSON") from exc
    try:
        return ExecutionRecord.model_validate(data)
    except ValidationError as exc:
        raise SpecError(describe_validation_error(f"record {path}", exc)) from exc
