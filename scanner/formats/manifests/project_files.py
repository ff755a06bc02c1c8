"""Dependency manifests other than requirements files.

- ``pyproject.toml``: PEP 621 ``[project] dependencies`` / ``optional-dependencies``,
  PEP 735 ``[dependency-groups]``, Poetry ``[tool.poetry.dependencies]`` and groups, and
  Poetry package sources.
- ``poetry.lock``: locked versions and the file hashes recorded for each package.
- ``Pipfile`` (declarations, package sources) and ``Pipfile.lock`` (locked, hashed).
- conda ``environment.yml``: conda match specs, channels, and the ``pip:`` subsection
  (read like a requirements file, ``-r``/``-c`` includes followed).

TOML gives no line numbers, so lines are found by looking for the entry's text in the
file (first occurrence at or after the section header); the worst case is the section's
own line, never a wrong file.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from scanner.formats.document import Document
from scanner.formats.errors import ParseError
from scanner.formats.manifests.model import (
    Dependency,
    IndexOption,
    Manifest,
    Pin,
    Role,
    classify_requirement,
    classify_specifier,
    classify_url,
    normalise,
    quote_entry,
)
from scanner.formats.manifests.requirements import IncludeReader, parse_requirements
from scanner.formats.yaml import LineDict, LineList


class _Lines:
    """Find the line of a TOML entry by text, searching forward from a section header."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def section(self, header: str) -> int:
        pattern = re.compile(r"^\s*\[+\s*" + re.escape(header) + r"\s*\]+\s*(#.*)?$")
        for number, line in enumerate(self.document.lines, start=1):
            if pattern.match(line):
                return number
        return 1

    def find(self, needle: str, start: int = 1, *, key: bool = False) -> int:
        if not key:
            return self.document.find_line(needle, start) or start
        pattern = re.compile(r'^\s*["\']?' + re.escape(needle) + r'["\']?\s*=', re.I)
        lines = self.document.lines
        for number in range(max(start, 1), len(lines) + 1):
            if pattern.match(lines[number - 1]):
                return number
        return start


def _pep508(
    entry: Any, manifest: Manifest, lines: _Lines, start: int, role: Role
) -> Dependency | None:
    if not isinstance(entry, str):
        manifest.errors.append(
            (manifest.path, start, f"dependency entry {quote_entry(entry)} is not a string")
        )
        return None
    line = lines.find(entry, start)
    try:
        requirement = Requirement(entry)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        message = f"invalid requirement {quote_entry(entry)}: {reason}"
        manifest.errors.append((manifest.path, line, message))
        return None
    pin, version = classify_requirement(requirement)
    return Dependency(
        name=normalise(requirement.name), display=entry, path=manifest.path, line=line,
        pin=pin, role=role, version=version,
    )


# --- pyproject.toml ------------------------------------------------------------------------


def parse_pyproject(source: Document) -> Manifest:
    data = source.toml_data
    manifest = Manifest(path=source.path, role=Role.DECLARE)
    lines = _Lines(source)
    project = data.get("project")
    if isinstance(project, dict):
        start = lines.section("project")
        deps = project.get("dependencies", [])
        if not isinstance(deps, list):
            raise ParseError("[project] dependencies must be a list of strings", start)
        manifest.dependencies.extend(
            d for entry in deps if (d := _pep508(entry, manifest, lines, start, Role.DECLARE))
        )
        optional = project.get("optional-dependencies", {})
        if isinstance(optional, dict):
            opt_start = lines.section("project.optional-dependencies")
            for group in optional.values():
                for entry in group if isinstance(group, list) else []:
                    dep = _pep508(entry, manifest, lines, opt_start, Role.DECLARE)
                    if dep:
                        manifest.dependencies.append(dep)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        group_start = lines.section("dependency-groups")
        for group in groups.values():
            for entry in group if isinstance(group, list) else []:
                if isinstance(entry, dict):  # {include-group = "..."}
                    continue
                dep = _pep508(entry, manifest, lines, group_start, Role.DECLARE)
                if dep:
                    manifest.dependencies.append(dep)
    poetry = data.get("tool", {}).get("poetry") if isinstance(data.get("tool"), dict) else None
    if isinstance(poetry, dict):
        _poetry_section(poetry.get("dependencies"), "tool.poetry.dependencies", manifest, lines)
        _poetry_section(
            poetry.get("dev-dependencies"), "tool.poetry.dev-dependencies", manifest, lines
        )
        for name, group in (poetry.get("group") or {}).items():
            if isinstance(group, dict):
                _poetry_section(
                    group.get("dependencies"), f"tool.poetry.group.{name}.dependencies",
                    manifest, lines,
                )
        for src in poetry.get("source") or []:
            if isinstance(src, dict) and isinstance(src.get("url"), str):
                manifest.indexes.append(
                    IndexOption(
                        "source", src["url"], source.path,
                        lines.find(src["url"], lines.section("tool.poetry.source")),
                    )
                )
    return manifest


