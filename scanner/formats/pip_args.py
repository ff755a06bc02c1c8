"""Reading the package list of a ``pip install`` command line (notebook magics, Dockerfiles).

Only the arguments are interpreted, with ``packaging``; nothing is run.
"""

from __future__ import annotations

import re
import shlex

from packaging.requirements import InvalidRequirement, Requirement

PIP_INSTALL_LINE = re.compile(
    r"^\s*(?:[%!]\s*)?(?:pip3?|python3?\s+-m\s+pip|%conda|conda|!conda)\s+install\b", re.I
)

_CONDA_PIN = re.compile(r"^[A-Za-z0-9._-]+=[^=<>~!]")

# Options whose next argument is a value, not a package.
_OPTIONS_WITH_VALUE = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
     "--extra-index-url", "-f", "--find-links", "--target", "-t", "--prefix", "--root",
     "--platform", "--python-version", "--implementation", "--abi", "--trusted-host",
     "--cache-dir", "--src", "--upgrade-strategy", "--progress-bar", "--channel"}
)


def install_arguments(line: str) -> list[str]:
    """Package specifiers named on one install command line (options dropped)."""
    line = line.split(" #", 1)[0]
    try:
        tokens = shlex.split(line, comments=False)
    except ValueError:
        tokens = line.split()
    try:
        start = next(i for i, t in enumerate(tokens) if t == "install") + 1
    except StopIteration:
        return []
    packages: list[str] = []
    skip_next = False
    for token in tokens[start:]:
        if token in {"&&", ";", "||", "|"}:
            break
        if skip_next:
            skip_next = False
            continue
        if token.startswith("-"):
            skip_next = token in _OPTIONS_WITH_VALUE
            continue
        packages.append(token)
    return packages


def unpinned_requirements(line: str) -> list[str]:
    """Packages on an install line that are not pinned to one exact version."""
    loose = []
    for spec in install_arguments(line):
        if spec.startswith((".", "/", "git+", "http:", "https:", "file:")) or spec.endswith(
            (".whl", ".tar.gz", ".zip")
        ):
            continue  # paths and URLs are pinned (or not) by other means
        if _CONDA_PIN.match(spec):
            spec = spec.replace("=", "==", 1)  # conda's single '=' pin
        try:
            requirement = Requirement(spec)
        except InvalidRequirement:
            continue
        specifiers = list(requirement.specifier)
        exact = len(specifiers) == 1 and specifiers[0].operator in {"==", "==="} and (
            "*" not in specifiers[0].version
        )
        if not exact:
            loose.append(str(requirement))
    return loose
