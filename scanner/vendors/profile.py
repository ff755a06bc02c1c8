"""The vendor security profile: a YAML file answering a procurement questionnaire about one
quantum cloud vendor, validated by frozen pydantic models that refuse unknown fields.

Every answer may be given, written as ``unknown``, or left out; ``unknown`` and absent both
mean *not stated*, and the assessment treats that as a gap of its own, never as a pass.
Yes/no answers are tri-state (``true``, ``false``, ``unknown``), counts are whole numbers,
dates are ``YYYY-MM-DD`` and must exist on the calendar.

``load_profile(path)`` reads a file a user names (``qgov vendor …``); ``parse_profile(text,
label)`` and ``profile_from_documents(documents, label)`` serve the scan, which already holds
the text and its line-aware YAML. Every problem is a ``ProfileError`` (a ``ParseError``) that
names the file, the line where it can tell, and the field, and never quotes a value. Free
text (names, links, notes) is stored with URL credentials and credential-looking values
masked, so no report built from a profile can print one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from scanner.detectors.secret_patterns import find_secrets
from scanner.formats.errors import ImpossibleValue, ParseError
from scanner.formats.yaml import SAFE_LOADER, LineDict, LineList, load_all_with_lines
from scanner.fs import FileRefused, is_binary, read_user_file
from scanner.masking import mask, redact_url
from scanner.model import printable

MAX_PROFILE_BYTES = 1024 * 1024
# The most days or hours any answer may hold; larger numbers are typos.
MAX_COUNT = 100_000
WHAT = "vendor profile"
_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


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


class _FieldProblem(ValueError):
    """Raised in a model validator so the error names a field below the model."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- answer types ------------------------------------------------------------------------------


def _is_unknown(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() == "unknown")


def _tri_state(value: Any) -> bool | None:
    if _is_unknown(value):
        return None
    if isinstance(value, bool):
        return value
    raise ValueError("expected true, false or unknown")


def _count(value: Any) -> int | None:
    if _is_unknown(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected a whole number or unknown")
    if not 0 <= value <= MAX_COUNT:
        raise ValueError(f"expected a whole number from 0 to {MAX_COUNT:,}")
    return value


def _lifetime(value: Any) -> int | Literal["never"] | None:
    if isinstance(value, str) and value.strip().lower() == "never":
        return "never"
    try:
        days = _count(value)
    except ValueError:
        raise ValueError("expected a number of days, never, or unknown") from None
    if days == 0:
        raise ValueError("expected at least 1 day (write never for tokens that do not expire)")
    return days


def _day(value: Any) -> date | None:
    if _is_unknown(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError("expected a date written YYYY-MM-DD")
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError("not a real calendar date (YYYY-MM-DD)") from None
    raise ValueError("expected a date written YYYY-MM-DD")


def _choice(allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if _is_unknown(value):
            return None
        text = str(value).strip().lower() if isinstance(value, str | int | float) else None
        if isinstance(value, bool) or text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)} or unknown")
        return text

    return check


def clean_text(value: str) -> str:
    """``value`` with URL credentials removed and credential-looking values masked."""
    text = redact_url(value)
    matches = sorted(find_secrets(text), key=lambda m: m.start, reverse=True)
    for match in matches:
        text = text[: match.start] + mask(match.value) + text[match.end :]
    return text


def _strict_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("expected true or false")


def _version(value: Any) -> int | None:
    if value is None:
        return None
    if value != 1 or isinstance(value, bool):
        raise ValueError("this qgov reads profile format 1 (qgov_vendor_profile: 1)")
    return 1


def _none_declared(value: Any) -> Any:
    return () if _is_unknown(value) else value


def _unknown_to_none(value: Any) -> Any:
    return None if _is_unknown(value) else value


def _block(value: Any) -> Any:
    """A whole section written as ``unknown`` (or left empty) is a section of unknowns."""
    return {} if _is_unknown(value) else value


def _provider_id(value: str) -> str:
    if not _PROVIDER_ID.match(value):
        raise ValueError("expected a provider id: lower-case words joined by '-' (ibm-quantum)")
    return value


TriState = Annotated[bool | None, BeforeValidator(_tri_state)]
Count = Annotated[int | None, BeforeValidator(_count)]
Lifetime = Annotated[int | Literal["never"] | None, BeforeValidator(_lifetime)]
Day = Annotated[date | None, BeforeValidator(_day)]
Text = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(clean_text)]
OptionalText = Annotated[Text | None, BeforeValidator(_unknown_to_none)]
TextList = Annotated[tuple[Text, ...] | None, BeforeValidator(_unknown_to_none)]
ProviderIds = Annotated[
    tuple[Annotated[str, AfterValidator(_provider_id)], ...] | None,
    BeforeValidator(_unknown_to_none),
]

AUDIT_FIELDS = (
    "submitter", "backend", "timestamps", "job_id", "source_ip", "project", "token_id",
    "result_access", "policy_decision",
)
# What an audit trail for QPU jobs must name, at the least.
REQUIRED_AUDIT_FIELDS = ("submitter", "backend", "timestamps", "job_id")
QPU_ACCESS = ("dedicated", "per-tenant", "shared")
JOB_QUEUE = ("per-tenant", "shared-opaque", "shared-visible")
TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")

AuditField = Literal[
    "submitter", "backend", "timestamps", "job_id", "source_ip", "project", "token_id",
    "result_access", "policy_decision",
]


class DataClass(StrEnum):
    """What the team means to send to the vendor; decides whether a DPA or BAA is needed."""

    PERSONAL = "personal"
    HEALTH = "health"


