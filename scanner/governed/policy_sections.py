"""The sections of the org policy, one frozen pydantic model each (unknown fields refused).

Issuers and their keys, identities, roles and their time windows, tiers, projects with quotas,
burst limits and budget alerts, backends and their providers, elevation, access reviews, the
dataset registry, revocations, debug mode, ledger settings, SIEM forwarding and execution
defaults. Each validates itself (keys are readable public keys, time zones exist, digests are
SHA-256, a revocation names one target); what refers to what across sections is checked by
``OrgPolicy`` in :mod:`.policy`. Numbers and switches are strict everywhere: ``max_shots: true``
is an error, not 1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from scanner.governance.sections import AccessReviews, Environment
from scanner.governed.errors import FieldProblem
from scanner.governed.scrub import text_problem
from scanner.governed.timeutil import as_utc
from scanner.model import DataClass, Tier

IdentityKind = Literal["human", "workload", "service"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Only asymmetric algorithms: verifying a token must never need a shared (long-lived) secret.
TokenAlgorithm = Literal["EdDSA", "ES256", "ES384", "RS256", "PS256"]

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Demo issuers derive their key from a public seed, so they may never authorise these.
PROTECTED_ENVIRONMENTS: frozenset[str] = frozenset({"regulated-pilot", "production"})
MAX_TOKEN_LIFETIME_SECONDS = 3600


class PolicyModel(BaseModel):
    """A part of the org policy: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PolicyInfo(PolicyModel):
    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    reviewed: date | None = None


