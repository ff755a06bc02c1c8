"""Verifying who submits a job: a signed, short-lived token checked against the policy.

The submitter is one of three kinds -- ``human``, ``workload`` or ``service`` -- and the kind
is bound twice: the token carries it (claim ``identity_kind``) and the policy lists each subject
with exactly one kind and the issuer that vouches for it. A mismatch is a refusal, so a
pipeline cannot borrow a researcher's identity or the other way round (IAM-01).

Signature, issuer and audience are checked by PyJWT; the time claims are checked here against
an injected clock so tests and the self-test can move time. Tokens must carry ``exp`` and
``iat`` and live no longer than the issuer's ``max_token_lifetime_seconds`` (IAM-03). Claims
must have their JSON types: PyJWT happily reads ``"exp": "9999999999"`` as a number, so a
string date, a boolean, a numeric subject or a list of numbers as audience is refused here.

A token is good for one request. ``jti`` is required for the protected environments
(regulated-pilot, production); elsewhere a token without one is accepted and its SHA-256
stands in for it, so it is single-use all the same (see :mod:`.token_use`, which finds an
earlier use in the ledger). The policy's ``revocations`` refuse a token, a subject or an
issuer key from a given moment on (see :mod:`.revocation`).

Only hashes of the token and its ``jti`` leave this module; the token text is never logged or
stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from scanner.governed.canonical import sha256_hex
from scanner.governed.decision import Reason, reason
from scanner.governed.policy import OrgPolicy
from scanner.governed.policy_sections import PROTECTED_ENVIRONMENTS, Issuer
from scanner.governed.revocation import revocation_reasons
from scanner.governed.timeutil import iso_z
from scanner.governed.tokens import IDENTITY_KIND_CLAIM

REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat")
_NUMERIC_CLAIMS = ("exp", "iat", "nbf")
_STRING_CLAIMS = ("iss", "sub", "jti", IDENTITY_KIND_CLAIM)


@dataclass(frozen=True)
class VerifiedIdentity:
    subject: str
    kind: str
    issuer_name: str
    issuer: str
    demo: bool
    issued_at: datetime
    expires_at: datetime
    token_id_sha256: str | None  # SHA-256 of the jti; None for a token without one
    token_sha256: str = ""
    key_id: str | None = None  # the policy's kid of the issuer key that verified it

    def actor(self) -> dict[str, Any]:
        """The ``actor`` block of ledger events: who, never the credential."""
        return {
            "subject": self.subject,
            "kind": self.kind,
            "issuer": self.issuer_name,
            "demo_issuer": self.demo,
            "token_jti_sha256": self.token_id_sha256,
            "token_sha256": self.token_sha256,
            "token_expires_at": iso_z(self.expires_at),
        }


@dataclass
class IdentityCheck:
    identity: VerifiedIdentity | None
    reasons: list[Reason] = field(default_factory=list)
    token_sha256: str | None = None
    claimed_subject: str | None = None
    issuer_name: str | None = None
    jti_sha256: str | None = None  # of a signature-verified token only

    @property
    def ok(self) -> bool:
        return self.identity is not None and not self.reasons

    def actor(self) -> dict[str, Any]:
        """The ``actor`` of ledger events: the verified identity (``accepted: false`` when it
        was refused after all, e.g. revoked or replayed), else what the token claimed."""
        if self.identity is not None:
            actor = self.identity.actor()
            if self.reasons:
                actor["accepted"] = False
            return actor
        return {
            "subject": self.claimed_subject,
            "verified": False,
            "issuer": self.issuer_name,
            "token_sha256": self.token_sha256,
            "token_jti_sha256": self.jti_sha256,
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
    verified = _verify_signature(token, issuer, header.get("kid"), str(alg), check)
    if verified is None:
        return check
    claims, key_id = verified
    type_problems = _claim_type_problems(claims)
    if type_problems:
        check.reasons.append(
            reason(
                "TOKEN_CLAIM_TYPES",
                f"claims of the wrong JSON type: {', '.join(type_problems)}",
            )
        )
        return check
    check.claimed_subject = claims["sub"]
    jti = claims.get("jti")
    check.jti_sha256 = sha256_hex(jti) if jti is not None else None
    if jti is None and environment in PROTECTED_ENVIRONMENTS:
        check.reasons.append(
            reason(
                "TOKEN_CLAIMS_MISSING",
                f"the token lacks the 'jti' claim, required for the {environment} environment",
            )
        )
    _check_times(claims, issuer, now, check)
    check.reasons.extend(
        revocation_reasons(
            policy,
            issuer=issuer.name,
            subject=claims["sub"],
            jti=jti,
            key_id=key_id,
            now=now,
        )
    )
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
        token_id_sha256=check.jti_sha256,
        token_sha256=check.token_sha256 or "",
        key_id=key_id,
    )
    return check


def _claim_type_problems(claims: dict[str, Any]) -> list[str]:
    """Claims whose JSON type is wrong (RFC 7519: NumericDate, StringOrURI)."""
    problems = []
    for name in _NUMERIC_CLAIMS:
        value = claims.get(name)
        if name not in claims and name == "nbf":
            continue
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or abs(value) > 1e11  # beyond year 5000: not a date any clock will reach
        ):
            problems.append(f"'{name}' must be a number of seconds")
    problems += [
        f"'{name}' must be a string"
        for name in _STRING_CLAIMS
        if name in claims and not isinstance(claims[name], str)
    ]
    aud = claims.get("aud")
    if not (
        isinstance(aud, str) or (isinstance(aud, list) and all(isinstance(a, str) for a in aud))
    ):
        problems.append("'aud' must be a string or a list of strings")
    return problems


def _verify_signature(
    token: str, issuer: Issuer, kid: object, alg: str, check: IdentityCheck
) -> tuple[dict[str, Any], str | None] | None:
    """The verified claims and the kid of the key that verified them."""
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
            return claims, key.kid
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
    try:  # types were checked; this guards the range of the platform's clock
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
