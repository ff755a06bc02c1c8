"""Policy sections for governance as a whole, shared by ``qgov scan`` and the governed job.

They sit in the same organisation policy file as roles and projects and are all optional, so
a policy written for the governed job alone stays valid:

- ``providers``: the quantum providers the organisation may use, the vendor profile each was
  assessed from, the tiers it is approved for and the regions it may run in;
- ``data_classes``: where each class of data may be processed (regions);
- ``environments``: which credentials (by reference, never a value) and which storage each
  environment uses, so sharing across dev/test/regulated shows;
- ``access_reviews``: the review cadence and the reviews that happened;
- ``exceptions``: the exceptions register (accepted risk with an owner, compensating
  controls and an expiry).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scanner.model import Tier

Environment = Literal["dev", "test", "regulated-pilot", "production"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProviderEntry(_Strict):
    name: str = Field(min_length=1, description="provider id, e.g. ibm-quantum, amazon-braket")
    owner: str | None = None
    vendor_profile: str | None = Field(
        default=None, description="the assessed vendor profile (path relative to the policy)"
    )
    approved_tiers: tuple[Tier, ...] = ()
    regions: tuple[str, ...] | None = Field(
        default=None, description="regions this provider may be used in; absent: any"
    )


class DataClassRule(_Strict):
    regions: tuple[str, ...] | None = Field(
        default=None, description="regions where data of this class may be processed"
    )


class EnvironmentEntry(_Strict):
    name: Environment
    credentials: tuple[str, ...] = Field(
        default=(), description="secret references (names, vault paths), never values"
    )
    storage: tuple[str, ...] = ()


class AccessReview(_Strict):
    date: date
    reviewer: str = Field(min_length=1)
    scope: str | None = Field(default=None, description="a project; absent: the whole policy")
    report_sha256: str | None = None


class AccessReviews(_Strict):
    cadence_days: int = Field(default=90, gt=0, le=366)
    # Regulated and production-critical projects (and high-risk pilots) are reviewed monthly.
    high_risk_cadence_days: int = Field(default=30, gt=0, le=366)
    records: tuple[AccessReview, ...] = ()


class ExceptionScope(_Strict):
    paths: tuple[str, ...] = Field(default=(), description="gitignore-style path patterns")
    resources: tuple[str, ...] = Field(default=(), description="e.g. aws_s3_bucket.results")
    rules: tuple[str, ...] = Field(default=(), description="rule ids, or prefixes ending in *")


class PolicyException(_Strict):
    id: str = Field(min_length=1)
    control: str = Field(min_length=1)
    scope: ExceptionScope = ExceptionScope()
    risk_owner: str | None = None
    reason: str | None = None
    compensating_controls: tuple[str, ...] = ()
    expires: date | None = None
    ticket: str | None = None


class ExceptionsFile(_Strict):
    """``.qgov-exceptions.yaml``: the register kept beside the code instead of the policy."""

    exceptions: tuple[PolicyException, ...] = ()
