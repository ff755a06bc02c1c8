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

This module holds ``OrgPolicy`` (the whole file: its cross-references and lookups) and
``load_policy``; each section's model is in :mod:`.policy_sections`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, model_validator

from scanner.formats.yaml import DocumentError, load_yaml_model
from scanner.governance.sections import (
    DataClassRule,
    EnvironmentEntry,
    PolicyException,
    ProviderEntry,
)
from scanner.governed.approvals import Approval
from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import FieldProblem, SpecError
from scanner.governed.policy_sections import (
    Backend,
    DataClass,
    DatasetEntry,
    DebugMode,
    Elevation,
    Execution,
    IdentityEntry,
    Issuer,
    LedgerSettings,
    PolicyInfo,
    PolicyModel,
    Project,
    Revocation,
    Role,
    Siem,
    StrictAccessReviews,
    TierRule,
)
from scanner.model import Tier


class OrgPolicy(PolicyModel):
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
