"""GitHub Actions: workflows (triggers, token permissions, jobs) and the actions a repository
defines itself (``action.yml``). A job's steps are checked in ``github_steps``; the job
itself holds the checks that need all its steps at once: stored cloud keys and quantum
provider credentials. Rule metadata: ``scanner/rules/cicd.yaml``.

Composite actions (``action.yml`` with ``runs.steps``) get the step checks, since their
steps run inside the calling job; a docker action's ``runs.image`` must carry a digest.

GitHub's ``on:`` key loads as the boolean ``True`` under YAML 1.1; both spellings are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scanner.detectors.cicd.common import (
    CLOUD_SECRET_NAME,
    QUANTUM_SECRET_NAME,
    QUANTUM_SECRET_REF,
    as_text,
    empty,
    issue,
)
from scanner.detectors.cicd.github_steps import (
    PR_HEAD_REF,
    SHELL_CHECKOUT,
    SecretEnv,
    StepChecks,
    pinning,
)
from scanner.formats.yaml import LineDict, LineList
from scanner.model import Issue, Severity
from scanner.source import SourceFile

_AWS_BRAKET = "AWS credentials (Amazon Braket)"
_BRAKET = re.compile(r"\bbraket|amazon-braket", re.I)
_FORK_GUARD = re.compile(
    r"head\.repo\.full_name\s*==\s*github\.repository|head\.repo\.fork\s*==\s*false"
)
# Events whose workflow runs the pull request's own code (fork PRs included).
_PR_CODE_TRIGGERS = frozenset(
    {"pull_request", "pull_request_review", "pull_request_review_comment"}
)
_MATRIX_LABEL = re.compile(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]{1,100})\s*\}\}")


class Workflow:
    def __init__(self, source: SourceFile, doc: LineDict) -> None:
        self.source = source
        self.doc = doc
        on_key: Any = "on" if "on" in doc else True
        self.triggers = self._triggers(doc.get(on_key))
        jobs = doc.get("jobs")
        self.jobs: LineDict = jobs if isinstance(jobs, LineDict) else empty()
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
            context = Job(self, str(job_id), job, job_line)
            yield from context.findings()

    def _permissions(self) -> Iterator[Issue]:
        top = self.doc.get("permissions")
        if top == "write-all":
            yield issue(
                "QG-CI-002",
                "Workflow grants the token write-all permissions; grant each scope it needs",
                self.doc.line_of("permissions"), "workflow:write-all",
                evidence="permissions: write-all",
            )
        for job_id, job in self.jobs.items():
            if isinstance(job, LineDict) and job.get("permissions") == "write-all":
                yield issue(
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
            yield issue(
                "QG-CI-003",
                "No top-level permissions and none on job(s) "
                f"{names}: the token gets the repository default (often read/write)",
                line, "missing-permissions:" + ",".join(sorted(bare)),
            )


def action_findings(source: SourceFile, doc: LineDict) -> Iterator[Issue]:
    """A composite action's steps run inside the calling job, with its token and secrets, so
    they get the same step checks as a workflow's; a docker action's image must be pinned."""
    runs = doc.get("runs")
    if not isinstance(runs, LineDict):
        return
    host = Workflow(source, empty())  # no triggers, jobs or permissions of its own
    context = Job(host, "action", runs, doc.line_of("runs"), name="composite action")
    image = runs.get("image")
    if isinstance(image, str) and image.startswith("docker://"):
        yield from pinning(image, runs.line_of("image"), "runs.image")
    yield from context.findings()


class Job:
    """One job of a workflow (or the ``runs`` of a composite action)."""

    def __init__(
        self, workflow: Workflow, job_id: str, job: LineDict, line: int, name: str | None = None
    ) -> None:
        self.workflow = workflow
        self.source = workflow.source
        self.job_id = job_id
        self.name = name or f"job '{job_id}'"  # how messages refer to it
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
            as_text(step.get("uses")).startswith("actions/upload-artifact")
            for _i, step, _l in self.steps
        )

    def _secret_env(self) -> dict[str, SecretEnv]:
        """Environment variables (workflow, job, step level) that carry a secret."""
        found: dict[str, SecretEnv] = {}
        blocks: list[Any] = [self.workflow.workflow_env, self.job.get("env")]
        blocks.extend(step.get("env") for _i, step, _l in self.steps)
        for block in blocks:
            if not isinstance(block, LineDict):
                continue
            for name, value in block.items():
                text = str(value)
                if "secrets." in text or "github.token" in text:
                    found.setdefault(str(name), SecretEnv(str(name), text, block.line_of(name)))
        return found

    def _step_label(self, index: int, step: LineDict) -> str:
        name = step.get("name") or step.get("id") or step.get("uses")
        return f"{self.name}, step {index + 1}" + (f" ({name})" if name else "")

    def findings(self) -> Iterator[Issue]:
        reusable = self.job.get("uses")
        if isinstance(reusable, str):
            yield from pinning(reusable, self.job.line_of("uses"), self.name)
        checks = StepChecks(
            self.source, self.job_id, self.workflow.triggers, self.secret_env,
            self.uploads_artifacts,
        )
        for index, step, _step_line in self.steps:
            yield from checks.step(step, self._step_label(index, step))
        yield from self._cloud_env()
        yield from self._quantum()
        yield from self._self_hosted()

    # pull-request code on self-hosted runners ----------------------------------------------------

    def _runner_labels(self) -> list[str]:
        """The runner labels of ``runs-on`` (a label, a list, or ``{labels: …}``), with a
        ``${{ matrix.x }}`` label replaced by the values the matrix gives ``x``."""
        runs_on = self.job.get("runs-on")
        if isinstance(runs_on, dict):
            runs_on = runs_on.get("labels")
        labels = [runs_on] if isinstance(runs_on, str) else (
            [str(label) for label in runs_on] if isinstance(runs_on, list) else []
        )
        strategy = self.job.get("strategy")
        matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
        resolved: list[str] = []
        for label in labels:
            found = _MATRIX_LABEL.fullmatch(label.strip())
            if found is None or not isinstance(matrix, dict):
                resolved.append(label)
                continue
            values: list[object] = []
            axis = matrix.get(found.group(1))
            values.extend(axis if isinstance(axis, list) else [axis])
            include = matrix.get("include")
            values.extend(
                extra.get(found.group(1))
                for extra in (include if isinstance(include, list) else [])
                if isinstance(extra, dict)
            )
            for value in values:
                if isinstance(value, list):
                    resolved.extend(str(item) for item in value)
                elif value is not None:
                    resolved.append(str(value))
        return resolved

    def _checks_out_pr_head(self) -> bool:
        for _index, step, _line in self.steps:
            if as_text(step.get("uses")).lower().startswith("actions/checkout"):
                inputs = step.get("with")
                if isinstance(inputs, dict) and any(
                    PR_HEAD_REF.search(as_text(inputs.get(key))) for key in ("ref", "repository")
                ):
                    return True
            if SHELL_CHECKOUT.search(as_text(step.get("run"))):
                return True
        return False

    def _self_hosted(self) -> Iterator[Issue]:
        if not any(label.strip().lower() == "self-hosted" for label in self._runner_labels()):
            return
        triggers = self.workflow.triggers
        pr_code = sorted(triggers & _PR_CODE_TRIGGERS)
        if not pr_code and "pull_request_target" not in triggers:
            return
        if _FORK_GUARD.search(as_text(self.job.get("if"))):
            return
        line = self.job.line_of("runs-on") or self.line
        runner = "a self-hosted runner"
        if "pull_request_target" in triggers and self._checks_out_pr_head():
            yield issue(
                "QG-CI-012",
                f"{self.name} checks out pull-request code in a pull_request_target workflow "
                f"and runs it on {runner}: a fork's code runs on your machine with this "
                "repository's secrets and write token, and can stay there for later jobs. Test "
                "pull requests in a pull_request workflow on GitHub-hosted runners",
                line, f"{self.job_id}:self-hosted:prt-checkout",
                severity=Severity.CRITICAL, evidence="runs-on: self-hosted",
            )
            return
        if pr_code:
            gated = "environment" in self.job
            yield issue(
                "QG-CI-012",
                f"{self.name} runs on {runner} for {', '.join(pr_code)} events: a pull "
                "request, from a fork too, runs its own code on that machine, where it can "
                "read what other jobs left behind (credentials, caches, QPU account config) "
                "and persist for later jobs. Run pull requests on GitHub-hosted runners, or on "
                "ephemeral self-hosted runners kept to trusted branches",
                line, f"{self.job_id}:self-hosted:{','.join(pr_code)}",
                severity=Severity.MEDIUM if gated else None, evidence="runs-on: self-hosted",
            )
            return
        yield issue(
            "QG-CI-012",
            f"{self.name} runs on {runner} for pull_request_target events: any fork can "
            "start it on that machine with this repository's secrets; the job runs the base "
            "branch's code, so one injection or checkout mistake becomes code execution on "
            "your runner. Keep pull_request_target jobs on GitHub-hosted runners",
            line, f"{self.job_id}:self-hosted:pull_request_target",
            severity=Severity.MEDIUM, evidence="runs-on: self-hosted",
        )

    # cloud keys and quantum credentials ----------------------------------------------------------

    def _cloud_env(self) -> Iterator[Issue]:
        for env in self.secret_env.values():
            if CLOUD_SECRET_NAME.match(env.name) and "secrets." in env.expression:
                yield issue(
                    "QG-CI-008",
                    f"{self.name}: {env.name} comes from a stored secret; federate with "
                    "OIDC (short-lived credentials) instead of a long-lived key",
                    env.line, f"{self.job_id}:env:{env.name}", evidence=env.name,
                )

    def _quantum_credentials(self) -> list[tuple[str, int]]:
        names: dict[str, int] = {}
        for env in self.secret_env.values():
            if QUANTUM_SECRET_NAME.match(env.name) or QUANTUM_SECRET_REF.search(env.expression):
                names.setdefault(env.name, env.line)
        for _index, step, step_line in self.steps:
            for key in ("with", "run"):
                block = step.get(key)
                text = str(dict(block)) if isinstance(block, LineDict) else as_text(block)
                for match in QUANTUM_SECRET_REF.finditer(text):
                    names.setdefault(match.group(1), step.line_of(key) or step_line)
        aws = any(
            as_text(step.get("uses")).lower().startswith("aws-actions/configure-aws-credentials")
            for _i, step, _l in self.steps
        )
        if aws and any(_BRAKET.search(as_text(step.get("run"))) for _i, step, _l in self.steps):
            first = next(
                (step.line_of("uses") for _i, step, _l in self.steps
                 if as_text(step.get("uses")).lower().startswith("aws-actions/")), self.line,
            )
            names.setdefault(_AWS_BRAKET, first)
        return sorted(names.items(), key=lambda item: item[1])

    def _quantum(self) -> Iterator[Issue]:
        credentials = self._quantum_credentials()
        if not credentials:
            return
        gated = "environment" in self.job
        condition = as_text(self.job.get("if"))
        fork_guard = bool(_FORK_GUARD.search(condition))
        names = ", ".join(name for name, _ in credentials)
        first_line = credentials[0][1]
        triggers = self.workflow.triggers
        if "pull_request_target" in triggers and not fork_guard:
            yield issue(
                "QG-CI-010",
                f"{self.name} holds quantum provider credentials ({names}) in a "
                "pull_request_target workflow: pull requests from forks run it with those "
                "credentials and can submit hardware jobs on the organisation's account",
                first_line, f"{self.job_id}:prt:{names}",
                severity=Severity.MEDIUM if gated else None, evidence=names,
            )
        elif "pull_request" in triggers and not gated and not fork_guard:
            yield issue(
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
            yield issue(
                "QG-CI-009",
                f"{self.name} receives {name} from CI secrets: the provider offers no "
                f"OIDC federation, so this is a long-lived token; scope it to this job{advice}",
                line, f"{self.job_id}:{name}", evidence=name,
            )
