"""Masking for evidence strings: enough to recognise a value, never enough to use it."""

from __future__ import annotations

import hashlib


def mask(value: str, visible: int = 4) -> str:
    """``'ghp_…'`` style: a few leading characters, the length and a short hash.

    Short values show fewer leading characters so a masked 8-character password never
    reveals half of itself.
    """
    value = value.strip()
    shown = min(visible, max(0, len(value) // 4))
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{value[:shown]}…[{len(value)} chars, sha256:{digest}]"
