"""A lenient reading of governance policy files, for `qgov scan` and `qgov access review`.

A repository's policy may be partial, and what it leaves out (a role's owner, a project's
quota) is exactly what the checks report, so a scan cannot validate it with the governed
job's strict ``OrgPolicy``. The lenient models here are derived from the strict ones at
import time: every field keeps its type, constraints, default and field validators, but a
field the strict model requires becomes optional, and no cross-reference (model) validator
runs. Unknown fields, wrong types and impossible dates are still errors, reported as a
``ParseError`` naming the field and its line. Deriving instead of copying keeps the two in
step when sections are added to the policy.

The checks read the result through the ``*View`` protocols below (typed access to what they
use), never through the strict classes.
"""

from __future__ import annotations

import copy
import functools
import inspect
import operator
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol, Union, cast, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, create_model, field_validator

from scanner.discover import compile_patterns
from scanner.formats.errors import ImpossibleValue, ParseError
from scanner.formats.yaml import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    SAFE_LOADER,
    LineDict,
    LineList,
    load_all_with_lines,
)
from scanner.fs import FileRefused, read_user_file
from scanner.governance.names import EXCEPTIONS_FILE_NAMES
from scanner.governance.sections import ExceptionsFile
from scanner.governed.policy import OrgPolicy
from scanner.governed.policy_sections import Role

# --- deriving the lenient models ------------------------------------------------------------

_DERIVED: dict[type[BaseModel], type[BaseModel]] = {}


