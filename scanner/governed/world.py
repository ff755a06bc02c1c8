"""A governed-job world under one folder: an issuer key, a policy, approvals, circuits, a
dataset and job specs, and the means to push jobs through the governed path.

``qgov job selftest`` builds its scenario on it, ``qgov job drill`` its copy of an
organisation's policy, and the tests theirs. A world is a subclass that brings its content --
the cast (issuer, requester, approver, pipeline), the circuits and dataset,
:meth:`World.base_policy` and :meth:`World.base_job` -- while this class writes the files,
mints tokens, grants approvals (:meth:`World.grant`, through ``qgov job approve``'s code) and
submits jobs. The policy stays a plain dict until :meth:`World.load`, so a test can edit it
first; its ``data_roots`` let the job specs in ``jobs/`` reach the world's dataset folder.
The issuer's private key never leaves memory.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.approvals import Approval, ElevatedAction
from scanner.governed.approve import ApproveOutcome, approve
from scanner.governed.canonical import sha256_hex
from scanner.governed.policy import LoadedPolicy, load_policy
from scanner.governed.runtime import Context, request_source
from scanner.governed.service import RunOutcome, run_job
from scanner.governed.timeutil import utc_now
from scanner.governed.tokens import PrivateKey, mint_token, public_key_pem


@dataclass(frozen=True)
class Cast:
    """Who is who in a world: its token issuer and the three identities every world has."""

    issuer_name: str  # the issuer's name in the policy
    issuer: str  # its 'iss' claim
    audience: str
    kid: str
    requester: str  # a human who submits jobs
    approver: str  # a human marked approver
    pipeline: str  # a workload identity


def policy_document(
    cast: Cast,
    issuer_key: PrivateKey,
    *,
    info: dict[str, Any],
    requester_roles: list[str],
    pipeline_roles: list[str] | None = None,
    issuer_options: Mapping[str, Any] | None = None,
    **sections: Any,
) -> dict[str, Any]:
    """A policy with the cast as its issuer and identities; ``sections`` add roles, tiers,
    projects, backends and any other section, in the order given."""
    pipeline: dict[str, Any] = {
        "subject": cast.pipeline,
        "kind": "workload",
        "issuer": cast.issuer_name,
    }
    if pipeline_roles is not None:
        pipeline["roles"] = pipeline_roles
    return {
        "policy": info,
        "issuers": [
            {
                "name": cast.issuer_name,
                "issuer": cast.issuer,
                "audience": cast.audience,
                **(issuer_options or {}),
                "keys": [{"kid": cast.kid, "public_key_pem": public_key_pem(issuer_key)}],
            }
        ],
        "identities": [
            {
                "subject": cast.requester,
                "kind": "human",
                "issuer": cast.issuer_name,
                "roles": requester_roles,
            },
            {
                "subject": cast.approver,
                "kind": "human",
                "issuer": cast.issuer_name,
                "approver": True,
            },
            pipeline,
        ],
        **sections,
    }


def project(
    name: str, tier: str, environments: list[str], *, owner: str, shots: int
) -> dict[str, Any]:
    """A project entry with a monthly shot quota."""
    return {
        "name": name,
        "owner": owner,
        "tier": tier,
        "environments": environments,
        "quota": {"period": "month", "shots": shots},
    }


def approval(
    approval_id: str,
    action: ElevatedAction,
    *,
    requester: str,
    approver: str,
    start: datetime,
    end: datetime,
    reason: str,
    **scope: Any,
) -> Approval:
    """An unsigned approval record, as a YAML approvals file holds them (what a forger writes;
    it never authorises anything, see :mod:`.approvals`)."""
    return Approval(
        id=approval_id,
        action=action,
        requester=requester,
        approver=approver,
        reason=reason,
        approved_at=start,
        expires_at=end,
        **scope,
    )


class World:
    cast: Cast  # a class attribute in most worlds; a drill sets it per instance
    circuits: ClassVar[Mapping[str, str]]  # file name under jobs/ -> OpenQASM text
    dataset_file: ClassVar[str]  # relative to the root
    dataset_text: ClassVar[str]
    ledger_file: ClassVar[str] = "ledger.jsonl"
    channel: ClassVar[str] = "tests"  # request source of the runs
    source_label: str | None = None  # a drill sets it per instance

    def __init__(self, root: Path, *, now: datetime | None = None) -> None:
        self.root = root
        self.now = now  # None: the real clock
        self.ledger = root / self.ledger_file
        # Ed25519 here; a world on an organisation's policy signs as its issuers accept.
        self.issuer_key: PrivateKey = ed25519.Ed25519PrivateKey.generate()
        self.approvals: list[Approval] = []
        self.minted: list[str] = []  # every token minted, so checks can look for leaks
        jobs = root / "jobs"
        jobs.mkdir(parents=True, exist_ok=True)
        for name, text in self.circuits.items():
            (jobs / name).write_text(text, encoding="utf-8")
        dataset = root / self.dataset_file
        dataset.parent.mkdir(parents=True, exist_ok=True)
        dataset.write_text(self.dataset_text, encoding="utf-8")
        self.policy: dict[str, Any] = self.base_policy()
        # Specs live in jobs/; the dataset's folder is the policy's allow-listed data root.
        self.policy.setdefault("data_roots", [Path(self.dataset_file).parent.as_posix()])
        # The world's dataset is registered as its base job declares it, so projects above
        # exploratory may use it; any other file a test writes stays unregistered.
        declared = self.base_job("job")["dataset"]
        self.policy.setdefault(
            "datasets",
            [
                {
                    "id": declared["name"],
                    "version": str(declared["version"]),
                    "sha256": self.dataset_sha256,
                    "classification": declared["classification"],
                    "owner": f"data-owner ({self.channel} world)",
                }
            ],
        )

    # -- content, from the subclass ---------------------------------------------------------

    def base_policy(self) -> dict[str, Any]:
        raise NotImplementedError

    def base_job(self, name: str) -> dict[str, Any]:
        """The job spec named ``name`` that :meth:`spec` starts from (its dataset:
        :attr:`dataset_ref`)."""
        raise NotImplementedError

    @property
    def dataset_ref(self) -> str:
        """The dataset's path as a job spec in ``jobs/`` names it."""
        return f"../{self.dataset_file}"

    @property
    def dataset_sha256(self) -> str:
        return sha256_hex(self.dataset_text)

    # -- mechanics --------------------------------------------------------------------------

    def clock(self) -> datetime:
        return self.now or utc_now()

    def edit(self, mutate: Callable[[dict[str, Any]], None]) -> None:
        policy = copy.deepcopy(self.policy)
        mutate(policy)
        self.policy = policy

    def write_policy(self) -> Path:
        path = self.root / "policy.yaml"
        path.write_text(yaml.safe_dump(self.policy, sort_keys=False), encoding="utf-8")
        return path

    def load(self) -> LoadedPolicy:
        return load_policy(self.write_policy())

    def write_approvals(self) -> Path:
        records = [a.model_dump(mode="json", exclude_none=True) for a in self.approvals]
        path = self.root / "approvals.yaml"
        path.write_text(yaml.safe_dump({"approvals": records}, sort_keys=False), encoding="utf-8")
        return path

    def token(
        self,
        subject: str | None = None,
        kind: str = "human",
        *,
        key: PrivateKey | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        issued: datetime | None = None,
        ttl: int = 300,
    ) -> str:
        value = mint_token(
            key or self.issuer_key,
            issuer=issuer or self.cast.issuer,
            audience=audience or self.cast.audience,
            subject=subject or self.cast.requester,
            kind=kind,
            now=issued or self.clock(),
            ttl_seconds=ttl,
            kid=self.cast.kid,
        )
        self.minted.append(value)
        return value

    def spec(self, name: str = "job", **overrides: Any) -> Path:
        """Write ``jobs/<name>.yaml``: :meth:`base_job` with ``overrides`` (``dataset``
        entries are merged into the dataset; ``job_name`` sets the job's name, which is
        otherwise ``name``)."""
        spec = self.base_job(name)
        dataset = overrides.pop("dataset", {})
        if "job_name" in overrides:
            spec["name"] = overrides.pop("job_name")
        spec.update(overrides)
        spec["dataset"].update(dataset)
        path = self.root / "jobs" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        return path

    def grant(
        self,
        name: str,
        action: ElevatedAction,
        *,
        approver: str | None = None,
        requester: str | None = None,
        token: str | None = None,
        valid_for: timedelta = timedelta(hours=1),
        single_use: bool = False,
        ctx: Context | None = None,
        **overrides: Any,
    ) -> ApproveOutcome:
        """Write ``jobs/<name>.yaml`` (as :meth:`spec`) and have the approver grant ``action``
        for it with their own token, the way ``qgov job approve`` does."""
        return approve(
            self.spec(name, **overrides),
            ctx or self.context(),
            token=self.token(approver or self.cast.approver) if token is None else token,
            action=action,
            requester=requester or self.cast.requester,
            reason_text=f"{self.channel}: approved {action} for {name}",
            valid_for=valid_for,
            single_use=single_use,
        )

    def context(self, **kwargs: Any) -> Context:
        """A context on the current policy (written and loaded now) unless one is given."""
        kwargs.setdefault("approvals", tuple(self.approvals))
        kwargs.setdefault("source", request_source(self.channel, self.source_label))
        return Context(
            policy=kwargs.pop("policy", None) or self.load(),
            ledger_path=kwargs.pop("ledger_path", self.ledger),
            clock=self.clock,
            **kwargs,
        )

    def run(
        self,
        name: str = "job",
        *,
        token: str | None = None,
        export: Path | None = None,
        debug: bool = False,
        ctx: Context | None = None,
        **overrides: Any,
    ) -> RunOutcome:
        """Submit ``jobs/<name>.yaml`` (see :meth:`spec`) with a fresh token unless one is
        given."""
        return run_job(
            self.spec(name, **overrides),
            ctx or self.context(),
            token=self.token() if token is None else token,
            export_path=export,
            debug=debug,
        )
