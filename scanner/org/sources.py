"""The repositories an organisation scan covers: a SOURCES file or a folder of checkouts.

A SOURCES file holds one repository a line (``#`` starts a comment): a URL (https, http,
ssh, git, file, or scp-like ``user@host:path``) or a local path (relative to the file). A
folder instead lists its sub-folders that are git checkouts. Every location becomes a URL
git can clone (a local path becomes ``file://``, so the clone is shallow too).

Credentials never travel: ``user:token@`` is stripped from a URL here, before the URL
reaches a task argument, a report, a message or the scheduler. Private repositories are
reached through git's credential helper or the environment of the machine doing the clone.

A line that cannot be used (unknown scheme, ``ext::`` transports that run commands, a path
that is not a repository) becomes a ``Source`` with a ``problem``: recorded as failed, the
run goes on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from scanner.fs import FileRefused, decode, read_user_file
from scanner.model import printable

MAX_SOURCES_BYTES = 16 * 1024 * 1024
_SCHEMES = frozenset({"https", "http", "ssh", "git", "file"})
# scp-like syntax: [user@]host:path, where host has no slash and path does not start with //.
_SCP = re.compile(r"^(?:[^@/\s]+@)?([A-Za-z0-9._-]+):(?!//)(\S+)$")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# A comment starts a line or follows a space, so a '#' inside a URL's password stays put.
_COMMENT = re.compile(r"(?:^|\s)#")
RESERVED_NAMES = frozenset({"org-scan"})


class SourcesError(Exception):
    """SOURCES cannot be read at all; the message is one line."""


@dataclass(frozen=True)
class Source:
    name: str  # the file-name-safe name results are written under (unique in the run)
    url: str  # what git clones, without credentials ("" when the line is unusable)
    shown: str  # how messages and results name it (the URL, or the line as written)
    line: int | None = None  # SOURCES line number (None for a folder of checkouts)
    problem: str | None = None  # why the line cannot be scanned
    had_credentials: bool = False


def strip_userinfo(url: str) -> tuple[str, bool]:
    """``url`` without ``user[:password]@`` and whether it had any. Split by hand, not with
    urlsplit, which would end the authority at a '#' in a password. scp-like locations keep
    their user name (``git@host:org/repo``: an SSH login, not a secret)."""
    cleaned = clean_text(url) if "://" in url else url
    return cleaned, cleaned != url


def clean_text(text: str) -> str:
    """``text`` with the credentials of any URL in it removed: what a message carrying a
    URL (git's own error output, say) is passed through before it is shown or stored."""
    out, at = [], 0
    while (found := text.find("://", at)) >= 0:
        start = found + 3
        end = start
        while end < len(text) and text[end] not in "/ \t\r\n'\"":
            end += 1
        authority = text[start:end]
        out.append(text[at:start])
        out.append(authority.rpartition("@")[2])
        at = end
    out.append(text[at:])
    return "".join(out)


def _location(raw: str, base: Path) -> tuple[str, str | None]:
    """The clonable URL of a SOURCES entry (credentials already stripped) and a problem."""
    if raw.startswith("-"):
        return "", "not a repository location (starts with '-')"
    if "::" in raw.split("/", 1)[0]:
        return "", "git remote helpers (TRANSPORT::ADDRESS) are not allowed"
    parts = urlsplit(raw)
    if parts.scheme and "://" in raw:
        if parts.scheme.lower() not in _SCHEMES:
            return "", f"unsupported URL scheme {parts.scheme!r} (use https, ssh, git or file)"
        if parts.scheme.lower() != "file" and not parts.hostname:
            return "", "the URL names no host"
        return raw, None
    if _SCP.match(raw) and not Path(raw).exists():
        return raw, None
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_dir():
        return "", "no such repository (not a URL, and no folder at that path)"
    return path.resolve().as_uri(), None


def _base_name(url: str) -> str:
    """``owner_repo`` from a URL or path: the last two components, without ``.git``."""
    path = urlsplit(url).path if "://" in url else url.rpartition(":")[2]
    pieces = [p for p in path.replace("\\", "/").split("/") if p and p not in (".", "..")]
    pieces = [p.removesuffix(".git") for p in pieces[-2:]] or ["repository"]
    name = _UNSAFE_NAME.sub("-", "_".join(p for p in pieces if p)).strip("-._")
    return name[:80] or "repository"


def _unique(sources: list[Source]) -> list[Source]:
    """Give every source a distinct name (two owners may both have an ``api`` repository)."""
    counts: dict[str, int] = {}
    for source in sources:
        counts[source.name] = counts.get(source.name, 0) + 1
    unique = []
    for source in sources:
        name = source.name
        if counts[name] > 1 or name.lower() in RESERVED_NAMES:
            digest = hashlib.sha256((source.url or source.shown).encode()).hexdigest()[:8]
            name = f"{name}-{digest}"
        unique.append(Source(name, source.url, source.shown, source.line, source.problem,
                             source.had_credentials))
    return unique


def read_sources(path: Path) -> list[Source]:
    """The repositories ``path`` (a SOURCES file or a folder of checkouts) lists; raises
    ``SourcesError`` when it cannot be read at all."""
    if path.is_dir():
        return _unique(_checkouts(path))
    try:
        data = read_user_file(path, max_bytes=MAX_SOURCES_BYTES, what="SOURCES")
    except FileRefused as exc:
        raise SourcesError(str(exc)) from exc
    sources = []
    seen: set[str] = set()
    for number, line in enumerate(decode(data).splitlines(), start=1):
        text = _COMMENT.split(line, maxsplit=1)[0].strip()
        if not text:
            continue
        cleaned, had_credentials = strip_userinfo(text)
        url, problem = _location(cleaned, path.parent)
        shown = printable(url or clean_text(cleaned), path=True)[:300]
        if url and url in seen:
            continue  # listed twice: scanned once
        seen.add(url)
        name = _base_name(url) if url else f"line-{number}"
        sources.append(Source(name, url, shown, number, problem, had_credentials))
    return _unique(sources)


def _checkouts(folder: Path) -> list[Source]:
    found = []
    for child in sorted(folder.iterdir()):
        if child.is_dir() and not child.name.startswith(".") and (
            (child / ".git").exists() or (child / "HEAD").is_file()
        ):
            url = child.resolve().as_uri()
            found.append(Source(_base_name(child.name), url, url))
    return found
