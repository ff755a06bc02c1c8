"""Identity: signed short-lived tokens, issuer/audience checks, identity kinds kept apart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.identity import verify_token
from scanner.governed.tokens import demo_private_key, public_key_pem
from tests.governed.helpers import ALICE, AUDIENCE, ISSUER, NOW, PIPELINE, World


def codes(world: World, token: str | None, environment: str = "dev") -> list[str]:
    check = verify_token(token, world.load().policy, environment=environment, now=NOW)
    return [r.code for r in check.reasons]


def test_valid_token_gives_the_policy_identity(world: World) -> None:
    check = verify_token(world.token(), world.load().policy, environment="dev", now=NOW)
    assert check.ok and check.identity is not None
    assert (check.identity.subject, check.identity.kind) == (ALICE, "human")
    # Only hashes of the credential leave the module.
    actor = check.identity.actor()
    assert "token" not in actor and len(actor["token_jti_sha256"]) == 64


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda w: w.token(key=ed25519.Ed25519PrivateKey.generate()), "TOKEN_BAD_SIGNATURE"),
        (lambda w: w.token(issued=NOW - timedelta(minutes=10)), "TOKEN_EXPIRED"),
        (lambda w: w.token(issued=NOW + timedelta(minutes=10)), "TOKEN_NOT_YET_VALID"),
        (lambda w: w.token(audience="another-service"), "TOKEN_WRONG_AUDIENCE"),
        (lambda w: w.token(issuer="https://evil.invalid"), "TOKEN_UNKNOWN_ISSUER"),
        (lambda w: w.token(ttl=7200), "TOKEN_LIFETIME_TOO_LONG"),
        (lambda w: w.token(ALICE, "workload"), "IDENTITY_KIND_MISMATCH"),
        (lambda w: w.token("nobody@tests.invalid"), "IDENTITY_UNKNOWN"),
        (lambda w: "definitely.not.a-jwt", "TOKEN_MALFORMED"),
        (lambda w: None, "TOKEN_MISSING"),
    ],
)
def test_bad_tokens_are_refused(
    world: World, make: Callable[[World], str | None], code: str
) -> None:
    assert code in codes(world, make(world))


def test_token_within_leeway_is_still_valid(world: World) -> None:
    # 300 s token issued 310 s ago: expired 10 s ago, inside the default 30 s leeway.
    assert codes(world, world.token(issued=NOW - timedelta(seconds=310))) == []


def test_required_claims(world: World) -> None:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": ALICE, "identity_kind": "human"}
    claims |= {"iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60}  # no jti
    token = jwt.encode(claims, world.issuer_key, algorithm="EdDSA")
    # jti is required where it matters most; elsewhere the token's hash stands in for it.
    assert codes(world, token) == []
    assert "TOKEN_CLAIMS_MISSING" in codes(world, token, "regulated-pilot")
    del claims["exp"]
    token = jwt.encode(claims, world.issuer_key, algorithm="EdDSA")
    assert codes(world, token) == ["TOKEN_CLAIMS_MISSING"]


def test_symmetric_algorithm_confusion_is_refused(world: World) -> None:
    # Classic attack: sign HS256 with the issuer's *public* key as the shared secret.
    secret = public_key_pem(world.issuer_key).encode()
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": ALICE, "identity_kind": "human", "jti": "x"}
    claims |= {"iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60}
    token = _hs256(claims, secret)  # PyJWT itself refuses to sign this, so build it by hand
    assert codes(world, token) == ["TOKEN_ALGORITHM"]


def _hs256(claims: dict[str, object], secret: bytes) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        + "."
        + part(json.dumps(claims).encode())
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + part(signature)


def test_workload_identity_is_its_own_kind(world: World) -> None:
    check = verify_token(
        world.token(PIPELINE, "workload"), world.load().policy, environment="dev", now=NOW
    )
    assert check.ok and check.identity is not None and check.identity.kind == "workload"
    assert "IDENTITY_KIND_MISMATCH" in codes(world, world.token(PIPELINE, "human"))


def test_demo_issuer_refused_for_regulated_and_production(world: World) -> None:
    demo = demo_private_key()
    world.policy["issuers"].append(
        {
            "name": "demo",
            "issuer": "https://demo.invalid",
            "audience": AUDIENCE,
            "demo": True,
            "keys": [{"public_key_pem": public_key_pem(demo)}],
        }
    )
    world.policy["identities"].append({"subject": "demo-user", "kind": "human", "issuer": "demo"})
    token = world.token("demo-user", key=demo, issuer="https://demo.invalid")
    assert codes(world, token, "dev") == []
    assert codes(world, token, "test") == []
    assert codes(world, token, "regulated-pilot") == ["DEMO_ISSUER_NOT_ALLOWED"]
    assert codes(world, token, "production") == ["DEMO_ISSUER_NOT_ALLOWED"]


def test_demo_key_is_deterministic_and_matches_the_sample_policy() -> None:
    from tests.governed.helpers import SAMPLES

    assert public_key_pem(demo_private_key()) == public_key_pem(demo_private_key())
    sample = (SAMPLES / "policy" / "org-policy.yaml").read_text(encoding="utf-8")
    body = public_key_pem(demo_private_key()).splitlines()[1]
    assert body in sample