def _poetry_constraint(value: str) -> tuple[Pin, str | None]:
    """Poetry's own syntax: a bare version is an exact pin; ^, ~, *, ranges are not."""
    text = value.strip()
    if text in {"", "*"}:
        return Pin.NONE, None
    bare = text[2:].strip() if text.startswith("==") else text
    try:
        Version(bare)
    except InvalidVersion:
        pass
    else:
        if "*" not in bare:
            return Pin.EXACT, bare
    try:
        return classify_specifier(SpecifierSet(text))
    except InvalidSpecifier:
        return Pin.RANGE, None  # ^1.2, ~1.2, "1.2 || 1.3": Poetry ranges


def _poetry_section(section: Any, header: str, manifest: Manifest, lines: _Lines) -> None:
    if not isinstance(section, dict):
        return
    start = lines.section(header)
    for raw_name, spec in section.items():
        name = str(raw_name)
        if name.lower() == "python":
            continue  # the interpreter constraint, not a package
        line = lines.find(name, start, key=True)
        pin, version, display = _poetry_spec(name, spec)
        manifest.dependencies.append(
            Dependency(
                name=normalise(name) if pin is not Pin.LOCAL else name, display=display,
                path=manifest.path, line=line, pin=pin, role=Role.DECLARE, version=version,
            )
        )


def _poetry_spec(name: str, spec: Any) -> tuple[Pin, str | None, str]:
    if isinstance(spec, list):  # multiple-constraint form: never a single exact pin
        return Pin.RANGE, None, f"{name} (multiple constraints)"
    if isinstance(spec, dict):
        if "path" in spec:
            return Pin.LOCAL, None, f"{name} (path {spec['path']})"
        for vcs in ("git", "hg", "url"):
            if vcs in spec:
                url = str(spec[vcs])
                rev = spec.get("rev")
                if vcs != "url" and isinstance(rev, str) and re.fullmatch(r"[0-9a-f]{40}", rev):
                    return Pin.URL_PINNED, None, f"{name} ({vcs} {url}@{rev})"
                ref = rev or spec.get("tag") or spec.get("branch") or ""
                if vcs == "url":
                    return classify_url(url), None, f"{name} ({url})"
                return Pin.URL, None, f"{name} ({vcs} {url}{'@' + ref if ref else ''})"
        spec = spec.get("version", "*")
    pin, version = _poetry_constraint(str(spec))
    return pin, version, f'{name} = "{spec}"'


# --- poetry.lock --------------------------------------------------------------------------


def parse_poetry_lock(source: Document) -> Manifest:
    data = source.toml_data
    manifest = Manifest(path=source.path, role=Role.LOCK)
    lines = _Lines(source)
    legacy_files = data.get("metadata", {}).get("files", {})
    if not isinstance(legacy_files, dict):
        legacy_files = {}
    position = 1
    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise ParseError("poetry.lock: [[package]] entries are missing or malformed")
    for package in packages:
        if not isinstance(package, dict) or "name" not in package:
            raise ParseError("poetry.lock: a [[package]] entry has no name")
        name = str(package["name"])
        version = str(package.get("version", ""))
        line = lines.find(f'name = "{name}"', position)
        position = line + 1
        files = package.get("files", legacy_files.get(name, []))
        hashes = tuple(
            str(f["hash"]) for f in files if isinstance(f, dict) and f.get("hash")
        ) if isinstance(files, list) else ()
        src = package.get("source") or {}
        src_type = src.get("type") if isinstance(src, dict) else None
        if src_type in {"directory", "file"}:
            pin = Pin.LOCAL
        elif src_type == "git":
            resolved = str(src.get("resolved_reference", ""))
            pin = Pin.URL_PINNED if re.fullmatch(r"[0-9a-f]{40}", resolved) else Pin.URL
        elif src_type == "url":
            pin = classify_url(str(src.get("url", "")), hashes)
        else:
            pin = Pin.EXACT if version else Pin.NONE
        manifest.dependencies.append(
            Dependency(
                name=normalise(name), display=f"{name}=={version}", path=source.path, line=line,
                pin=pin, role=Role.LOCK, version=version or None, hashes=hashes,
            )
        )
    return manifest


# --- Pipfile / Pipfile.lock ----------------------------------------------------------------


