"""How each row of the vendor requirement table reads a profile: its ``check`` functions.

A check takes the profile and the assessment's ``Context`` and says met, gap or not stated in
one sentence, with a short cell for a comparison and the fields that decided it. Yes/no
questions answered by a single field are built with ``flag``; the rest read several fields or
apply the thresholds of ``scanner.vendors.requirements``.
"""

from __future__ import annotations

from scanner.vendors.profile import REQUIRED_AUDIT_FIELDS, VendorProfile
from scanner.vendors.requirements import (
    LOG_MIN_DAYS,
    NOTIFY_MAX_HOURS,
    PROFILE_MAX_AGE_DAYS,
    RETENTION_MAX_DAYS,
    SOC2_MAX_AGE_DAYS,
    TOKEN_MAX_DAYS,
    Check,
    CheckFn,
    Context,
    Status,
)


def flag(field: str, met: str, gap: str, unknown: str, short: str = "") -> CheckFn:
    """A yes/no question answered by one profile field (``field``, a dotted path): met when
    it is true, a gap when it is false, not stated when the profile leaves it out."""

    def check(p: VendorProfile, _: Context) -> Check:
        value = _answer(p, field)
        if value is True:
            return Check(Status.MET, met, short or "yes", (field,))
        if value is False:
            return Check(Status.GAP, gap, "no", (field,))
        return Check(Status.NOT_STATED, unknown, "", (field,))

    return check


def _answer(p: VendorProfile, field: str) -> bool | None:
    value: object = p
    for name in field.split("."):
        value = getattr(value, name)
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(f"{field} is not a yes/no field of the vendor profile")


def sso(p: VendorProfile, _: Context) -> Check:
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


def offboarding(p: VendorProfile, _: Context) -> Check:
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


mfa = flag(
    "identity.mfa_enforced",
    "MFA can be required for every sign-in", "MFA cannot be enforced",
    "MFA enforcement is not stated",
)


conditional = flag(
    "identity.conditional_access",
    "access can be limited by network, device or location",
    "no conditional access (network, device or location rules)",
    "conditional access is not stated",
)


workload_identity = flag(
    "identity.workload_identity_federation",
    "CI and jobs can exchange a federated identity for short-lived credentials",
    "no workload identity federation: CI needs a stored, long-lived token",
    "workload identity federation is not stated",
)


def api_tokens(p: VendorProfile, _: Context) -> Check:
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


approvals = flag(
    "access.approval_workflows",
    "jobs on chosen backends or projects can require an approval",
    "no approval step before jobs run", "approval workflows are not stated",
)


private = flag(
    "network.private_connectivity",
    "reachable over private connectivity (private endpoint or peering)",
    "public endpoints only", "private connectivity is not stated",
)


allowlist = flag(
    "network.ip_allowlist",
    "API and console access can be limited to listed addresses",
    "no IP allow-listing", "IP allow-listing is not stated",
)


def log_retention(p: VendorProfile, c: Context) -> Check:
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


def log_export(p: VendorProfile, _: Context) -> Check:
    formats, field = p.logging.export_formats, "logging.export_formats"
    if formats is None:
        return Check(Status.NOT_STATED, "audit log export is not stated", "", (field,))
    if not formats:
        return Check(Status.GAP, "audit logs cannot be exported", "none", (field,))
    short = formats[0][:5] + (f"+{len(formats) - 1}" if len(formats) > 1 else "")
    return Check(Status.MET, f"audit logs export as {', '.join(formats)}", short, (field,))


def log_fields(p: VendorProfile, _: Context) -> Check:
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


def tls(p: VendorProfile, _: Context) -> Check:
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


at_rest = flag(
    "encryption.at_rest",
    "job data and results encrypted at rest", "job data or results stored unencrypted",
    "encryption at rest is not stated",
)


cmk = flag(
    "encryption.customer_managed_keys",
    "customer-managed keys supported", "no customer-managed keys: the vendor holds every key",
    "customer-managed keys are not stated",
)


def residency(p: VendorProfile, _: Context) -> Check:
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


def isolation(p: VendorProfile, _: Context) -> Check:
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


def retention(p: VendorProfile, _: Context) -> Check:
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


deletion = flag(
    "data.deletion_on_request",
    "jobs, results and metadata deleted on request",
    "customer data is not deleted on request", "deletion on request is not stated",
)


def subprocessors(p: VendorProfile, _: Context) -> Check:
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


def incident(p: VendorProfile, _: Context) -> Check:
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


def iso_state(p: VendorProfile, c: Context) -> Check:
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


def soc2_state(p: VendorProfile, c: Context) -> Check:
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


def attestation(p: VendorProfile, c: Context) -> Check:
    iso, soc = iso_state(p, c), soc2_state(p, c)
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


def agreement(kind: str, field: str) -> CheckFn:
    """Whether the vendor signs an agreement (a GDPR DPA, a HIPAA BAA): the yes/no ``field``."""
    return flag(
        field, f"the vendor signs a {kind}", f"the vendor does not sign a {kind}",
        f"whether the vendor signs a {kind} is not stated", "signs",
    )


def profile_age(p: VendorProfile, c: Context) -> Check:
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