# --- the profile ------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VendorInfo(_Section):
    name: Text
    product: OptionalText = None
    # When the answers were collected (from the vendor's questionnaire, trust centre, contract).
    profile_date: Day = None
    # Links or document names the answers come from.
    sources: TextList = None
    fictional: Annotated[bool, BeforeValidator(_strict_bool)] = False
    notes: OptionalText = None
    # The quantum providers this profile assesses, by the ids a scan's inventory uses
    # (ibm-quantum, amazon-braket …): a scan counts them as assessed (QG-INV-001).
    providers: ProviderIds = None


class IntendedUse(_Section):
    # personal: personal data may reach the vendor (a GDPR DPA is needed);
    # health: health data may (a HIPAA BAA and a DPA are needed).
    data: Annotated[tuple[DataClass, ...], BeforeValidator(_none_declared)] = ()


class Identity(_Section):
    saml_sso: TriState = None
    oidc_sso: TriState = None
    scim_provisioning: TriState = None
    offboarding_revokes_tokens: TriState = None
    mfa_enforced: TriState = None
    conditional_access: TriState = None
    workload_identity_federation: TriState = None


class ApiTokens(_Section):
    max_lifetime_days: Lifetime = None
    scoped: TriState = None


class Access(_Section):
    api_tokens: Annotated[ApiTokens, BeforeValidator(_block)] = ApiTokens()
    approval_workflows: TriState = None


class Network(_Section):
    private_connectivity: TriState = None
    ip_allowlist: TriState = None


class Logging(_Section):
    retention_days: Count = None
    export_formats: TextList = None
    audit_fields: Annotated[tuple[AuditField, ...] | None, BeforeValidator(_unknown_to_none)] = (
        None
    )


class Encryption(_Section):
    in_transit: TriState = None
    min_tls_version: Annotated[str | None, BeforeValidator(_choice(TLS_VERSIONS))] = None
    at_rest: TriState = None
    customer_managed_keys: TriState = None


class Isolation(_Section):
    qpu_access: Annotated[str | None, BeforeValidator(_choice(QPU_ACCESS))] = None
    job_queue: Annotated[str | None, BeforeValidator(_choice(JOB_QUEUE))] = None


class Retention(_Section):
    jobs_days: Count = None
    results_days: Count = None
    metadata_days: Count = None
    customer_configurable: TriState = None


class Subprocessor(_Section):
    name: Text
    purpose: OptionalText = None
    location: OptionalText = None


class Subprocessors(_Section):
    list_published: TriState = None
    entries: Annotated[tuple[Subprocessor, ...] | None, BeforeValidator(_unknown_to_none)] = None


class DataHandling(_Section):
    regions: TextList = None
    residency_pinning: TriState = None
    isolation: Annotated[Isolation, BeforeValidator(_block)] = Isolation()
    retention: Annotated[Retention, BeforeValidator(_block)] = Retention()
    deletion_on_request: TriState = None
    subprocessors: Annotated[Subprocessors, BeforeValidator(_block)] = Subprocessors()


class Incident(_Section):
    notification_hours: Count = None


class Iso27001(_Section):
    certified: TriState = None
    issued: Day = None
    expires: Day = None
    scope: OptionalText = None

    @model_validator(mode="after")
    def _order(self) -> Iso27001:
        if self.issued and self.expires and self.expires < self.issued:
            raise _FieldProblem("expires", "the certificate expires before it was issued")
        return self


class Soc2TypeII(_Section):
    available: TriState = None
    period_start: Day = None
    period_end: Day = None

    @model_validator(mode="after")
    def _order(self) -> Soc2TypeII:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise _FieldProblem("period_end", "the report period ends before it starts")
        return self


class Agreement(_Section):
    available: TriState = None  # the vendor signs one
    version_date: Day = None


class Certifications(_Section):
    iso27001: Annotated[Iso27001, BeforeValidator(_block)] = Iso27001()
    soc2_type2: Annotated[Soc2TypeII, BeforeValidator(_block)] = Soc2TypeII()
    hipaa_baa: Annotated[Agreement, BeforeValidator(_block)] = Agreement()
    gdpr_dpa: Annotated[Agreement, BeforeValidator(_block)] = Agreement()


class VendorProfile(_Section):
    # Format version; optional, but it marks a file as a profile beyond doubt.
    qgov_vendor_profile: Annotated[int | None, BeforeValidator(_version)] = None
    vendor: VendorInfo
    intended_use: Annotated[IntendedUse, BeforeValidator(_block)] = IntendedUse()
    identity: Annotated[Identity, BeforeValidator(_block)] = Identity()
    access: Annotated[Access, BeforeValidator(_block)] = Access()
    network: Annotated[Network, BeforeValidator(_block)] = Network()
    logging: Annotated[Logging, BeforeValidator(_block)] = Logging()
    encryption: Annotated[Encryption, BeforeValidator(_block)] = Encryption()
    data: Annotated[DataHandling, BeforeValidator(_block)] = DataHandling()
    incident: Annotated[Incident, BeforeValidator(_block)] = Incident()
    certifications: Annotated[Certifications, BeforeValidator(_block)] = Certifications()


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


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Annotated, unions, tuples)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, UnionType, tuple, list):
        return [m for arg in get_args(annotation) for m in _unwrap(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = VendorProfile
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        found = _unwrap(info.annotation)
        for meta in info.metadata:
            found = found or _unwrap(meta)
        model = found[0] if found else None
    return model


def has_field(dotted: str) -> bool:
    """Whether ``dotted`` (``data.retention.jobs_days``) names a field of the profile."""
    *parents, last = dotted.split(".")
    model = _model_at(parents)
    return model is not None and last in model.model_fields


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
    if isinstance(problem, _FieldProblem):
        return (*loc, problem.field), problem.message
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
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
