"""The job spec: what a submitter asks the governed path to run (YAML, pydantic-validated).

A spec names its circuit *file* (OpenQASM text, loaded as data by qiskit's parsers, never
executed as Python), its dataset with version, SHA-256 and classification, the project,
environment and backend, and the shots.

Everything in a spec is the submitter's word, so:
- numbers and booleans are strict (``shots: true`` is not 1 shot);
- names (job, project, backend, role, dataset, approval ids) are short, single-line
  identifiers (:func:`scanner.governed.scrub.text_problem`), and what the scanner's secret and
  personal-data detectors find in them is replaced by a hash before the spec is used
  (:func:`LoadedSpec.spec` is that scrubbed view; nothing downstream sees the raw text);
- relative paths are resolved against the spec's folder, and every path must stay inside it
  or inside a data root the policy allow-lists (:meth:`LoadedSpec.confine`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictInt, field_validator

from scanner.formats.yaml import DocumentError, load_yaml_model
from scanner.governance.sections import Environment
from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import SpecError
from scanner.governed.policy_sections import DataClass
from scanner.governed.scrub import MAX_NAME_CHARS, opaque_version, safe_text, text_problem

MAX_SPEC_BYTES = 256 * 1024
MAX_DESCRIPTION_CHARS = 1024


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _name(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class CircuitRef(_Strict):
    path: str = Field(min_length=1, max_length=4096)
    format: Literal["auto", "openqasm2", "openqasm3"] = "auto"


class DatasetRef(_Strict):
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    version: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    path: str = Field(min_length=1, max_length=4096)
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

    @field_validator("name", "version")
    @classmethod
    def _names(cls, value: str) -> str:
        return _name(value)


class JobSpec(_Strict):
    api_version: Literal["qgov/v1"] = Field(default="qgov/v1", alias="apiVersion")
    kind: Literal["QuantumJob"] = "QuantumJob"
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    project: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    environment: Environment
    backend: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    role: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    circuit: CircuitRef
    dataset: DatasetRef
    shots: StrictInt = Field(gt=0, le=1_000_000)
    seed: StrictInt | None = Field(default=None, ge=0, lt=2**31)
    approval: str | None = Field(
        default=None, max_length=MAX_NAME_CHARS, description="approval id for JIT elevation"
    )
    export_approval: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    # SHA-256 of the file this spec was read from (approvals are bound to it); set on load.
    _source_sha256: str | None = PrivateAttr(default=None)

    @field_validator("name", "project", "backend", "role", "approval", "export_approval")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return None if value is None else _name(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        # Prose may wrap, but carries no other control characters (escape sequences, NULs).
        if value is not None and any(ord(c) < 32 and c not in "\n\t" for c in value):
            raise ValueError("contains control characters")
        return value

    @property
    def source_sha256(self) -> str | None:
        return self._source_sha256


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec (its free text already scrubbed) and the file it came from.

    ``roots`` are the folders its paths may reach: the spec's own folder, plus the policy's
    data roots once :meth:`with_roots` has been called.
    """

    spec: JobSpec
    path: Path
    sha256: str
    roots: tuple[Path, ...] = field(default=())

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def with_roots(self, data_roots: tuple[Path, ...]) -> LoadedSpec:
        return LoadedSpec(self.spec, self.path, self.sha256, tuple(data_roots))

    def resolve(self, relative: str, *, field: str = "path") -> Path:
        """The file a spec path names, refused (``SpecError``) when it leaves the spec's
        folder and the data roots -- textually or through a symlink."""
        candidate = Path(relative)
        path = candidate if candidate.is_absolute() else self.base_dir / candidate
        return self.confine(path, field=field)

    def confine(self, path: Path, *, field: str) -> Path:
        """``path`` with every symlink resolved, if that lies under an allowed root."""
        real = Path(os.path.realpath(path))
        allowed = [Path(os.path.realpath(r)) for r in (self.base_dir, *self.roots)]
        if not any(real == root or root in real.parents for root in allowed):
            raise SpecError(
                f"job spec {self.path}: field '{field}': the path leaves the spec's folder and "
                "the policy's data_roots; not read"
            )
        return real


def scrubbed(spec: JobSpec) -> JobSpec:
    """The spec as outputs may show it: detector hits in names replaced, data-like dataset
    versions hashed. Validation already refused what breaks the length/character policy."""
    dataset = spec.dataset.model_copy(
        update={
            "name": safe_text(spec.dataset.name),
            "version": opaque_version(spec.dataset.version),
        }
    )
    update: dict[str, object] = {"dataset": dataset}
    for key in ("name", "project", "backend", "role", "approval", "export_approval"):
        value = getattr(spec, key)
        if isinstance(value, str):
            update[key] = safe_text(value)
    return spec.model_copy(update=update)


def load_job_spec(path: Path) -> LoadedSpec:
    try:
        spec, raw = load_yaml_model(path, JobSpec, what="job spec", max_bytes=MAX_SPEC_BYTES)
    except DocumentError as exc:
        raise SpecError(str(exc)) from exc
    digest = sha256_hex(raw)
    clean = scrubbed(spec)
    clean._source_sha256 = digest
    return LoadedSpec(spec=clean, path=path, sha256=digest)
