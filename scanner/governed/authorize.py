"""Authorization of a job against the org policy: role, environment, backend, time, size.

The submitter acts under one role (named in the job, or their only role). The role must be
assigned to them, unexpired, usable by their identity kind and allow the environment, backend,
project and shot count at this time of day; the project must allow the environment; the
backend must exist, allow the environment and fit the circuit. Every failed check becomes a
reason, so a refusal lists all of them at once. Regulated backends additionally need a valid
just-in-time approval (see :mod:`approvals`); that check reads the ledger, so the service runs
it under the ledger lock (:attr:`Authorization.needs_approval`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from scanner.governed.decision import Reason, reason
from scanner.governed.identity import VerifiedIdentity
from scanner.governed.policy import OrgPolicy
from scanner.governed.policy_sections import Backend, Project, Role
from scanner.governed.spec import JobSpec
from scanner.governed.timeutil import deadline, iso_z


@dataclass
class Authorization:
    role: Role | None = None
    project: Project | None = None
    backend: Backend | None = None
    reasons: list[Reason] = field(default_factory=list)
    approval_id: str | None = None
    needs_approval: bool = False  # a regulated backend: a 'run-regulated' approval is due


def select_role(
    identity: VerifiedIdentity, requested: str | None, policy: OrgPolicy
) -> tuple[Role | None, list[Reason]]:
    entry = policy.identity(identity.subject)
    assigned = entry.roles if entry else ()
    if requested is not None:
        if requested not in assigned:
            return None, [
                reason("ROLE_NOT_ASSIGNED", f"role {requested!r} is not assigned to the submitter")
            ]
        return policy.role(requested), []
    if not assigned:
        return None, [reason("ROLE_NOT_ASSIGNED", "the submitter holds no role")]
    if len(assigned) > 1:
        return None, [
            reason(
                "ROLE_AMBIGUOUS", f"the submitter holds {len(assigned)} roles; name one in 'role'"
            )
        ]
    return policy.role(assigned[0]), []


def authorize_job(
    spec: JobSpec,
    identity: VerifiedIdentity | None,
    policy: OrgPolicy,
    *,
    num_qubits: int,
    now: datetime,
) -> Authorization:
    auth = Authorization()
    auth.project = policy.project(spec.project)
    auth.backend = policy.backend(spec.backend)
    if auth.project is None:
        auth.reasons.append(
            reason("PROJECT_UNKNOWN", f"project {spec.project!r} is not in the policy")
        )
    elif spec.environment not in auth.project.environments:
        auth.reasons.append(
            reason(
                "PROJECT_ENVIRONMENT",
                f"project {spec.project} runs in {', '.join(auth.project.environments)}, "
                f"not {spec.environment}",
            )
        )
    if auth.backend is None:
        auth.reasons.append(
            reason("BACKEND_UNKNOWN", f"backend {spec.backend!r} is not in the policy")
        )
    else:
        if spec.environment not in auth.backend.environments:
            auth.reasons.append(
                reason(
                    "BACKEND_NOT_ALLOWED",
                    f"backend {spec.backend} is not available in {spec.environment}",
                )
            )
        if num_qubits > auth.backend.max_qubits:
            auth.reasons.append(
                reason(
                    "CIRCUIT_TOO_LARGE",
                    f"{num_qubits} qubits exceed backend {spec.backend}'s limit of "
                    f"{auth.backend.max_qubits}",
                )
            )
    if identity is None:
        return auth  # identity reasons are reported by the identity check
    role, problems = select_role(identity, spec.role, policy)
    auth.reasons.extend(problems)
    auth.role = role
    if role is not None:
        auth.reasons.extend(_role_checks(role, spec, identity, now))
    if auth.backend is not None and auth.backend.regulated:
        auth.approval_id = spec.approval
        auth.needs_approval = True
    return auth


def _role_checks(
    role: Role, spec: JobSpec, identity: VerifiedIdentity, now: datetime
) -> list[Reason]:
    reasons = []
    expiry = deadline(role.expires)
    if now >= expiry:
        reasons.append(reason("ROLE_EXPIRED", f"role {role.name} expired at {iso_z(expiry)}"))
    if identity.kind not in role.identity_kinds:
        reasons.append(
            reason(
                "ROLE_IDENTITY_KIND",
                f"role {role.name} is for {', '.join(role.identity_kinds)} identities, "
                f"not {identity.kind}",
            )
        )
    if spec.environment not in role.environments:
        reasons.append(
            reason(
                "ENVIRONMENT_NOT_ALLOWED",
                f"role {role.name} may use {', '.join(role.environments)}, not {spec.environment}",
            )
        )
    if spec.backend not in role.backends:
        reasons.append(
            reason("BACKEND_NOT_ALLOWED", f"role {role.name} may not use backend {spec.backend}")
        )
    if role.projects is not None and spec.project not in role.projects:
        reasons.append(
            reason("PROJECT_NOT_ALLOWED", f"role {role.name} is not granted project {spec.project}")
        )
    if spec.shots > role.max_shots:
        reasons.append(
            reason(
                "SHOTS_OVER_LIMIT",
                f"{spec.shots} shots exceed role {role.name}'s limit of {role.max_shots}",
            )
        )
    if role.time_windows is not None and not any(w.contains(now) for w in role.time_windows):
        reasons.append(
            reason("OUTSIDE_TIME_WINDOW", f"role {role.name} is not usable at {iso_z(now)}")
        )
    return reasons
