"""pip requirements files: entries, per-line options, ``-r`` / ``-c`` includes, hashes.

The format follows pip's own reader: backslash continuations join physical lines, ``#``
starts a comment at the line start or after whitespace, a line is either global options
(``--index-url``, ``-r file`` …) or one requirement followed by per-requirement options
(``--hash=sha256:…``). Requirement text is parsed with ``packaging`` only.

Includes are read through a callback so this module never touches the filesystem itself;
the caller decides what "within the scan root" means. Cycles are cut by remembering every
file already read.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

from scanner.formats.manifests.model import (
    Dependency,
    IndexOption,
    Manifest,
    Pin,
    Role,
    classify_requirement,
    classify_url,
    normalise,
    quote_entry,
)
from scanner.formats.pip_args import install_arguments

#: ``(including_path, target) -> (resolved_path, text)`` or an error message string.
IncludeReader = Callable[[str, str], "tuple[str, str] | str"]

MAX_INCLUDE_DEPTH = 10

# A comment starts at a '#' at the line start or after whitespace (pip's rule). Found as a
# position, then cut: a `(^|\s+)#.*$` pattern backtracks over long runs of spaces.
_COMMENT_START = re.compile(r"(?:^|(?<=\s))#")
_NAMED_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@\s*\S")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9._-]+)")
# The project name in an archive file name (`qiskit_aer-0.15.0-cp311-….whl`): a name run
# starting a word, then -<digit>. Only tried on the last path segment.
_ARCHIVE_NAME = re.compile(r"(?<![A-Za-z0-9_.])([A-Za-z0-9_.]+)-\d")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2")

# Global options that take a value (the value may be attached with '=' or, for short
# options, directly: -rfile.txt).
_VALUE_OPTIONS = {
    "-r": "-r", "--requirement": "-r",
    "-c": "-c", "--constraint": "-c",
    "-e": "-e", "--editable": "-e",
    "-i": "--index-url", "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links", "--find-links": "--find-links",
    "--trusted-host": "--trusted-host",
    "--no-binary": "--no-binary", "--only-binary": "--only-binary",
    "--use-feature": "--use-feature", "--config-settings": "--config-settings",
    "--global-option": "--global-option", "--hash": "--hash",
}
_INDEX_OPTIONS = frozenset({"--index-url", "--extra-index-url", "--trusted-host", "--find-links"})


@dataclass(frozen=True)
class _Logical:
    line: int  # first physical line, 1-based
    text: str


def logical_lines(text: str) -> list[_Logical]:
    """Join backslash continuations and drop comments and blank lines."""
    result: list[_Logical] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        comment = _COMMENT_START.search(raw)
        stripped = raw[: comment.start()].rstrip() if comment else raw
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1])
            continue
        buffer.append(stripped)
        joined = " ".join(part.strip() for part in buffer).strip()
        buffer = []
        if joined:
            result.append(_Logical(start, joined))
    if buffer:
        joined = " ".join(part.strip() for part in buffer).strip()
        if joined:
            result.append(_Logical(start, joined))
    return result


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def _split_options(text: str) -> tuple[list[str], list[tuple[str, str | None]]]:
    """Requirement words before the first option (kept verbatim, as pip does, so quoted
    markers survive), then (option, value) pairs read with shell quoting."""
    words = text.split(" ")
    args: list[str] = []
    index = 0
    while index < len(words) and not words[index].startswith("-"):
        if words[index]:
            args.append(words[index])
        index += 1
    tokens = _tokens(" ".join(words[index:]))
    options: list[tuple[str, str | None]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if not token.startswith("-"):
            options.append(("", token))  # stray word after options
            continue
        name, sep, attached = token.partition("=")
        if not sep and len(token) > 2 and token[1] != "-" and token[:2] in _VALUE_OPTIONS:
            name, attached, sep = token[:2], token[2:], "="
        canonical = _VALUE_OPTIONS.get(name)
        if canonical is not None:
            if sep:
                options.append((canonical, attached))
            elif index < len(tokens):
                options.append((canonical, tokens[index]))
                index += 1
            else:
                options.append((canonical, None))
        else:
            options.append((name, attached if sep else None))
    return args, options


def _name_from_url(url: str) -> str:
    egg = _EGG.search(url)
    if egg:
        return egg.group(1)
    segment = url.split("#", 1)[0].rsplit("/", 1)[-1]
    archive = _ARCHIVE_NAME.search(segment) if segment.endswith(_ARCHIVE_SUFFIXES) else None
    if archive:
        return archive.group(1)
    return url.rstrip("/").rsplit("/", 1)[-1] or url


def _is_url_or_path(text: str) -> bool:
    return (
        "://" in text.split("@", 1)[0] or text.startswith((".", "/", "~", "file:"))
        or text.startswith(("git+", "hg+", "svn+", "bzr+"))
        or text.endswith((".whl", ".tar.gz", ".zip", ".tar.bz2"))
    )


def parse_requirements(
    text: str,
    path: str,
    *,
    role: Role = Role.INSTALL,
    reader: IncludeReader | None = None,
) -> Manifest:
    """Parse a requirements file and (through ``reader``) everything it includes.

    Lines that cannot be parsed land in ``manifest.errors``; every good entry is kept.
    """
    manifest = Manifest(path=path, role=role)
    _parse_into(manifest, text, path, role, reader, {path}, 0)
    return manifest


def _parse_into(
    manifest: Manifest,
    text: str,
    path: str,
    role: Role,
    reader: IncludeReader | None,
    seen: set[str],
    depth: int,
) -> None:
    for logical in logical_lines(text):
        args, options = _split_options(logical.text)
        hashes = tuple(value for name, value in options if name == "--hash" and value)
        for name, value in options:
            if name == "--require-hashes":
                manifest.require_hashes = True
            elif name in _INDEX_OPTIONS and value:
                manifest.indexes.append(IndexOption(name, value, path, logical.line))
            elif name in {"-r", "-c"}:
                if value is None:
                    manifest.errors.append((path, logical.line, f"{name} needs a file name"))
                    continue
                _include(
                    manifest, path, value, Role.CONSTRAINT if name == "-c" else role,
                    reader, seen, depth, logical.line,
                )
            elif name == "-e" and value:
                manifest.dependencies.append(_editable(value, path, logical.line, role))
        if not args:
            continue
        entry = " ".join(args)
        dependency = _requirement(entry, hashes, path, logical.line, role, manifest)
        if dependency is None:
            continue
        manifest.dependencies.append(dependency)
        if role is Role.CONSTRAINT and dependency.pin is Pin.EXACT and dependency.version:
            manifest.constraints.setdefault(dependency.name, dependency.version)


def _requirement(
    entry: str,
    hashes: tuple[str, ...],
    path: str,
    line: int,
    role: Role,
    manifest: Manifest,
) -> Dependency | None:
    if not _NAMED_URL.match(entry) and _is_url_or_path(entry):
        pin = classify_url(entry, hashes)
        return Dependency(
            name=normalise(_name_from_url(entry)) if pin is not Pin.LOCAL else entry,
            display=entry, path=path, line=line, pin=pin, role=role, hashes=hashes,
        )
    try:
        requirement = Requirement(entry)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        manifest.errors.append((path, line, f"invalid requirement {quote_entry(entry)}: {reason}"))
        return None
    pin, version = classify_requirement(requirement, hashes)
    return Dependency(
        name=normalise(requirement.name), display=entry, path=path, line=line, pin=pin,
        role=role, version=version, hashes=hashes,
    )


def _editable(value: str, path: str, line: int, role: Role) -> Dependency:
    pin = classify_url(value)
    name = normalise(_name_from_url(value)) if pin is not Pin.LOCAL else value
    return Dependency(name=name, display=f"-e {value}", path=path, line=line, pin=pin, role=role)


def _include(
    manifest: Manifest,
    path: str,
    target: str,
    role: Role,
    reader: IncludeReader | None,
    seen: set[str],
    depth: int,
    line: int,
) -> None:
    if "://" in target:
        manifest.problems.append((path, line, f"remote include {target} was not followed"))
        return
    if reader is None:
        return
    if depth >= MAX_INCLUDE_DEPTH:
        manifest.problems.append((path, line, f"includes nested deeper than {depth}; stopped"))
        return
    read = reader(path, target)
    if isinstance(read, str):
        manifest.problems.append((path, line, f"-r/-c {target}: {read}"))
        return
    resolved, text = read
    if resolved in seen:
        return  # include cycle or repeated include: read once
    seen.add(resolved)
    manifest.included_paths.append(resolved)
    _parse_into(manifest, text, resolved, role, reader, seen, depth + 1)


def parse_pip_install_args(line: str) -> list[Requirement]:
    """Registry packages named on one ``pip install`` command line (``%pip``, ``!pip``,
    ``RUN pip install``), as ``packaging`` requirements.

    Options, paths, URLs and words that are not valid PEP 508 requirements are left out;
    a conda-style single ``=`` pin (``qiskit=1.2.0``) is read as ``==``.
    """
    requirements: list[Requirement] = []
    for word in install_arguments(line):
        if _is_url_or_path(word):
            continue
        candidate = word
        if re.match(r"^[A-Za-z0-9._\[\],-]+=[^=<>~!]", candidate):
            candidate = candidate.replace("=", "==", 1)
        try:
            requirements.append(Requirement(candidate))
        except InvalidRequirement:
            continue
    return requirements
