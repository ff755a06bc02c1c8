"""The self-test in a copy of an organisation's world (``qgov job selftest --policy FILE``).

What decides stays the organisation's: identities, roles (owners, expiries, environments,
backends, shot limits, time windows, data classes, export rights), tiers, projects with their
quotas and burst alerts, backends, the dataset registry, elevation rules, revocations. What
the self-test cannot have, or must not touch, is swapped, as in a drill
(:mod:`scanner.governed.drills.world`):

- every issuer keeps its name, ``iss``, audience, algorithms, lifetime and demo flag, but each
  of its keys (same kids) gets the public half of a self-test key made in memory for it -- the
  organisation's private keys are never available;
- the SIEM target, when the policy has one, becomes a local UDP collector;
- the ledger's signing key, public key and witness are dropped (the evidence ledger is a new
  one, signed with a key in a temporary folder), and so are unsigned ``approvals`` records;
- ``data_roots`` point into the evidence folder, and the self-test's synthetic dataset is
  registered in the copy's registry (for any project), beside the organisation's entries.

Each check then asks the scenario where to run (see :class:`~.scenario.Scenario`): the seats
the policy offers are planned in :mod:`.org_plan`, and the case each check runs in -- or why it
fails or is not exercised -- is chosen in :mod:`.org_cases`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scanner.formats.yaml import DocumentError, read_yaml
from scanner.governed import world
from scanner.governed.approvals import Approval
from scanner.governed.errors import SpecError
from scanner.governed.policy import LoadedPolicy, OrgPolicy, load_policy
from scanner.governed.selftest.org_cases import OrgCases
from scanner.governed.selftest.org_plan import Planner, _signers, is_revoked, new_key
from scanner.governed.selftest.registry import expect
from scanner.governed.timeutil import utc_now
from scanner.governed.tokens import PrivateKey, mint_token, public_key_pem

DATASET_ID = "qgov-selftest-synthetic"


@dataclass(frozen=True)
class OrgPolicyFile:
    """The organisation's policy as validated (``loaded``) and as written (``raw``)."""

    loaded: LoadedPolicy
    raw: dict[str, Any]

    @property
    def policy(self) -> OrgPolicy:
        return self.loaded.policy


def read_org_policy(path: Path) -> OrgPolicyFile:
    loaded = load_policy(path)
    try:
        raw, _ = read_yaml(path, what="policy")
    except DocumentError as exc:  # load_policy read it a moment ago; only a race gets here
        raise SpecError(str(exc)) from exc
    return OrgPolicyFile(loaded, raw)


