"""Reading and validating a vendor profile, and reporting its problems in the profile's terms.

``load_profile(path)`` reads a file a user names (``qgov vendor …``); ``parse_profile(text,
label)`` and ``profile_from_documents(documents, label)`` serve the scan, which already holds
the text and its line-aware YAML. Every problem is a ``ProfileError`` (a ``ParseError``) that
names the file, the line where it can tell, and the field, and never quotes a value. The
models are in ``scanner.vendors.profile``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scanner.formats.errors import ImpossibleValue, ParseError
from scanner.formats.yaml import SAFE_LOADER, LineDict, LineList, load_all_with_lines
from scanner.fs import FileRefused, is_binary, read_user_file
from scanner.model import printable
from scanner.vendors.profile import FieldProblem, VendorProfile, model_at

MAX_PROFILE_BYTES = 1024 * 1024
WHAT = "vendor profile"


@dataclass(frozen=True)
class Problem:
    line: int | None
    field: str | None  # dotted, as written in the profile (``data.subprocessors.entries[0]``)
    message: str

    def describe(self) -> str:
        return f"field '{self.field}': {self.message}" if self.field else self.message


class ProfileError(ParseError):
    """A vendor profile that cannot be used. ``str()`` is one line per problem, each naming
    the file, the line (when known) and the field; ``summary()`` leaves the file out (a scan
    error already names it). No value from the file is ever quoted."""

    def __init__(self, label: str, problems: Sequence[Problem], hidden: int = 0) -> None:
        self.label = label
        self.problems = tuple(problems)
        self.hidden = hidden
        first = self.problems[0]
        super().__init__(first.describe(), first.line)
        self.field = first.field

    @classmethod
    def one(
        cls, label: str, message: str, line: int | None = None, field: str | None = None
    ) -> ProfileError:
        return cls(label, [Problem(line, field, message)])

    def __str__(self) -> str:
        label = printable(self.label)
        lines = [
            f"{label}:{p.line}: {p.describe()}" if p.line else f"{label}: {p.describe()}"
            for p in self.problems
        ]
        if self.hidden:
            lines.append(f"{label}: … and {self.hidden} more problem(s)")
        return "\n".join(lines)

    def summary(self) -> str:
        more = len(self.problems) - 1 + self.hidden
        return self.problems[0].describe() + (f" (and {more} more problem(s))" if more else "")


# --- locating fields --------------------------------------------------------------------------


def field_line(document: Any, dotted: str) -> int | None:
    """The line of the deepest part of ``dotted`` (``data.retention.jobs_days``) present in
    ``document``: the field itself, else the section that should hold it."""
    node = document
    line = node.line if isinstance(node, LineDict | LineList) else None
    for part in (p for p in dotted.split(".") if p):
        if isinstance(node, LineDict) and part in node:
            line = node.line_of(part)
            node = node[part]
        elif isinstance(node, LineList) and part.isdigit() and int(part) < len(node):
            line = node.line_of(int(part))
            node = node[int(part)]
        else:
            break
    return line


@dataclass(frozen=True)
class LoadedProfile:
    """A validated profile, where it came from, and its line-aware YAML for field lines."""

    label: str  # the path as the user gave it, or the scanned path
    profile: VendorProfile
    document: Any

    def line_of(self, dotted: str) -> int | None:
        return field_line(self.document, dotted)


# --- validation errors, in the profile's own terms ---------------------------------------------


_PLAIN = {
    "missing": "required field is missing",
    "string_type": "expected text",
    "string_too_short": "must not be empty",
    "string_too_long": "text is too long (at most 2,000 characters)",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "model_type": "expected a section of fields",
    "model_attributes_type": "expected a section of fields",
    "dict_type": "expected a section of fields",
}


def _message(error: Any) -> tuple[tuple[str | int, ...], str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    problem = (error.get("ctx") or {}).get("error")
    if isinstance(problem, FieldProblem):
        return (*loc, problem.field), problem.message
    if kind == "extra_forbidden":
        model = model_at(loc[:-1])
        allowed = ", ".join(model.model_fields) if model else ""
        return loc, f"unknown field (allowed here: {allowed})" if allowed else "unknown field"
    if kind in ("enum", "literal_error"):
        expected = (error.get("ctx") or {}).get("expected", "")
        return loc, f"expected one of {expected}".replace("'", "")
    if kind in _PLAIN:
        return loc, _PLAIN[kind]
    if isinstance(problem, ValueError):
        return loc, str(problem)
    return loc, str(error["msg"]).removeprefix("Value error, ")


def _validation_problems(
    label: str, exc: ValidationError, document: Any, limit: int = 8
) -> ProfileError:
    found = []
    for error in exc.errors():
        loc, message = _message(error)
        dotted = ".".join(str(part) for part in loc)
        found.append(Problem(field_line(document, dotted), _display(loc) or None, message))
    found.sort(key=lambda problem: (problem.line is None, problem.line or 0))
    return ProfileError(label, found[:limit], hidden=max(0, len(found) - limit))


def _display(loc: Sequence[str | int]) -> str:
    """``data.subprocessors.entries[2].name``: list items by index."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --- loading ----------------------------------------------------------------------------------