def parse_pipfile(source: Document) -> Manifest:
    data = source.toml_data
    manifest = Manifest(path=source.path, role=Role.DECLARE)
    lines = _Lines(source)
    for section in ("packages", "dev-packages"):
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        start = lines.section(section)
        for raw_name, spec in table.items():
            name = str(raw_name)
            line = lines.find(name, start, key=True)
            pin, version, display = _pipfile_spec(name, spec, manifest, line)
            if pin is None:
                continue
            manifest.dependencies.append(
                Dependency(
                    name=normalise(name), display=display, path=source.path, line=line, pin=pin,
                    role=Role.DECLARE, version=version,
                )
            )
    sources = data.get("source", [])
    for entry in sources if isinstance(sources, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            continue
        line = lines.find(entry["url"])
        manifest.indexes.append(IndexOption("source", entry["url"], source.path, line))
        if entry.get("verify_ssl") is False:
            manifest.indexes.append(
                IndexOption("verify_ssl=false", entry["url"], source.path, line)
            )
    return manifest


def _pipfile_spec(
    name: str, spec: Any, manifest: Manifest, line: int
) -> tuple[Pin | None, str | None, str]:
    if isinstance(spec, dict):
        if "path" in spec or "file" in spec and str(spec["file"]).startswith((".", "/")):
            return Pin.LOCAL, None, f"{name} (local)"
        for vcs in ("git", "hg", "svn", "bzr", "file"):
            if vcs in spec:
                ref = str(spec.get("ref", ""))
                pinned = bool(re.fullmatch(r"[0-9a-f]{40}", ref))
                return (
                    Pin.URL_PINNED if pinned else Pin.URL, None,
                    f"{name} ({vcs} {spec[vcs]}{'@' + ref if ref else ''})",
                )
        spec = spec.get("version", "*")
    text = str(spec).strip()
    if text in {"", "*"}:
        return Pin.NONE, None, f'{name} = "{text}"'
    try:
        pin, version = classify_specifier(SpecifierSet(text))
    except InvalidSpecifier:
        manifest.errors.append(
            (manifest.path, line, f"invalid version specifier {quote_entry(text)} for {name}")
        )
        return None, None, ""
    return pin, version, f'{name} = "{text}"'


def parse_pipfile_lock(source: Document) -> Manifest:
    data = source.json_data
    if not isinstance(data, dict):
        raise ParseError("Pipfile.lock: top level is not a JSON object")
    manifest = Manifest(path=source.path, role=Role.LOCK)
    text = source.text
    for section in ("default", "develop"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ParseError(f"Pipfile.lock: {section!r} is not an object")
        section_at = text.find(f'"{section}"')
        for name, entry in table.items():
            if not isinstance(entry, dict):
                raise ParseError(f"Pipfile.lock: entry {name!r} is not an object")
            offset = text.find(json.dumps(name) + ":", max(section_at, 0))
            line = source.line_of(offset if offset >= 0 else max(section_at, 0))
            hashes = tuple(str(h) for h in entry.get("hashes", []) if isinstance(h, str))
            version_text = str(entry.get("version", ""))
            if "git" in entry or "path" in entry or "file" in entry:
                ref = str(entry.get("ref", ""))
                pin = Pin.LOCAL if "path" in entry else (
                    Pin.URL_PINNED if re.fullmatch(r"[0-9a-f]{40}", ref) or hashes else Pin.URL
                )
                version = None
            elif version_text:
                try:
                    pin, version = classify_specifier(SpecifierSet(version_text))
                except InvalidSpecifier as exc:
                    raise ParseError(
                        f"Pipfile.lock: invalid version {quote_entry(version_text)} for {name}",
                        line,
                    ) from exc
            else:
                pin, version = Pin.NONE, None
            manifest.dependencies.append(
                Dependency(
                    name=normalise(name), display=f"{name}{version_text}", path=source.path,
                    line=line, pin=pin, role=Role.LOCK, version=version, hashes=hashes,
                )
            )
    meta = data.get("_meta", {})
    for entry in meta.get("sources", []) if isinstance(meta, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            offset = text.find(entry["url"])
            line = source.line_of(max(offset, 0))
            manifest.indexes.append(IndexOption("source", entry["url"], source.path, line))
            if entry.get("verify_ssl") is False:
                manifest.indexes.append(
                    IndexOption("verify_ssl=false", entry["url"], source.path, line)
                )
    return manifest


# --- conda environment.yml -----------------------------------------------------------------

_CONDA_SPEC = re.compile(r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<rest>.*)$")
# Interpreter and installer entries: pinning them is a different conversation.
_CONDA_TOOLING = frozenset({"python", "pip"})


def conda_pin(spec: str) -> tuple[str, Pin, str | None]:
    """Classify a conda match spec. ``name==1.2.3`` and ``name=1.2.3=build`` are exact;
    ``name=1.2.3`` (three or more components, no wildcard) is treated as exact because
    conda reads it as 1.2.3.* and releases rarely have a fourth component; ``name=1.2``,
    ranges and a bare name are not."""
    match = _CONDA_SPEC.match(spec.strip())
    if match is None:
        raise ValueError(f"not a conda package spec: {quote_entry(spec)}")
    name, rest = match.group("name"), match.group("rest").replace(" ", "")
    if not rest:
        return name, Pin.NONE, None
    if rest.startswith("=="):
        version = rest[2:].split("=", 1)[0]
        return name, (Pin.RANGE if "*" in version else Pin.EXACT), version
    if rest.startswith("=") and not rest.startswith("=>"):
        version, _, build = rest[1:].partition("=")
        if "*" in version or any(c in version for c in "<>,|"):
            return name, Pin.RANGE, None
        if build or version.count(".") >= 2:
            return name, Pin.EXACT, version
        return name, Pin.RANGE, None
    return name, Pin.RANGE, None


def parse_conda_environment(source: Document, reader: IncludeReader | None = None) -> Manifest:
    """A conda environment file; ``reader`` follows ``-r``/``-c`` includes in its ``pip:``
    list (without one they are not followed, as for requirements files)."""
    documents = source.yaml_documents
    manifest = Manifest(path=source.path, role=Role.INSTALL)
    if not documents:
        return manifest
    doc = documents[0]
    if not isinstance(doc, LineDict):
        raise ParseError("conda environment file: top level is not a mapping")
    channels = doc.get("channels")
    if isinstance(channels, LineList):
        for index, channel in enumerate(channels):
            if isinstance(channel, str):
                manifest.indexes.append(
                    IndexOption("channel", channel, source.path, channels.line_of(index))
                )
    deps = doc.get("dependencies")
    if deps is None:
        return manifest
    if not isinstance(deps, LineList):
        raise ParseError(
            "conda environment file: 'dependencies' is not a list", doc.line_of("dependencies")
        )
    for index, entry in enumerate(deps):
        line = deps.line_of(index)
        if isinstance(entry, LineDict) and "pip" in entry:
            _conda_pip_section(entry["pip"], manifest, source, line, reader)
            continue
        if not isinstance(entry, str | int | float):
            manifest.errors.append(
                (source.path, line, f"unexpected dependency entry (a {type(entry).__name__})")
            )
            continue
        spec = str(entry)
        try:
            name, pin, version = conda_pin(spec)
        except ValueError as exc:
            manifest.errors.append((source.path, line, str(exc)))
            continue
        if name.lower() in _CONDA_TOOLING:
            continue
        manifest.dependencies.append(
            Dependency(
                name=normalise(name), display=spec, path=source.path, line=line, pin=pin,
                role=Role.INSTALL, version=version, ecosystem="conda",
            )
        )
    return manifest


def _conda_pip_section(
    pip_entries: Any, manifest: Manifest, source: Document, at: int,
    reader: IncludeReader | None,
) -> None:
    """The ``pip:`` list is a requirements file written as YAML (conda hands it to pip as
    one): its entries are read together, so ``-r``/``-c`` includes are followed relative
    to the environment file, through ``reader``, and each include is read once."""
    if not isinstance(pip_entries, LineList):
        manifest.errors.append((source.path, at, "the pip: subsection is not a list"))
        return
    # Entry n of the list is line n of the requirements text; back to its line in the file.
    lines = [pip_entries.line_of(index) for index in range(len(pip_entries))]
    text = "\n".join(str(entry).replace("\n", " ") for entry in pip_entries)
    parsed = parse_requirements(text, source.path, reader=reader)

    def place(path: str, line: int | None) -> tuple[str, int]:
        if path != source.path:
            return path, line or 1  # an included file: its own place
        return path, lines[line - 1] if line and 0 < line <= len(lines) else at

    for dep in parsed.dependencies:
        path, line = place(dep.path, dep.line)
        manifest.dependencies.append(replace(dep, path=path, line=line))
    manifest.indexes.extend(
        IndexOption(opt.option, opt.value, *place(opt.path, opt.line)) for opt in parsed.indexes
    )
    manifest.errors.extend((*place(path, line), message) for path, line, message in parsed.errors)
    manifest.problems.extend(
        (*place(path, line), message) for path, line, message in parsed.problems
    )
    manifest.included_paths.extend(parsed.included_paths)
    for name, version in parsed.constraints.items():
        manifest.constraints.setdefault(name, version)
    manifest.require_hashes = manifest.require_hashes or parsed.require_hashes
