"""Ed25519 keys and detached signatures for pack manifests.

``manifest.sig`` is a small JSON document beside ``manifest.json``: the algorithm, the key id
(SHA-256 of the raw 32-byte public key, hex), the public key (PEM) and the signature over the
exact bytes of ``manifest.json`` (base64). The public key inside is a convenience for naming
the signer; a signature checked only against it proves nothing, since whoever altered the pack
could have re-signed it with a key of their own: a verifier must bring the trusted key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.fs import FileRefused, read_user_file

SIGNATURE_FILE = "manifest.sig"
ALGORITHM = "Ed25519"
MAX_KEY_BYTES = 64 * 1024


class SigningKeyError(Exception):
    """A key file that cannot be used; the message is one line naming it."""


def key_id(public_key: ed25519.Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public_key: ed25519.Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def _read(path: Path, what: str) -> bytes:
    try:
        return read_user_file(path, max_bytes=MAX_KEY_BYTES, what=what)
    except FileRefused as exc:
        raise SigningKeyError(exc.message) from exc


def load_private_key(path: Path) -> ed25519.Ed25519PrivateKey:
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # "Password was not given but private key is encrypted"
        raise SigningKeyError(f"signing key {path}: the key is encrypted; qgov needs an "
                              "unencrypted Ed25519 key (keep it in a secret store, not in the "
                              "repository)") from exc
    except (ValueError, binascii.Error) as exc:
        raise SigningKeyError(f"signing key {path}: not a PEM private key (make one with qgov pack "
                        "keygen)") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SigningKeyError(f"signing key {path}: a {type(key).__name__.removeprefix('_')} key; "
                        "packs are signed with Ed25519 (qgov pack keygen)")
    return key


def load_public_key(path: Path) -> ed25519.Ed25519PublicKey:
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, binascii.Error) as exc:
        raise SigningKeyError(f"public key {path}: not a PEM public key") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise SigningKeyError(f"public key {path}: not an Ed25519 public key")
    return key


def signature_document(private_key: ed25519.Ed25519PrivateKey, manifest: bytes) -> bytes:
    public = private_key.public_key()
    document = {
        "algorithm": ALGORITHM,
        "signed_file": "manifest.json",
        "key_id": key_id(public),
        "public_key": public_pem(public).decode("ascii"),
        "signature": base64.b64encode(private_key.sign(manifest)).decode("ascii"),
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def check_signature(
    signature_file: bytes, manifest: bytes, trusted: ed25519.Ed25519PublicKey | None
) -> dict[str, Any]:
    """What the signature says: ``valid`` (over these manifest bytes, with the key it is
    checked against), ``trusted`` (that key is the one the verifier brought), ``key_id``
    and ``problem``."""
    try:
        document = json.loads(signature_file.decode("utf-8"))
        if not isinstance(document, dict) or document.get("algorithm") != ALGORITHM:
            raise ValueError("not an Ed25519 signature file")
        signature = base64.b64decode(str(document["signature"]), validate=True)
        embedded = serialization.load_pem_public_key(str(document["public_key"]).encode())
        if not isinstance(embedded, ed25519.Ed25519PublicKey):
            raise ValueError("its public key is not Ed25519")
        claimed = str(document.get("key_id", ""))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        return {"valid": False, "trusted": False, "key_id": None,
                "problem": f"{SIGNATURE_FILE} is unreadable ({exc})"}
    key = trusted or embedded
    result: dict[str, Any] = {"valid": False, "trusted": trusted is not None,
                              "key_id": key_id(embedded), "problem": None}
    if claimed != key_id(embedded):
        result["problem"] = f"{SIGNATURE_FILE} names key {claimed[:16]}… but holds another key"
        return result
    if trusted is not None and key_id(trusted) != key_id(embedded):
        result["problem"] = (f"signed with key {key_id(embedded)[:16]}…, not with the trusted "
                             f"key {key_id(trusted)[:16]}…")
        return result
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        result["problem"] = "the signature does not match manifest.json (altered or re-written)"
        return result
    result["valid"] = True
    return result


def write_new_key(path: Path) -> tuple[Path, str]:
    """A new Ed25519 key: the private key at ``path`` (mode 0600), the public key at
    ``path.pub``; neither may exist. Returns (public key path, key id)."""
    public_path = path.with_name(path.name + ".pub")
    for target in (path, public_path):
        if os.path.lexists(target):
            raise SigningKeyError(f"{target} exists; qgov pack keygen never overwrites a key")
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private)
        os.chmod(path, 0o600)  # whatever the umask
        with open(public_path, "xb") as handle:
            handle.write(public_pem(key.public_key()))
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot write the key ({exc.strerror or exc})") from exc
    return public_path, key_id(key.public_key())
