"""YAML (and the TOML of ``pyproject.toml``), always loaded safely, in the shapes qgov needs.

- ``load_all_with_lines(text)``: every document of a scanned file, mappings as ``LineDict``
  and sequences as ``LineList`` (each knows the 1-based line of itself and its items), so
  detectors point at the exact line. CloudFormation short-form tags become the long form
  CloudFormation itself uses (``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` ->
  ``{"Fn::GetAtt": ["A", "B"]}``); unknown tags keep their data and lose the tag. Nothing
  is resolved or evaluated.
- ``read_yaml(path, what=…)``: one document from a file a user names (config, policy, job
  spec, catalog), read through ``scanner.fs`` and size-capped.
- ``load_yaml_model(path, Model, what=…)``: the same, validated with pydantic; every problem
  is a ``DocumentError`` naming the file and the field, never quoting a value.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from scanner.formats.errors import ImpossibleValue, ParseError
from scanner.fs import FileRefused, read_user_file

M = TypeVar("M", bound=BaseModel)

CFN_FUNCTIONS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Base64": "Fn::Base64",
    "Cidr": "Fn::Cidr",
    "If": "Fn::If",
    "Equals": "Fn::Equals",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Not": "Fn::Not",
    "Transform": "Fn::Transform",
    "Length": "Fn::Length",
    "ToJsonString": "Fn::ToJsonString",
}

# libyaml's safe loader when present: much faster, same safety.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DEFAULT_MAX_DOCUMENT_BYTES = 2 * 1024 * 1024


# Nodes one document may hold once its aliases are followed. Real CI files, manifests and
# templates hold a few thousand; a "billion laughs" document holds billions.
MAX_EXPANDED_NODES = 200_000


# A constructor's own message may quote the value (int('…')); the value could be a secret.
_BAD_VALUE = "a value is not a valid date, time or number (e.g. 2026-02-30)"


class DocumentError(Exception):
    """A user-named YAML file cannot be used; the message names the file (no values)."""


class AliasBomb(yaml.YAMLError):
    """A document whose aliases expand beyond ``MAX_EXPANDED_NODES`` (or refer to
    themselves); refused before a single value is built."""

    def __init__(self) -> None:
        super().__init__()
        self.problem = (
            f"aliases expand to more than {MAX_EXPANDED_NODES:,} values (an alias bomb); "
            "not loaded"
        )
        self.problem_mark = None

    def __str__(self) -> str:
        return self.problem


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def expanded_size(root: yaml.Node, limit: int = MAX_EXPANDED_NODES) -> int | None:
    """How many nodes ``root`` holds with every alias followed, counted once per node kind
    of sharing (memoised), without recursion; None above ``limit`` or for a cyclic alias."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > limit:
                return None
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in open_nodes:  # an ancestor: the alias refers to itself
            return None
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _construct_bounded(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if expanded_size(node) is None:
        raise AliasBomb()
    return yaml.constructor.BaseConstructor.construct_document(loader, node)


def parse_error_from_yaml(exc: yaml.YAMLError) -> ParseError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ParseError(f"invalid YAML: {problem}", line)


# --- scanned files: line-aware, CloudFormation tags as data --------------------------------------


class LineDict(dict[Any, Any]):
    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        """Line of ``key`` (falls back to the mapping's own line)."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _ImpossibleValueError(yaml.constructor.ConstructorError):
    """A timestamp YAML resolved but Python cannot build; carries the value's place."""


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(
            loader, node  # type: ignore[arg-type]
        )
    except (ValueError, OverflowError):
        raise _ImpossibleValueError(
            None, None, "not a real calendar date or time", node.start_mark
        ) from None


class _BoundedLoader(SAFE_LOADER):  # type: ignore[valid-type,misc]
    """Safe loading that refuses alias bombs before building anything, and reports an
    impossible date with its line; a subclass so the global loaders stay untouched."""

    construct_document = _construct_bounded


_BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


class _LineLoader(_BoundedLoader):
    """Bounded safe loading plus tolerant tags and line numbers."""


def _construct_tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = CFN_FUNCTIONS.get(tag_suffix)
    if name is None:
        return value  # unknown tag: keep the data, drop the tag
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            key = str(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_multi_constructor("!", _construct_tagged)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_all_with_lines(text: str) -> list[Any]:
    """All documents of ``text`` with line-aware containers; raises ParseError when malformed."""
    try:
        return [doc for doc in yaml.load_all(text, Loader=_LineLoader) if doc is not None]
    except _ImpossibleValueError as exc:
        mark = exc.problem_mark
        raise ImpossibleValue(
            f"invalid YAML: {exc.problem}", mark.line + 1 if mark is not None else None
        ) from exc
    except yaml.YAMLError as exc:
        raise parse_error_from_yaml(exc) from exc
    except RecursionError as exc:
        raise ParseError("YAML nested too deeply") from exc
    except (ValueError, OverflowError) as exc:  # an impossible date or number: 2026-02-30
        raise ParseError(f"invalid YAML: {_BAD_VALUE}") from exc


# --- guards for scanned YAML ----------------------------------------------------------------------

# YAML with line numbers loads at about 1 MB/s; larger manifests/templates are reported instead.
MAX_YAML_CHARS = 4_000_000
_TEMPLATE_MARKERS = ("{{", "{%")


def check_size(text: str, what: str, limit: int = MAX_YAML_CHARS) -> None:
    """Raise ParseError for a file too large to analyse in reasonable time."""
    if len(text) > limit:
        raise ParseError(
            f"{what} too large to analyse ({len(text):,} characters; the limit is {limit:,})"
        )


@dataclass(frozen=True)
class YamlHazards:
    placeholder_line: int | None = None  # an unquoted {{ … }} / {% … %} template placeholder
    unknown_tag: tuple[str, int] | None = None  # (tag, line) not in ``known_tags``


def yaml_hazards(text: str, known_tags: frozenset[str] | None = None) -> YamlHazards:
    """Look at the YAML token stream (not the text) for unrendered template placeholders and,
    when ``known_tags`` is given, for local tags (``!Name``) outside it.

    An unquoted Helm/Jinja ``{{ .Values.x }}`` scans as two adjacent flow-mapping starts, and
    often still loads (as a nested mapping), so a loader alone would quietly misread it.
    Placeholders inside quoted strings are values, not hazards. A scan error in a file that
    has template markers is reported as a placeholder at the error's line; other scan
    errors are left to the loader, which reports them with its own message.
    """
    has_markers = any(marker in text for marker in _TEMPLATE_MARKERS)
    if not has_markers and (known_tags is None or "!" not in text):
        return YamlHazards()
    previous: yaml.Token | None = None
    unknown: tuple[str, int] | None = None
    try:
        for token in yaml.scan(text, Loader=SAFE_LOADER):
            if (
                isinstance(token, yaml.FlowMappingStartToken)
                and isinstance(previous, yaml.FlowMappingStartToken)
                and token.start_mark.line == previous.start_mark.line
                and token.start_mark.column == previous.start_mark.column + 1
            ):
                return YamlHazards(placeholder_line=previous.start_mark.line + 1)
            if known_tags is not None and unknown is None and isinstance(token, yaml.TagToken):
                handle, suffix = token.value
                if handle == "!" and suffix not in known_tags:
                    unknown = (f"!{suffix}", token.start_mark.line + 1)
            previous = token
    except yaml.YAMLError as exc:
        if has_markers:
            mark = getattr(exc, "problem_mark", None)
            return YamlHazards(placeholder_line=mark.line + 1 if mark is not None else 1)
        return YamlHazards(unknown_tag=unknown)
    return YamlHazards(unknown_tag=unknown)


def contains_text(value: Any, needle: str, budget: int = 20_000) -> bool:
    """Whether ``needle`` occurs in any string inside ``value`` (bounded walk: YAML aliases
    can make a small document expand enormously)."""
    stack = [value]
    while stack and budget > 0:
        budget -= 1
        item = stack.pop()
        if isinstance(item, str):
            if needle in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


# --- files a user names: config, policy, job spec, catalog --------------------------------------


def _problem(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"{problem} (line {mark.line + 1})" if mark is not None else str(problem)


def parse_yaml_bytes(raw: bytes, *, label: str) -> Any:
    """One YAML document from ``raw``; ``label`` ("policy x.yaml") starts every message."""
    try:
        return yaml.load(raw.decode("utf-8"), Loader=_BoundedLoader)
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{label}: not valid YAML: the file is not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise DocumentError(f"{label}: not valid YAML: {_problem(exc)}") from exc
    except RecursionError as exc:
        raise DocumentError(f"{label}: not valid YAML: nested too deeply") from exc
    except (ValueError, OverflowError) as exc:
        raise DocumentError(f"{label}: not valid YAML: {_BAD_VALUE}") from exc


def parse_toml_bytes(raw: bytes, *, label: str) -> dict[str, Any]:
    """A TOML document (``pyproject.toml``) from ``raw``, with the same error style."""
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{label}: invalid TOML: the file is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DocumentError(f"{label}: invalid TOML: {exc}") from exc
    except RecursionError as exc:
        raise DocumentError(f"{label}: invalid TOML: nested too deeply") from exc


def read_yaml(
    path: Path, *, what: str, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> tuple[Any, bytes]:
    """``(document, raw bytes)`` of the YAML file at ``path``."""
    try:
        raw = read_user_file(path, max_bytes=max_bytes, what=what)
    except FileRefused as exc:
        raise DocumentError(exc.message) from exc
    return parse_yaml_bytes(raw, label=f"{what} {path}"), raw


def describe_validation_error(source: str, exc: ValidationError, limit: int = 8) -> str:
    """One line per problem, each naming the field by its dotted path.

    Input values are left out on purpose: a policy or spec field could hold a key or token.
    A validator can name a sub-field by raising an error that has ``field`` and ``message``
    attributes (``scanner.governed.errors.FieldProblem``).
    """
    lines = []
    for error in exc.errors()[:limit]:
        location = ".".join(str(part) for part in error["loc"])
        message = error["msg"]
        problem = (error.get("ctx") or {}).get("error")
        field = getattr(problem, "field", None)
        if isinstance(field, str):
            location = ".".join(p for p in (location, field) if p)
            message = str(getattr(problem, "message", message))
        lines.append(f"{source}: field '{location or '(top level)'}': {message}")
    hidden = len(exc.errors()) - limit
    if hidden > 0:
        lines.append(f"{source}: ... and {hidden} more problem(s)")
    return "\n".join(lines)


def load_yaml_model(
    path: Path,
    model: type[M],
    *,
    what: str,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    require_mapping: bool = True,
) -> tuple[M, bytes]:
    """``(validated model, raw bytes)`` for the YAML file at ``path``."""
    data, raw = read_yaml(path, what=what, max_bytes=max_bytes)
    label = f"{what} {path}"
    if require_mapping and not isinstance(data, dict):
        raise DocumentError(f"{label}: expected a mapping at the top level")
    try:
        return model.model_validate(data), raw
    except ValidationError as exc:
        raise DocumentError(describe_validation_error(label, exc)) from exc
    except RecursionError as exc:
        raise DocumentError(f"{label}: nested too deeply") from exc
