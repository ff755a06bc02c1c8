"""Masking for evidence strings: enough to recognise a value, never enough to use it."""

from __future__ import annotations

import hashlib
import re


def mask(value: str, visible: int = 4) -> str:
    """``'ghp_…'`` style: a few leading characters, the length and a short hash.

    Short values show fewer leading characters so a masked 8-character password never
    reveals half of itself.
    """
    value = value.strip()
    shown = min(visible, max(0, len(value) // 4))
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{value[:shown]}…[{len(value)} chars, sha256:{digest}]"


_USERINFO = re.compile(r"(//)[^/@\s]+@")


def redact_url(url: str) -> str:
    """A URL without its ``user:password@`` part: private indexes and git remotes embed
    tokens there. Works through go-getter prefixes such as ``git::https://``."""
    return _USERINFO.sub(r"\1***@", url)
