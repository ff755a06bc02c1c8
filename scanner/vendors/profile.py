"""The vendor security profile: a YAML file answering a procurement questionnaire about one
quantum cloud vendor, validated by frozen pydantic models that refuse unknown fields.

Every answer may be given, written as ``unknown``, or left out; ``unknown`` and absent both
mean *not stated*, and the assessment treats that as a gap of its own, never as a pass.
Yes/no answers are tri-state (``true``, ``false``, ``unknown``), counts are whole numbers,
dates are ``YYYY-MM-DD`` and must exist on the calendar. Free text (names, links, notes) is
stored with URL credentials and credential-looking values masked, so no report built from a
profile can print one.

This module holds the models, their answer types and ``has_field`` (which dotted names the
profile has); reading a file and reporting its problems is ``scanner.vendors.profile_loader``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import StrEnum
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from scanner.detectors.secret_patterns import find_secrets
from scanner.masking import mask, redact_url

# The most days or hours any answer may hold; larger numbers are typos.
MAX_COUNT = 100_000
_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


class FieldProblem(ValueError):
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
            raise FieldProblem("expires", "the certificate expires before it was issued")
        return self


class Soc2TypeII(_Section):
    available: TriState = None
    period_start: Day = None
    period_end: Day = None

    @model_validator(mode="after")
    def _order(self) -> Soc2TypeII:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise FieldProblem("period_end", "the report period ends before it starts")
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


# --- which fields the profile has -------------------------------------------------------------


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


def model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class at ``loc`` (a validation error's location; list indexes skipped)."""
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
    model = model_at(parents)
    return model is not None and last in model.model_fields
