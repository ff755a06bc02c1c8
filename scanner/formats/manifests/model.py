"""What a dependency manifest says, in one shape for every manifest format.

A ``Dependency`` is one declared or locked package with where it was written (path and
1-based line), how tightly it is pinned and which hashes guard it. Pin classification
uses ``packaging`` for PEP 440 / PEP 508 text; Poetry and conda syntaxes, which are not
PEP 440, are only classified (exact, range, none), never evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner.masking import redact_url


class Pin(StrEnum):
    EXACT = "exact"  # one version: ==X (no wildcard), ===X, a lock-file entry
    RANGE = "range"  # anything that allows more than one version
    NONE = "none"  # no version constraint at all
    URL = "url"  # direct URL / VCS reference not fixed to a commit or hash
    URL_PINNED = "url-pinned"  # direct URL fixed by a commit id or a hash
    LOCAL = "local"  # a path or editable install of local code: not a registry package


class Role(StrEnum):
    """Whether a manifest installs exactly this (requirements.txt, lock files) or only
    declares what a resolver may choose (pyproject, Pipfile, requirements.in)."""

    INSTALL = "install"
    DECLARE = "declare"
    LOCK = "lock"
    CONSTRAINT = "constraint"


@dataclass(frozen=True)
class Dependency:
    name: str  # PEP 503 normalised
    display: str  # the entry as written (trimmed), for messages and evidence
    path: str  # manifest path (POSIX, relative to the scan root)
    line: int
    pin: Pin
    role: Role
    version: str | None = None  # the exact version when pin is EXACT
    hashes: tuple[str, ...] = ()
    ecosystem: str = "PyPI"  # "conda" for conda match specs outside the pip section

    def __post_init__(self) -> None:
        # Entries can carry credentials (git+https://user:token@…); never keep them for
        # messages and evidence.
        object.__setattr__(self, "display", redact_url(self.display))

    @property
    def parsed_version(self) -> Version | None:
        if self.version is None:
            return None
        try:
            return Version(self.version)
        except InvalidVersion:
            return None


@dataclass(frozen=True)
class IndexOption:
    """A package source named by a manifest (index URL, extra index, trusted host, channel)."""

    option: str  # e.g. "--extra-index-url", "--trusted-host", "source", "channel"
    value: str
    path: str
    line: int


@dataclass
class Manifest:
    path: str
    role: Role
    dependencies: list[Dependency] = field(default_factory=list)
    indexes: list[IndexOption] = field(default_factory=list)
    # Exact pins a constraints file (-c) adds: name -> version.
    constraints: dict[str, str] = field(default_factory=dict)
    # Files pulled in with -r / -c that the walk would not classify as manifests.
    included_paths: list[str] = field(default_factory=list)
    require_hashes: bool = False
    # Includes that could not be followed: (path, line, message). Not fatal.
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)
    # Entries that could not be parsed: (path, line, message). The rest is still usable.
    errors: list[tuple[str, int | None, str]] = field(default_factory=list)


# A VCS URL fixed to a full commit id: `…@<40 hex>` at the end or before a fragment.
_HEX40 = re.compile(r"@[0-9a-f]{40}(?:[#&]|$)", re.I)
# A hash in the URL fragment: `#sha256=…` or `#egg=x&sha256=…` (one parameter at a time).
_URL_HASH = re.compile(r"(?:sha256|sha384|sha512)=[0-9a-f]{32,}", re.I)


def _url_hash(url: str) -> bool:
    _base, hash_sign, fragment = url.partition("#")
    return bool(hash_sign) and any(
        _URL_HASH.match(part) for part in re.split(r"[#&]", fragment)
    )


def normalise(name: str) -> str:
    return canonicalize_name(name)


def classify_specifier(specifier: SpecifierSet) -> tuple[Pin, str | None]:
    """Exact when the set admits a single version (== without wildcard, or ===)."""
    specs = list(specifier)
    if not specs:
        return Pin.NONE, None
    exact = [
        s for s in specs if s.operator == "===" or (s.operator == "==" and "*" not in s.version)
    ]
    if exact:
        return Pin.EXACT, exact[0].version
    return Pin.RANGE, None


def classify_url(url: str, hashes: tuple[str, ...] = ()) -> Pin:
    if url.startswith(("file:", ".", "/")):
        return Pin.LOCAL
    if hashes or _url_hash(url):
        return Pin.URL_PINNED
    if url.startswith(("git+", "hg+", "svn+", "bzr+")) and _HEX40.search(url):
        return Pin.URL_PINNED
    return Pin.URL


def classify_requirement(
    requirement: Requirement, hashes: tuple[str, ...] = ()
) -> tuple[Pin, str | None]:
    if requirement.url:
        return classify_url(requirement.url, hashes), None
    return classify_specifier(requirement.specifier)


_LEADING_NAME = re.compile(r"[A-Za-z0-9._\[\], -]*")


def quote_entry(entry: object) -> str:
    """An unparseable entry for an error message: its leading package-name part only, since
    what follows may be a token pasted in the wrong place (``bar==ghp_…``)."""
    if not isinstance(entry, str):
        return f"(a {type(entry).__name__})"
    shown = _LEADING_NAME.match(entry)
    head = shown.group(0).rstrip() if shown else ""
    return repr(head) if head == entry else repr(f"{head}…")
