"""Load and validate the control catalog, framework mappings and rule metadata.

Layout (each folder may also come from a user's extra catalog directory):
- ``controls/<domain>.yaml``   ``{domain, controls: [Control]}``
- ``mappings/<framework>.yaml`` ``{framework, name, requirements: [{id, title}],
  mappings: [{requirement, controls: [id]}]}``
- ``rules/*.yaml`` (shipped in ``scanner/rules``) ``{rules: [Rule]}``

Every cross-reference is checked at load time; a broken catalog raises ``CatalogError``
naming the file and the offending id, which the CLI turns into exit 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from scanner.formats.yaml import DocumentError, read_yaml
from scanner.model import Domain, FileKind, FrameworkRefs, Severity, Tier
from scanner.paths import data_dir


class CatalogError(Exception):
    """The catalog on disk is malformed or inconsistent."""


class Verification(StrEnum):
    """How a control is verified. Each control names one (its primary way), and may list
    others under ``also_verified_by``; ``tests/test_catalog.py`` holds every claim against
    the code: ``automated`` needs a shipped rule that lists the control, ``control-test`` a
    governed-job self-test check that names it."""

    AUTOMATED = "automated"  # a scan rule lists it and can fail it
    CONTROL_TEST = "control-test"  # a governed-job self-test check exercises it
    ATTESTED = "attested"  # a person states it, with evidence (attestations.yaml)
    NOT_ASSESSED = "not-assessed"  # nothing verifies it yet, and the catalog says so


# The spellings of the old list form, so a custom catalog written for it gets a pointer.
_RENAMED = {"governed-job": "control-test", "attestation": "attested"}


CONTROL_ID = re.compile(r"^[A-Z]{2,5}-\d{2,3}$")
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")


class Control(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    domain: Domain
    severity: Severity
    objective: str
    rationale: str
    remediation: str
    tiers: tuple[Tier, ...]
    evidence: str
    verification: Verification
    # Further ways that also verify it; their evidence counts when the primary one gives none.
    also_verified_by: tuple[Verification, ...] = ()
    # Why the kinds are what they are where the code alone would suggest otherwise (a rule
    # can fail an attested control, but does not check all of it).
    verification_note: str | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not CONTROL_ID.match(value):
            raise ValueError(f"control id {value!r} must look like 'SEC-01'")
        return value

    @field_validator("tiers", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("verification", mode="before")
    @classmethod
    def _one_kind(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            raise ValueError(
                "verification takes one kind (automated, control-test, attested or "
                "not-assessed); list further kinds under also_verified_by"
            )
        return _renamed(value)

    @field_validator("also_verified_by", mode="before")
    @classmethod
    def _renamed_kinds(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        return [_renamed(item) for item in value] if isinstance(value, list | tuple) else value

    @model_validator(mode="after")
    def _distinct_kinds(self) -> Control:
        kinds = self.kinds
        if len(set(kinds)) != len(kinds):
            raise ValueError("also_verified_by repeats a kind or the primary verification")
        if Verification.NOT_ASSESSED in kinds and len(kinds) > 1:
            raise ValueError("a not-assessed control lists no other verification")
        return self

    @property
    def kinds(self) -> tuple[Verification, ...]:
        """Every way it is verified, the primary one first."""
        return (self.verification, *self.also_verified_by)


def _renamed(value: Any) -> Any:
    if isinstance(value, str) and value in _RENAMED:
        raise ValueError(f"verification kind {value!r} is now called {_RENAMED[value]!r}")
    return value


class Rule(BaseModel):
    """A check a detector or engine performs; users quote its id in suppressions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    controls: tuple[str, ...] = Field(min_length=1)
    severity: Severity | None = None
    description: str
    remediation: str | None = None
    # Rule ids or prefixes ending in '*': a finding of this rule is dropped when one of
    # these reported the same file and line (a generic engine check that a specific qgov
    # detector already explains better, e.g. bandit's B105 on a provider token).
    yields_to: tuple[str, ...] = ()
    # Only for user-defined regex rules: the pattern and the file kinds it applies to.
    pattern: str | None = None
    kinds: tuple[FileKind, ...] = ()

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not RULE_ID.match(value):
            raise ValueError(f"rule id {value!r} must be upper-case words joined by '-'")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern does not compile: {exc}") from exc
        return value


class Requirement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    title: str


class MappingEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    requirement: str
    controls: tuple[str, ...]
    note: str | None = None


class Framework(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    framework: str
    name: str
    version: str | None = None
    source: str | None = None
    requirements: tuple[Requirement, ...]
    mappings: tuple[MappingEntry, ...]

    def requirement_title(self, requirement_id: str) -> str:
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement.title
        return ""


class _ControlFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: Domain
    controls: list[dict[str, Any]]


class _RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule]


