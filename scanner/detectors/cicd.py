"""CI/CD pipelines: GitHub Actions workflows and GitLab CI files.

Rules (metadata in ``scanner/rules/cicd.yaml``):

- QG-CI-001 a ``pull_request_target`` / ``workflow_run`` / ``issue_comment`` workflow
  checks out the pull request's code (it then runs with the base repository's secrets and
  write token);
- QG-CI-002 ``permissions: write-all``; QG-CI-003 no ``permissions`` at workflow level and
  none on some job, so the token gets the repository default;
- QG-CI-004 a third-party action (or reusable workflow, docker action, GitLab remote /
  project / component include) not fixed to a full commit SHA or image digest;
  QG-CI-005 the same for actions owned by GitHub itself (``actions/*``, ``github/*``):
  reported at low severity because GitHub controls those repositories, but a moved tag
  still changes what runs;
- QG-CI-006 untrusted event text (titles, bodies, branch names, commit messages) put into
  a ``run:`` script or ``github-script`` with ``${{ }}``, or a GitLab untrusted variable
  evaluated again by ``eval`` / ``sh -c`` / ``python -c``;
- QG-CI-007 a secret echoed or printed (or written to the step summary), the whole
  environment dumped (medium), a secret written to a file by a printing command (high when
  the job uploads artifacts, else low), or credential files uploaded as artifacts;
- QG-CI-008 long-lived cloud keys where OIDC federation exists (AWS access keys instead of
  ``role-to-assume``, ``azure/login`` with ``creds``, Google ``credentials_json``, cloud
  secret variables in a GitLab job without ``id_tokens``);
- QG-CI-009 a quantum provider token taken from CI secrets (info: most quantum vendors
  offer no OIDC, so keep it in a protected environment);
- QG-CI-010 quantum provider credentials reachable by pull-request code: high under
  ``pull_request_target``; low under ``pull_request`` without an environment gate or
  fork guard (fork PRs get no secrets, but every branch can spend QPU budget);
- QG-CI-011 (GitLab) an untrusted predefined variable expanded outside double quotes.

Composite actions (``action.yml`` with ``runs.steps``) get the step checks, since their
steps run inside the calling job; a docker action's ``runs.image`` must carry a digest.

GitHub's ``on:`` key loads as the boolean ``True`` under YAML 1.1; both spellings are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scanner.detectors.interface import Detector
from scanner.formats.errors import ParseError
from scanner.formats.yaml import LineDict, LineList
from scanner.masking import redact_url
from scanner.model import FileKind, Issue, Severity
from scanner.source import SourceFile

# --- shared vocabulary ---------------------------------------------------------------------------

_SHA40 = re.compile(r"^[0-9a-f]{40}$")
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
_PR_HEAD_REF = re.compile(
    r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref|refs/pull/"
    r"|github\.event\.pull_request\.merge_commit_sha|github\.event\.(?:number|pull_request\.number)"
    r"|github\.event\.workflow_run\.head_(?:sha|branch)"
    r"|pull_request\.head\.repo\.full_name|workflow_run\.head_repository"
)
_SHELL_CHECKOUT = re.compile(
    r"\bgh\s+pr\s+checkout\b|\bgit\s+fetch\b[^\n]*\bpull/|\bgit\s+(?:checkout|switch)\b[^\n]*"
    r"(?:head\.sha|head\.ref|head_ref|head_sha|refs/pull)"
)
# Triggers that run with the base repository's secrets and token whatever the event's source.
_PRIVILEGED_TRIGGERS = frozenset({"pull_request_target", "workflow_run", "issue_comment"})
_GITHUB_OWNERS = frozenset({"actions", "github"})

_QUANTUM_SECRET_NAME = re.compile(
    r"^(?:QISKIT_IBM_TOKEN|QE_TOKEN|IBMQ_TOKEN|IBM_QUANTUM_TOKEN|IBM_CLOUD_API_KEY|IONQ_API_KEY"
    r"|DWAVE_API_TOKEN|DWAVE_TOKEN|AZURE_QUANTUM_CONNECTION_STRING|PASQAL_\w*TOKEN"
    r"|QNEXUS_\w*TOKEN|QUANTINUUM_\w*(?:TOKEN|PASSWORD)|QCS_\w*TOKEN)$"
)
_QUANTUM_SECRET_REF = re.compile(
    r"secrets\.(QISKIT_IBM_TOKEN|QE_TOKEN|IBMQ_TOKEN|IBM_QUANTUM_TOKEN|IBM_CLOUD_API_KEY"
    r"|IONQ_API_KEY|DWAVE_API_TOKEN|DWAVE_TOKEN|AZURE_QUANTUM_CONNECTION_STRING"
    r"|PASQAL_\w*TOKEN|QNEXUS_\w*TOKEN|QUANTINUUM_\w*|QCS_\w*TOKEN)\b"
)
_CLOUD_SECRET_NAME = re.compile(
    r"^(?:AWS_SECRET_ACCESS_KEY|AZURE_CLIENT_SECRET|ARM_CLIENT_SECRET|GOOGLE_CREDENTIALS"
    r"|GOOGLE_APPLICATION_CREDENTIALS_JSON|GCP_SA_KEY|GCP_CREDENTIALS)$"
)
_SECRETISH_NAME = re.compile(
    r"(?:TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIALS"
    r"|CONNECTION_STRING)",
    re.I,
)
_CREDENTIAL_PATH = re.compile(
    r"(?:^|[/\s])(?:\.env\b|\.aws/|\.azure/|\.qiskit/|qiskit-ibm\.json|qiskitrc|dwave\.conf"
    r"|\.qnx/|credentials(?:\.json)?\b|[\w-]*\.pem\b|[\w-]*\.key\b|id_rsa)"
)
_AWS_BRAKET = "AWS credentials (Amazon Braket)"
_BRAKET = re.compile(r"\bbraket|amazon-braket", re.I)


def _empty() -> LineDict:
    empty = LineDict()
    empty.key_lines = {}
    return empty


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class _ScriptLine:
    line: int  # line in the file
    text: str


# A script line is searched for this far below its key, no further.
_SEARCH_WINDOW = 400


def _script_lines(source: SourceFile, start: int, script: str) -> list[_ScriptLine]:
    """Map each line of a YAML scalar to its file line, searching forward from ``start``."""
    result: list[_ScriptLine] = []
    cursor = start
    for piece in script.split("\n"):
        needle = piece.strip()
        found = source.find_line(needle, cursor, cursor + _SEARCH_WINDOW) if needle else None
        if found is None and needle:
            # A folded scalar (`run: >`) joins several file lines into one: it starts at
            # the first line that opens it.
            found = source.find_line(
                needle.split(" ", 1)[0], cursor, cursor + _SEARCH_WINDOW
            )
        line = found if found is not None else cursor
        result.append(_ScriptLine(line, piece))
        cursor = max(cursor, line)
    return result


def _unquoted_spans(text: str) -> list[tuple[int, int, str]]:
    """Split a shell line into (start, end, state) runs: state is '', "'" or '"'."""
    spans: list[tuple[int, int, str]] = []
    state = ""
    start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and state != "'":
            index += 2
            continue
        if state == "" and char in "'\"":
            spans.append((start, index, state))
            state, start = char, index + 1
        elif state and char == state:
            spans.append((start, index, state))
            state, start = "", index + 1
        index += 1
    spans.append((start, len(text), state))
    return spans


def _quote_state_at(text: str, position: int) -> str:
    for start, end, state in _unquoted_spans(text):
        if start <= position <= end:
            return state
    return ""


_PIPE_OR_MASK = re.compile(r"\|(?!\|)|::add-mask::")
_PRINT_COMMAND = re.compile(r"^\s*(?:echo|printf|print|cat\s+<<|write-host|write-output)\b", re.I)
_REDIRECT = re.compile(r"(?<![<>&0-9])>{1,2}\s*(?P<target>\"?[^\s;&|]+)")
_LOG_SAFE_TARGETS = re.compile(r"GITHUB_ENV|GITHUB_OUTPUT|GITHUB_PATH|/dev/null|&\d")
_DUMP_ENV = re.compile(r"^\s*(?:env|printenv|export\s+-p|set)\s*(?:$|[|;>])")


def _secret_use(line: str, secret_refs: re.Pattern[str]) -> str | None:
    found = secret_refs.search(line)
    return found.group(0) if found else None


def _leak_kind(line: str, secret: str) -> str | None:
    """How a printing command (echo, printf, cat <<, Write-Host …) exposes ``secret``:
    'print' to the job log, 'summary' to the step summary, 'file' to a file; None when it
    is piped into another program, masked, or written to GITHUB_ENV/OUTPUT/PATH. Other
    commands that merely use a secret (curl -H "…$TOKEN") are not leaks."""
    stripped = line.strip()
    if not _PRINT_COMMAND.match(stripped):
        return None
    redirect = _REDIRECT.search(stripped)
    if redirect and stripped.find(secret) < redirect.start():
        target = redirect.group("target")
        if "GITHUB_STEP_SUMMARY" in target:
            return "summary"
        if _LOG_SAFE_TARGETS.search(target):
            return None
        return "file"
    if _PIPE_OR_MASK.search(stripped):
        return None
    return "print"


# --- the detector --------------------------------------------------------------------------------


class CicdDetector(Detector):
    name = "cicd"
    kinds = frozenset({FileKind.GITHUB_WORKFLOW, FileKind.GITHUB_ACTION, FileKind.GITLAB_CI})
    rules = frozenset(f"QG-CI-{n:03d}" for n in range(1, 12))

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        documents = source.yaml_documents
        if not documents:
            return
        doc = documents[0]
        if not isinstance(doc, LineDict):
            raise ParseError("pipeline file: top level is not a mapping", 1)
        if source.kind is FileKind.GITHUB_WORKFLOW:
            yield from _GitHubWorkflow(source, doc).findings()
        elif source.kind is FileKind.GITHUB_ACTION:
            yield from _action_findings(source, doc)
        else:
            yield from _GitLabPipeline(source, doc).findings()


def _action_findings(source: SourceFile, doc: LineDict) -> Iterator[Issue]:
    """A composite action's steps run inside the calling job, with its token and secrets, so
    they get the same step checks as a workflow's; a docker action's image must be pinned."""
    runs = doc.get("runs")
    if not isinstance(runs, LineDict):
        return
    host = _GitHubWorkflow(source, _empty())  # no triggers, jobs or permissions of its own
    context = _JobContext(host, "action", runs, doc.line_of("runs"))
    context.name = "composite action"
    image = runs.get("image")
    if isinstance(image, str) and image.startswith("docker://"):
        yield from context.pinning(image, runs.line_of("image"), "runs.image")
    yield from context.findings()


def _issue(
    rule_id: str,
    message: str,
    line: int,
    material: str,
    *,
    severity: Severity | None = None,
    evidence: str | None = None,
) -> Issue:
    """A pipeline issue: ``material`` names the workflow, job or step and the problem."""
    return Issue(
        rule_id,
        message,
        line=line,
        material=f"{rule_id}\x00{material}",
        severity=severity,
        evidence=evidence,
    )


# --- GitHub Actions ------------------------------------------------------------------------------


class _GitHubWorkflow:
    def __init__(self, source: SourceFile, doc: LineDict) -> None:
        self.source = source
        self.doc = doc
        on_key: Any = "on" if "on" in doc else True
        self.triggers = self._triggers(doc.get(on_key))
        jobs = doc.get("jobs")
        self.jobs: LineDict = jobs if isinstance(jobs, LineDict) else _empty()
        workflow_env = doc.get("env")
        self.workflow_env = workflow_env if isinstance(workflow_env, LineDict) else None

    @staticmethod
    def _triggers(value: Any) -> set[str]:
        if isinstance(value, str):
            return {value}
        if isinstance(value, list):
            return {str(v) for v in value}
        if isinstance(value, dict):
            return {str(k) for k in value}
        return set()

    def findings(self) -> Iterator[Issue]:
        yield from self._permissions()
        for job_id, job in self.jobs.items():
            if not isinstance(job, LineDict):
                continue
            job_line = self.jobs.line_of(job_id)
            context = _JobContext(self, str(job_id), job, job_line)
            yield from context.findings()

    def _permissions(self) -> Iterator[Issue]:
        top = self.doc.get("permissions")
        if top == "write-all":
            yield _issue(
                "QG-CI-002",
                "Workflow grants the token write-all permissions; grant each scope it needs",
                self.doc.line_of("permissions"), "workflow:write-all",
                evidence="permissions: write-all",
            )
        for job_id, job in self.jobs.items():
            if isinstance(job, LineDict) and job.get("permissions") == "write-all":
                yield _issue(
                    "QG-CI-002",
                    f"Job '{job_id}' grants the token write-all permissions",
                    job.line_of("permissions"), f"job:{job_id}:write-all",
                    evidence="permissions: write-all",
                )
        if "permissions" in self.doc:
            return
        bare = [
            str(job_id) for job_id, job in self.jobs.items()
            if isinstance(job, LineDict) and "permissions" not in job
        ]
        if bare:
            names = ", ".join(bare[:6]) + (" …" if len(bare) > 6 else "")
            line = self.doc.line_of("jobs") if "jobs" in self.doc else 1
            yield _issue(
                "QG-CI-003",
                "No top-level permissions and none on job(s) "
                f"{names}: the token gets the repository default (often read/write)",
                line, "missing-permissions:" + ",".join(sorted(bare)),
            )


@dataclass(frozen=True)
class _SecretEnv:
    name: str
    expression: str
    line: int


class _JobContext:
    def __init__(self, workflow: _GitHubWorkflow, job_id: str, job: LineDict, line: int) -> None:
        self.workflow = workflow
        self.source = workflow.source
        self.job_id = job_id
        self.name = f"job '{job_id}'"  # how messages refer to it
        self.job = job
        self.line = line
        steps = job.get("steps")
        self.steps: list[tuple[int, LineDict, int]] = []
        if isinstance(steps, LineList):
            self.steps = [
                (index, step, steps.line_of(index))
                for index, step in enumerate(steps) if isinstance(step, LineDict)
            ]
        self.secret_env = self._secret_env()
        self.uploads_artifacts = any(
            _text(step.get("uses")).startswith("actions/upload-artifact")
            for _i, step, _l in self.steps
        )

    def _secret_env(self) -> dict[str, _SecretEnv]:
        """Environment variables (workflow, job, step level) that carry a secret."""
        found: dict[str, _SecretEnv] = {}
        blocks: list[Any] = [self.workflow.workflow_env, self.job.get("env")]
        blocks.extend(step.get("env") for _i, step, _l in self.steps)
        for block in blocks:
            if not isinstance(block, LineDict):
                continue
            for name, value in block.items():
                text = str(value)
                if "secrets." in text or "github.token" in text:
                    found.setdefault(str(name), _SecretEnv(str(name), text, block.line_of(name)))
        return found

    def _step_label(self, index: int, step: LineDict) -> str:
        name = step.get("name") or step.get("id") or step.get("uses")
        return f"{self.name}, step {index + 1}" + (f" ({name})" if name else "")

    def findings(self) -> Iterator[Issue]:
        reusable = self.job.get("uses")
        if isinstance(reusable, str):
            yield from self.pinning(reusable, self.job.line_of("uses"), self.name)
        privileged = self.workflow.triggers & _PRIVILEGED_TRIGGERS
        for index, step, _step_line in self.steps:
            label = self._step_label(index, step)
            uses = step.get("uses")
            if isinstance(uses, str):
                yield from self.pinning(uses, step.line_of("uses"), label)
                yield from self._action_inputs(uses, step, label, bool(privileged))
            run = step.get("run")
            if isinstance(run, str):
                yield from self._run_script(run, step.line_of("run"), label, step, bool(privileged))
        yield from self._cloud_env()
        yield from self._quantum()

    # pinning -------------------------------------------------------------------------------------

    def pinning(self, uses: str, line: int, label: str) -> Iterator[Issue]:
        if uses.startswith("./") or uses.startswith(".\\") or "${{" in uses:
            return  # local action, or chosen by an expression (matrix) we cannot resolve
        if uses.startswith("docker://"):
            if "@sha256:" not in uses:
                yield _issue(
                    "QG-CI-004",
                    f"{label}: docker action {uses} is not pinned by image digest",
                    line, uses, evidence=uses,
                )
            return
        target, _, ref = uses.partition("@")
        if _SHA40.match(ref):
            return
        owner = target.split("/", 1)[0].lower()
        shown = f"@{ref}" if ref else " without a ref"
        if owner in _GITHUB_OWNERS:
            yield _issue(
                "QG-CI-005",
                f"{label}: GitHub-owned action {target}{shown} is not pinned to a commit SHA",
                line, uses, evidence=uses,
            )
        else:
            yield _issue(
                "QG-CI-004",
                f"{label}: third-party action {target}{shown} is not pinned to a full commit "
                "SHA; a moved tag runs new code with this job's secrets",
                line, uses, evidence=uses,
            )

    # action inputs: checkout of PR code, cloud login, artifacts ----------------------------------

    def _action_inputs(
        self, uses: str, step: LineDict, label: str, privileged: bool
    ) -> Iterator[Issue]:
        with_block = step.get("with")
        inputs = with_block if isinstance(with_block, LineDict) else _empty()
        action = uses.split("@", 1)[0].lower()
        if action == "actions/checkout" and privileged:
            for key in ("ref", "repository"):
                value = _text(inputs.get(key))
                if value and _PR_HEAD_REF.search(value):
                    triggers = ", ".join(sorted(self.workflow.triggers & _PRIVILEGED_TRIGGERS))
                    yield _issue(
                        "QG-CI-001",
                        f"{label}: a {triggers} workflow checks out pull-request code "
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
                yield _issue(
                    "QG-CI-008",
                    f"{label}: AWS credentials come from stored access keys{chained}; use "
                    "role-to-assume with GitHub's OIDC provider (permissions: id-token: write)",
                    inputs.line_of(key), f"{self.job_id}:aws-keys", evidence=key,
                )
        if action == "azure/login" and "creds" in inputs:
            yield _issue(
                "QG-CI-008",
                f"{label}: azure/login uses a service-principal secret (creds); use "
                "client-id / tenant-id / subscription-id with OIDC federation",
                inputs.line_of("creds"), f"{self.job_id}:azure-creds", evidence="creds",
            )
        if action == "google-github-actions/auth" and "credentials_json" in inputs:
            yield _issue(
                "QG-CI-008",
                f"{label}: Google auth uses a service-account key (credentials_json); use "
                "workload_identity_provider with OIDC",
                inputs.line_of("credentials_json"), f"{self.job_id}:gcp-key",
                evidence="credentials_json",
            )
        if action == "actions/upload-artifact":
            path = _text(inputs.get("path"))
            for piece in path.splitlines():
                if _CREDENTIAL_PATH.search(" " + piece.strip()):
                    yield _issue(
                        "QG-CI-007",
                        f"{label}: uploads {piece.strip()!r} as an artifact; it looks like a "
                        "credentials file, and artifacts can be downloaded by anyone with "
                        "read access",
                        inputs.line_of("path"), f"{self.job_id}:artifact:{piece.strip()}",
                        evidence=piece.strip(),
                    )
                    break

    # run scripts ---------------------------------------------------------------------------------

    def _run_script(
        self, script: str, line: int, label: str, step: LineDict, privileged: bool
    ) -> Iterator[Issue]:
        yield from self._injection(script, line, label, "run")
        if privileged and _SHELL_CHECKOUT.search(script):
            where = next(
                (s.line for s in _script_lines(self.source, line, script)
                 if _SHELL_CHECKOUT.search(s.text)), line,
            )
            triggers = ", ".join(sorted(self.workflow.triggers & _PRIVILEGED_TRIGGERS))
            yield _issue(
                "QG-CI-001",
                f"{label}: a {triggers} workflow fetches and checks out pull-request code in a "
                "script; it then runs with this repository's secrets and write token",
                where, f"{self.job_id}:shell-checkout", evidence="git/gh checkout of PR head",
            )
        names = "|".join(re.escape(n) for n in self.secret_env)
        env_ref = rf"\$\{{?(?:{names})\b" if names else r"(?!x)x"
        secret_refs = re.compile(rf"\$\{{\{{\s*secrets\.[A-Za-z0-9_]+\s*\}}\}}|{env_ref}")
        has_secrets = bool(self.secret_env) or "secrets." in script
        for entry in _script_lines(self.source, line, script):
            if has_secrets and _DUMP_ENV.match(entry.text):
                yield _issue(
                    "QG-CI-007",
                    f"{label}: `{entry.text.strip()}` prints the whole environment, which holds "
                    "secrets (masking misses encoded or partial values)",
                    entry.line, f"{self.job_id}:dump-env", severity=Severity.MEDIUM,
                    evidence=entry.text.strip(),
                )
                continue
            secret = _secret_use(entry.text, secret_refs)
            if secret is None:
                continue
            kind = _leak_kind(entry.text, secret)
            if kind is None:
                continue
            yield self._leak(kind, secret, entry, label)

    def _leak(self, kind: str, secret: str, entry: _ScriptLine, label: str) -> Issue:
        if kind == "print":
            message = f"{label}: prints {secret} to the job log"
            severity = None
        elif kind == "summary":
            message = f"{label}: writes {secret} to the job summary, shown to every reader"
            severity = None
        elif self.uploads_artifacts:
            message = f"{label}: writes {secret} to a file, and this job uploads artifacts"
            severity = None
        else:
            message = (
                f"{label}: writes {secret} to a file in the workspace; make sure it is never "
                "uploaded, cached or left on a shared runner"
            )
            severity = Severity.LOW
        return _issue(
            "QG-CI-007", message, entry.line,
            f"{self.job_id}:{kind}:{secret}:{entry.text.strip()}",
            severity=severity, evidence=secret,
        )

    def _injection(self, script: str, line: int, label: str, where: str) -> Iterator[Issue]:
        if "${{" not in script:
            return
        for entry in _script_lines(self.source, line, script):
            for match in _EXPRESSION.finditer(entry.text):
                expression = match.group(1).strip()
                untrusted = _UNTRUSTED_CONTEXT.search(expression)
                if untrusted is None:
                    continue
                # In a folded script the expression may sit a few file lines further on.
                found = self.source.find_line(match.group(0), entry.line, entry.line + 50)
                at = found or entry.line
                yield _issue(
                    "QG-CI-006",
                    f"{label}: {untrusted.group(0)} is pasted into the {where} script with "
                    "${{ }}; anyone who can open an issue or pull request can run commands. "
                    "Pass it through env: and quote the variable",
                    at, f"{self.job_id}:{where}:{expression}",
                    evidence="${{ " + expression + " }}",
                )

    # cloud keys and quantum credentials ----------------------------------------------------------

    def _cloud_env(self) -> Iterator[Issue]:
        for env in self.secret_env.values():
            if _CLOUD_SECRET_NAME.match(env.name) and "secrets." in env.expression:
                yield _issue(
                    "QG-CI-008",
                    f"{self.name}: {env.name} comes from a stored secret; federate with "
                    "OIDC (short-lived credentials) instead of a long-lived key",
                    env.line, f"{self.job_id}:env:{env.name}", evidence=env.name,
                )

    def _quantum_credentials(self) -> list[tuple[str, int]]:
        names: dict[str, int] = {}
        for env in self.secret_env.values():
            if _QUANTUM_SECRET_NAME.match(env.name) or _QUANTUM_SECRET_REF.search(env.expression):
                names.setdefault(env.name, env.line)
        for _index, step, step_line in self.steps:
            for key in ("with", "run"):
                block = step.get(key)
                text = str(dict(block)) if isinstance(block, LineDict) else _text(block)
                for match in _QUANTUM_SECRET_REF.finditer(text):
                    names.setdefault(match.group(1), step.line_of(key) or step_line)
        aws = any(
            _text(step.get("uses")).lower().startswith("aws-actions/configure-aws-credentials")
            for _i, step, _l in self.steps
        )
        if aws and any(_BRAKET.search(_text(step.get("run"))) for _i, step, _l in self.steps):
            first = next(
                (step.line_of("uses") for _i, step, _l in self.steps
                 if _text(step.get("uses")).lower().startswith("aws-actions/")), self.line,
            )
            names.setdefault(_AWS_BRAKET, first)
        return sorted(names.items(), key=lambda item: item[1])

    def _quantum(self) -> Iterator[Issue]:
        credentials = self._quantum_credentials()
        if not credentials:
            return
        gated = "environment" in self.job
        condition = _text(self.job.get("if"))
        fork_guard = bool(
            re.search(r"head\.repo\.full_name\s*==\s*github\.repository|head\.repo\.fork\s*==\s*false",
                      condition)
        )
        names = ", ".join(name for name, _ in credentials)
        first_line = credentials[0][1]
        triggers = self.workflow.triggers
        if "pull_request_target" in triggers and not fork_guard:
            yield _issue(
                "QG-CI-010",
                f"{self.name} holds quantum provider credentials ({names}) in a "
                "pull_request_target workflow: pull requests from forks run it with those "
                "credentials and can submit hardware jobs on the organisation's account",
                first_line, f"{self.job_id}:prt:{names}",
                severity=Severity.MEDIUM if gated else None, evidence=names,
            )
        elif "pull_request" in triggers and not gated and not fork_guard:
            yield _issue(
                "QG-CI-010",
                f"{self.name} uses quantum provider credentials ({names}) on "
                "pull_request events without an environment gate: fork PRs get no secrets, "
                "but every branch of this repository can spend QPU budget",
                first_line, f"{self.job_id}:pr:{names}", severity=Severity.LOW, evidence=names,
            )
        for name, line in credentials:
            if name == _AWS_BRAKET:
                continue  # AWS federates with OIDC: QG-CI-008 covers stored AWS keys
            advice = "" if gated else "; put the job behind a protected environment"
            yield _issue(
                "QG-CI-009",
                f"{self.name} receives {name} from CI secrets: the provider offers no "
                f"OIDC federation, so this is a long-lived token; scope it to this job{advice}",
                line, f"{self.job_id}:{name}", evidence=name,
            )


# --- GitLab CI -----------------------------------------------------------------------------------

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
_REEVALUATED = re.compile(
    r"\beval\b|\b(?:ba|z|da)?sh\s+-c\b|\bpython3?\s+-c\b|\bnode\s+-e\b|\bruby\s+-e\b"
    r"|\bperl\s+-e\b|\bpwsh\s+-c(?:ommand)?\b"
)
_GITLAB_SECRET_VARS = frozenset(
    {"CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_DEPLOY_PASSWORD", "CI_JOB_JWT", "CI_JOB_JWT_V2"}
)
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_AWS_CONFIGURE_SECRET = re.compile(r"aws\s+configure\s+set\s+aws_secret_access_key", re.I)


class _GitLabPipeline:
    def __init__(self, source: SourceFile, doc: LineDict) -> None:
        self.source = source
        self.doc = doc

    def findings(self) -> Iterator[Issue]:
        yield from self._includes()
        for key in ("before_script", "after_script"):
            if key in self.doc:
                yield from self._scripts("(top level)", self.doc, key, _empty(), False)
        default = self.doc.get("default")
        if isinstance(default, LineDict):
            for key in ("before_script", "after_script"):
                if key in default:
                    yield from self._scripts("default", default, key, _empty(), False)
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
                yield _issue(
                    "QG-CI-004",
                    f"include: remote {url} pulls pipeline code from a URL with no integrity "
                    "check; vendor it or include a project file at a commit SHA",
                    line, f"remote:{url}", evidence=url,
                )
            elif "project" in entry:
                ref = str(entry.get("ref", ""))
                if not _SHA40.match(ref):
                    shown = f"ref {ref}" if ref else "the default branch"
                    yield _issue(
                        "QG-CI-004",
                        f"include: project {entry['project']} at {shown}; pin ref to a commit "
                        "SHA so a change there cannot alter this pipeline",
                        line, f"project:{entry['project']}@{ref}",
                        evidence=f"{entry['project']}@{ref or 'HEAD'}",
                    )
            elif "component" in entry:
                component = str(entry["component"])
                _path, _, version = component.rpartition("@")
                if not _SHA40.match(version):
                    yield _issue(
                        "QG-CI-004",
                        f"include: component {component} is not pinned to a commit SHA",
                        line, f"component:{component}", evidence=component,
                    )

    def _job(self, job_id: str, job: LineDict, global_vars: Any) -> Iterator[Issue]:
        artifacts = isinstance(job.get("artifacts"), LineDict)
        for key in ("before_script", "script", "after_script"):
            if key in job:
                yield from self._scripts(f"job '{job_id}'", job, key, job, artifacts)
        scripts = "\n".join(
            "\n".join(str(s) for s in _flatten(job.get(key)))
            for key in ("before_script", "script", "after_script")
        )
        variables = {
            str(k): v for block in (global_vars, job.get("variables"))
            if isinstance(block, dict) for k, v in block.items()
        }
        referenced = {m.group(1) for m in _SHELL_VAR.finditer(scripts)}
        has_oidc = "id_tokens" in job
        cloud = sorted(
            name for name in referenced | set(variables) if _CLOUD_SECRET_NAME.match(name)
        )
        if (cloud or _AWS_CONFIGURE_SECRET.search(scripts)) and not has_oidc:
            shown = ", ".join(cloud) or "aws configure set aws_secret_access_key"
            yield _issue(
                "QG-CI-008",
                f"job '{job_id}' uses long-lived cloud keys ({shown}); use id_tokens with the "
                "cloud's OIDC federation instead",
                self._first_line(job, cloud) or self.doc.line_of(job_id),
                f"{job_id}:cloud:{shown}", evidence=shown,
            )
        quantum = sorted(
            name for name in referenced | set(variables) if _QUANTUM_SECRET_NAME.match(name)
        )
        for name in quantum:
            gated = "environment" in job
            advice = "" if gated else "; run the job in a protected environment"
            yield _issue(
                "QG-CI-009",
                f"job '{job_id}' uses {name} from CI variables: the provider offers no OIDC "
                f"federation, so this is a long-lived token; mark it protected and masked{advice}",
                self._first_line(job, [name]) or self.doc.line_of(job_id),
                f"{job_id}:{name}", evidence=name,
            )

    def _first_line(self, job: LineDict, names: list[str]) -> int | None:
        if not names:
            return None
        start = job.line
        for number in range(start, len(self.source.lines) + 1):
            if any(name in self.source.lines[number - 1] for name in names):
                return number
        return None

    def _scripts(
        self, label: str, holder: LineDict, key: str, job: LineDict, artifacts: bool
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
            for entry in _script_lines(self.source, line, text):
                yield from self._script_line(label, entry, artifacts)

    def _script_line(self, label: str, entry: _ScriptLine, artifacts: bool) -> Iterator[Issue]:
        text = entry.text
        for match in _GITLAB_UNTRUSTED.finditer(text):
            variable = match.group(1)
            if _REEVALUATED.search(text[: match.start()]):
                yield _issue(
                    "QG-CI-006",
                    f"{label}: ${variable} is evaluated again as code (eval / sh -c / -c "
                    "interpreters); a crafted commit message or branch name runs commands",
                    entry.line, f"{label}:eval:{variable}:{text.strip()}",
                    evidence=f"${variable}",
                )
            elif _quote_state_at(text, match.start()) == "":
                yield _issue(
                    "QG-CI-011",
                    f"{label}: ${variable} is expanded without double quotes; its words and "
                    "globs reach the command as separate arguments (argument injection)",
                    entry.line, f"{label}:unquoted:{variable}:{text.strip()}",
                    evidence=f"${variable}",
                )
        stripped = text.strip()
        if _DUMP_ENV.match(stripped):
            yield _issue(
                "QG-CI-007",
                f"{label}: `{stripped}` prints every CI variable, secrets included",
                entry.line, f"{label}:dump-env", severity=Severity.MEDIUM, evidence=stripped,
            )
            return
        for match in _SHELL_VAR.finditer(text):
            name = match.group(1)
            if name in _GITLAB_SECRET_VARS or (
                _SECRETISH_NAME.search(name) and not name.startswith("CI_")
            ):
                kind = _leak_kind(text, match.group(0))
                if kind is None or kind == "summary":
                    continue
                if kind == "print":
                    message, severity = f"{label}: prints ${name} to the job log", None
                elif artifacts:
                    message, severity = (
                        f"{label}: writes ${name} to a file, and this job keeps artifacts", None
                    )
                else:
                    message, severity = (
                        f"{label}: writes ${name} to a file in the build directory; keep it out "
                        "of artifacts and caches", Severity.LOW,
                    )
                yield _issue(
                    "QG-CI-007", message, entry.line,
                    f"{label}:{kind}:{name}:{stripped}", severity=severity, evidence=f"${name}",
                )
                break


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for element in value for item in _flatten(element)]
    return [] if value is None else [value]
