"""GitLab CI (``.gitlab-ci.yml``): includes not pinned to a commit, untrusted predefined
variables in scripts, secrets printed or written to files, unpinned ``pip install`` in
scripts, stored cloud keys without ``id_tokens`` and quantum provider tokens in CI
variables. Rule metadata:
``scanner/rules/cicd.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scanner.detectors.cicd.common import (
    CLOUD_SECRET_NAME,
    QUANTUM_SECRET_NAME,
    SHA40,
    issue,
)
from scanner.detectors.cicd.shell import (
    DUMP_ENV,
    REEVALUATED,
    SHELL_VAR,
    ScriptLine,
    command_lines,
    install_message,
    leak_kind,
    leak_message,
    quote_state_at,
    script_lines,
    unpinned_installs,
)
from scanner.detectors.secret_names import secret_name
from scanner.formats.yaml import LineDict, LineList
from scanner.masking import redact_url
from scanner.model import Issue, Severity
from scanner.source import SourceFile

_GITLAB_RESERVED = frozenset(
    {"image", "services", "stages", "types", "before_script", "after_script", "variables",
     "cache", "include", "workflow", "default", "spec"}
)
_GITLAB_UNTRUSTED = re.compile(
    r"\$\{?(CI_COMMIT_MESSAGE|CI_COMMIT_TITLE|CI_COMMIT_DESCRIPTION|CI_COMMIT_TAG_MESSAGE"
    r"|CI_COMMIT_BRANCH|CI_COMMIT_REF_NAME|CI_COMMIT_AUTHOR|CI_MERGE_REQUEST_TITLE"
    r"|CI_MERGE_REQUEST_DESCRIPTION|CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"
    r"|CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME)\b\}?"
)
_GITLAB_SECRET_VARS = frozenset(
    {"CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_DEPLOY_PASSWORD", "CI_JOB_JWT", "CI_JOB_JWT_V2"}
)
_AWS_CONFIGURE_SECRET = re.compile(r"aws\s+configure\s+set\s+aws_secret_access_key", re.I)
# Where a secret written to a file stays when the job keeps no artifacts.
_BUILD_DIRECTORY = "in the build directory; keep it out of artifacts and caches"


@dataclass(frozen=True)
class Pipeline:
    source: SourceFile
    doc: LineDict

    def findings(self) -> Iterator[Issue]:
        yield from self._includes()
        # Scripts outside any job: no artifacts of their own.
        for label, holder in (("(top level)", self.doc), ("default", self.doc.get("default"))):
            if isinstance(holder, LineDict):
                for key in ("before_script", "after_script"):
                    if key in holder:
                        yield from self._scripts(label, holder, key, False)
        global_vars = self.doc.get("variables")
        for job_id, job in self.doc.items():
            if job_id in _GITLAB_RESERVED or not isinstance(job, LineDict):
                continue
            yield from self._job(str(job_id), job, global_vars)

    def _includes(self) -> Iterator[Issue]:
        include = self.doc.get("include")
        if include is None:
            return
        entries: list[tuple[Any, int]]
        if isinstance(include, LineList):
            entries = [(item, include.line_of(i)) for i, item in enumerate(include)]
        else:
            entries = [(include, self.doc.line_of("include"))]
        for entry, line in entries:
            if isinstance(entry, str):
                if entry.startswith(("http://", "https://")):
                    entry = {"remote": entry}
                else:
                    continue  # a local file of this repository
            if not isinstance(entry, dict):
                continue
            if "remote" in entry:
                url = redact_url(str(entry["remote"]))
                yield issue(
                    "QG-CI-004",
                    f"include: remote {url} pulls pipeline code from a URL with no integrity "
                    "check; vendor it or include a project file at a commit SHA",
                    line, f"remote:{url}", evidence=url,
                )
            elif "project" in entry:
                ref = str(entry.get("ref", ""))
                if not SHA40.match(ref):
                    shown = f"ref {ref}" if ref else "the default branch"
                    yield issue(
                        "QG-CI-004",
                        f"include: project {entry['project']} at {shown}; pin ref to a commit "
                        "SHA so a change there cannot alter this pipeline",
                        line, f"project:{entry['project']}@{ref}",
                        evidence=f"{entry['project']}@{ref or 'HEAD'}",
                    )
            elif "component" in entry:
                component = str(entry["component"])
                _path, _, version = component.rpartition("@")
                if not SHA40.match(version):
                    yield issue(
                        "QG-CI-004",
                        f"include: component {component} is not pinned to a commit SHA",
                        line, f"component:{component}", evidence=component,
                    )

    def _job(self, job_id: str, job: LineDict, global_vars: Any) -> Iterator[Issue]:
        artifacts = isinstance(job.get("artifacts"), LineDict)
        for key in ("before_script", "script", "after_script"):
            if key in job:
                yield from self._scripts(f"job '{job_id}'", job, key, artifacts)
        scripts = "\n".join(
            "\n".join(str(s) for s in _flatten(job.get(key)))
            for key in ("before_script", "script", "after_script")
        )
        variables = {
            str(k): v for block in (global_vars, job.get("variables"))
            if isinstance(block, dict) for k, v in block.items()
        }
        referenced = {m.group(1) for m in SHELL_VAR.finditer(scripts)}
        has_oidc = "id_tokens" in job
        cloud = sorted(
            name for name in referenced | set(variables) if CLOUD_SECRET_NAME.match(name)
        )
        if (cloud or _AWS_CONFIGURE_SECRET.search(scripts)) and not has_oidc:
            shown = ", ".join(cloud) or "aws configure set aws_secret_access_key"
            yield issue(
                "QG-CI-008",
                f"job '{job_id}' uses long-lived cloud keys ({shown}); use id_tokens with the "
                "cloud's OIDC federation instead",
                self._first_line(job, cloud) or self.doc.line_of(job_id),
                f"{job_id}:cloud:{shown}", evidence=shown,
            )
        quantum = sorted(
            name for name in referenced | set(variables) if QUANTUM_SECRET_NAME.match(name)
        )
        for name in quantum:
            gated = "environment" in job
            advice = "" if gated else "; run the job in a protected environment"
            yield issue(
                "QG-CI-009",
                f"job '{job_id}' uses {name} from CI variables: the provider offers no OIDC "
                f"federation, so this is a long-lived token; mark it protected and masked{advice}",
                self._first_line(job, [name]) or self.doc.line_of(job_id),
                f"{job_id}:{name}", evidence=name,
            )

    def _first_line(self, job: LineDict, names: list[str]) -> int | None:
        """The first line, from the job's own line down, that mentions any of ``names``."""
        found = (self.source.find_line(name, job.line) for name in names)
        return min((line for line in found if line is not None), default=None)

    def _scripts(
        self, label: str, holder: LineDict, key: str, artifacts: bool
    ) -> Iterator[Issue]:
        value = holder.get(key)
        entries: list[tuple[str, int]] = []
        if isinstance(value, LineList):
            entries.extend(
                (str(piece), value.line_of(index))
                for index, item in enumerate(value) for piece in _flatten(item)
            )
        elif isinstance(value, str):
            entries.append((value, holder.line_of(key)))
        for text, line in entries:
            lines = script_lines(self.source, line, text)
            for entry in lines:
                yield from self._script_line(label, entry, artifacts)
            if "install" in text:
                yield from self._installs(label, lines)

    def _installs(self, label: str, lines: list[ScriptLine]) -> Iterator[Issue]:
        for entry in command_lines(lines):
            loose = unpinned_installs(entry.text)
            if loose:
                message, shown = install_message(label, loose, " and CI variables")
                yield issue(
                    "QG-CI-013", message, entry.line, f"{label}:pip:{entry.text.strip()}",
                    evidence=shown,
                )

    def _script_line(self, label: str, entry: ScriptLine, artifacts: bool) -> Iterator[Issue]:
        text = entry.text
        stripped = text.strip()
        for match in _GITLAB_UNTRUSTED.finditer(text):
            variable = match.group(1)
            if REEVALUATED.search(text[: match.start()]):
                rule, how, problem = (
                    "QG-CI-006", "eval",
                    "is evaluated again as code (eval / sh -c / -c interpreters); a crafted "
                    "commit message or branch name runs commands",
                )
            elif quote_state_at(text, match.start()) == "":
                rule, how, problem = (
                    "QG-CI-011", "unquoted",
                    "is expanded without double quotes; its words and globs reach the command "
                    "as separate arguments (argument injection)",
                )
            else:
                continue
            yield issue(
                rule, f"{label}: ${variable} {problem}", entry.line,
                f"{label}:{how}:{variable}:{stripped}", evidence=f"${variable}",
            )
        if DUMP_ENV.match(stripped):
            yield issue(
                "QG-CI-007",
                f"{label}: `{stripped}` prints every CI variable, secrets included",
                entry.line, f"{label}:dump-env", severity=Severity.MEDIUM, evidence=stripped,
            )
            return
        for match in SHELL_VAR.finditer(text):
            name = match.group(1)
            if name in _GITLAB_SECRET_VARS or (
                secret_name(name) and not name.startswith("CI_")
            ):
                kind = leak_kind(text, match.group(0))
                if kind is None or kind == "summary":
                    continue  # a GitHub step summary means nothing to GitLab
                kept = "keeps artifacts" if artifacts else None
                message, severity = leak_message(kind, label, f"${name}", kept, _BUILD_DIRECTORY)
                yield issue(
                    "QG-CI-007", message, entry.line,
                    f"{label}:{kind}:{name}:{stripped}", severity=severity, evidence=f"${name}",
                )
                break


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for element in value for item in _flatten(element)]
    return [] if value is None else [value]
