"""Where an organisation's policy lets the self-test run jobs right now.

The self-test cannot use the organisation's private keys, so each issuer it can mint for gets a
:class:`Signer`: a key made in memory for an algorithm the issuer accepts, and a kid no
revocation covers. The :class:`Planner` then finds the *seats*: identity, role, project,
backend and environment a synthetic-data job may use now -- an unexpired role inside its time
window, a project whose tier and the role admit synthetic data, a backend the role reaches, an
environment its issuer may be used in (a demo issuer never for regulated-pilot or production).
The *main seat* is the one an ordinary job runs in (:meth:`Planner.main`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from scanner.governed.policy import OrgPolicy
from scanner.governed.policy_sections import (
    LOCAL_PROVIDERS,
    PROTECTED_ENVIRONMENTS,
    Backend,
    IdentityEntry,
    Project,
    Role,
)
from scanner.governed.selftest.scenario import Seat
from scanner.governed.timeutil import deadline
from scanner.governed.tokens import PrivateKey

# Token algorithms the self-test can sign with, in order of preference.
_ALGORITHMS = ("EdDSA", "ES256", "ES384", "RS256")


def new_key(algorithm: str) -> PrivateKey:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ed25519.Ed25519PrivateKey.generate()


@dataclass(frozen=True)
class Signer:
    """The self-test's stand-in for one of the organisation's issuers."""

    key: PrivateKey
    kid: str | None  # a kid of the issuer's no revocation covers
    algorithm: str


def _signers(policy: OrgPolicy, now: datetime) -> dict[str, Signer]:
    """A signer per issuer the self-test can mint for: it accepts an algorithm the self-test
    signs with, and one of its kids is not revoked."""
    found = {}
    for issuer in policy.issuers:
        algorithm = next((a for a in _ALGORITHMS if a in issuer.algorithms), None)
        revoked = {
            r.key_id
            for r in policy.revocations
            if r.key_id is not None and r.effective <= now and r.issuer in (None, issuer.name)
        }
        kids = [k.kid for k in issuer.keys if k.kid is None or k.kid not in revoked]
        if algorithm is not None and kids:
            found[issuer.name] = Signer(new_key(algorithm), kids[0], algorithm)
    return found


def is_revoked(policy: OrgPolicy, entry: IdentityEntry, now: datetime) -> bool:
    return any(
        r.subject == entry.subject and r.effective <= now and r.issuer in (None, entry.issuer)
        for r in policy.revocations
    )


class Planner:
    """Where the organisation's policy lets jobs run right now (see the module doc)."""

    def __init__(self, policy: OrgPolicy, signers: dict[str, Signer], now: datetime) -> None:
        self.policy = policy
        self.signers = signers
        self.now = now

    def usable(self, entry: IdentityEntry, environment: str) -> bool:
        """Whether the self-test can present a token for ``entry`` in ``environment`` that
        only the job itself can refuse."""
        if entry.issuer not in self.signers or is_revoked(self.policy, entry, self.now):
            return False
        demo = self.policy.issuer_by_name(entry.issuer).demo
        return not (demo and environment in PROTECTED_ENVIRONMENTS)

    def role_usable(self, role: Role | None, entry: IdentityEntry) -> bool:
        now = self.now
        return (
            role is not None
            and now < deadline(role.expires)
            and entry.kind in role.identity_kinds
            and (role.time_windows is None or any(w.contains(now) for w in role.time_windows))
            and (role.data_classes is None or "synthetic" in role.data_classes)
        )

    def seats(
        self, *, regulated: bool | None = False, providers: frozenset[str] = LOCAL_PROVIDERS
    ) -> Iterator[tuple[Seat, Backend]]:
        """Every identity, role, project, backend and environment a synthetic-data job may
        use now, in policy order."""
        policy = self.policy
        for entry in policy.identities:
            for role_name in entry.roles:
                role = policy.role(role_name)
                if role is None or not self.role_usable(role, entry):
                    continue
                for project in policy.projects:
                    if role.projects is not None and project.name not in role.projects:
                        continue
                    if "synthetic" not in policy.tiers[project.tier].data_classes:
                        continue
                    for backend_name in role.backends:
                        backend = policy.backend(backend_name)
                        if backend is None or backend.provider not in providers:
                            continue
                        if regulated is not None and backend.regulated != regulated:
                            continue
                        if backend.max_qubits < 2:
                            continue  # the self-test's circuit is a Bell pair
                        for env in role.environments:
                            if env not in project.environments or env not in backend.environments:
                                continue
                            if not self.usable(entry, env):
                                continue
                            seat = Seat(
                                entry.subject,
                                entry.kind,
                                role.name,
                                project.name,
                                env,
                                backend.name,
                                _shots(role, project, backend),
                                can_export=role.can_export,
                            )
                            yield seat, backend

    def main(self) -> Seat | None:
        """The ordinary job's seat: a human if possible, who may export, on Aer, outside the
        protected environments -- never a stabilizer backend (the circuit is not Clifford)."""
        ranked = [
            (
                seat.kind != "human",
                not seat.can_export,
                backend.provider != "aer",
                seat.environment in PROTECTED_ENVIRONMENTS,
                n,
                seat,
            )
            for n, (seat, backend) in enumerate(self.seats())
            if backend.method != "stabilizer"
        ]
        return min(ranked)[-1] if ranked else None

    def approver(self, requester: str, environment: str) -> str | None:
        """A human marked approver, not the requester, whose token counts in ``environment``."""
        return next(
            (
                i.subject
                for i in self.policy.identities
                if i.approver
                and i.kind == "human"
                and i.subject != requester
                and self.usable(i, environment)
            ),
            None,
        )


def _shots(role: Role, project: Project, backend: Backend) -> int:
    """Shots per ordinary job: small enough that the self-test's few dozen jobs stay far
    below the project's quota."""
    shots = min(1024, role.max_shots)
    quota = project.quota
    if quota.shots is not None:
        shots = min(shots, max(1, quota.shots // 200))
    per_1000 = backend.cost_units_per_1000_shots
    if quota.cost_units is not None and per_1000:
        budget = quota.cost_units // 200 - backend.cost_units_per_job
        shots = min(shots, max(1, budget * 1000 // per_1000))
    return shots
