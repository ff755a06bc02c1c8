"""The job spec: what a submitter asks the governed path to run (YAML, pydantic-validated).

A spec names its circuit *file* (OpenQASM text, loaded as data by qiskit's parsers, never
executed as Python), its dataset with version, SHA-256 and classification, the project,
environment and backend, and the shots. Relative paths are resolved against the spec's folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scanner.formats.yaml import DocumentError, load_yaml_model
from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import SpecError
from scanner.governed.policy import DataClass, Environment

MAX_SPEC_BYTES = 256 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CircuitRef(_Strict):
    path: str = Field(min_length=1)
    format: Literal["auto", "openqasm2", "openqasm3"] = "auto"


class DatasetRef(_Strict):
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    path: str = Field(min_length=1)
    sha256: str
    classification: DataClass

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        value = value.lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("must be 64 hexadecimal characters (a SHA-256 digest)")
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        # `version: 1.2` in YAML is a float; keep what the author meant as text.
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )


class JobSpec(_Strict):
    api_version: Literal["qgov/v1"] = Field(default="qgov/v1", alias="apiVersion")
    kind: Literal["QuantumJob"] = "QuantumJob"
    name: str = Field(min_length=1, max_length=128)
    project: str = Field(min_length=1)
    environment: Environment
    backend: str = Field(min_length=1)
    role: str | None = None
    circuit: CircuitRef
    dataset: DatasetRef
    shots: int = Field(gt=0, le=1_000_000)
    seed: int | None = Field(default=None, ge=0, lt=2**31)
    approval: str | None = Field(default=None, description="approval id for JIT elevation")
    export_approval: str | None = None
    description: str | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


@dataclass(frozen=True)
class LoadedSpec:
    spec: JobSpec
    path: Path
    sha256: str

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.base_dir / candidate


def load_job_spec(path: Path) -> LoadedSpec:
    try:
        spec, raw = load_yaml_model(path, JobSpec, what="job spec", max_bytes=MAX_SPEC_BYTES)
    except DocumentError as exc:
        raise SpecError(str(exc)) from exc
    return LoadedSpec(spec=spec, path=path, sha256=sha256_hex(raw))
