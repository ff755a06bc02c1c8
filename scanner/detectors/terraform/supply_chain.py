"""Supply chain: ``module`` calls whose code can change under the same configuration (git
sources without a commit ``?ref=``, registry modules without an exact ``version``). Rule
metadata: ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scanner.detectors.iac_common import iac_issue
from scanner.detectors.terraform.module import Module, at
from scanner.formats.hcl import text_of
from scanner.masking import redact_url
from scanner.model import Issue, Severity

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REGISTRY_SOURCE = re.compile(r"^([a-z0-9.-]+\.[a-z]{2,}/)?[\w-]+/[\w-]+/[\w-]+$", re.I)
_GIT_PREFIXES = ("git::", "git@", "github.com/", "bitbucket.org/", "gitlab.com/")
_EXACT_VERSION = re.compile(r"^=?\s*v?\d+(\.\d+)*([-+][\w.]+)?$")


def issues(m: Module) -> Iterator[Issue]:
    for call in m.module_calls:
        source = call.get("source")
        if not isinstance(source, str):
            continue
        problem = module_source_problem(source, call.get("version"))
        if problem is not None:
            severity, why = problem
            yield iac_issue(
                "QG-IAC-020", at(call, "source"),
                f"module \"{call.labels[0] if call.labels else '?'}\": {why}",
                f"module-source:{source}:{text_of(call.get('version', ''))}",
                severity, evidence=redact_url(source),
            )


def module_source_problem(source: str, version: Any) -> tuple[Severity, str] | None:
    """Why a ``module`` call's code could change under the same configuration, if it can.

    Local paths are part of the repository; git sources need ``?ref=`` a full commit (a tag
    or branch can be moved); registry modules need an exact ``version``."""
    lowered = source.lower()
    if lowered.startswith(("./", "../", "/")) or lowered.startswith(("s3::", "gcs::")):
        return None
    if lowered.startswith(_GIT_PREFIXES) or lowered.split("?")[0].endswith(".git"):
        query = parse_qs(urlsplit(source.removeprefix("git::")).query)
        ref = (query.get("ref") or [""])[0]
        if not ref:
            return Severity.MEDIUM, (
                f"git source {redact_url(source)} has no ?ref=, so every init takes the "
                "default branch"
            )
        if not _COMMIT.match(ref.lower()):
            return Severity.LOW, f"git source is pinned to ref {ref}, a tag or branch that can move"
        return None
    if _REGISTRY_SOURCE.match(source):
        if version is None:
            return Severity.MEDIUM, (
                f"registry module {source} has no version, so init takes the newest"
            )
        text = text_of(version).strip()
        if not _EXACT_VERSION.match(text):
            return Severity.LOW, f"registry module {source} allows versions {text}, not one"
    return None
