"""Minting short-lived identity tokens (JWT) and the demo issuer's key.

The demo issuer lets `qgov job run samples/...` work with no setup and no committed private
key: its Ed25519 key is derived from :data:`DEMO_SEED_LABEL`, a fixed public string. Anyone can
derive the same key, which is the point -- it proves nothing about who you are. The sample
policy marks that issuer ``demo: true`` and the governed path refuses demo issuers for the
``regulated-pilot`` and ``production`` environments.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from scanner.governed.errors import SpecError

DEMO_SEED_LABEL = (
    b"qgov demo issuer v1 | PUBLIC DEMO KEY MATERIAL, NOT A SECRET | "
    b"never trusted for regulated-pilot or production"
)
IDENTITY_KIND_CLAIM = "identity_kind"

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def demo_private_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(DEMO_SEED_LABEL).digest())


def public_key_pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(path: Path) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SpecError(f"key {path}: cannot read: {exc.strerror or exc}") from exc
    except (ValueError, TypeError) as exc:
        raise SpecError(f"key {path}: not an unencrypted PEM private key") from exc
    if not isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise SpecError(f"key {path}: unsupported key type {type(key).__name__}")
    return key


def algorithm_for(key: PrivateKey) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ES384" if key.curve.name == "secp384r1" else "ES256"
    return "RS256"


def mint_token(
    key: PrivateKey,
    *,
    issuer: str,
    audience: str,
    subject: str,
    kind: str,
    now: datetime,
    ttl_seconds: int = 300,
    kid: str | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A signed token valid for ``ttl_seconds`` from ``now``, with a fresh ``jti``."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        IDENTITY_KIND_CLAIM: kind,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": str(uuid.uuid4()),
    }
    claims.update(extra_claims or {})
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, key, algorithm=algorithm_for(key), headers=headers)