class OrgScenario(OrgCases):
    """The scenario in a copy of an organisation's world (see the module doc)."""

    dataset_name = DATASET_ID
    channel = "selftest"

    def __init__(self, out: Path, secrets: Path, org: OrgPolicyFile) -> None:
        self.org_file = org
        self.org = org.policy
        now = utc_now()
        self.signers = _signers(self.org, now)
        self.planner = Planner(self.org, self.signers, now)
        self._plan()
        main = self.main
        subject = main.subject if main else self.org.identities[0].subject
        entry = self.org.identity(subject)
        assert entry is not None
        issuer = self.org.issuer_by_name(entry.issuer)
        signer = self.signers.get(issuer.name)
        self.cast = world.Cast(
            issuer_name=issuer.name,
            issuer=issuer.issuer,
            audience=issuer.audience,
            kid=(signer.kid if signer else None) or "",
            requester=subject,
            approver=self.approver or subject,
            pipeline=self.other[0] if self.other else subject,
        )
        self.siem_configured = self.org.siem.syslog is not None
        self.witness_configured = self.org.ledger.witness is not None
        self.export_requires_approval = self.org.elevation.export_requires_approval
        super().__init__(out, secrets)
        if signer is not None:
            self.issuer_key = signer.key
            self.forger_key = new_key(signer.algorithm)

    # -- the plan ------------------------------------------------------------------------------

    def _plan(self) -> None:
        org, planner = self.org, self.planner
        self.main = planner.main()
        self.no_main = (
            "no identity of the policy may run a job right now on a local simulator backend "
            "(an unexpired role inside its time window, a project and a backend sharing an "
            "environment its issuer may be used in, synthetic data allowed)"
        )
        main = self.main
        self.approver = planner.approver(main.subject, main.environment) if main else None
        self.other = None
        if main is not None:
            for entry in sorted(
                org.identities, key=lambda i: ("workload", "service", "human").index(i.kind)
            ):
                if (
                    entry.subject != main.subject
                    and main.role not in entry.roles
                    and planner.usable(entry, main.environment)
                ):
                    self.other = (entry.subject, entry.kind)
                    break
        regulated = [b.name for b in org.backends if b.regulated]
        self.regulated = next((seat for seat, _ in planner.seats(regulated=True)), None)
        self.regulated_approver = None
        if not regulated:
            self.no_regulated = "the policy has no regulated backend"
        elif self.regulated is None:
            self.no_regulated = (
                f"no identity may run a job on {', '.join(regulated)} right now (an unexpired "
                "role that reaches it in an environment its issuer may be used in)"
            )
        else:
            seat = self.regulated
            self.regulated_approver = planner.approver(seat.subject, seat.environment)
            self.no_regulated_approver = (
                f"no human approver other than {seat.subject} whose token counts in "
                f"{seat.environment} (demo issuers never do there)"
            )

    def policy_info(self) -> dict[str, Any]:
        loaded = self.org_file.loaded
        copy_sha = self.ctx.require_policy().sha256
        seats = {
            "main": self.main.describe() if self.main else None,
            "approver": self.approver,
            "regulated": self.regulated.describe() if self.regulated else None,
            "regulated_approver": self.regulated_approver,
            "other_identity": self.other[0] if self.other else None,
        }
        return {
            "source": "organisation",
            **loaded.ref,
            "file": str(loaded.path),
            "copy": {"file": "policy.yaml", "sha256": copy_sha},
            "adaptations": [
                "issuer keys: each issuer's keys (same kids) replaced by a self-test key made in "
                "memory; the organisation's private keys are never used",
                "SIEM target: a local collector"
                if self.siem_configured
                else "SIEM: none configured in the policy",
                "ledger: a new evidence ledger with its own key; the policy's signing key, "
                "public key and witness are not used",
                "unsigned approvals records: dropped",
                f"datasets: {DATASET_ID} (synthetic) registered beside the policy's entries; "
                "data_roots point into the evidence folder",
            ],
            "seats": seats,
        }

    # -- the copy of the organisation's policy ---------------------------------------------------

    def base_policy(self) -> dict[str, Any]:
        policy = copy.deepcopy(self.org_file.raw)
        for issuer in policy.get("issuers", []):
            signer = self.signers.get(issuer.get("name"))
            if signer is not None:
                public = public_key_pem(signer.key)
                issuer["keys"] = [
                    {"kid": key.get("kid"), "public_key_pem": public} for key in issuer["keys"]
                ]
        if self.siem_configured:
            port = self.collector.getsockname()[1]
            policy["siem"] = {"syslog": {"host": "127.0.0.1", "port": port, "protocol": "udp"}}
        else:
            policy.pop("siem", None)
        policy.pop("approvals", None)
        settings = policy.get("ledger") or {}
        policy["ledger"] = {k: v for k, v in settings.items() if k == "checkpoint_every"}
        policy["data_roots"] = ["datasets"]
        policy["datasets"] = [
            *(policy.get("datasets") or []),
            {
                "id": DATASET_ID,
                "version": "1",
                "sha256": self.dataset_sha256,
                "classification": "synthetic",
                "owner": "qgov job selftest",
                "description": "the self-test's synthetic rows",
            },
        ]
        return policy

    def base_job(self, name: str) -> dict[str, Any]:
        seat = self.main
        first = self.org
        job = {
            "apiVersion": "qgov/v1",
            "kind": "QuantumJob",
            "name": name,
            "project": seat.project if seat else first.projects[0].name,
            "environment": seat.environment if seat else first.roles[0].environments[0],
            "backend": seat.backend if seat else first.backends[0].name,
            "role": seat.role if seat else first.roles[0].name,
            "circuit": {"path": "bell.qasm"},
            "shots": seat.shots if seat else 1,
            "seed": 11,
            "dataset": {
                "name": DATASET_ID,
                "version": "1",
                "path": self.dataset_ref,
                "sha256": self.dataset_sha256,
                "classification": "synthetic",
            },
        }
        return job

    def _approvals(self) -> list[Approval]:
        seat = self.main
        window = {
            "start": self.started - timedelta(minutes=5),
            "end": self.started + timedelta(hours=1),
        }
        return [
            world.approval(
                "APR-EXPORT-OK",
                "export",
                requester=seat.subject if seat else "requester@selftest.invalid",
                approver=self.approver or "approver@selftest.invalid",
                project=seat.project if seat else None,
                reason="self-test: an unsigned record in the approver's name",
                **window,
            )
        ]

    def token(
        self,
        subject: str | None = None,
        kind: str | None = None,
        *,
        key: PrivateKey | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        issued: datetime | None = None,
        ttl: int | None = None,
        kid: str | None = None,
        jti: str | None = None,
    ) -> str:
        """A token for any identity of the policy, from its own issuer (the self-test key)."""
        subject = subject or self.cast.requester
        entry = self.org.identity(subject)
        if entry is None:
            raise SpecError(f"self-test: {subject!r} is not an identity of the policy")
        source = self.org.issuer_by_name(entry.issuer)
        signer = self.signers.get(source.name)
        if signer is None:
            raise SpecError(f"self-test: cannot sign for issuer {source.name}")
        value = mint_token(
            key or signer.key,
            issuer=issuer or source.issuer,
            audience=audience or source.audience,
            subject=subject,
            kind=kind or entry.kind,
            now=issued or self.clock(),
            ttl_seconds=ttl if ttl is not None else min(300, source.max_token_lifetime_seconds),
            kid=kid or signer.kid,
            extra_claims={"jti": jti} if jti else None,
        )
        self.minted.append(value)
        return value

    # -- the organisation's own revocations -------------------------------------------------------

    def org_revocations(self) -> str:
        """The organisation's own revocations in force, each tried: a token it covers must be
        refused with its code and the organisation's reason."""
        now = utc_now()
        tried = []
        for n, entry in enumerate(r for r in self.org.revocations if r.effective <= now):
            if n >= 5:
                break
            token, code = self._revoked_token(entry)
            if token is None:
                continue
            outcome = self.run(f"org-revoked-{n + 1}", token=token)
            logged = [
                r
                for e in self.events_for(outcome)
                if e["type"] == "job.decision"
                for r in e["data"]["reasons"]
            ]
            expect(
                outcome.status == "refused"
                and any(r["code"] == code and entry.reason in r["message"] for r in logged),
                f"the policy's revocation of {entry.target} did not refuse a request with "
                f"{code} and its reason: {outcome.decision.codes}",
            )
            tried.append(f"{entry.target} ({code})")
        if not tried:
            return ""
        return "the policy's own revocations in force refused: " + ", ".join(tried)

    def _revoked_token(self, entry: Any) -> tuple[str | None, str]:
        org = self.org
        if entry.subject is not None:
            identity = org.identity(entry.subject)
            if identity is None or identity.issuer not in self.signers:
                return None, ""
            return self.token(entry.subject), "IDENTITY_REVOKED"
        if entry.key_id is not None:
            for identity in org.identities:
                issuer = org.issuer_by_name(identity.issuer)
                if entry.issuer not in (None, issuer.name) or issuer.name not in self.signers:
                    continue
                if any(k.kid == entry.key_id for k in issuer.keys) and not is_revoked(
                    org, identity, utc_now()
                ):
                    return self.token(identity.subject, kid=entry.key_id), "ISSUER_KEY_REVOKED"
            return None, ""
        if entry.jti is not None and self.main is not None:
            return self.token(jti=entry.jti), "TOKEN_REVOKED"
        return None, ""  # a token known only by its hash cannot be minted again
