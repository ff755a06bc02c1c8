"""What a quantum vendor is asked, as a table: one ``Requirement`` per row.

Each row names the profile fields it reads, what counts as met, how severe a gap is at each
workload tier, the catalog controls it serves, the compensating controls a team can apply
when the vendor falls short, and the risk it leaves (the text of a risk-register entry). The
``check`` of a row reads the profile and says met, gap or not stated, in one sentence.

Thresholds (change them here, the README quotes them):
- API tokens expire within ``TOKEN_MAX_DAYS`` days;
- audit logs are kept at least ``LOG_MIN_DAYS[tier]`` days;
- jobs, results and job metadata are kept at most ``RETENTION_MAX_DAYS`` days, or the
  customer can shorten retention;
- incidents are notified within ``NOTIFY_MAX_HOURS`` hours;
- an ISO 27001 certificate is current until its expiry date; a SOC 2 type II report is
  current while its period ended no more than ``SOC2_MAX_AGE_DAYS`` days ago;
- a profile older than ``PROFILE_MAX_AGE_DAYS`` days is due for reassessment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from scanner.model import Severity, Tier
from scanner.vendors.profile import (
    REQUIRED_AUDIT_FIELDS,
    DataClass,
    VendorProfile,
)

TOKEN_MAX_DAYS = 90
LOG_MIN_DAYS: Mapping[Tier, int] = {
    Tier.EXPLORATORY: 30,
    Tier.INTERNAL_PILOT: 90,
    Tier.REGULATED_PILOT: 365,
    Tier.PRODUCTION_CRITICAL: 365,
}
RETENTION_MAX_DAYS = 90
NOTIFY_MAX_HOURS = 72
SOC2_MAX_AGE_DAYS = 365
PROFILE_MAX_AGE_DAYS = 365


class Status(StrEnum):
    MET = "met"
    GAP = "gap"
    NOT_STATED = "not-stated"
    NOT_NEEDED = "not-needed"  # the row does not apply to this tier and data


@dataclass(frozen=True)
class Context:
    """What an assessment is for: the workload tier, the day, and the data that may reach
    the vendor (regulated tiers always include personal data; health data implies it)."""

    tier: Tier
    today: date
    data: frozenset[DataClass] = frozenset()

    @classmethod
    def build(cls, tier: Tier, today: date, data: frozenset[DataClass] = frozenset()) -> Context:
        classes = set(data)
        if tier.regulated or DataClass.HEALTH in classes:
            classes.add(DataClass.PERSONAL)
        return cls(tier, today, frozenset(classes))


@dataclass(frozen=True)
class Check:
    status: Status
    detail: str  # one sentence on what the profile says
    short: str = ""  # at most 7 characters for a comparison cell: "400d", "24h", "SAML"
    fields: tuple[str, ...] = ()  # the fields that decided it; the first is where it points


CheckFn = Callable[[VendorProfile, Context], Check]


@dataclass(frozen=True)
class Requirement:
    id: str
    rule: str  # the scan rule (scanner/rules/vendor.yaml) a gap in this row is reported as
    family: str
    title: str  # the row label in a comparison
    question: str
    fields: tuple[str, ...]
    met_when: str
    severity: Mapping[Tier, Severity]  # of a gap, per tier
    controls: tuple[str, ...]
    compensating: tuple[str, ...]
    gap_title: str  # "no single sign-on" — the risk-register title after the vendor's name
    risk: str  # what the gap leaves exposed
    check: CheckFn
    # When the row applies at all (a BAA only where health data may reach the vendor), and
    # what to say when it does not.
    needed: Callable[[Context], bool] | None = None
    not_needed: str = ""

    def applies(self, context: Context) -> bool:
        return self.needed is None or self.needed(context)


def _tiers(
    exploratory: str, internal: str, regulated: str, production: str
) -> dict[Tier, Severity]:
    return {
        Tier.EXPLORATORY: Severity(exploratory),
        Tier.INTERNAL_PILOT: Severity(internal),
        Tier.REGULATED_PILOT: Severity(regulated),
        Tier.PRODUCTION_CRITICAL: Severity(production),
    }


# --- compensating controls (the guide's four, then specific ones) -------------------------------

MASKING = "Data masking: send only masked, tokenised or synthetic inputs to this vendor (DAT-03)"
APPROVALS = (
    "Job approvals: every submission to this vendor passes our own approval step "
    "(qgov job run with the org policy)"
)
RESTRICTED = (
    "Restricted project: one vendor project with a few named members, reviewed monthly (IAM-07)"
)
SEPARATE = (
    "Separate environment: use this vendor only from its own account and credentials, "
    "with no regulated data (GOV-02)"
)
ROTATION = (
    "Rotate vendor tokens at least every 30 days from a secret manager and revoke them "
    "when someone leaves (SEC-05)"
)
LEAVERS = "Put the vendor on the leaver checklist and reconcile its user list monthly"
EGRESS = "Reach the vendor only from managed egress: fixed runner addresses behind a logging proxy"
OWN_AUDIT = (
    "Record submissions, exports and downloads on our side (the governed-job ledger) and "
    "forward them to the SIEM"
)
LOG_PULL = "Pull the vendor's logs into our SIEM on a schedule shorter than its retention"
CLIENT_SIDE = (
    "Encrypt inputs and results on our side before they reach vendor storage; keep the keys "
    "in our KMS"
)
DELETE_AFTER = (
    "Delete jobs and results through the vendor's API once downloaded and keep a record of "
    "each deletion"
)
MINIMISE = "Keep identifying data out of circuits, parameters, job names and tags"
CONTRACT = "Get the missing term into the contract or an addendum before go-live"
IR_PLAN = (
    "Name the vendor and its contacts in our incident response plan and ask for notification "
    "terms at renewal"
)
EVIDENCE = (
    "Ask for current evidence (certificate, bridge letter or new report) before approval and "
    "diary its expiry"
)
REASSESS = "Collect a fresh profile from the vendor's trust centre or questionnaire and reassess"
DEIDENTIFY = (
    "De-identify health data (HIPAA safe harbour or expert determination) before it reaches "
    "the vendor, so no PHI is sent"
)


# --- checks -------------------------------------------------------------------------------------


def _yes(
    field: str, value: bool | None, met: str, gap: str, unknown: str, short: str = ""
) -> Check:
    if value is True:
        return Check(Status.MET, met, short or "yes", (field,))
    if value is False:
        return Check(Status.GAP, gap, "no", (field,))
    return Check(Status.NOT_STATED, unknown, "", (field,))


def _sso(p: VendorProfile, _: Context) -> Check:
    saml, oidc = p.identity.saml_sso, p.identity.oidc_sso
    fields = ("identity.saml_sso", "identity.oidc_sso")
    if saml or oidc:
        names = [n for n, v in (("SAML", saml), ("OIDC", oidc)) if v]
        short = "both" if len(names) == 2 else names[0]
        return Check(Status.MET, f"single sign-on through {' and '.join(names)}", short, fields)
    if saml is False and oidc is False:
        return Check(
            Status.GAP, "no SAML or OIDC single sign-on: vendor-local accounts only", "none", fields
        )
    missing = tuple(f for f, v in zip(fields, (saml, oidc), strict=True) if v is None)
    return Check(Status.NOT_STATED, "single sign-on (SAML or OIDC) is not stated", "", missing)


def _offboarding(p: VendorProfile, _: Context) -> Check:
    scim, revokes = p.identity.scim_provisioning, p.identity.offboarding_revokes_tokens
    fields = ("identity.scim_provisioning", "identity.offboarding_revokes_tokens")
    if scim and revokes:
        return Check(
            Status.MET, "SCIM provisioning, and a removed user's tokens stop working", "SCIM",
            fields,
        )
    problems = []
    if scim is False:
        problems.append("no SCIM provisioning")
    if revokes is False:
        problems.append("a removed user's API tokens keep working")
    if problems:
        bad = tuple(f for f, v in zip(fields, (scim, revokes), strict=True) if v is False)
        return Check(Status.GAP, "; ".join(problems), "no", bad)
    missing = tuple(f for f, v in zip(fields, (scim, revokes), strict=True) if v is None)
    what = " and ".join(
        t for t, v in (("SCIM provisioning", scim), ("token revocation on removal", revokes))
        if v is None
    )
    return Check(Status.NOT_STATED, f"{what} not stated", "", missing)


def _mfa(p: VendorProfile, _: Context) -> Check:
    return _yes(
        "identity.mfa_enforced", p.identity.mfa_enforced,
        "MFA can be required for every sign-in", "MFA cannot be enforced",
        "MFA enforcement is not stated",
    )


def _conditional(p: VendorProfile, _: Context) -> Check:
    return _yes(
        "identity.conditional_access", p.identity.conditional_access,
        "access can be limited by network, device or location",
        "no conditional access (network, device or location rules)",
        "conditional access is not stated",
    )


def _workload_identity(p: VendorProfile, _: Context) -> Check:
    return _yes(
        "identity.workload_identity_federation", p.identity.workload_identity_federation,
        "CI and jobs can exchange a federated identity for short-lived credentials",
        "no workload identity federation: CI needs a stored, long-lived token",
        "workload identity federation is not stated",
    )


def _api_tokens(p: VendorProfile, _: Context) -> Check:
    tokens = p.access.api_tokens
    life_field, scope_field = "access.api_tokens.max_lifetime_days", "access.api_tokens.scoped"
    life, scoped = tokens.max_lifetime_days, tokens.scoped
    problems: list[str] = []
    bad: list[str] = []
    if life == "never":
        problems.append("API tokens never expire")
        bad.append(life_field)
    elif isinstance(life, int) and life > TOKEN_MAX_DAYS:
        problems.append(f"API tokens live up to {life} days (more than {TOKEN_MAX_DAYS})")
        bad.append(life_field)
    if scoped is False:
        problems.append("tokens cannot be scoped to projects, backends or actions")
        bad.append(scope_field)
    short = "never" if life == "never" else (f"{life}d" if isinstance(life, int) else "")
    if problems:
        return Check(Status.GAP, "; ".join(problems), short or "no", tuple(bad))
    if isinstance(life, int) and scoped:
        return Check(
            Status.MET, f"tokens expire within {life} days and can be scoped", short,
            (life_field, scope_field),
        )
    missing = tuple(f for f, v in ((life_field, life), (scope_field, scoped)) if v is None)
    what = " and ".join(
        t for t, v in (("token lifetime", life), ("token scoping", scoped)) if v is None
    )
    return Check(Status.NOT_STATED, f"{what} not stated", short, missing)


def _approvals(p: VendorProfile, _: Context) -> Check:
    return _yes(
        "access.approval_workflows", p.access.approval_workflows,
        "jobs on chosen backends or projects can require an approval",
        "no approval step before jobs run", "approval workflows are not stated",
    )


def _private(p: VendorProfile, _: Context) -> Check:
    return _yes(
        "network.private_connectivity", p.network.private_connectivity,
        "reachable over private connectivity (private endpoint or peering)",
        "public endpoints only", "private connectivity is not stated",
    )


def _allowlist(p: VendorProfile, _: Context) -> Check:
    return _yes(
        "network.ip_allowlist", p.network.ip_allowlist,
        "API and console access can be limited to listed addresses",
        "no IP allow-listing", "IP allow-listing is not stated",
    )


def _log_retention(p: VendorProfile, c: Context) -> Check:
    days, field = p.logging.retention_days, "logging.retention_days"
    minimum = LOG_MIN_DAYS[c.tier]
    if days is None:
        return Check(Status.NOT_STATED, "audit log retention is not stated", "", (field,))
    if days >= minimum:
        return Check(Status.MET, f"audit logs kept {days} days", f"{days}d", (field,))
    return Check(
        Status.GAP, f"audit logs kept {days} days; the tier needs at least {minimum}",
        f"{days}d", (field,),
    )


def _log_export(p: VendorProfile, _: Context) -> Check:
    formats, field = p.logging.export_formats, "logging.export_formats"
    if formats is None:
        return Check(Status.NOT_STATED, "audit log export is not stated", "", (field,))
    if not formats:
        return Check(Status.GAP, "audit logs cannot be exported", "none", (field,))
    short = formats[0][:5] + (f"+{len(formats) - 1}" if len(formats) > 1 else "")
    return Check(Status.MET, f"audit logs export as {', '.join(formats)}", short, (field,))


def _log_fields(p: VendorProfile, _: Context) -> Check:
    fields, field = p.logging.audit_fields, "logging.audit_fields"
    if fields is None:
        return Check(Status.NOT_STATED, "the audit metadata exposed is not stated", "", (field,))
    missing = [f for f in REQUIRED_AUDIT_FIELDS if f not in fields]
    have = len(REQUIRED_AUDIT_FIELDS) - len(missing)
    short = f"{have}/{len(REQUIRED_AUDIT_FIELDS)}"
    if missing:
        return Check(
            Status.GAP, f"audit events do not name {', '.join(missing)}", short, (field,)
        )
    return Check(
        Status.MET, "audit events name the submitter, backend, timestamps and job id", short,
        (field,),
    )


def _tls(p: VendorProfile, _: Context) -> Check:
    enc = p.encryption
    fields = ("encryption.in_transit", "encryption.min_tls_version")
    version = enc.min_tls_version
    if enc.in_transit is False:
        return Check(Status.GAP, "traffic is not always encrypted in transit", "no", fields[:1])
    if version in ("1.0", "1.1"):
        return Check(
            Status.GAP, f"TLS {version} still accepted (1.2 or later needed)", f"TLS{version}",
            fields[1:],
        )
    if enc.in_transit is True:
        shown = f" (TLS {version} or later)" if version else ""
        return Check(
            Status.MET, f"encrypted in transit{shown}", f"TLS{version}" if version else "yes",
            fields,
        )
    return Check(Status.NOT_STATED, "encryption in transit is not stated", "", fields[:1])


def _at_rest(p: VendorProfile, _: Context) -> Check:
    return _yes(
        "encryption.at_rest", p.encryption.at_rest,
        "job data and results encrypted at rest", "job data or results stored unencrypted",
        "encryption at rest is not stated",
    )


def _cmk(p: VendorProfile, _: Context) -> Check:
    return _yes(
        "encryption.customer_managed_keys", p.encryption.customer_managed_keys,
        "customer-managed keys supported", "no customer-managed keys: the vendor holds every key",
        "customer-managed keys are not stated",
    )


def _residency(p: VendorProfile, _: Context) -> Check:
    data = p.data
    regions = data.regions
    listed = f" ({', '.join(regions)})" if regions else ""
    short = f"{len(regions)} reg" if regions else ""
    field = "data.residency_pinning"
    if data.residency_pinning is True:
        return Check(
            Status.MET, f"job data can be kept in chosen regions{listed}", short or "yes",
            (field, "data.regions"),
        )
    if data.residency_pinning is False:
        return Check(
            Status.GAP, f"job data cannot be pinned to a region{listed}", short or "no", (field,)
        )
    return Check(Status.NOT_STATED, f"data residency is not stated{listed}", short, (field,))


_ISOLATED_ACCESS = ("dedicated", "per-tenant")
_ISOLATED_QUEUE = ("per-tenant", "shared-opaque")


def _isolation(p: VendorProfile, _: Context) -> Check:
    access, queue = p.data.isolation.qpu_access, p.data.isolation.job_queue
    a_field, q_field = "data.isolation.qpu_access", "data.isolation.job_queue"
    problems, bad = [], []
    if access is not None and access not in _ISOLATED_ACCESS:
        problems.append("QPU access is shared across customers")
        bad.append(a_field)
    if queue is not None and queue not in _ISOLATED_QUEUE:
        problems.append("other customers can see queued job metadata")
        bad.append(q_field)
    if problems:
        return Check(Status.GAP, "; ".join(problems), "shared", tuple(bad))
    if access is not None and queue is not None:
        return Check(
            Status.MET, f"QPU access {access}, job queue {queue}",
            "dedic" if access == "dedicated" else "tenant", (a_field, q_field),
        )
    missing = tuple(f for f, v in ((a_field, access), (q_field, queue)) if v is None)
    what = " and ".join(
        t for t, v in (("QPU access isolation", access), ("job queue isolation", queue))
        if v is None
    )
    return Check(Status.NOT_STATED, f"{what} not stated", "", missing)


def _retention(p: VendorProfile, _: Context) -> Check:
    kept = p.data.retention
    answers = (
        ("jobs", "data.retention.jobs_days", kept.jobs_days),
        ("results", "data.retention.results_days", kept.results_days),
        ("job metadata", "data.retention.metadata_days", kept.metadata_days),
    )
    configurable = kept.customer_configurable
    stated = [(name, f, d) for name, f, d in answers if d is not None]
    longest = max((d for _n, _f, d in stated), default=None)
    short = f"{longest}d" if longest is not None else ""
    said = ", ".join(f"{name} {d} days" for name, _f, d in stated)
    if configurable:
        default = f" (default {said})" if said else ""
        return Check(
            Status.MET, f"retention can be set by the customer{default}", "config",
            ("data.retention.customer_configurable",),
        )
    too_long = [(name, f, d) for name, f, d in stated if d > RETENTION_MAX_DAYS]
    if too_long:
        fixed = "; not configurable" if configurable is False else ""
        return Check(
            Status.GAP,
            f"kept longer than {RETENTION_MAX_DAYS} days: "
            + ", ".join(f"{name} {d} days" for name, _f, d in too_long) + fixed,
            short, tuple(f for _n, f, _d in too_long),
        )
    missing = [(name, f) for name, f, d in answers if d is None]
    if missing:
        return Check(
            Status.NOT_STATED,
            f"retention of {', '.join(name for name, _f in missing)} is not stated",
            short, tuple(f for _n, f in missing),
        )
    return Check(Status.MET, f"kept at most {longest} days ({said})", short,
                 tuple(f for _n, f, _d in answers))


def _deletion(p: VendorProfile, _: Context) -> Check:
    return _yes(
        "data.deletion_on_request", p.data.deletion_on_request,
        "jobs, results and metadata deleted on request",
        "customer data is not deleted on request", "deletion on request is not stated",
    )


def _subprocessors(p: VendorProfile, _: Context) -> Check:
    subs = p.data.subprocessors
    entries = subs.entries or ()
    field = "data.subprocessors.list_published"
    count = f"{len(entries)}" if subs.entries is not None else ""
    unplaced = [e.name for e in entries if e.location is None]
    note = f"; {len(unplaced)} without a stated location" if unplaced else ""
    listed = f"{len(entries)} named in the profile" if subs.entries is not None else ""
    if subs.list_published is True:
        what = f"a published subprocessor list ({listed}{note})" if listed else (
            "a published subprocessor list"
        )
        return Check(Status.MET, what, count or "yes", (field,))
    if subs.list_published is False:
        return Check(
            Status.GAP, "no published subprocessor list" + (f" ({listed}{note})" if listed else ""),
            count or "no", (field,),
        )
    extra = f" ({listed}{note})" if listed else ""
    return Check(Status.NOT_STATED, f"a published subprocessor list is not stated{extra}", count,
                 (field,))


def _incident(p: VendorProfile, _: Context) -> Check:
    hours, field = p.incident.notification_hours, "incident.notification_hours"
    if hours is None:
        return Check(Status.NOT_STATED, "the incident-notification window is not stated", "",
                     (field,))
    if hours <= NOTIFY_MAX_HOURS:
        return Check(Status.MET, f"incidents notified within {hours} hours", f"{hours}h", (field,))
    return Check(
        Status.GAP, f"incidents notified within {hours} hours (more than {NOTIFY_MAX_HOURS})",
        f"{hours}h", (field,),
    )


def _iso_state(p: VendorProfile, c: Context) -> Check:
    iso = p.certifications.iso27001
    fields = ("certifications.iso27001.certified", "certifications.iso27001.expires")
    if iso.certified is False:
        return Check(Status.GAP, "not ISO/IEC 27001 certified", "no", fields[:1])
    if iso.certified is None:
        return Check(Status.NOT_STATED, "ISO/IEC 27001 certification is not stated", "",
                     fields[:1])
    if iso.expires is None:
        return Check(Status.NOT_STATED,
                     "ISO/IEC 27001 certified, but the expiry date is not stated", "no date",
                     fields[1:])
    if iso.expires < c.today:
        return Check(Status.GAP, f"ISO/IEC 27001 certificate expired on {iso.expires}",
                     f"{iso.expires:%Y-%m}", fields[1:])
    return Check(Status.MET, f"ISO/IEC 27001 certificate valid until {iso.expires}",
                 f"{iso.expires:%Y-%m}", fields[1:])


def _soc2_state(p: VendorProfile, c: Context) -> Check:
    soc = p.certifications.soc2_type2
    fields = ("certifications.soc2_type2.available", "certifications.soc2_type2.period_end")
    if soc.available is False:
        return Check(Status.GAP, "no SOC 2 type II report", "no", fields[:1])
    if soc.available is None:
        return Check(Status.NOT_STATED, "a SOC 2 type II report is not stated", "", fields[:1])
    end = soc.period_end
    if end is None:
        return Check(Status.NOT_STATED, "SOC 2 type II report held, but its period is not stated",
                     "no date", fields[1:])
    if end > c.today:
        return Check(Status.NOT_STATED,
                     f"SOC 2 type II period ends {end}, in the future: check the date",
                     f"{end:%Y-%m}", fields[1:])
    if (c.today - end).days > SOC2_MAX_AGE_DAYS:
        return Check(
            Status.GAP,
            f"SOC 2 type II report period ended {end}, more than 12 months ago",
            f"{end:%Y-%m}", fields[1:],
        )
    return Check(Status.MET, f"SOC 2 type II report for a period ending {end}", f"{end:%Y-%m}",
                 fields[1:])


def _attestation(p: VendorProfile, c: Context) -> Check:
    iso, soc = _iso_state(p, c), _soc2_state(p, c)
    current = [name for name, state in (("ISO/IEC 27001", iso), ("SOC 2 type II", soc))
               if state.status is Status.MET]
    fields = ("certifications.iso27001", "certifications.soc2_type2")
    if current:
        short = "ISO+SOC" if len(current) == 2 else ("ISO" if "ISO" in current[0] else "SOC2")
        return Check(Status.MET, f"current attestation: {' and '.join(current)}", short, fields)
    if iso.status is Status.GAP and soc.status is Status.GAP:
        return Check(Status.GAP, f"no current independent attestation ({iso.detail}; {soc.detail})",
                     "none", fields)
    return Check(
        Status.NOT_STATED,
        f"no current independent attestation is stated ({iso.detail}; {soc.detail})", "", fields,
    )


def _agreement(kind: str, field: str, get: Callable[[VendorProfile], bool | None]) -> CheckFn:
    def check(p: VendorProfile, _: Context) -> Check:
        return _yes(
            field, get(p), f"the vendor signs a {kind}", f"the vendor does not sign a {kind}",
            f"whether the vendor signs a {kind} is not stated", "signs",
        )

    return check


def _profile_age(p: VendorProfile, c: Context) -> Check:
    when, field = p.vendor.profile_date, "vendor.profile_date"
    if when is None:
        return Check(Status.NOT_STATED, "the profile does not say when it was collected", "",
                     (field,))
    if when > c.today:
        return Check(Status.NOT_STATED, f"the profile is dated {when}, in the future",
                     f"{when:%Y-%m}", (field,))
    age = (c.today - when).days
    if age > PROFILE_MAX_AGE_DAYS:
        return Check(Status.GAP, f"the profile is from {when}, {age} days old", f"{when:%Y-%m}",
                     (field,))
    return Check(Status.MET, f"profile collected {when}", f"{when:%Y-%m}", (field,))


def _needs_personal(c: Context) -> bool:
    return DataClass.PERSONAL in c.data


def _needs_health(c: Context) -> bool:
    return DataClass.HEALTH in c.data


# --- the table ----------------------------------------------------------------------------------

IDENTITY = "Identity and access"
AUTOMATION = "Credentials for automation"
RESTRICTIONS = "Access restrictions"
LOGGING = "Audit logging"
ENCRYPTION = "Encryption"
DATA = "Data handling"
CONTRACTS = "Contract terms"
ASSURANCE = "Independent assurance"

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        id="sso", rule="QG-VND-001", family=IDENTITY, title="SSO (SAML/OIDC)",
        question="Can people sign in through our identity provider with SAML or OIDC?",
        fields=("identity.saml_sso", "identity.oidc_sso"),
        met_when="either SAML or OIDC single sign-on is supported",
        severity=_tiers("low", "medium", "high", "high"),
        controls=("VND-02", "IAM-02"),
        compensating=(RESTRICTED, LEAVERS, SEPARATE),
        gap_title="no single sign-on",
        risk="Vendor accounts live outside the joiner/leaver process and our MFA and "
        "conditional-access policies; a leaver can keep working access.",
        check=_sso,
    ),
    Requirement(
        id="offboarding", rule="QG-VND-001", family=IDENTITY, title="De-provisioning (SCIM)",
        question="Are accounts provisioned and removed automatically (SCIM), and do a removed "
        "user's API tokens stop working?",
        fields=("identity.scim_provisioning", "identity.offboarding_revokes_tokens"),
        met_when="SCIM provisioning and token revocation on removal are both supported",
        severity=_tiers("info", "low", "medium", "high"),
        controls=("VND-02", "IAM-07"),
        compensating=(LEAVERS, ROTATION, RESTRICTED),
        gap_title="no automatic de-provisioning",
        risk="Access and tokens can outlive a person's role; removals depend on someone "
        "remembering the vendor.",
        check=_offboarding,
    ),
    Requirement(
        id="mfa", rule="QG-VND-001", family=IDENTITY, title="MFA enforced",
        question="Can MFA be required for every sign-in (by the vendor or through SSO)?",
        fields=("identity.mfa_enforced",),
        met_when="MFA can be enforced for every human sign-in",
        severity=_tiers("medium", "high", "high", "high"),
        controls=("IAM-02",),
        compensating=(RESTRICTED, SEPARATE, MASKING),
        gap_title="MFA cannot be enforced",
        risk="A phished or reused password opens the console: circuits, results and paid QPU "
        "time are exposed.",
        check=_mfa,
    ),
    Requirement(
        id="conditional_access", rule="QG-VND-001", family=IDENTITY, title="Conditional access",
        question="Can access be limited by network, device or location?",
        fields=("identity.conditional_access",),
        met_when="conditional-access rules are supported (by the vendor or through SSO)",
        severity=_tiers("info", "low", "medium", "medium"),
        controls=("IAM-02",),
        compensating=(EGRESS, RESTRICTED),
        gap_title="no conditional access",
        risk="Stolen credentials work from any network or device.",
        check=_conditional,
    ),
    Requirement(
        id="workload_identity", rule="QG-VND-002", family=AUTOMATION,
        title="Workload identity federation",
        question="Can CI and jobs authenticate with federated, short-lived credentials instead "
        "of a stored token?",
        fields=("identity.workload_identity_federation",),
        met_when="workload identity federation (OIDC token exchange) is supported",
        severity=_tiers("low", "medium", "high", "high"),
        controls=("VND-02", "IAM-03", "SEC-04", "CIC-05"),
        compensating=(ROTATION, APPROVALS, SEPARATE),
        gap_title="CI needs a long-lived token",
        risk="A long-lived token sits in CI secrets and developer machines; one leak gives "
        "lasting access to the vendor account.",
        check=_workload_identity,
    ),
    Requirement(
        id="api_tokens", rule="QG-VND-002", family=AUTOMATION, title="Token lifetime and scope",
        question=f"Do API tokens expire within {TOKEN_MAX_DAYS} days, and can they be scoped to "
        "projects, backends or actions?",
        fields=("access.api_tokens.max_lifetime_days", "access.api_tokens.scoped"),
        met_when=f"tokens expire within {TOKEN_MAX_DAYS} days and can be scoped",
        severity=_tiers("low", "medium", "high", "high"),
        controls=("IAM-03", "IAM-04"),
        compensating=(ROTATION, RESTRICTED, SEPARATE),
        gap_title="long-lived or unscoped API tokens",
        risk="A leaked token stays valid for a long time and reaches every project and "
        "backend of the account.",
        check=_api_tokens,
    ),
    Requirement(
        id="approvals", rule="QG-VND-003", family=RESTRICTIONS, title="Approval workflows",
        question="Can jobs on chosen backends or projects require an approval before they run?",
        fields=("access.approval_workflows",),
        met_when="the vendor supports an approval step for job submission",
        severity=_tiers("info", "low", "medium", "high"),
        controls=("IAM-06", "IAM-05"),
        compensating=(APPROVALS, RESTRICTED),
        gap_title="no approval workflow",
        risk="Anyone with access can run jobs on premium or production backends without a "
        "second person agreeing.",
        check=_approvals,
    ),
    Requirement(
        id="private_network", rule="QG-VND-003", family=RESTRICTIONS,
        title="Private connectivity",
        question="Can the service be reached over a private endpoint, PrivateLink or peering?",
        fields=("network.private_connectivity",),
        met_when="private connectivity is offered",
        severity=_tiers("info", "low", "medium", "high"),
        controls=("NET-03",),
        compensating=(EGRESS, MASKING),
        gap_title="public endpoints only",
        risk="Job data and credentials cross the public internet, and the API is reachable "
        "from anywhere.",
        check=_private,
    ),
    Requirement(
        id="ip_allowlist", rule="QG-VND-003", family=RESTRICTIONS, title="IP allow-listing",
        question="Can API and console access be limited to listed addresses?",
        fields=("network.ip_allowlist",),
        met_when="IP allow-lists are supported",
        severity=_tiers("info", "low", "medium", "medium"),
        controls=("NET-03",),
        compensating=(EGRESS, ROTATION),
        gap_title="no IP allow-listing",
        risk="A stolen token or password works from any address.",
        check=_allowlist,
    ),
    Requirement(
        id="log_retention", rule="QG-VND-004", family=LOGGING, title="Audit log retention",
        question="How long are audit logs kept?",
        fields=("logging.retention_days",),
        met_when="logs are kept at least 30 / 90 / 365 / 365 days (exploratory / internal-pilot "
        "/ regulated-pilot / production-critical)",
        severity=_tiers("info", "low", "medium", "high"),
        controls=("LOG-04",),
        compensating=(LOG_PULL, OWN_AUDIT),
        gap_title="audit logs kept too briefly",
        risk="Evidence of who ran what is gone before an audit or an investigation needs it.",
        check=_log_retention,
    ),
    Requirement(
        id="log_export", rule="QG-VND-004", family=LOGGING, title="Audit log export",
        question="Can audit logs be exported or streamed to our SIEM, and in which formats?",
        fields=("logging.export_formats",),
        met_when="at least one export format or stream is offered",
        severity=_tiers("low", "medium", "high", "high"),
        controls=("LOG-07", "LOG-01"),
        compensating=(OWN_AUDIT,),
        gap_title="audit logs cannot be exported",
        risk="Vendor-side activity cannot be correlated with our own logs or kept under our "
        "retention.",
        check=_log_export,
    ),
    Requirement(
        id="log_fields", rule="QG-VND-004", family=LOGGING, title="Audit metadata fields",
        question="Do audit events name the submitter, backend, timestamps and job id?",
        fields=("logging.audit_fields",),
        met_when="all four fields are exposed",
        severity=_tiers("low", "medium", "high", "high"),
        controls=("LOG-01", "PRV-01"),
        compensating=(OWN_AUDIT, APPROVALS),
        gap_title="audit events lack job metadata",
        risk="A job cannot be tied to the person, backend and time that ran it from the "
        "vendor's records alone.",
        check=_log_fields,
    ),
    Requirement(
        id="tls", rule="QG-VND-005", family=ENCRYPTION, title="Encryption in transit",
        question="Is all traffic encrypted in transit, with TLS 1.2 or later?",
        fields=("encryption.in_transit", "encryption.min_tls_version"),
        met_when="traffic is encrypted and nothing older than TLS 1.2 is accepted",
        severity=_tiers("high", "high", "high", "critical"),
        controls=("ENC-05",),
        compensating=(MASKING, SEPARATE),
        gap_title="weak or missing encryption in transit",
        risk="Circuits, data and tokens can be read or altered on the way to the vendor.",
        check=_tls,
    ),
    Requirement(
        id="at_rest", rule="QG-VND-005", family=ENCRYPTION, title="Encryption at rest",
        question="Are job inputs, results and metadata encrypted at rest?",
        fields=("encryption.at_rest",),
        met_when="everything the vendor stores is encrypted at rest",
        severity=_tiers("medium", "high", "high", "high"),
        controls=("ENC-01",),
        compensating=(CLIENT_SIDE, DELETE_AFTER, MASKING),
        gap_title="no encryption at rest",
        risk="A storage or backup compromise at the vendor exposes job data and results in "
        "the clear.",
        check=_at_rest,
    ),
    Requirement(
        id="cmk", rule="QG-VND-005", family=ENCRYPTION, title="Customer-managed keys",
        question="Can we hold the keys that protect our data at the vendor (customer-managed "
        "keys)?",
        fields=("encryption.customer_managed_keys",),
        met_when="customer-managed keys are supported",
        severity=_tiers("info", "low", "medium", "high"),
        controls=("ENC-02", "ENC-04"),
        compensating=(CLIENT_SIDE, DELETE_AFTER, MASKING),
        gap_title="no customer-managed keys",
        risk="We cannot revoke the vendor's access to stored data or prove key separation; "
        "vendor administrators can read it.",
        check=_cmk,
    ),
    Requirement(
        id="residency", rule="QG-VND-006", family=DATA, title="Regions and residency",
        question="Which regions process and store job data, and can it be kept in chosen ones?",
        fields=("data.regions", "data.residency_pinning"),
        met_when="job data can be pinned to chosen regions",
        severity=_tiers("info", "low", "medium", "high"),
        controls=("VND-03",),
        compensating=(MASKING, SEPARATE),
        gap_title="no data residency guarantee",
        risk="Job data may be processed in countries our transfer assessments do not cover.",
        check=_residency,
    ),
    Requirement(
        id="tenant_isolation", rule="QG-VND-006", family=DATA,
        title="Tenant isolation (QPU, queue)",
        question="Is QPU access isolated per customer, and is our place in the job queue "
        "hidden from others?",
        fields=("data.isolation.qpu_access", "data.isolation.job_queue"),
        met_when="QPU access is dedicated or per-tenant, and queues are per-tenant or opaque",
        severity=_tiers("low", "medium", "high", "high"),
        controls=("VND-01", "VND-03"),
        compensating=(MINIMISE, SEPARATE, MASKING),
        gap_title="weak tenant isolation",
        risk="Other customers may see our job metadata or reach shared resources that hold "
        "our jobs.",
        check=_isolation,
    ),
    Requirement(
        id="retention", rule="QG-VND-006", family=DATA, title="Job/result retention",
        question=f"How long are jobs, results and job metadata kept (at most "
        f"{RETENTION_MAX_DAYS} days, or set by us)?",
        fields=("data.retention.jobs_days", "data.retention.results_days",
                "data.retention.metadata_days", "data.retention.customer_configurable"),
        met_when=f"each is kept at most {RETENTION_MAX_DAYS} days, or the customer sets "
        "retention",
        severity=_tiers("info", "low", "medium", "high"),
        controls=("DAT-05", "VND-03"),
        compensating=(DELETE_AFTER, MINIMISE, MASKING),
        gap_title="job data kept too long",
        risk="Circuits, results and metadata stay at the vendor long after we need them, "
        "widening what a breach there exposes.",
        check=_retention,
    ),
    Requirement(
        id="deletion", rule="QG-VND-006", family=DATA, title="Deletion on request",
        question="Will the vendor delete our jobs, results and metadata on request?",
        fields=("data.deletion_on_request",),
        met_when="deletion on request is committed",
        severity=_tiers("info", "low", "high", "high"),
        controls=("DAT-05", "VND-03"),
        compensating=(DELETE_AFTER, CONTRACT, MASKING),
        gap_title="no deletion on request",
        risk="We cannot honour erasure requests or end-of-contract deletion for data sent to "
        "the vendor.",
        check=_deletion,
    ),
    Requirement(
        id="subprocessors", rule="QG-VND-006", family=DATA, title="Subprocessor list",
        question="Is there a published list of subprocessors, including hardware partners?",
        fields=("data.subprocessors.list_published", "data.subprocessors.entries"),
        met_when="a maintained subprocessor list is published",
        severity=_tiers("info", "low", "medium", "high"),
        controls=("VND-03",),
        compensating=(CONTRACT, MASKING, SEPARATE),
        gap_title="subprocessors unknown",
        risk="Jobs may reach third parties (hardware operators, clouds) we have not assessed.",
        check=_subprocessors,
    ),
    Requirement(
        id="incident_notice", rule="QG-VND-007", family=CONTRACTS,
        title="Incident notification",
        question=f"Within how many hours does the vendor notify us of an incident affecting "
        f"our data (at most {NOTIFY_MAX_HOURS})?",
        fields=("incident.notification_hours",),
        met_when=f"notification within {NOTIFY_MAX_HOURS} hours",
        severity=_tiers("info", "low", "medium", "high"),
        controls=("VND-04",),
        compensating=(IR_PLAN, CONTRACT),
        gap_title="slow or undefined incident notification",
        risk="We may learn of a breach too late to meet our own notification duties.",
        check=_incident,
    ),
    Requirement(
        id="gdpr_dpa", rule="QG-VND-007", family=CONTRACTS, title="GDPR DPA",
        question="Will the vendor sign a GDPR data processing agreement?",
        fields=("certifications.gdpr_dpa.available",),
        met_when="a DPA is offered (needed where personal data may reach the vendor: "
        "regulated-pilot, production-critical, or --data personal/health)",
        severity=_tiers("high", "high", "high", "high"),
        controls=("VND-03",),
        compensating=(MASKING, CONTRACT),
        gap_title="no GDPR data processing agreement",
        risk="Sending personal data without a DPA breaks the processor terms GDPR requires.",
        check=_agreement("GDPR DPA", "certifications.gdpr_dpa.available",
                         lambda p: p.certifications.gdpr_dpa.available),
        needed=_needs_personal,
        not_needed="not needed: no personal data at this tier (--data personal requires it)",
    ),
    Requirement(
        id="hipaa_baa", rule="QG-VND-007", family=CONTRACTS, title="HIPAA BAA",
        question="Will the vendor sign a HIPAA business associate agreement?",
        fields=("certifications.hipaa_baa.available",),
        met_when="a BAA is offered (needed only where health data may reach the vendor: "
        "--data health or intended_use.data)",
        severity=_tiers("high", "high", "high", "high"),
        controls=("VND-03",),
        compensating=(DEIDENTIFY, SEPARATE),
        gap_title="no HIPAA business associate agreement",
        risk="Sending PHI without a BAA is a HIPAA violation in itself.",
        check=_agreement("HIPAA BAA", "certifications.hipaa_baa.available",
                         lambda p: p.certifications.hipaa_baa.available),
        needed=_needs_health,
        not_needed="not needed: no health data declared (--data health requires it)",
    ),
    Requirement(
        id="attestation", rule="QG-VND-008", family=ASSURANCE,
        title="Current attestation (any)",
        question="Does the vendor hold at least one current independent attestation "
        "(ISO/IEC 27001 certificate or SOC 2 type II report)?",
        fields=("certifications.iso27001", "certifications.soc2_type2"),
        met_when="an unexpired ISO/IEC 27001 certificate or a SOC 2 type II report whose "
        "period ended in the last 12 months",
        severity=_tiers("low", "medium", "high", "high"),
        controls=("VND-01",),
        compensating=(EVIDENCE, MASKING, SEPARATE),
        gap_title="no current independent attestation",
        risk="Nothing independent backs the vendor's answers; their controls are taken on "
        "trust.",
        check=_attestation,
    ),
    Requirement(
        id="iso27001", rule="QG-VND-008", family=ASSURANCE, title="ISO/IEC 27001",
        question="Is the vendor ISO/IEC 27001 certified, and until when?",
        fields=("certifications.iso27001.certified", "certifications.iso27001.expires"),
        met_when="certified, with an expiry date that has not passed",
        severity=_tiers("info", "low", "low", "medium"),
        controls=("VND-01",),
        compensating=(EVIDENCE,),
        gap_title="no current ISO/IEC 27001 certificate",
        risk="The vendor's security management system is not independently certified.",
        check=_iso_state,
    ),
    Requirement(
        id="soc2_type2", rule="QG-VND-008", family=ASSURANCE, title="SOC 2 type II",
        question="Is there a SOC 2 type II report, and when did its period end?",
        fields=("certifications.soc2_type2.available", "certifications.soc2_type2.period_end"),
        met_when="a report whose period ended no more than 12 months ago",
        severity=_tiers("info", "low", "low", "medium"),
        controls=("VND-01",),
        compensating=(EVIDENCE,),
        gap_title="no current SOC 2 type II report",
        risk="No recent auditor's opinion on how the vendor's controls operated.",
        check=_soc2_state,
    ),
    Requirement(
        id="profile_current", rule="QG-VND-008", family=ASSURANCE, title="Profile up to date",
        question="Were these answers collected in the last 12 months?",
        fields=("vendor.profile_date",),
        met_when="the profile date is within the last 12 months",
        severity=_tiers("info", "low", "medium", "medium"),
        controls=("VND-01", "VND-05"),
        compensating=(REASSESS,),
        gap_title="vendor profile out of date",
        risk="The assessment may describe controls the vendor has since changed or dropped.",
        check=_profile_age,
    ),
)

FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(r.family for r in REQUIREMENTS))
BY_ID: Mapping[str, Requirement] = {r.id: r for r in REQUIREMENTS}
RULE_IDS: frozenset[str] = frozenset(r.rule for r in REQUIREMENTS)


def not_stated_severity(gap: Severity, tier: Tier) -> Severity:
    """How severe an unanswered question is: as severe as a gap at regulated-pilot and
    production-critical (an unevidenced control counts as missing there), one step lower at
    exploratory and internal-pilot (it may well be met; it needs asking)."""
    if tier.regulated:
        return gap
    lower = {
        Severity.CRITICAL: Severity.HIGH,
        Severity.HIGH: Severity.MEDIUM,
        Severity.MEDIUM: Severity.LOW,
        Severity.LOW: Severity.INFO,
        Severity.INFO: Severity.INFO,
    }
    return lower[gap]


REVIEW_AFTER_DAYS: Mapping[Severity, int] = {
    Severity.CRITICAL: 30,
    Severity.HIGH: 30,
    Severity.MEDIUM: 90,
    Severity.LOW: 180,
    Severity.INFO: 365,
}


def review_date(severity: Severity, today: date) -> date:
    return today + timedelta(days=REVIEW_AFTER_DAYS[severity])