def _bad_timestamp(text: str) -> tuple[int | None, str]:
    """The line and dotted field of a date YAML itself could not build (``2026-02-30``)."""
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return None, ""
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, f"{path}.{name}" if path else name))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(node.value))
        elif isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
            try:
                yaml.constructor.SafeConstructor().construct_yaml_timestamp(node)
            except ValueError:
                return node.start_mark.line + 1, path
    return None, ""


def profile_from_documents(documents: list[Any], label: str) -> LoadedProfile:
    """Validate the YAML documents of one file (as ``load_all_with_lines`` gives them)."""
    if len(documents) != 1:
        found = "no YAML document" if not documents else f"{len(documents)} YAML documents"
        raise ProfileError.one(label, f"a vendor profile is one YAML document; found {found}")
    document = documents[0]
    if not isinstance(document, dict):
        line = document.line if isinstance(document, LineList) else None
        raise ProfileError.one(label, "a vendor profile is a mapping with a vendor: section", line)
    try:
        profile = VendorProfile.model_validate(document)
    except ValidationError as exc:
        raise _validation_problems(label, exc, document) from exc
    except RecursionError as exc:
        raise ProfileError.one(label, "nested too deeply") from exc
    return LoadedProfile(label, profile, document)


def parse_documents(text: str, label: str) -> list[Any]:
    """The line-aware YAML documents of ``text``; an impossible date is a ``ProfileError``
    naming its line and field (YAML itself fails on it before any field is known)."""
    try:
        return load_all_with_lines(text)
    except ImpossibleValue as exc:  # a timestamp YAML resolved but could not build
        line, dotted = _bad_timestamp(text)
        message = "not a real calendar date (YYYY-MM-DD)"
        raise ProfileError.one(label, message, line or exc.line, dotted or None) from exc
    except ParseError as exc:
        raise ProfileError.one(label, str(exc), exc.line) from exc


def parse_profile(text: str, label: str) -> LoadedProfile:
    return profile_from_documents(parse_documents(text, label), label)


def load_profile(path: Path, label: str | None = None) -> LoadedProfile:
    """Read and validate the profile at ``path`` (a file a user named)."""
    label = label or str(path)
    try:
        raw = read_user_file(path, max_bytes=MAX_PROFILE_BYTES, what=WHAT)
    except FileRefused as exc:
        detail = exc.message.removeprefix(f"{WHAT} {path}: ")
        raise ProfileError.one(label, detail) from exc
    if is_binary(raw):
        raise ProfileError.one(label, "a binary file, not a YAML vendor profile")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ProfileError.one(label, "not UTF-8 text") from exc
    return parse_profile(text, label)