@dataclass
class Catalog:
    controls: dict[str, Control] = field(default_factory=dict)
    frameworks: dict[str, Framework] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    # control id -> framework key -> requirement ids (derived once at load)
    control_frameworks: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # control-id tuple -> merged refs; thousands of findings share a handful of control sets.
    _merged: dict[tuple[str, ...], FrameworkRefs] = field(
        default_factory=dict, repr=False, compare=False
    )

    def rule(self, rule_id: str) -> Rule | None:
        return self.rules.get(rule_id)

    def framework_refs(self, control_ids: Iterable[str]) -> FrameworkRefs:
        """Requirement ids per framework for these controls, merged and sorted."""
        key_ids = tuple(control_ids)
        cached = self._merged.get(key_ids)
        if cached is not None:
            return cached
        merged: dict[str, set[str]] = {}
        for control_id in key_ids:
            for key, requirement_ids in self.control_frameworks.get(control_id, {}).items():
                merged.setdefault(key, set()).update(requirement_ids)
        result = tuple(
            (key, tuple(sorted(values, key=_natural_key))) for key, values in sorted(merged.items())
        )
        self._merged[key_ids] = result
        return result

    def frameworks_for(self, control_ids: Iterable[str]) -> dict[str, list[str]]:
        """``framework_refs`` as a fresh dict of lists (for JSON and display)."""
        return {key: list(ids) for key, ids in self.framework_refs(control_ids)}

    def rule_severity(self, rule: Rule) -> Severity:
        if rule.severity is not None:
            return rule.severity
        return max((self.controls[c].severity for c in rule.controls), key=lambda s: s.rank)

    def rule_domain(self, rule: Rule) -> Domain:
        return self.controls[rule.controls[0]].domain


def _natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _read_yaml(path: Path) -> Any:
    try:
        return read_yaml(path, what="catalog file")[0]
    except DocumentError as exc:
        raise CatalogError(str(exc)) from exc


def _format_validation(path: Path, exc: ValidationError, item_id: str | None = None) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    subject = f" (id {item_id})" if item_id else ""
    return f"{path}{subject}: {where}: {first['msg']}"


def _yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def load_catalog(extra_dirs: Iterable[Path] = ()) -> Catalog:
    """Load the shipped catalog plus any user catalog folders and validate every reference."""
    control_dirs = [data_dir("controls")]
    mapping_dirs = [data_dir("mappings")]
    rule_dirs = [Path(__file__).parent / "rules"]
    for extra in extra_dirs:
        if not extra.is_dir():
            raise CatalogError(f"{extra}: custom catalog folder does not exist")
        control_dirs.append(extra / "controls")
        mapping_dirs.append(extra / "mappings")
        rule_dirs.append(extra / "rules")

    catalog = Catalog()
    control_origin: dict[str, Path] = {}
    for path in (p for d in control_dirs for p in _yaml_files(d)):
        _load_controls(path, catalog, control_origin)
    for path in (p for d in rule_dirs for p in _yaml_files(d)):
        _load_rules(path, catalog)
    for path in (p for d in mapping_dirs for p in _yaml_files(d)):
        _load_framework(path, catalog)
    if not catalog.controls:
        raise CatalogError("no controls found: the catalog folder is missing or empty")
    return catalog


def _load_controls(path: Path, catalog: Catalog, origin: dict[str, Path]) -> None:
    raw = _read_yaml(path)
    try:
        parsed = _ControlFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(_format_validation(path, exc)) from exc
    for entry in parsed.controls:
        entry_id = str(entry.get("id", "?"))
        try:
            control = Control.model_validate({"domain": parsed.domain, **entry})
        except ValidationError as exc:
            raise CatalogError(_format_validation(path, exc, entry_id)) from exc
        if control.domain != parsed.domain:
            raise CatalogError(f"{path} (id {control.id}): domain differs from the file's domain")
        if control.id in catalog.controls:
            raise CatalogError(
                f"{path} (id {control.id}): duplicate control id, first defined in "
                f"{origin[control.id]}"
            )
        catalog.controls[control.id] = control
        origin[control.id] = path


def _load_rules(path: Path, catalog: Catalog) -> None:
    raw = _read_yaml(path)
    try:
        parsed = _RuleFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(_format_validation(path, exc)) from exc
    for rule in parsed.rules:
        if rule.id in catalog.rules:
            raise CatalogError(f"{path} (id {rule.id}): duplicate rule id")
        for control_id in rule.controls:
            if control_id not in catalog.controls:
                raise CatalogError(f"{path} (rule {rule.id}): unknown control id {control_id}")
        catalog.rules[rule.id] = rule


def _load_framework(path: Path, catalog: Catalog) -> None:
    raw = _read_yaml(path)
    try:
        framework = Framework.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(_format_validation(path, exc)) from exc
    key = framework.framework
    existing = catalog.frameworks.get(key)
    if existing is not None:
        # A user mapping file for a shipped framework adds entries; requirements must exist.
        framework = existing.model_copy(
            update={
                "requirements": existing.requirements + framework.requirements,
                "mappings": existing.mappings + framework.mappings,
            }
        )
    known = {r.id for r in framework.requirements}
    for entry in framework.mappings:
        if entry.requirement not in known:
            raise CatalogError(f"{path}: unknown {key} requirement id {entry.requirement}")
        for control_id in entry.controls:
            if control_id not in catalog.controls:
                raise CatalogError(
                    f"{path} (requirement {entry.requirement}): unknown control id {control_id}"
                )
            per_control = catalog.control_frameworks.setdefault(control_id, {})
            ids = per_control.setdefault(key, [])
            if entry.requirement not in ids:
                ids.append(entry.requirement)
    catalog.frameworks[key] = framework
