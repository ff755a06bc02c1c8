"""Canonical JSON and SHA-256 helpers shared by the ledger, records and hashes.

The canonical form is JSON with keys sorted, no insignificant whitespace, UTF-8 encoded,
non-ASCII kept as is. Only strings, integers, booleans, null, lists and objects are allowed:
floats are refused because their text form differs between JSON libraries, and a hash that
depends on the serializer would not survive an auditor recomputing it elsewhere. With that
restriction the output matches RFC 8785 (JCS) for the values we write.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


class CanonicalError(ValueError):
    """A value that has no canonical form (a float, NaN, a non-string key, an object)."""


def _check(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        raise CanonicalError(f"{where}: floats are not allowed in canonical JSON")
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{where}: object keys must be strings")
            _check(item, f"{where}.{key}")
        return
    raise CanonicalError(f"{where}: {type(value).__name__} is not JSON data")


def canonical_json(value: Any) -> bytes:
    """The one byte string every hash in the governed path is computed over."""
    _check(value, "$")
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk_size: int = 1 << 16) -> tuple[str, int]:
    """Streamed SHA-256 of a file and its size in bytes (the content is never kept)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