def lenient_model(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` with its required fields optional and its model validators dropped."""
    if model in _DERIVED:
        return _DERIVED[model]
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _lenient_annotation(info.annotation)
        field = copy.copy(info)
        if info.is_required():
            field.default = None
            attributes = getattr(field, "_attributes_set", None)
            if isinstance(attributes, dict):
                field._attributes_set = {**attributes, "default": None}
            annotation = Union[annotation, None]  # noqa: UP007 (built from a runtime value)
        fields[name] = (annotation, field)
    derived = create_model(
        f"Lenient{model.__name__}",
        __config__=ConfigDict(frozen=True, extra="forbid"),
        __validators__=_field_validators(model),
        **fields,
    )
    _DERIVED[model] = derived
    return cast(type[BaseModel], derived)


def _lenient_annotation(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return lenient_model(annotation)
    origin = get_origin(annotation)
    if origin is None or origin is Literal:
        return annotation
    args = tuple(_lenient_annotation(arg) for arg in get_args(annotation))
    if origin is Union or origin is types.UnionType:
        return functools.reduce(operator.or_, args)
    if origin is tuple:
        return tuple[args]  # type: ignore[valid-type]
    if origin is dict:
        return dict[args[0], args[1]]  # type: ignore[valid-type]
    return annotation  # nothing else in the policy holds models


def _field_validators(model: type[BaseModel]) -> dict[str, Any]:
    """The strict model's before/after field validators, re-bound for the derived model;
    after-validators let the ``None`` of a missing field through."""
    copied: dict[str, Any] = {}
    for name, decorator in model.__pydantic_decorators__.field_validators.items():
        mode = decorator.info.mode
        if mode not in ("before", "after"):
            continue
        copied[name] = field_validator(*decorator.info.fields, mode=mode)(
            _rebound(decorator.func, skip_none=mode == "after")
        )
    return copied


def _rebound(func: Callable[..., Any], *, skip_none: bool) -> Any:
    wants_info = len(inspect.signature(func).parameters) > 1

    def validate(cls: type, value: Any, info: Any) -> Any:
        if skip_none and value is None:
            return None
        return func(value, info) if wants_info else func(value)

    return classmethod(validate)


LenientPolicy = lenient_model(OrgPolicy)
LenientExceptionsFile = lenient_model(ExceptionsFile)

# Top-level keys only a qgov policy has; `roles:` alone is also Ansible's, `exceptions:`
# alone could be anything, so those two need a closer look (see ``document_kind``).
_POLICY_KEYS = frozenset(OrgPolicy.model_fields) - {"roles", "exceptions"}
_ROLE_KEYS = frozenset(Role.model_fields) - {"name", "projects", "environments"}
_EXCEPTION_KEYS = frozenset({"control", "risk_owner", "compensating_controls"})

DocumentKind = Literal["policy", "exceptions"]


def document_kind(document: Any, path: str) -> DocumentKind | None:
    """What a YAML document discovery marked as a governance policy really is: a qgov policy,
    an exceptions register, or (None) something else with a `roles:` key."""
    if PurePosixPath(path).name.lower() in EXCEPTIONS_FILE_NAMES:
        return "exceptions"
    if not isinstance(document, dict):
        return None
    if _POLICY_KEYS & set(document):
        return "policy"
    roles = document.get("roles")
    if isinstance(roles, list) and any(
        isinstance(role, dict) and _ROLE_KEYS & set(role) for role in roles
    ):
        return "policy"
    exceptions = document.get("exceptions")
    if isinstance(exceptions, list) and any(
        isinstance(entry, dict) and _EXCEPTION_KEYS & set(entry) for entry in exceptions
    ):
        return "policy"
    return None


# --- typed views of the lenient models ------------------------------------------------------


class PolicyInfoView(Protocol):
    id: str | None
    version: str | None
    owner: str | None
    reviewed: date | None


class IdentityView(Protocol):
    subject: str | None
    kind: str | None
    issuer: str | None
    roles: tuple[str, ...]
    approver: bool
    team: str | None
    vendors: tuple[str, ...]
    environments: tuple[str, ...]


class RoleView(Protocol):
    name: str | None
    owner: str | None
    purpose: str | None
    expires: datetime | date | None
    identity_kinds: tuple[str, ...] | None
    environments: tuple[str, ...] | None
    backends: tuple[str, ...] | None
    data_classes: tuple[str, ...] | None
    projects: tuple[str, ...] | None
    can_export: bool
    can_administer: bool


class TierRuleView(Protocol):
    data_classes: tuple[str, ...] | None


class QuotaView(Protocol):
    period: str
    shots: int | None
    cost_units: int | None


class ProjectView(Protocol):
    name: str | None
    owner: str | None
    tier: str | None
    environments: tuple[str, ...] | None
    quota: QuotaView | None
    burst: object | None
    budget_alert: object | None


class BackendView(Protocol):
    name: str | None
    regulated: bool
    environments: tuple[str, ...] | None


class ElevationView(Protocol):
    max_hours: int
    export_requires_approval: bool


class ApprovalView(Protocol):
    id: str | None
    action: str | None
    requester: str | None
    approver: str | None
    approved_at: datetime | None
    expires_at: datetime | None


class DebugView(Protocol):
    enabled: bool
    until: datetime | None
    approval: str | None


class EnvironmentEntryView(Protocol):
    name: str | None
    credentials: tuple[str, ...]
    storage: tuple[str, ...]


class AccessReviewView(Protocol):
    date: date | None
    reviewer: str | None
    scope: str | None
    report_sha256: str | None


class AccessReviewsView(Protocol):
    cadence_days: int
    high_risk_cadence_days: int
    records: tuple[AccessReviewView, ...]


class ScopeView(Protocol):
    paths: tuple[str, ...]
    resources: tuple[str, ...]
    rules: tuple[str, ...]


class ExceptionView(Protocol):
    id: str | None
    control: str | None
    scope: ScopeView
    risk_owner: str | None
    reason: str | None
    compensating_controls: tuple[str, ...]
    expires: date | None
    ticket: str | None


class PolicyView(Protocol):
    policy: PolicyInfoView | None
    identities: tuple[IdentityView, ...] | None
    roles: tuple[RoleView, ...] | None
    tiers: dict[str, TierRuleView] | None
    projects: tuple[ProjectView, ...] | None
    backends: tuple[BackendView, ...] | None
    elevation: ElevationView
    approvals: tuple[ApprovalView, ...]
    debug: DebugView
    environments: tuple[EnvironmentEntryView, ...]
    access_reviews: AccessReviewsView
    exceptions: tuple[ExceptionView, ...]


class RegisterView(Protocol):
    exceptions: tuple[ExceptionView, ...]


# --- lines ---------------------------------------------------------------------------------


def line_at(document: Any, *path: str | int) -> int:
    """The line of the deepest element of ``path`` present in ``document`` (a missing field
    is reported at the line of the entry that lacks it)."""
    node = document
    line = getattr(document, "line", 1) or 1
    for part in path:
        if isinstance(node, LineDict) and part in node:
            line = node.line_of(part)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.line_of(part)
            node = node[part]
        else:
            break
    return line


# --- validation ----------------------------------------------------------------------------

_DATE_ERRORS = frozenset(
    {"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact",
     "datetime_parsing", "datetime_from_date_parsing", "date_type", "datetime_type"}
)


@dataclass(frozen=True)
class Problem:
    field: str
    line: int
    message: str


def validation_problems(document: Any, exc: ValidationError) -> list[Problem]:
    """One problem per field (a union type reports each alternative; one is enough), in the
    order of the file, never quoting a value."""
    errors = exc.errors()
    # A list whose items failed also reports itself as too short; the items say more.
    deeper = {tuple(error["loc"][:n]) for error in errors for n in range(len(error["loc"]))}
    found: dict[str, Problem] = {}
    for error in errors:
        if error["type"] == "too_short" and tuple(error["loc"]) in deeper:
            continue
        parts: list[str | int] = []
        node = document
        for part in error["loc"]:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            elif error["type"] == "extra_forbidden" and part == error["loc"][-1]:
                pass  # the unknown key itself: present in the document, named below
            else:
                break
            parts.append(part)
        field = ".".join(str(part) for part in parts) or "(top level)"
        if field in found:
            continue
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] in _DATE_ERRORS or "date" in error["type"]:
            message = "not a valid date (use YYYY-MM-DD or an ISO 8601 date-time)"
        else:
            message = error["msg"]
        found[field] = Problem(field, line_at(document, *parts), message)
    return sorted(found.values(), key=lambda problem: problem.line)


def _problem_error(problems: Sequence[Problem], what: str) -> ParseError:
    first = problems[0]
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return ParseError(f"{what} field '{first.field}': {first.message}{more}", first.line)


def parse_policy(document: Any) -> PolicyView:
    """A policy document (a ``LineDict``) read leniently; raises ``ParseError``."""
    return cast(PolicyView, _validate(LenientPolicy, document, "policy"))


def parse_register(document: Any) -> RegisterView:
    """An ``.qgov-exceptions.yaml`` document read leniently; raises ``ParseError``."""
    return cast(RegisterView, _validate(LenientExceptionsFile, document, "exceptions file"))


def _validate(model: type[BaseModel], document: Any, what: str) -> BaseModel:
    if not isinstance(document, dict):
        raise ParseError(f"{what}: expected a mapping at the top level", line_at(document))
    try:
        parsed = model.model_validate(document)
    except ValidationError as exc:
        raise _problem_error(validation_problems(document, exc), what) from exc
    _check_patterns(document, cast(RegisterView, parsed), what)
    return parsed


def _check_patterns(document: Any, parsed: RegisterView, what: str) -> None:
    """Exception scopes hold gitignore-style patterns; one that cannot be read is an error
    here rather than an exception that silently matches nothing."""
    for n, entry in enumerate(parsed.exceptions or ()):
        _spec, bad = compile_patterns(list(entry.scope.paths))
        if bad:
            number = bad[0][0] - 1
            path = ("exceptions", n, "scope", "paths", number)
            raise ParseError(
                f"{what} field 'exceptions.{n}.scope.paths.{number}': not a valid "
                "gitignore-style pattern",
                line_at(document, *path),
            )


def read_documents(text: str) -> list[Any]:
    """Every YAML document of ``text``, line-aware; an impossible date (2027-02-30), which
    the YAML loader fails on without a position, becomes a ``ParseError`` at its line."""
    try:
        return load_all_with_lines(text)
    except ImpossibleValue as exc:
        located = locate_bad_timestamp(text)
        if located is None:
            raise
        line, field = located
        raise ParseError(f"field '{field}': not a real date", line) from exc


def locate_bad_timestamp(text: str) -> tuple[int, str] | None:
    """(line, dotted field) of the first YAML timestamp that is not a real date or time."""
    constructor = yaml.constructor.SafeConstructor()
    try:
        roots = list(yaml.compose_all(text, Loader=SAFE_LOADER))
    except (yaml.YAMLError, RecursionError):
        return None
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(r, ()) for r in reversed(roots) if r]
    while stack:
        node, trail = stack.pop()
        if id(node) in seen:
            continue  # an alias: already looked at
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag == "tag:yaml.org,2002:timestamp":
                try:
                    constructor.construct_yaml_timestamp(node)
                except ValueError:
                    return node.start_mark.line + 1, ".".join(trail) or "(value)"
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, (*trail, str(name))))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(
                (node.value[i], (*trail, str(i))) for i in range(len(node.value) - 1, -1, -1)
            )
    return None


# --- a policy file a user names (--policy) ----------------------------------------------------


class PolicyFileError(Exception):
    """A policy or exceptions file named on the command line cannot be used."""


@dataclass(frozen=True)
class PolicyFile:
    path: Path
    document: Any  # the LineDict the view was read from (for lines)
    view: PolicyView | RegisterView
    kind: DocumentKind
    raw: bytes

    @property
    def exceptions(self) -> tuple[ExceptionView, ...]:
        return self.view.exceptions or ()


def read_policy_file(path: Path) -> PolicyFile:
    """The policy (or ``.qgov-exceptions.yaml``) at ``path``, leniently validated; every
    problem is a ``PolicyFileError`` naming the file, the line and the field."""
    try:
        raw = read_user_file(path, max_bytes=DEFAULT_MAX_DOCUMENT_BYTES, what="policy")
    except FileRefused as exc:
        raise PolicyFileError(exc.message) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyFileError(f"policy {path}: not UTF-8 text") from exc
    kind: DocumentKind = "exceptions" if path.name.lower() in EXCEPTIONS_FILE_NAMES else "policy"
    try:
        documents = read_documents(text)
        if len(documents) != 1:
            raise ParseError(f"expected one YAML document, found {len(documents)}")
        document = documents[0]
        view: PolicyView | RegisterView = (
            parse_register(document) if kind == "exceptions" else parse_policy(document)
        )
    except ParseError as exc:
        where = f" line {exc.line}:" if exc.line else ""
        raise PolicyFileError(f"policy {path}:{where} {exc}") from exc
    except RecursionError as exc:
        raise PolicyFileError(f"policy {path}: nested too deeply") from exc
    return PolicyFile(path=path, document=document, view=view, kind=kind, raw=raw)


def iter_exceptions(view: PolicyView | RegisterView) -> Iterator[tuple[int, ExceptionView]]:
    yield from enumerate(view.exceptions or ())
