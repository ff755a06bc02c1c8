"""Verifying who submits a job: a signed, short-lived token checked against the policy.

The submitter is one of three kinds -- ``human``, ``workload`` or ``service`` -- and the kind
is bound twice: the token carries it (claim ``identity_kind``) and the policy lists each subject
with exactly one kind and the issuer that vouches for it. A mismatch is a refusal, so a
pipeline cannot borrow a researcher's identity or the other way round (IAM-01).

Signature, issuer and audience are checked by PyJWT; the time claims are checked here against
an injected clock so tests and the self-test can move time. Tokens must carry ``exp``, ``iat``
and ``jti`` and live no longer than the issuer's ``max_token_lifetime_seconds`` (IAM-03).
Only the token's SHA-256 leaves this module; the token text is never logged or stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from scanner.governed.canonical import sha256_hex
from scanner.governed.decision import Reason, reason
from scanner.governed.policy import PROTECTED_ENVIRONMENTS, Issuer, OrgPolicy
from scanner.governed.timeutil import iso_z
from scanner.governed.tokens import IDENTITY_KIND_CLAIM

REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti")


@dataclass(frozen=True)
class VerifiedIdentity:
    subject: str
    kind: str
    issuer_name: str
    issuer: str
    demo: bool
    issued_at: datetime
    expires_at: datetime
    token_id_sha256: str

    def actor(self) -> dict[str, Any]:
        """The ``actor`` block of ledger events: who, never the credential."""
        return {
            "subject": self.subject,
            "kind": self.kind,
            "issuer": self.issuer_name,
            "demo_issuer": self.demo,
            "token_jti_sha256": self.token_id_sha256,
            "token_expires_at": iso_z(self.expires_at),
        }


@dataclass
class IdentityCheck:
    identity: VerifiedIdentity | None
    reasons: list[Reason] = field(default_factory=list)
    token_sha256: str | None = None
    claimed_subject: str | None = None
    issuer_name: str | None = None

    @property
    def ok(self) -> bool:
        return self.identity is not None and not self.reasons

    def actor(self) -> dict[str, Any]:
        """The ``actor`` of ledger events: the verified identity, else what the token claimed."""
        if self.identity is not None:
            return self.identity.actor()
        return {
            "subject": self.claimed_subject,
            "verified": False,
            "issuer": self.issuer_name,
            "token_sha256": self.token_sha256,
        }


def verify_token(
    token: str | None, policy: OrgPolicy, *, environment: str, now: datetime
) -> IdentityCheck:
    if not token:
        return IdentityCheck(None, [reason("TOKEN_MISSING", "no identity token was presented")])
    token = token.strip()
    check = IdentityCheck(None, token_sha256=sha256_hex(token))
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        check.reasons.append(reason("TOKEN_MALFORMED", "the token is not a well-formed JWT"))
        return check
    iss = unverified.get("iss")
    issuer = policy.issuer_by_iss(iss) if isinstance(iss, str) else None
    if issuer is None:
        check.reasons.append(
            reason("TOKEN_UNKNOWN_ISSUER", "the token's issuer is not configured in the policy")
        )
        return check
    check.issuer_name = issuer.name
    alg = header.get("alg")
    if alg not in issuer.algorithms:
        check.reasons.append(
            reason("TOKEN_ALGORITHM", f"algorithm {alg!r} is not allowed for issuer {issuer.name}")
        )
        return check
    claims = _verify_signature(token, issuer, header.get("kid"), str(alg), check)
    if claims is None:
        return check
    check.claimed_subject = str(claims.get("sub"))
    _check_times(claims, issuer, now, check)
    if issuer.demo and environment in PROTECTED_ENVIRONMENTS:
        check.reasons.append(
            reason(
                "DEMO_ISSUER_NOT_ALLOWED",
                f"demo issuer {issuer.name} is refused for the {environment} environment",
            )
        )
    entry = policy.identity(check.claimed_subject)
    kind = claims.get(IDENTITY_KIND_CLAIM)
    if entry is None:
        check.reasons.append(reason("IDENTITY_UNKNOWN", "the subject is not listed in the policy"))
    else:
        if entry.issuer != issuer.name:
            check.reasons.append(
                reason("IDENTITY_ISSUER_MISMATCH", f"the subject is vouched for by {entry.issuer}")
            )
        if kind != entry.kind:
            check.reasons.append(
                reason(
                    "IDENTITY_KIND_MISMATCH",
                    f"token says identity kind {kind!r}, the policy registers {entry.kind!r}",
                )
            )
    if check.reasons or entry is None:
        return check
    check.identity = VerifiedIdentity(
        subject=entry.subject,
        kind=entry.kind,
        issuer_name=issuer.name,
        issuer=issuer.issuer,
        demo=issuer.demo,
        issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        token_id_sha256=sha256_hex(str(claims["jti"])),
    )
    return check


def _verify_signature(
    token: str, issuer: Issuer, kid: object, alg: str, check: IdentityCheck
) -> dict[str, Any] | None:
    keys = [k for k in issuer.keys if kid is None or k.kid is None or k.kid == kid]
    last_error: Reason | None = None
    for key in keys:
        try:
            public_key = load_pem_public_key(key.public_key_pem.encode("ascii"))
            claims: dict[str, Any] = jwt.decode(
                token,
                key=public_key,  # type: ignore[arg-type]
                algorithms=[alg],
                audience=issuer.audience,
                issuer=issuer.issuer,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,  # checked below against the injected clock
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            return claims
        except jwt.InvalidSignatureError:
            last_error = reason("TOKEN_BAD_SIGNATURE", "the token signature does not verify")
        except jwt.InvalidAudienceError:
            check.reasons.append(
                reason("TOKEN_WRONG_AUDIENCE", f"the token is not for audience {issuer.audience!r}")
            )
            return None
        except jwt.MissingRequiredClaimError as exc:
            check.reasons.append(
                reason("TOKEN_CLAIMS_MISSING", f"the token lacks the {exc.claim!r} claim")
            )
            return None
        except (jwt.InvalidKeyError, jwt.InvalidAlgorithmError, ValueError, TypeError):
            last_error = reason("TOKEN_ALGORITHM", "the token's algorithm does not fit the key")
        except jwt.PyJWTError:
            last_error = reason("TOKEN_MALFORMED", "the token could not be verified")
    check.reasons.append(
        last_error or reason("TOKEN_BAD_SIGNATURE", f"no key of issuer {issuer.name} matches")
    )
    return None


def _check_times(
    claims: dict[str, Any], issuer: Issuer, now: datetime, check: IdentityCheck
) -> None:
    leeway = timedelta(seconds=issuer.leeway_seconds)
    try:
        iat = datetime.fromtimestamp(int(claims["iat"]), UTC)
        exp = datetime.fromtimestamp(int(claims["exp"]), UTC)
        nbf = datetime.fromtimestamp(int(claims.get("nbf", claims["iat"])), UTC)
    except (TypeError, ValueError, OverflowError):
        check.reasons.append(reason("TOKEN_MALFORMED", "the token's time claims are not numbers"))
        return
    if now >= exp + leeway:
        check.reasons.append(reason("TOKEN_EXPIRED", f"the token expired at {iso_z(exp)}"))
    if now + leeway < nbf or now + leeway < iat:
        check.reasons.append(reason("TOKEN_NOT_YET_VALID", "the token is not valid yet"))
    if exp - iat > timedelta(seconds=issuer.max_token_lifetime_seconds):
        check.reasons.append(
            reason(
                "TOKEN_LIFETIME_TOO_LONG",
                f"the token lives {int((exp - iat).total_seconds())} s; issuer {issuer.name} "
                f"allows at most {issuer.max_token_lifetime_seconds} s",
            )
        )
