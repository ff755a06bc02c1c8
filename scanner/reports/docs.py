"""Where the rule documentation (``docs/rules/<RULE-ID>.md``) can be read, for SARIF's
``helpUri`` and ``informationUri``.

GitHub's SARIF upload checks both against the schema's ``"format": "uri"``, so a relative
path would make the upload fail: every link here is absolute. In order:
1. ``QGOV_DOCS_URL``: the repository at a ref, e.g. ``https://github.com/OWNER/qgov/blob/v0.1.0``
   (the GitHub Action sets it from the action's own repository and ref);
2. the ``Repository`` URL in the installed package's ``[project.urls]``, at tag ``v<version>``;
3. the pages shipped inside the package, as a ``file:`` URI (they open where the scan ran).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from scanner import __version__
from scanner.paths import data_dir

DOCS_ENV = "QGOV_DOCS_URL"


@dataclass(frozen=True)
class RuleDocs:
    base: str  # absolute URI that docs/ hangs off, without a trailing slash
    rules: frozenset[str]  # rule ids that have a page (custom rules have none)

    def rule_uri(self, rule_id: str) -> str | None:
        return f"{self.base}/docs/rules/{rule_id}.md" if rule_id in self.rules else None

    @property
    def information_uri(self) -> str:
        return f"{self.base}/docs/rules/README.md"


def rule_docs_dir() -> Path:
    """``docs/rules`` in a checkout, ``scanner/_data/docs/rules`` in an installed wheel."""
    return data_dir("docs") / "rules"


def find_rule_docs(environ: Mapping[str, str] = os.environ) -> RuleDocs:
    folder = rule_docs_dir()
    rules = frozenset(p.stem for p in folder.glob("*.md") if p.name != "README.md")
    given = environ.get(DOCS_ENV, "").strip().rstrip("/")
    if given.startswith(("https://", "http://")):
        return RuleDocs(given, rules)
    repository = _project_url()
    if repository:
        return RuleDocs(f"{repository}/blob/v{__version__}", rules)
    return RuleDocs(folder.parent.parent.resolve().as_uri(), rules)


def _project_url() -> str | None:
    try:
        urls = metadata.metadata("qgov").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        url = url.strip().rstrip("/")
        if label.strip().lower() in {"repository", "source"} and url.startswith("https://"):
            return url
    return None
