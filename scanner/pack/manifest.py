"""``manifest.json``: every file of the pack with its SHA-256 and size, what made it and from
what, and (when signed) the key that signed it.

The manifest lists every file but itself and ``manifest.sig``; its own bytes are what the
signature covers. Paths are POSIX, relative to the pack, sorted. The model below is also
what ``qgov pack verify`` validates a manifest against: a path that is absolute, climbs out
with ``..``, holds a backslash or a control character, or appears twice makes the manifest
unusable (the pack is reported as altered, never followed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scanner import __version__
from scanner.clock import iso_utc
from scanner.pack.model import PackData
from scanner.pack.signing import ALGORITHM, SIGNATURE_FILE, key_id

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "qgov-pack-manifest"
MANIFEST_VERSION = "1.0"
UNLISTED = frozenset({MANIFEST_FILE, SIGNATURE_FILE})
_SHA256 = r"^[0-9a-f]{64}$"
_BAD_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\\:]")


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1, max_length=1024)
    sha256: str = Field(pattern=_SHA256)
    size: int = Field(ge=0)

    @field_validator("path")
    @classmethod
    def _inside_the_pack(cls, value: str) -> str:
        parts = value.split("/")
        if (value.startswith("/") or _BAD_CHARACTERS.search(value)
                or any(part in ("", ".", "..") for part in parts)):
            raise ValueError("not a plain relative path inside the pack")
        if value in UNLISTED:
            raise ValueError("the manifest does not list itself or its signature")
        return value


class ManifestSignature(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    algorithm: str
    key_id: str = Field(pattern=_SHA256)
    file: str


class Manifest(BaseModel):
    """What ``qgov pack verify`` needs from a manifest; the rest is for people."""

    model_config = ConfigDict(frozen=True, extra="allow")

    format: str
    format_version: str
    signature: ManifestSignature | None = None
    files: tuple[ManifestFile, ...]

    @model_validator(mode="after")
    def _known_and_unique(self) -> Manifest:
        if self.format != MANIFEST_FORMAT:
            raise ValueError(f"not a qgov pack manifest (format {self.format!r})")
        if self.format_version.split(".", 1)[0] != MANIFEST_VERSION.split(".", 1)[0]:
            raise ValueError(f"manifest format {self.format_version}; this qgov reads "
                             f"{MANIFEST_VERSION.split('.', 1)[0]}.x")
        paths = [f.path for f in self.files]
        if len(set(paths)) != len(paths):
            raise ValueError("a path is listed twice")
        return self


def build_manifest(
    data: PackData,
    files: Sequence[tuple[str, str, int]],
    sign_key: ed25519.Ed25519PrivateKey | None,
) -> tuple[bytes, str | None]:
    """The manifest's bytes for these (path, sha256, size), and the signing key's id."""
    signer = key_id(sign_key.public_key()) if sign_key is not None else None
    packages = dict(data.environment.packages)
    document: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_VERSION,
        "tool": {"name": "qgov", "version": __version__},
        "title": data.title,
        "generated_at": iso_utc(data.generated_at),
        "evaluated_on": data.today.isoformat(),
        "catalog": data.catalog_info.model_dump(mode="json"),
        "rule_engines": {name: packages.get(name, "not installed")
                         for name in ("bandit", "semgrep", "pip-audit")},
        "frameworks": list(data.frameworks),
        "inputs": [{key: value for key, value in vars(record).items() if value is not None}
                   for record in data.inputs],
        "signature": None if signer is None else {
            "algorithm": ALGORITHM, "key_id": signer, "file": SIGNATURE_FILE,
        },
        "files": [{"path": path, "sha256": digest, "size": size}
                  for path, digest, size in sorted(files) if path not in UNLISTED],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), signer
