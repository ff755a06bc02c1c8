"""The organisation's governance policy for quantum jobs (YAML, validated with pydantic).

One file holds who may submit (issuers and identities), what they may do (roles with an owner,
purpose and expiry), where (environments, backends, time windows), with which data (tier ->
data classes), at what cost (project quotas and burst alerts), and how the audit trail is kept
(ledger checkpoints, SIEM forwarding, the time-boxed debug mode). Every cross-reference is
checked at load time, so a typo is a clear error naming the field instead of a silent refusal.

Three sections answer "who says so?" for what a job spec could otherwise only claim:
- ``datasets``: the dataset registry (id, version, SHA-256, classification, owner, allowed
  projects and tiers). Above the exploratory tier only registered datasets may enter, and the
  classification is the registry's (see :mod:`.datagate`).
- ``revocations``: tokens (by ``jti`` or its SHA-256), subjects and issuer keys that are no
  longer trusted from a given moment, each with a reason (see :mod:`.identity`).
- ``data_roots``: folders (relative to the policy file) that job spec paths may reach besides
  the spec's own folder (see :mod:`.spec`).
Numbers and switches are strict everywhere: ``max_shots: true`` is an error, not 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
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

from scanner.formats.yaml import DocumentError, load_yaml_model
from scanner.governance.sections import (
    AccessReviews,
    DataClassRule,
    Environment,
    EnvironmentEntry,
    PolicyException,
    ProviderEntry,
)
from scanner.governed.approvals import Approval
from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import FieldProblem, SpecError
from scanner.governed.scrub import text_problem
from scanner.governed.timeutil import as_utc
from scanner.model import Tier

DataClass = Literal["synthetic", "masked", "internal", "confidential", "regulated"]
IdentityKind = Literal["human", "workload", "service"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Only asymmetric algorithms: verifying a token must never need a shared (long-lived) secret.
TokenAlgorithm = Literal["EdDSA", "ES256", "ES384", "RS256", "PS256"]

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Demo issuers derive their key from a public seed, so they may never authorise these.
PROTECTED_ENVIRONMENTS: frozenset[str] = frozenset({"regulated-pilot", "production"})
MAX_TOKEN_LIFETIME_SECONDS = 3600


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PolicyInfo(_Strict):
    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    reviewed: date | None = None


class IssuerKey(_Strict):
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


class Issuer(_Strict):
    name: str = Field(min_length=1)
    issuer: str = Field(min_length=1, description="the token's 'iss' claim")
    audience: str = Field(min_length=1, description="the 'aud' claim tokens must carry")
    algorithms: tuple[TokenAlgorithm, ...] = ("EdDSA",)
    keys: tuple[IssuerKey, ...] = Field(min_length=1)
    demo: StrictBool = False
    max_token_lifetime_seconds: StrictInt = Field(default=900, gt=0, le=MAX_TOKEN_LIFETIME_SECONDS)
    leeway_seconds: StrictInt = Field(default=30, ge=0, le=300)


class IdentityEntry(_Strict):
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


class TimeWindow(_Strict):
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


class Role(_Strict):
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


class TierRule(_Strict):
    data_classes: tuple[DataClass, ...] = Field(min_length=1)


class Quota(_Strict):
    period: Literal["total", "day", "month"] = "month"
    shots: StrictInt | None = Field(default=None, gt=0)
    cost_units: StrictInt | None = Field(default=None, gt=0)


class Burst(_Strict):
    max_jobs: StrictInt = Field(gt=0)
    window_seconds: StrictInt = Field(gt=0)


class BudgetAlert(_Strict):
    at_percent: StrictInt = Field(gt=0, le=100, description="of the period's quota")
    notify: str = Field(min_length=1)


class Project(_Strict):
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


class Backend(_Strict):
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


class Elevation(_Strict):
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


class DatasetEntry(_Strict):
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


class Revocation(_Strict):
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


class DebugMode(_Strict):
    """Time-boxed debug logging; needs ``enabled``, an unexpired ``until`` and an approval."""

    enabled: StrictBool = False
    until: datetime | None = None
    approval: str | None = None


class LedgerSettings(_Strict):
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


class SyslogTarget(_Strict):
    host: str = Field(min_length=1)
    port: StrictInt = Field(gt=0, lt=65536)
    protocol: Literal["udp"] = "udp"
    app_name: str = "qgov"


class Siem(_Strict):
    syslog: SyslogTarget | None = None


class Execution(_Strict):
    default_seed: StrictInt = Field(default=1234, ge=0, lt=2**31)
    optimization_level: StrictInt = Field(default=1, ge=0, le=3)


class OrgPolicy(_Strict):
    policy: PolicyInfo
    issuers: tuple[Issuer, ...] = Field(min_length=1)
    identities: tuple[IdentityEntry, ...] = Field(min_length=1)
    roles: tuple[Role, ...] = Field(min_length=1)
    tiers: dict[Tier, TierRule]
    projects: tuple[Project, ...] = Field(min_length=1)
    backends: tuple[Backend, ...] = Field(min_length=1)
    elevation: Elevation = Elevation()
    approvals: tuple[Approval, ...] = ()
    debug: DebugMode = DebugMode()
    ledger: LedgerSettings = LedgerSettings()
    siem: Siem = Siem()
    execution: Execution = Execution()
    providers: tuple[ProviderEntry, ...] = ()
    data_classes: dict[DataClass, DataClassRule] = Field(default_factory=dict)
    environments: tuple[EnvironmentEntry, ...] = ()
    access_reviews: StrictAccessReviews = StrictAccessReviews()
    exceptions: tuple[PolicyException, ...] = ()
    datasets: tuple[DatasetEntry, ...] = ()
    revocations: tuple[Revocation, ...] = ()
    data_roots: tuple[str, ...] = Field(
        default=(), description="folders (relative to the policy) job spec paths may reach"
    )
    demo_default_identity: str | None = Field(
        default=None, description="subject `qgov job run` uses when no token is given"
    )

    @model_validator(mode="after")
    def _references(self) -> OrgPolicy:
        _unique("issuers", [i.name for i in self.issuers])
        _unique("identities", [i.subject for i in self.identities])
        _unique("roles", [r.name for r in self.roles])
        _unique("projects", [p.name for p in self.projects])
        _unique("backends", [b.name for b in self.backends])
        _unique("approvals", [a.id for a in self.approvals])
        _unique("providers", [p.name for p in self.providers])
        _unique("environments", [e.name for e in self.environments])
        _unique("exceptions", [e.id for e in self.exceptions])
        _unique("datasets", [f"{d.id}@{d.version}" for d in self.datasets])
        _unique("datasets (sha256)", [d.sha256 for d in self.datasets])
        issuers = {i.name for i in self.issuers}
        roles = {r.name for r in self.roles}
        projects = {p.name for p in self.projects}
        backends = {b.name for b in self.backends}
        for n, ident in enumerate(self.identities):
            if ident.issuer not in issuers:
                raise FieldProblem(f"identities.{n}.issuer", f"unknown issuer {ident.issuer!r}")
            for role_name in ident.roles:
                if role_name not in roles:
                    raise FieldProblem(f"identities.{n}.roles", f"unknown role {role_name!r}")
        for n, role in enumerate(self.roles):
            for backend in role.backends:
                if backend not in backends:
                    raise FieldProblem(f"roles.{n}.backends", f"unknown backend {backend!r}")
            for project_name in role.projects or ():
                if project_name not in projects:
                    raise FieldProblem(f"roles.{n}.projects", f"unknown project {project_name!r}")
        for n, project in enumerate(self.projects):
            if project.tier not in self.tiers:
                raise FieldProblem(
                    f"projects.{n}.tier", f"tier '{project.tier}' has no entry in tiers"
                )
        tiers = set(self.tiers)
        for n, registered in enumerate(self.datasets):
            for project_name in registered.projects or ():
                if project_name not in projects:
                    raise FieldProblem(
                        f"datasets.{n}.projects", f"unknown project {project_name!r}"
                    )
            for tier in registered.tiers or ():
                if tier not in tiers:
                    raise FieldProblem(f"datasets.{n}.tiers", f"tier '{tier}' is not in tiers")
        for n, revocation in enumerate(self.revocations):
            if revocation.issuer is not None and revocation.issuer not in issuers:
                raise FieldProblem(f"revocations.{n}.issuer", "unknown issuer")
        if self.demo_default_identity is not None:
            entry = self.identity(self.demo_default_identity)
            if entry is None:
                raise FieldProblem("demo_default_identity", "not a subject listed in identities")
            if not self.issuer_by_name(entry.issuer).demo:
                raise FieldProblem("demo_default_identity", "its issuer is not marked demo: true")
        if self.debug.enabled and (self.debug.until is None or self.debug.approval is None):
            raise FieldProblem("debug", "enabled debug mode needs both 'until' and 'approval'")
        return self

    def identity(self, subject: str) -> IdentityEntry | None:
        return next((i for i in self.identities if i.subject == subject), None)

    def issuer_by_name(self, name: str) -> Issuer:
        return next(i for i in self.issuers if i.name == name)

    def issuer_by_iss(self, iss: str) -> Issuer | None:
        return next((i for i in self.issuers if i.issuer == iss), None)

    def role(self, name: str) -> Role | None:
        return next((r for r in self.roles if r.name == name), None)

    def project(self, name: str) -> Project | None:
        return next((p for p in self.projects if p.name == name), None)

    def backend(self, name: str) -> Backend | None:
        return next((b for b in self.backends if b.name == name), None)

    @property
    def longest_token_lifetime_seconds(self) -> int:
        """How long any token this policy accepts can stay usable (lifetime plus leeway on
        both ends): how far back a token's earlier use must be looked for."""
        return max(i.max_token_lifetime_seconds + 2 * i.leeway_seconds for i in self.issuers)


def _unique(section: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FieldProblem(section, f"duplicate entry {name!r}")
        seen.add(name)


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy plus what identifies the exact text it came from."""

    policy: OrgPolicy
    path: Path
    sha256: str

    @property
    def data_roots(self) -> tuple[Path, ...]:
        """The policy's ``data_roots``, relative ones resolved against the policy's folder."""
        return tuple(self.path.parent / root for root in self.policy.data_roots)

    @property
    def ref(self) -> dict[str, str]:
        """The policy reference every ledger event and record carries."""
        info = self.policy.policy
        return {"id": info.id, "version": info.version, "sha256": self.sha256}


def load_policy(path: Path) -> LoadedPolicy:
    try:
        policy, raw = load_yaml_model(path, OrgPolicy, what="policy")
    except DocumentError as exc:
        raise SpecError(str(exc)) from exc
    return LoadedPolicy(policy=policy, path=path, sha256=sha256_hex(raw))
