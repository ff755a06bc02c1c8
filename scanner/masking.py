"""Masking for evidence strings: enough to recognise a value, never enough to use it."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote


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
# Parameters of a URL inside any text: `?token=…&x=…` and fragments (`#access_token=…`, as
# OAuth implicit flows write them). Values are masked unless the name is a well-known,
# non-secret one (refs and package metadata).
_QUERY_PARAM = re.compile(r"(https?://[^\s'\"?#]*[?#]|[&#])([^=&\s#'\"]+)=([^&\s#'\"]*)")
_SAFE_PARAMS = frozenset({"ref", "rev", "version", "v", "egg", "subdirectory", "format",
                          "archive", "depth", "raw", "sha256", "sha384", "sha512", "md5"})


def redact_url(text: str) -> str:
    """``text`` with URL credentials removed: the ``user:password@`` part (private indexes
    and git remotes embed tokens there) and the values of query and fragment parameters
    other than a few harmless ones (``?token=…``, ``#access_token=…``, signed-URL
    signatures). Works on any text holding URLs, through go-getter prefixes such as
    ``git::https://``. Percent-encoded URLs are decoded first when that reveals something
    to remove, so ``https%3A%2F%2Fuser%3Atoken%40host`` cannot slip through."""
    redacted = _redact(text)
    if "%" in text:
        decoded = unquote(text)
        if decoded != text and _redact(decoded) != decoded:
            return _redact(decoded)
    return redacted


def _redact(text: str) -> str:
    text = _USERINFO.sub(r"\1***@", text)
    if "=" not in text or "://" not in text:
        return text

    def param(match: re.Match[str]) -> str:
        lead, name, value = match.groups()
        if name.lower() in _SAFE_PARAMS or not value:
            return match.group(0)
        return f"{lead}{name}=***"

    return _QUERY_PARAM.sub(param, text)
