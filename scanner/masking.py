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


_USERINFO = re.compile(r"(//)[^/@\s'\"]+@")
# Query parameters of a URL inside any text: `?token=…&x=…`. Values are masked unless the
# name is a well-known, non-secret one (refs and package metadata).
_QUERY_PARAM = re.compile(r"(https?://[^\s'\"?#]*\?|&)([^=&\s#'\"]+)=([^&\s#'\"]*)")
_SAFE_PARAMS = frozenset({"ref", "rev", "version", "v", "egg", "subdirectory", "format",
                          "archive", "depth", "raw"})


def redact_url(text: str) -> str:
    """``text`` with URL credentials removed: the ``user:password@`` part (private indexes
    and git remotes embed tokens there) and the values of query parameters other than a few
    harmless ones (``?token=…``, signed-URL signatures). Works on any text holding URLs,
    through go-getter prefixes such as ``git::https://``."""
    text = _USERINFO.sub(r"\1***@", text)
    if "=" not in text or "://" not in text:
        return text

    def param(match: re.Match[str]) -> str:
        lead, name, value = match.groups()
        if name.lower() in _SAFE_PARAMS or not value:
            return match.group(0)
        return f"{lead}{name}=***"

    return _QUERY_PARAM.sub(param, text)