class IssuerKey(PolicyModel):
    kid: str | None = None
    public_key_pem: str = Field(min_length=1)

    @field_validator("public_key_pem")
    @classmethod
    def _pem(cls, value: str) -> str:
        if "PRIVATE KEY" in value:
            raise ValueError("a private key does not belong in the policy; give the public key")
        if "BEGIN PUBLIC KEY" not in value:
            raise ValueError("expected a PEM 'BEGIN PUBLIC KEY' block")
        try:
            key = load_pem_public_key(value.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise ValueError("the PEM block is not a readable public key") from exc
        if not isinstance(
            key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
        ):
            raise ValueError("only Ed25519, EC and RSA public keys are supported")
        return value


class Issuer(PolicyModel):
    name: str = Field(min_length=1)
    issuer: str = Field(min_length=1, description="the token's 'iss' claim")
    audience: str = Field(min_length=1, description="the 'aud' claim tokens must carry")
    algorithms: tuple[TokenAlgorithm, ...] = ("EdDSA",)
    keys: tuple[IssuerKey, ...] = Field(min_length=1)
    demo: StrictBool = False
    max_token_lifetime_seconds: StrictInt = Field(default=900, gt=0, le=MAX_TOKEN_LIFETIME_SECONDS)
    leeway_seconds: StrictInt = Field(default=30, ge=0, le=300)


class IdentityEntry(PolicyModel):
    subject: str = Field(min_length=1)
    kind: IdentityKind
    issuer: str = Field(min_length=1, description="name of the issuer that vouches for it")
    roles: tuple[str, ...] = ()
    approver: StrictBool = False
    description: str | None = None
    # Who it belongs to and where it is used: a service identity shared across teams,
    # vendors or environments breaks audit trails (checked by `qgov scan`).
    team: str | None = None
    vendors: tuple[str, ...] = ()
    environments: tuple[Environment, ...] = ()


class TimeWindow(PolicyModel):
    days: tuple[Weekday, ...] = WEEKDAYS
    start: time = time(0, 0)
    end: time = time(23, 59, 59)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_text(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 07:30 as a sexagesimal integer (450); undo that.
        if isinstance(value, int) and not isinstance(value, bool):
            return time(value // 60, value % 60) if value < 24 * 60 else value
        return value

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        if WEEKDAYS[local.weekday()] not in self.days:
            return False
        return self.start <= local.time().replace(tzinfo=None) <= self.end


class Role(PolicyModel):
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    purpose: str = Field(min_length=1)
    expires: datetime | date
    identity_kinds: tuple[IdentityKind, ...] = Field(min_length=1)
    environments: tuple[Environment, ...] = Field(min_length=1)
    backends: tuple[str, ...] = Field(min_length=1)
    max_shots: StrictInt = Field(gt=0)
    data_classes: tuple[DataClass, ...] | None = Field(
        default=None, description="purpose binding: only these data classes (None: the tier's)"
    )
    projects: tuple[str, ...] | None = None
    time_windows: tuple[TimeWindow, ...] | None = None
    can_export: StrictBool = False
    # Configuration rights (policies, quotas, backends): kept apart from submit and export.
    can_administer: StrictBool = False

    @field_validator("expires", mode="before")
    @classmethod
    def _plain_date(cls, value: object) -> object:
        # "2027-06-30" means the whole day, whether YAML or a quoted string delivered it.
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        return value


class TierRule(PolicyModel):
    data_classes: tuple[DataClass, ...] = Field(min_length=1)


class Quota(PolicyModel):
    period: Literal["total", "day", "month"] = "month"
    shots: StrictInt | None = Field(default=None, gt=0)
    cost_units: StrictInt | None = Field(default=None, gt=0)


class Burst(PolicyModel):
    max_jobs: StrictInt = Field(gt=0)
    window_seconds: StrictInt = Field(gt=0)


class BudgetAlert(PolicyModel):
    at_percent: StrictInt = Field(gt=0, le=100, description="of the period's quota")
    notify: str = Field(min_length=1)


class Project(PolicyModel):
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="named budget owner")
    tier: Tier
    environments: tuple[Environment, ...] = Field(min_length=1)
    quota: Quota
    burst: Burst | None = None
    budget_alert: BudgetAlert | None = None


# Where a backend runs. The local ones run offline here; the cloud services are named so a
# policy can govern them, but this build does not submit to them (needs network and credentials).
Provider = Literal[
    "aer", "ibm-runtime-local", "braket-local", "ibm-quantum", "amazon-braket", "azure-quantum"
]
LOCAL_PROVIDERS: frozenset[str] = frozenset({"aer", "ibm-runtime-local", "braket-local"})
BRAKET_LOCAL_DEVICES = ("braket_sv", "braket_dm")


class Backend(PolicyModel):
    name: str = Field(min_length=1)
    provider: Provider = "aer"
    device: str | None = Field(
        default=None,
        description="the provider's device: a fake backend class of qiskit_ibm_runtime."
        "fake_provider (e.g. FakeManilaV2) for ibm-runtime-local, braket_sv or braket_dm for "
        "braket-local, the service's device name or ARN for a cloud provider; none for aer",
    )
    simulator: Literal["aer"] = "aer"
    method: Literal[
        "automatic", "statevector", "density_matrix", "stabilizer", "matrix_product_state"
    ] = "automatic"
    regulated: StrictBool = False
    environments: tuple[Environment, ...] = Field(min_length=1)
    max_qubits: StrictInt = Field(default=24, gt=0, le=40)
    cost_units_per_job: StrictInt = Field(default=0, ge=0)
    cost_units_per_1000_shots: StrictInt = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _device(self) -> Backend:
        device = self.device
        if self.provider == "aer" and device is not None:
            raise FieldProblem("device", "an aer backend has no device; use 'method'")
        if self.provider == "ibm-runtime-local" and not (
            device is not None
            and device.startswith("Fake")
            and device.isascii()
            and device[4:].isalnum()
            and len(device) <= 44
        ):
            raise FieldProblem(
                "device",
                "ibm-runtime-local needs a fake backend class name such as FakeManilaV2",
            )
        if self.provider == "braket-local" and device not in (None, *BRAKET_LOCAL_DEVICES):
            raise FieldProblem("device", f"braket-local runs {' or '.join(BRAKET_LOCAL_DEVICES)}")
        return self


class Elevation(PolicyModel):
    max_hours: StrictInt = Field(default=8, gt=0, le=72)
    export_requires_approval: StrictBool = True
    # Every approval may be used once only (an approval can also ask for it on its own).
    single_use: StrictBool = False


class StrictAccessReviews(AccessReviews):
    """The governance section, with its numbers strict like the rest of the policy."""

    cadence_days: StrictInt = Field(default=90, gt=0, le=366)
    high_risk_cadence_days: StrictInt = Field(default=30, gt=0, le=366)


def _sha256_hex(value: str) -> str:
    value = value.lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError("must be 64 hexadecimal characters (a SHA-256 digest)")
    return value


class DatasetEntry(PolicyModel):
    """One registered dataset version: what it is, who owns it, where it may go."""

    id: str = Field(min_length=1, description="the name job specs give in dataset.name")
    version: str = Field(min_length=1)
    sha256: str
    classification: DataClass
    owner: str = Field(min_length=1)
    projects: tuple[str, ...] | None = Field(default=None, description="None: any project")
    tiers: tuple[Tier, ...] | None = Field(default=None, description="None: any tier")
    description: str | None = None

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        return _sha256_hex(value)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )

    @field_validator("id", "version")
    @classmethod
    def _names(cls, value: str) -> str:
        problem = text_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class Revocation(PolicyModel):
    """A credential or identity no longer trusted from ``revoked_at`` on (a date: from the
    start of that day, UTC). Exactly one of ``jti``, ``jti_sha256``, ``subject``, ``key_id``."""

    jti: str | None = Field(default=None, min_length=1)
    jti_sha256: str | None = Field(
        default=None, description="the token_jti_sha256 ledger events carry"
    )
    subject: str | None = Field(default=None, min_length=1)
    key_id: str | None = Field(default=None, min_length=1, description="an issuer key's kid")
    issuer: str | None = Field(default=None, description="issuer name; narrows jti and key_id")
    reason: str = Field(min_length=1, max_length=500)
    revoked_at: datetime | date

    @field_validator("jti_sha256")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        return None if value is None else _sha256_hex(value)

    @model_validator(mode="after")
    def _one_target(self) -> Revocation:
        targets = [self.jti, self.jti_sha256, self.subject, self.key_id]
        if sum(t is not None for t in targets) != 1:
            raise FieldProblem("", "name exactly one of jti, jti_sha256, subject or key_id")
        return self

    @property
    def effective(self) -> datetime:
        if isinstance(self.revoked_at, datetime):
            return as_utc(self.revoked_at)
        return datetime.combine(self.revoked_at, time.min, tzinfo=UTC)

    @property
    def target(self) -> str:
        """What is revoked, for messages (never the raw jti)."""
        if self.subject is not None:
            return f"identity {self.subject}"
        if self.key_id is not None:
            return f"issuer key {self.key_id}"
        return "token"


class DebugMode(PolicyModel):
    """Time-boxed debug logging; needs ``enabled``, an unexpired ``until`` and an approval."""

    enabled: StrictBool = False
    until: datetime | None = None
    approval: str | None = None


class LedgerSettings(PolicyModel):
    checkpoint_every: StrictInt = Field(default=16, ge=1, le=10_000)
    signing_key: str | None = Field(
        default=None,
        description="path of the Ed25519 private key (PEM); default: the user's key store "
        "$XDG_CONFIG_HOME/qgov/keys/<ledger-id>.pem, never the ledger folder",
    )
    public_key: str | None = Field(
        default=None,
        description="the trusted public key (PEM text, or a path) `qgov ledger verify` checks "
        "signatures against",
    )
    witness: str | None = Field(
        default=None,
        description="append-only JSON Lines file that receives every signed head "
        "(keep it outside the ledger folder)",
    )

    @field_validator("signing_key")
    @classmethod
    def _key_path(cls, value: str | None) -> str | None:
        if value is not None and "BEGIN" in value:
            raise ValueError("give the path of the key file; a private key does not belong here")
        return value

    @field_validator("public_key")
    @classmethod
    def _public_pem(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if "PRIVATE KEY" in value:
            raise ValueError("a private key does not belong in the policy; give the public key")
        if "BEGIN" in value:
            try:
                key = load_pem_public_key(value.encode("ascii"))
            except (ValueError, UnicodeEncodeError) as exc:
                raise ValueError("the PEM block is not a readable public key") from exc
            if not isinstance(key, ed25519.Ed25519PublicKey):
                raise ValueError("the ledger key is Ed25519")
        return value


class SyslogTarget(PolicyModel):
    host: str = Field(min_length=1)
    port: StrictInt = Field(gt=0, lt=65536)
    protocol: Literal["udp"] = "udp"
    app_name: str = "qgov"


class Siem(PolicyModel):
    syslog: SyslogTarget | None = None


class Execution(PolicyModel):
    default_seed: StrictInt = Field(default=1234, ge=0, lt=2**31)
    optimization_level: StrictInt = Field(default=1, ge=0, le=3)
