"""Settings from `.qgov.yaml` or `[tool.qgov]` in pyproject.toml; command-line flags win.

Unknown keys are errors (a typo must not silently disable a check).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scanner.detectors.notebooks import DEFAULT_REGULATED_PATHS
from scanner.discover import invalid_patterns
from scanner.engines.semgrep_engine import DEFAULT_MAX_MEMORY as DEFAULT_SEMGREP_MAX_MEMORY
from scanner.formats.yaml import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    DocumentError,
    parse_toml_bytes,
    parse_yaml_bytes,
)
from scanner.fs import DEFAULT_MAX_FILE_BYTES, FileRefused, read_user_file
from scanner.model import DataClass, Severity, Tier
from scanner.repo import git_top

CONFIG_NAMES = (".qgov.yaml", ".qgov.yml")


class ConfigError(Exception):
    pass


class EngineSwitches(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bandit: bool = True
    semgrep: bool = True
    vulnerabilities: bool = True


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fail_on: Severity | Literal["none"] = Severity.HIGH
    format: Literal["text", "json", "sarif", "junit", "markdown", "codequality", "oscal"] = (
        "text"
    )
    exclude: list[str] = Field(default_factory=list)
    max_file_size: int = Field(default=DEFAULT_MAX_FILE_BYTES, gt=0)
    regulated_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_REGULATED_PATHS))
    tier: Tier = Tier.INTERNAL_PILOT
    # The class of data the workload handles (the policy's data_classes decide its regions);
    # None: what the tier implies (exploratory synthetic, internal-pilot internal, the
    # regulated tiers regulated).
    data_class: DataClass | None = None
    custom_catalog: list[str] = Field(default_factory=list)
    baseline: str | None = None
    # The organisation policy whose exceptions register applies to this scan (and which is
    # checked with it); relative to the config file.
    policy: str | None = None
    # attestations.yaml: what people state about controls no rule can check (relative to
    # the config file; --attestations wins).
    attestations: str | None = None
    # Rule ids, or prefixes ending in '*' (QG-PY-*); --skip-rule adds to them.
    disable_rules: list[str] = Field(default_factory=list)
    # --strict: scan errors and a scan of zero files fail the gate too.
    strict: bool = False
    engines: EngineSwitches = Field(default_factory=EngineSwitches)
    # bandit's assert (B101) and random (B311) checks stay quiet in test files.
    bandit_skip_in_tests: bool = True
    osv_db: str | None = None
    # Days an offline OSV database may be old (from its newest advisory's `modified`) before
    # the scan warns; under --strict that fails the gate.
    vuln_db_max_age: int = Field(default=7, gt=0)
    vuln_service: Literal["offline", "online"] = "offline"
    vuln_timeout: int = Field(default=15, gt=0)
    semgrep_timeout: int = Field(default=300, gt=0)
    # MiB semgrep may use for one rule on one file (its --max-memory); 0: no limit.
    semgrep_max_memory: int = Field(default=DEFAULT_SEMGREP_MAX_MEMORY, ge=0)
    # Processes (and semgrep threads) a scan keeps busy at once; None: the machine's cores.
    jobs: int | None = Field(default=None, ge=1)
    # Per-file budget: a file (or a Terraform module, up to ten times as long) that takes
    # longer, or more memory, is reported as a scan error and the scan carries on.
    file_timeout: float = Field(default=30.0, gt=0)
    file_memory: int = Field(default=2048, ge=256)  # megabytes
    use_gitignore: bool = True
    # The repository root findings' paths are relative to, relative to this config file
    # (default: the git work tree, else this file's folder); see scanner.repo.
    root: str | None = None
    # The per-file result cache (scanner.cache); false: every scan starts cold.
    cache: bool = True
    # Seconds a --history scan may take before it stops with a notice.
    history_timeout: float = Field(default=600.0, gt=0)

    @field_validator("exclude", "regulated_paths")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        bad = invalid_patterns(value)
        if bad:
            shown = ", ".join(repr(pattern[:60]) for pattern in bad[:3])
            raise ValueError(f"not a valid gitignore-style pattern: {shown}")
        return value

    # Where the config came from, so relative paths in it resolve against its folder.
    source_dir: str | None = Field(default=None, exclude=True)

    def rule_disabled(self, rule_id: str) -> bool:
        return any(rule_matches(pattern, rule_id) for pattern in self.disable_rules)

    def resolve(self, value: str, base: Path | None = None) -> Path:
        """A path the config names, relative to the config's folder (else to ``base``)."""
        path = Path(value).expanduser()
        if not path.is_absolute():
            if self.source_dir:
                path = Path(self.source_dir) / path
            elif base is not None:
                path = base / path
        return path


def rule_matches(pattern: str, rule_id: str) -> bool:
    """``QG-SEC-001`` names one rule; ``QG-PY-*`` every rule starting ``QG-PY-``."""
    if pattern.endswith("*"):
        return rule_id.startswith(pattern[:-1])
    return rule_id == pattern


def _validate(raw: Any, origin: Path) -> Settings:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: configuration must be a mapping")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{origin}: {where}: {first['msg']}") from exc
    return settings.model_copy(update={"source_dir": str(origin.parent)})


def load_config_file(path: Path) -> Settings:
    try:
        raw = read_user_file(path, max_bytes=DEFAULT_MAX_DOCUMENT_BYTES, what="config")
    except FileRefused as exc:
        raise ConfigError(exc.message) from exc
    try:
        if path.name == "pyproject.toml":
            data = parse_toml_bytes(raw, label=str(path))
            tool = data.get("tool")
            return _validate(tool.get("qgov", {}) if isinstance(tool, dict) else None, path)
        document = parse_yaml_bytes(raw, label=f"config {path}")
    except DocumentError as exc:
        raise ConfigError(str(exc)) from exc
    return _validate(document, path)


def _config_in(folder: Path) -> Path | None:
    """`.qgov.yaml` in ``folder``, else a pyproject.toml there with [tool.qgov]."""
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            return folder / name
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            raw = read_user_file(pyproject, max_bytes=DEFAULT_MAX_DOCUMENT_BYTES, what="config")
            data = parse_toml_bytes(raw, label=str(pyproject))
        except (FileRefused, DocumentError):
            return None  # a broken pyproject is a scan finding, not a config error
        tool = data.get("tool")
        if isinstance(tool, dict) and "qgov" in tool:
            return pyproject
    return None


def find_config(start: Path, stop: Path | None = None) -> Path | None:
    """The nearest config at or above the scanned folder, looking no higher than ``stop``
    (default: the git work tree holding ``start``; outside git, up to the file system's
    root), so a scan of a file or sub-folder uses the repository's config."""
    folder = Path(os.path.realpath(start if start.is_dir() else start.parent))
    stop = Path(os.path.realpath(stop)) if stop is not None else git_top(folder)
    for candidate in (folder, *folder.parents):
        found = _config_in(candidate)
        if found is not None or candidate == stop:
            return found
    return None


def load_settings(
    explicit: Path | None,
    scan_root: Path,
    overrides: dict[str, Any],
    *,
    stop: Path | None = None,
) -> Settings:
    path = explicit if explicit is not None else find_config(scan_root, stop)
    settings = load_config_file(path) if path is not None else Settings()
    cleaned = {k: v for k, v in overrides.items() if v is not None}
    if not cleaned:
        return settings
    merged = settings.model_dump() | cleaned
    try:
        result = Settings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
    return result.model_copy(update={"source_dir": settings.source_dir})
