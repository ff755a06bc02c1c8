"""CI/CD pipelines: GitHub Actions workflows and actions, and GitLab CI files.

The rules (QG-CI-001 … QG-CI-013), their severities and remediation are described in
``scanner/rules/cicd.yaml``. The checks live by platform:

- ``github``: workflows (triggers, token permissions, jobs, cloud and quantum credentials,
  pull-request code on self-hosted runners) and ``action.yml`` files (composite and docker
  actions);
- ``github_steps``: the checks of one step (pinning, action inputs, ``run:`` scripts);
- ``gitlab``: pipelines (includes, jobs, scripts, CI variables);
- ``shell``: reading the scripts of both (line mapping, quoting, secret leaks, env dumps,
  unpinned ``pip install``);
- ``common``: the secret-name vocabulary and the ``Issue`` constructor both use.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.detectors.cicd.github import Workflow, action_findings
from scanner.detectors.cicd.gitlab import Pipeline
from scanner.detectors.interface import Detector
from scanner.formats.errors import ParseError
from scanner.formats.yaml import LineDict
from scanner.model import FileKind, Issue
from scanner.source import SourceFile

__all__ = ["CicdDetector"]


class CicdDetector(Detector):
    name = "cicd"
    kinds = frozenset({FileKind.GITHUB_WORKFLOW, FileKind.GITHUB_ACTION, FileKind.GITLAB_CI})
    rules = frozenset(f"QG-CI-{n:03d}" for n in range(1, 14))

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        documents = source.yaml_documents
        if not documents:
            return
        doc = documents[0]
        if not isinstance(doc, LineDict):
            raise ParseError("pipeline file: top level is not a mapping", 1)
        if source.kind is FileKind.GITHUB_WORKFLOW:
            yield from Workflow(source, doc).findings()
        elif source.kind is FileKind.GITHUB_ACTION:
            yield from action_findings(source, doc)
        else:
            yield from Pipeline(source, doc).findings()
