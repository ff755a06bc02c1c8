"""The vendor requirement table: what a quantum vendor is asked, one ``Requirement`` per row.

Each row names the profile fields it reads, what counts as met, how severe a gap is at each
workload tier, the catalog controls it serves, the compensating controls a team can apply
when the vendor falls short, and the risk it leaves (the text of a risk-register entry). Its
``check`` (``scanner.vendors.checks``) reads the profile and says met, gap or not stated, in one
sentence. The rows come in eight families, each reported as one scan rule
(``scanner/rules/vendor.yaml``); the row model and the thresholds are in
``scanner.vendors.requirements``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from scanner.model import Severity, Tier
from scanner.vendors import checks
from scanner.vendors.profile import DataClass
from scanner.vendors.requirements import (
    NOTIFY_MAX_HOURS,
    RETENTION_MAX_DAYS,
    TOKEN_MAX_DAYS,
    Context,
    Requirement,
)

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


def _tiers(
    exploratory: str, internal: str, regulated: str, production: str
) -> dict[Tier, Severity]:
    return {
        Tier.EXPLORATORY: Severity(exploratory),
        Tier.INTERNAL_PILOT: Severity(internal),
        Tier.REGULATED_PILOT: Severity(regulated),
        Tier.PRODUCTION_CRITICAL: Severity(production),
    }


def _needs_personal(c: Context) -> bool:
    return DataClass.PERSONAL in c.data


def _needs_health(c: Context) -> bool:
    return DataClass.HEALTH in c.data


# --- the table ----------------------------------------------------------------------------------

# One scan rule per family: a family's rows are built with its rule and name filled in.
_identity = partial(Requirement, rule="QG-VND-001", family="Identity and access")
_automation = partial(Requirement, rule="QG-VND-002", family="Credentials for automation")
_restrictions = partial(Requirement, rule="QG-VND-003", family="Access restrictions")
_logging = partial(Requirement, rule="QG-VND-004", family="Audit logging")
_encryption = partial(Requirement, rule="QG-VND-005", family="Encryption")
_data = partial(Requirement, rule="QG-VND-006", family="Data handling")
_contracts = partial(Requirement, rule="QG-VND-007", family="Contract terms")
_assurance = partial(Requirement, rule="QG-VND-008", family="Independent assurance")

REQUIREMENTS: tuple[Requirement, ...] = (
    _identity(
        id="sso", title="SSO (SAML/OIDC)",
        question="Can people sign in through our identity provider with SAML or OIDC?",
        fields=("identity.saml_sso", "identity.oidc_sso"),
        met_when="either SAML or OIDC single sign-on is supported",
        severity=_tiers("low", "medium", "high", "high"), controls=("VND-02", "IAM-02"),
        compensating=(RESTRICTED, LEAVERS, SEPARATE),
        gap_title="no single sign-on",
        risk="Vendor accounts live outside the joiner/leaver process and our MFA and "
        "conditional-access policies; a leaver can keep working access.",
        check=checks.sso,
    ),
    _identity(
        id="offboarding", title="De-provisioning (SCIM)",
        question="Are accounts provisioned and removed automatically (SCIM), and do a removed "
        "user's API tokens stop working?",
        fields=("identity.scim_provisioning", "identity.offboarding_revokes_tokens"),
        met_when="SCIM provisioning and token revocation on removal are both supported",
        severity=_tiers("info", "low", "medium", "high"), controls=("VND-02", "IAM-07"),
        compensating=(LEAVERS, ROTATION, RESTRICTED),
        gap_title="no automatic de-provisioning",
        risk="Access and tokens can outlive a person's role; removals depend on someone "
        "remembering the vendor.",
        check=checks.offboarding,
    ),
    _identity(
        id="mfa", title="MFA enforced",
        question="Can MFA be required for every sign-in (by the vendor or through SSO)?",
        fields=("identity.mfa_enforced",),
        met_when="MFA can be enforced for every human sign-in",
        severity=_tiers("medium", "high", "high", "high"), controls=("IAM-02",),
        compensating=(RESTRICTED, SEPARATE, MASKING),
        gap_title="MFA cannot be enforced",
        risk="A phished or reused password opens the console: circuits, results and paid QPU "
        "time are exposed.",
        check=checks.mfa,
    ),
    _identity(
        id="conditional_access", title="Conditional access",
        question="Can access be limited by network, device or location?",
        fields=("identity.conditional_access",),
        met_when="conditional-access rules are supported (by the vendor or through SSO)",
        severity=_tiers("info", "low", "medium", "medium"), controls=("IAM-02",),
        compensating=(EGRESS, RESTRICTED),
        gap_title="no conditional access",
        risk="Stolen credentials work from any network or device.",
        check=checks.conditional,
    ),
    _automation(
        id="workload_identity", title="Workload identity federation",
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
        check=checks.workload_identity,
    ),
    _automation(
        id="api_tokens", title="Token lifetime and scope",
        question=f"Do API tokens expire within {TOKEN_MAX_DAYS} days, and can they be scoped to "
        "projects, backends or actions?",
        fields=("access.api_tokens.max_lifetime_days", "access.api_tokens.scoped"),
        met_when=f"tokens expire within {TOKEN_MAX_DAYS} days and can be scoped",
        severity=_tiers("low", "medium", "high", "high"), controls=("IAM-03", "IAM-04"),
        compensating=(ROTATION, RESTRICTED, SEPARATE),
        gap_title="long-lived or unscoped API tokens",
        risk="A leaked token stays valid for a long time and reaches every project and "
        "backend of the account.",
        check=checks.api_tokens,
    ),
    _restrictions(
        id="approvals", title="Approval workflows",
        question="Can jobs on chosen backends or projects require an approval before they run?",
        fields=("access.approval_workflows",),
        met_when="the vendor supports an approval step for job submission",
        severity=_tiers("info", "low", "medium", "high"), controls=("IAM-06", "IAM-05"),
        compensating=(APPROVALS, RESTRICTED),
        gap_title="no approval workflow",
        risk="Anyone with access can run jobs on premium or production backends without a "
        "second person agreeing.",
        check=checks.approvals,
    ),
    _restrictions(
        id="private_network", title="Private connectivity",
        question="Can the service be reached over a private endpoint, PrivateLink or peering?",
        fields=("network.private_connectivity",),
        met_when="private connectivity is offered",
        severity=_tiers("info", "low", "medium", "high"), controls=("NET-03",),
        compensating=(EGRESS, MASKING),
        gap_title="public endpoints only",
        risk="Job data and credentials cross the public internet, and the API is reachable "
        "from anywhere.",
        check=checks.private,
    ),
    _restrictions(
        id="ip_allowlist", title="IP allow-listing",
        question="Can API and console access be limited to listed addresses?",
        fields=("network.ip_allowlist",),
        met_when="IP allow-lists are supported",
        severity=_tiers("info", "low", "medium", "medium"), controls=("NET-03",),
        compensating=(EGRESS, ROTATION),
        gap_title="no IP allow-listing",
        risk="A stolen token or password works from any address.",
        check=checks.allowlist,
    ),
    _logging(
        id="log_retention", title="Audit log retention",
        question="How long are audit logs kept?",
        fields=("logging.retention_days",),
        met_when="logs are kept at least 30 / 90 / 365 / 365 days (exploratory / internal-pilot "
        "/ regulated-pilot / production-critical)",
        severity=_tiers("info", "low", "medium", "high"), controls=("LOG-04",),
        compensating=(LOG_PULL, OWN_AUDIT),
        gap_title="audit logs kept too briefly",
        risk="Evidence of who ran what is gone before an audit or an investigation needs it.",
        check=checks.log_retention,
    ),
    _logging(
        id="log_export", title="Audit log export",
        question="Can audit logs be exported or streamed to our SIEM, and in which formats?",
        fields=("logging.export_formats",),
        met_when="at least one export format or stream is offered",
        severity=_tiers("low", "medium", "high", "high"), controls=("LOG-07", "LOG-01"),
        compensating=(OWN_AUDIT,),
        gap_title="audit logs cannot be exported",
        risk="Vendor-side activity cannot be correlated with our own logs or kept under our "
        "retention.",
        check=checks.log_export,
    ),
    _logging(
        id="log_fields", title="Audit metadata fields",
        question="Do audit events name the submitter, backend, timestamps and job id?",
        fields=("logging.audit_fields",),
        met_when="all four fields are exposed",
        severity=_tiers("low", "medium", "high", "high"), controls=("LOG-01", "PRV-01"),
        compensating=(OWN_AUDIT, APPROVALS),
        gap_title="audit events lack job metadata",
        risk="A job cannot be tied to the person, backend and time that ran it from the "
        "vendor's records alone.",
        check=checks.log_fields,
    ),
    _encryption(
        id="tls", title="Encryption in transit",
        question="Is all traffic encrypted in transit, with TLS 1.2 or later?",
        fields=("encryption.in_transit", "encryption.min_tls_version"),
        met_when="traffic is encrypted and nothing older than TLS 1.2 is accepted",
        severity=_tiers("high", "high", "high", "critical"), controls=("ENC-05",),
        compensating=(MASKING, SEPARATE),
        gap_title="weak or missing encryption in transit",
        risk="Circuits, data and tokens can be read or altered on the way to the vendor.",
        check=checks.tls,
    ),
    _encryption(
        id="at_rest", title="Encryption at rest",
        question="Are job inputs, results and metadata encrypted at rest?",
        fields=("encryption.at_rest",),
        met_when="everything the vendor stores is encrypted at rest",
        severity=_tiers("medium", "high", "high", "high"), controls=("ENC-01",),
        compensating=(CLIENT_SIDE, DELETE_AFTER, MASKING),
        gap_title="no encryption at rest",
        risk="A storage or backup compromise at the vendor exposes job data and results in "
        "the clear.",
        check=checks.at_rest,
    ),
    _encryption(
        id="cmk", title="Customer-managed keys",
        question="Can we hold the keys that protect our data at the vendor (customer-managed "
        "keys)?",
        fields=("encryption.customer_managed_keys",),
        met_when="customer-managed keys are supported",
        severity=_tiers("info", "low", "medium", "high"), controls=("ENC-02", "ENC-04"),
        compensating=(CLIENT_SIDE, DELETE_AFTER, MASKING),
        gap_title="no customer-managed keys",
        risk="We cannot revoke the vendor's access to stored data or prove key separation; "
        "vendor administrators can read it.",
        check=checks.cmk,
    ),
    _data(
        id="residency", title="Regions and residency",
        question="Which regions process and store job data, and can it be kept in chosen ones?",
        fields=("data.regions", "data.residency_pinning"),
        met_when="job data can be pinned to chosen regions",
        severity=_tiers("info", "low", "medium", "high"), controls=("VND-03",),
        compensating=(MASKING, SEPARATE),
        gap_title="no data residency guarantee",
        risk="Job data may be processed in countries our transfer assessments do not cover.",
        check=checks.residency,
    ),
    _data(
        id="tenant_isolation", title="Tenant isolation (QPU, queue)",
        question="Is QPU access isolated per customer, and is our place in the job queue "
        "hidden from others?",
        fields=("data.isolation.qpu_access", "data.isolation.job_queue"),
        met_when="QPU access is dedicated or per-tenant, and queues are per-tenant or opaque",
        severity=_tiers("low", "medium", "high", "high"), controls=("VND-01", "VND-03"),
        compensating=(MINIMISE, SEPARATE, MASKING),
        gap_title="weak tenant isolation",
        risk="Other customers may see our job metadata or reach shared resources that hold "
        "our jobs.",
        check=checks.isolation,
    ),
    _data(
        id="retention", title="Job/result retention",
        question=f"How long are jobs, results and job metadata kept (at most "
        f"{RETENTION_MAX_DAYS} days, or set by us)?",
        fields=("data.retention.jobs_days", "data.retention.results_days",
                "data.retention.metadata_days", "data.retention.customer_configurable"),
        met_when=f"each is kept at most {RETENTION_MAX_DAYS} days, or the customer sets "
        "retention",
        severity=_tiers("info", "low", "medium", "high"), controls=("DAT-05", "VND-03"),
        compensating=(DELETE_AFTER, MINIMISE, MASKING),
        gap_title="job data kept too long",
        risk="Circuits, results and metadata stay at the vendor long after we need them, "
        "widening what a breach there exposes.",
        check=checks.retention,
    ),
    _data(
        id="deletion", title="Deletion on request",
        question="Will the vendor delete our jobs, results and metadata on request?",
        fields=("data.deletion_on_request",),
        met_when="deletion on request is committed",
        severity=_tiers("info", "low", "high", "high"), controls=("DAT-05", "VND-03"),
        compensating=(DELETE_AFTER, CONTRACT, MASKING),
        gap_title="no deletion on request",
        risk="We cannot honour erasure requests or end-of-contract deletion for data sent to "
        "the vendor.",
        check=checks.deletion,
    ),
    _data(
        id="subprocessors", title="Subprocessor list",
        question="Is there a published list of subprocessors, including hardware partners?",
        fields=("data.subprocessors.list_published", "data.subprocessors.entries"),
        met_when="a maintained subprocessor list is published",
        severity=_tiers("info", "low", "medium", "high"), controls=("VND-03",),
        compensating=(CONTRACT, MASKING, SEPARATE),
        gap_title="subprocessors unknown",
        risk="Jobs may reach third parties (hardware operators, clouds) we have not assessed.",
        check=checks.subprocessors,
    ),
    _contracts(
        id="incident_notice", title="Incident notification",
        question=f"Within how many hours does the vendor notify us of an incident affecting "
        f"our data (at most {NOTIFY_MAX_HOURS})?",
        fields=("incident.notification_hours",),
        met_when=f"notification within {NOTIFY_MAX_HOURS} hours",
        severity=_tiers("info", "low", "medium", "high"), controls=("VND-04",),
        compensating=(IR_PLAN, CONTRACT),
        gap_title="slow or undefined incident notification",
        risk="We may learn of a breach too late to meet our own notification duties.",
        check=checks.incident,
    ),
    _contracts(
        id="gdpr_dpa", title="GDPR DPA",
        question="Will the vendor sign a GDPR data processing agreement?",
        fields=("certifications.gdpr_dpa.available",),
        met_when="a DPA is offered (needed where personal data may reach the vendor: "
        "regulated-pilot, production-critical, or --data personal/health)",
        severity=_tiers("high", "high", "high", "high"), controls=("VND-03",),
        compensating=(MASKING, CONTRACT),
        gap_title="no GDPR data processing agreement",
        risk="Sending personal data without a DPA breaks the processor terms GDPR requires.",
        check=checks.agreement("GDPR DPA", "certifications.gdpr_dpa.available"),
        needed=_needs_personal,
        not_needed="not needed: no personal data at this tier (--data personal requires it)",
    ),
    _contracts(
        id="hipaa_baa", title="HIPAA BAA",
        question="Will the vendor sign a HIPAA business associate agreement?",
        fields=("certifications.hipaa_baa.available",),
        met_when="a BAA is offered (needed only where health data may reach the vendor: "
        "--data health or intended_use.data)",
        severity=_tiers("high", "high", "high", "high"), controls=("VND-03",),
        compensating=(DEIDENTIFY, SEPARATE),
        gap_title="no HIPAA business associate agreement",
        risk="Sending PHI without a BAA is a HIPAA violation in itself.",
        check=checks.agreement("HIPAA BAA", "certifications.hipaa_baa.available"),
        needed=_needs_health,
        not_needed="not needed: no health data declared (--data health requires it)",
    ),
    _assurance(
        id="attestation", title="Current attestation (any)",
        question="Does the vendor hold at least one current independent attestation "
        "(ISO/IEC 27001 certificate or SOC 2 type II report)?",
        fields=("certifications.iso27001", "certifications.soc2_type2"),
        met_when="an unexpired ISO/IEC 27001 certificate or a SOC 2 type II report whose "
        "period ended in the last 12 months",
        severity=_tiers("low", "medium", "high", "high"), controls=("VND-01",),
        compensating=(EVIDENCE, MASKING, SEPARATE),
        gap_title="no current independent attestation",
        risk="Nothing independent backs the vendor's answers; their controls are taken on "
        "trust.",
        check=checks.attestation,
    ),
    _assurance(
        id="iso27001", title="ISO/IEC 27001",
        question="Is the vendor ISO/IEC 27001 certified, and until when?",
        fields=("certifications.iso27001.certified", "certifications.iso27001.expires"),
        met_when="certified, with an expiry date that has not passed",
        severity=_tiers("info", "low", "low", "medium"), controls=("VND-01",),
        compensating=(EVIDENCE,),
        gap_title="no current ISO/IEC 27001 certificate",
        risk="The vendor's security management system is not independently certified.",
        check=checks.iso_state,
    ),
    _assurance(
        id="soc2_type2", title="SOC 2 type II",
        question="Is there a SOC 2 type II report, and when did its period end?",
        fields=("certifications.soc2_type2.available", "certifications.soc2_type2.period_end"),
        met_when="a report whose period ended no more than 12 months ago",
        severity=_tiers("info", "low", "low", "medium"), controls=("VND-01",),
        compensating=(EVIDENCE,),
        gap_title="no current SOC 2 type II report",
        risk="No recent auditor's opinion on how the vendor's controls operated.",
        check=checks.soc2_state,
    ),
    _assurance(
        id="profile_current", title="Profile up to date",
        question="Were these answers collected in the last 12 months?",
        fields=("vendor.profile_date",),
        met_when="the profile date is within the last 12 months",
        severity=_tiers("info", "low", "medium", "medium"), controls=("VND-01", "VND-05"),
        compensating=(REASSESS,),
        gap_title="vendor profile out of date",
        risk="The assessment may describe controls the vendor has since changed or dropped.",
        check=checks.profile_age,
    ),
)

FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(r.family for r in REQUIREMENTS))
BY_ID: Mapping[str, Requirement] = {r.id: r for r in REQUIREMENTS}
RULE_IDS: frozenset[str] = frozenset(r.rule for r in REQUIREMENTS)
