"""The checks of one GitHub Actions step (a workflow job's or a composite action's): how its
``uses:`` is pinned, what it passes to well-known actions (checkout of pull-request code,
github-script, cloud logins with stored keys, artifact uploads), and what its ``run:``
script does with untrusted event text, secrets and unpinned ``pip install`` commands. Rule metadata:
``scanner/rules/cicd.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from scanner.detectors.cicd.common import SHA40, as_text, empty, issue
from scanner.detectors.cicd.shell import (
    DUMP_ENV,
    command_lines,
    install_message,
    leak_kind,
    leak_message,
    script_lines,
    unpinned_installs,
)
from scanner.formats.yaml import LineDict
from scanner.model import Issue, Severity
from scanner.source import SourceFile

_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)

# Event fields an outside contributor controls (GitHub Security Lab's list, condensed).
_UNTRUSTED_CONTEXT = re.compile(
    r"github\.(?:"
    r"event\.(?:issue|pull_request|discussion)\.(?:title|body)"
    r"|event\.(?:comment|review|review_comment)\.body"
    r"|event\.pages(?:\[\d+\]|\.\*|\[\*\])?\.page_name"
    r"|event\.commits(?:\[\d+\]|\.\*|\[\*\])?\.(?:message|author\.(?:email|name))"
    r"|event\.head_commit\.(?:message|author\.(?:email|name))"
    r"|event\.pull_request\.head\.(?:ref|label|repo\.default_branch)"
    r"|event\.workflow_run\.(?:head_branch|display_title"
    r"|head_commit\.(?:message|author\.(?:email|name))"
    r"|pull_requests(?:\[\d+\]|\.\*|\[\*\])?\.head\.ref)"
    r"|head_ref"
    r")\b"
)
PR_HEAD_REF = re.compile(
    r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref|refs/pull/"
    r"|github\.event\.pull_request\.merge_commit_sha|github\.event\.(?:number|pull_request\.number)"
    r"|github\.event\.workflow_run\.head_(?:sha|branch)"
    r"|pull_request\.head\.repo\.full_name|workflow_run\.head_repository"
)
SHELL_CHECKOUT = re.compile(
    r"\bgh\s+pr\s+checkout\b|\bgit\s+fetch\b[^\n]*\bpull/|\bgit\s+(?:checkout|switch)\b[^\n]*"
    r"(?:head\.sha|head\.ref|head_ref|head_sha|refs/pull)"
)
# Triggers that run with the base repository's secrets and token whatever the event's source.
PRIVILEGED_TRIGGERS = frozenset({"pull_request_target", "workflow_run", "issue_comment"})
_GITHUB_OWNERS = frozenset({"actions", "github"})
_CREDENTIAL_PATH = re.compile(
    r"(?:^|[/\s])(?:\.env\b|\.aws/|\.azure/|\.qiskit/|qiskit-ibm\.json|qiskitrc|dwave\.conf"
    r"|\.qnx/|credentials(?:\.json)?\b|[\w-]*\.pem\b|[\w-]*\.key\b|id_rsa)"
)
# Logins that take a stored key where OIDC federation exists: action -> (the key input,
# what it is and what to use instead, material).
_KEY_LOGINS = {
    "azure/login": (
        "creds",
        "azure/login uses a service-principal secret (creds); use client-id / tenant-id / "
        "subscription-id with OIDC federation",
        "azure-creds",
    ),
    "google-github-actions/auth": (
        "credentials_json",
        "Google auth uses a service-account key (credentials_json); use "
        "workload_identity_provider with OIDC",
        "gcp-key",
    ),
}
# Where a secret written to a file stays when the job uploads no artifacts.
_WORKSPACE = (
    "in the workspace; make sure it is never uploaded, cached or left on a shared runner"
)


@dataclass(frozen=True)
class SecretEnv:
    """An environment variable (workflow, job or step level) that carries a secret."""

    name: str
    expression: str
    line: int


def pinning(uses: str, line: int, label: str) -> Iterator[Issue]:
    """QG-CI-004/005 for an action, reusable workflow or docker image not fixed by SHA."""
    if uses.startswith("./") or uses.startswith(".\\") or "${{" in uses:
        return  # local action, or chosen by an expression (matrix) we cannot resolve
    if uses.startswith("docker://"):
        if "@sha256:" in uses:
            return
        rule, problem = "QG-CI-004", f"docker action {uses} is not pinned by image digest"
    else:
        target, _, ref = uses.partition("@")
        if SHA40.match(ref):
            return
        shown = f"@{ref}" if ref else " without a ref"
        if target.split("/", 1)[0].lower() in _GITHUB_OWNERS:
            rule = "QG-CI-005"
            problem = f"GitHub-owned action {target}{shown} is not pinned to a commit SHA"
        else:
            rule = "QG-CI-004"
            problem = (
                f"third-party action {target}{shown} is not pinned to a full commit SHA; "
                "a moved tag runs new code with this job's secrets"
            )
    yield issue(rule, f"{label}: {problem}", line, uses, evidence=uses)


class StepChecks:
    """The step checks of one job, with the job facts they depend on."""

    def __init__(
        self,
        source: SourceFile,
        job_id: str,
        triggers: set[str],
        secret_env: Mapping[str, SecretEnv],
        uploads_artifacts: bool,
    ) -> None:
        self.source = source
        self.job_id = job_id
        # The privileged triggers of the workflow, as messages name them ("" when none).
        self.privileged = ", ".join(sorted(triggers & PRIVILEGED_TRIGGERS))
        self.secret_env = secret_env
        self.uploads_artifacts = uploads_artifacts

    def step(self, step: LineDict, label: str) -> Iterator[Issue]:
        uses = step.get("uses")
        if isinstance(uses, str):
            yield from pinning(uses, step.line_of("uses"), label)
            yield from self._action_inputs(uses, step, label)
        run = step.get("run")
        if isinstance(run, str):
            yield from self._run_script(run, step.line_of("run"), label)

    # action inputs: checkout of PR code, cloud login, artifacts ----------------------------------

    def _action_inputs(self, uses: str, step: LineDict, label: str) -> Iterator[Issue]:
        with_block = step.get("with")
        inputs = with_block if isinstance(with_block, LineDict) else empty()
        action = uses.split("@", 1)[0].lower()
        if action == "actions/checkout" and self.privileged:
            for key in ("ref", "repository"):
                value = as_text(inputs.get(key))
                if value and PR_HEAD_REF.search(value):
                    yield issue(
                        "QG-CI-001",
                        f"{label}: a {self.privileged} workflow checks out pull-request code "
                        f"({key}: {value.strip()}); that code then runs with this "
                        "repository's secrets and write token",
                        inputs.line_of(key), f"{self.job_id}:{key}:{value.strip()}",
                        evidence=f"{key}: {value.strip()}",
                    )
                    break
        if action == "actions/github-script":
            script = inputs.get("script")
            if isinstance(script, str):
                yield from self._injection(script, inputs.line_of("script"), label, "github-script")
        if action == "aws-actions/configure-aws-credentials":
            if "aws-secret-access-key" in inputs or "aws-access-key-id" in inputs:
                chained = " (chained into a role, still from a stored key)" if (
                    "role-to-assume" in inputs
                ) else ""
                key = "aws-secret-access-key" if "aws-secret-access-key" in inputs else (
                    "aws-access-key-id"
                )
                yield issue(
                    "QG-CI-008",
                    f"{label}: AWS credentials come from stored access keys{chained}; use "
                    "role-to-assume with GitHub's OIDC provider (permissions: id-token: write)",
                    inputs.line_of(key), f"{self.job_id}:aws-keys", evidence=key,
                )
        if action in _KEY_LOGINS:
            key, problem, material = _KEY_LOGINS[action]
            if key in inputs:
                yield issue(
                    "QG-CI-008", f"{label}: {problem}", inputs.line_of(key),
                    f"{self.job_id}:{material}", evidence=key,
                )
        if action == "actions/upload-artifact":
            path = as_text(inputs.get("path"))
            for piece in path.splitlines():
                if _CREDENTIAL_PATH.search(" " + piece.strip()):
                    yield issue(
                        "QG-CI-007",
                        f"{label}: uploads {piece.strip()!r} as an artifact; it looks like a "
                        "credentials file, and artifacts can be downloaded by anyone with "
                        "read access",
                        inputs.line_of("path"), f"{self.job_id}:artifact:{piece.strip()}",
                        evidence=piece.strip(),
                    )
                    break

    # run scripts ---------------------------------------------------------------------------------

    def _run_script(self, script: str, line: int, label: str) -> Iterator[Issue]:
        yield from self._injection(script, line, label, "run")
        yield from self._installs(script, line, label)
        if self.privileged and SHELL_CHECKOUT.search(script):
            where = next(
                (s.line for s in script_lines(self.source, line, script)
                 if SHELL_CHECKOUT.search(s.text)), line,
            )
            yield issue(
                "QG-CI-001",
                f"{label}: a {self.privileged} workflow fetches and checks out pull-request "
                "code in a script; it then runs with this repository's secrets and write token",
                where, f"{self.job_id}:shell-checkout", evidence="git/gh checkout of PR head",
            )
        names = "|".join(re.escape(n) for n in self.secret_env)
        env_ref = rf"\$\{{?(?:{names})\b" if names else r"(?!x)x"
        secret_refs = re.compile(rf"\$\{{\{{\s*secrets\.[A-Za-z0-9_]+\s*\}}\}}|{env_ref}")
        has_secrets = bool(self.secret_env) or "secrets." in script
        for entry in script_lines(self.source, line, script):
            if has_secrets and DUMP_ENV.match(entry.text):
                yield issue(
                    "QG-CI-007",
                    f"{label}: `{entry.text.strip()}` prints the whole environment, which holds "
                    "secrets (masking misses encoded or partial values)",
                    entry.line, f"{self.job_id}:dump-env", severity=Severity.MEDIUM,
                    evidence=entry.text.strip(),
                )
                continue
            found = secret_refs.search(entry.text)
            if found is None:
                continue
            secret = found.group(0)
            kind = leak_kind(entry.text, secret)
            if kind is None:
                continue
            kept = "uploads artifacts" if self.uploads_artifacts else None
            message, severity = leak_message(kind, label, secret, kept, _WORKSPACE)
            yield issue(
                "QG-CI-007", message, entry.line,
                f"{self.job_id}:{kind}:{secret}:{entry.text.strip()}",
                severity=severity, evidence=secret,
            )

    def _installs(self, script: str, line: int, label: str) -> Iterator[Issue]:
        if "install" not in script:
            return
        names = sorted(self.secret_env)
        holds = (
            f" and secrets ({', '.join(names[:3])}{' …' if len(names) > 3 else ''})" if names
            else " and secrets" if "secrets." in script else ""
        )
        for entry in command_lines(script_lines(self.source, line, script)):
            loose = unpinned_installs(entry.text)
            if loose:
                message, shown = install_message(label, loose, holds)
                yield issue(
                    "QG-CI-013", message, entry.line,
                    f"{self.job_id}:pip:{entry.text.strip()}", evidence=shown,
                )

    def _injection(self, script: str, line: int, label: str, where: str) -> Iterator[Issue]:
        if "${{" not in script:
            return
        for entry in script_lines(self.source, line, script):
            for match in _EXPRESSION.finditer(entry.text):
                expression = match.group(1).strip()
                untrusted = _UNTRUSTED_CONTEXT.search(expression)
                if untrusted is None:
                    continue
                # In a folded script the expression may sit a few file lines further on.
                found = self.source.find_line(match.group(0), entry.line, entry.line + 50)
                at = found or entry.line
                yield issue(
                    "QG-CI-006",
                    f"{label}: {untrusted.group(0)} is pasted into the {where} script with "
                    "${{ }}; anyone who can open an issue or pull request can run commands. "
                    "Pass it through env: and quote the variable",
                    at, f"{self.job_id}:{where}:{expression}",
                    evidence="${{ " + expression + " }}",
                )
