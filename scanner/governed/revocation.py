"""Revocation: the policy's ``revocations`` list, applied to a verified token.

A leaked token is revoked by its ``jti`` (or the ``token_jti_sha256`` every ledger event
carries, so an incident responder can revoke straight from the ledger without ever holding
the token); a compromised identity by its ``subject``; a compromised issuer key by its ``kid``
(``key_id``). Each entry has a reason and a moment from which it applies: requests from then
on are refused, and the refusal -- with the reason -- is the decision the ledger records.
Approvals granted by a revoked approver stop counting too (see :mod:`.approvals`).
"""

from __future__ import annotations

from datetime import datetime

from scanner.governed.canonical import sha256_hex
from scanner.governed.decision import Reason, reason
from scanner.governed.policy import OrgPolicy
from scanner.governed.policy_sections import Revocation
from scanner.governed.timeutil import iso_z


def matching(
    policy: OrgPolicy,
    *,
    issuer: str | None,
    subject: str | None,
    jti: str | None = None,
    jti_sha256: str | None = None,
    key_id: str | None = None,
    now: datetime,
) -> list[Revocation]:
    """The revocations in force at ``now`` that cover a credential with these attributes."""
    if jti is not None and jti_sha256 is None:
        jti_sha256 = sha256_hex(jti)
    found = []
    for entry in policy.revocations:
        if entry.effective > now:
            continue
        if entry.issuer is not None and entry.issuer != issuer:
            continue
        if (
            (entry.subject is not None and entry.subject == subject)
            or (entry.key_id is not None and entry.key_id == key_id)
            or (entry.jti is not None and entry.jti == jti)
            or (entry.jti_sha256 is not None and entry.jti_sha256 == jti_sha256)
        ):
            found.append(entry)
    return found


def describe(entry: Revocation) -> str:
    return f"{entry.target} revoked since {iso_z(entry.effective)}: {entry.reason}"


def revocation_reasons(
    policy: OrgPolicy,
    *,
    issuer: str | None,
    subject: str | None,
    jti: str | None = None,
    jti_sha256: str | None = None,
    key_id: str | None = None,
    now: datetime,
) -> list[Reason]:
    """One refusal reason per revocation that covers the credential."""
    codes = {"subject": "IDENTITY_REVOKED", "key": "ISSUER_KEY_REVOKED", "token": "TOKEN_REVOKED"}
    reasons = []
    for entry in matching(
        policy,
        issuer=issuer,
        subject=subject,
        jti=jti,
        jti_sha256=jti_sha256,
        key_id=key_id,
        now=now,
    ):
        kind = "subject" if entry.subject else "key" if entry.key_id else "token"
        reasons.append(reason(codes[kind], describe(entry)))
    return reasons
