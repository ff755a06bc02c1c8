"""The GitLab CI template (ci/gitlab/qgov.gitlab-ci.yml), read and run the way a runner
does: the `qgov` job's variables (template defaults, then the project's) become the
environment, its script runs in one shell with errexit in $CI_PROJECT_DIR, and the
artifacts it declares as reports must exist afterwards in the shapes GitLab reads (Code
Quality JSON, JUnit XML). The image cannot be pulled here: `qgov` is put on PATH instead,
which the script's `command -v qgov` takes as "already installed"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml

from scanner.cli import main
from tests.conftest import IBM_KEY
from tests.helpers import REPO, SAMPLES

TEMPLATE_PATH = REPO / "ci" / "gitlab" / "qgov.gitlab-ci.yml"
TEMPLATE = yaml.safe_load(TEMPLATE_PATH.read_text())


def _job(name: str = "qgov") -> dict[str, Any]:
    """The job with `extends:` resolved (one level, as the template uses it)."""
    job = dict(TEMPLATE[name])
    base = TEMPLATE[job.pop("extends")] if "extends" in job else {}
    return {**base, **job}


def test_template_declares_reports_gitlab_shows_in_merge_requests() -> None:
    job = _job()
    reports = job["artifacts"]["reports"]
    assert set(reports) == {"codequality", "junit"}
    assert job["artifacts"]["when"] == "always"  # kept when the gate fails the job
    script = "\n".join(job["script"])
    assert f"--codequality {reports['codequality']}" in script
    assert f"--junit {reports['junit']}" in script
    assert job["image"]["name"] == "$QGOV_IMAGE"
    assert "@sha256:" in TEMPLATE["variables"]["QGOV_IMAGE"]
    used = json.dumps(job)
    for name in TEMPLATE["variables"]:
        assert f"${name}" in used, f"variable {name} is never used"


def test_qgov_finds_nothing_in_its_own_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Named as GitLab names a pipeline so qgov's GitLab CI rules read it.
    shutil.copy(TEMPLATE_PATH, tmp_path / ".gitlab-ci.yml")
    assert main(["scan", str(tmp_path), "--no-engines", "--fail-on", "info"]) == 0
    assert "1 files scanned" in capsys.readouterr().out


def _run_job(project: Path, tools: Path, overrides: dict[str, str]) -> int:
    return _job_process(project, tools, overrides).returncode


def _job_process(
    project: Path, tools: Path, overrides: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    job = _job()
    variables = {**TEMPLATE["variables"], **job.get("variables", {}), **overrides}
    env = {
        "PATH": f"{tools}:/usr/bin:/bin", "HOME": str(project.parent), "CI": "true",
        "GITLAB_CI": "true", "CI_PROJECT_DIR": str(project),
        "CI_PIPELINE_SOURCE": "merge_request_event", **variables,
    }
    script = project.parent / "job.sh"
    script.write_text("\n".join(job["script"]) + "\n")
    done = subprocess.run(["bash", "--noprofile", "--norc", "-e", str(script)], cwd=project,
                          env=env, capture_output=True, text=True, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_job_runs_on_a_sample_repository_with_a_baseline(tmp_path: Path) -> None:
    project = tmp_path / "quantum-lab"
    shutil.copytree(SAMPLES / "leaky-quantum-project", project)
    tools = tmp_path / "tools"
    tools.mkdir()
    shim = tools / "qgov"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m scanner "$@"\n')
    shim.chmod(0o755)
    assert main(["baseline", "create", str(project), "-o",
                 str(project / ".qgov-baseline.json"), "--no-engines"]) == 0
    overrides = {"QGOV_BASELINE": ".qgov-baseline.json", "QGOV_EXTRA_ARGS": "--no-engines"}

    assert _run_job(project, tools, overrides) == 0
    reports = _job()["artifacts"]["reports"]
    assert json.loads((project / reports["codequality"]).read_text()) == []  # all accepted
    ET.fromstring((project / reports["junit"]).read_text())

    (project / "src" / "leak.py").write_text(f'TOKEN = "{IBM_KEY}"\n')
    assert _run_job(project, tools, overrides) == 1
    issues = json.loads((project / reports["codequality"]).read_text())
    assert {i["location"]["path"] for i in issues} == {"src/leak.py"}
    assert all(i["severity"] in {"info", "minor", "major", "critical", "blocker"}
               for i in issues)
    assert IBM_KEY not in (project / reports["codequality"]).read_text()
    junit = ET.fromstring((project / reports["junit"]).read_text())
    assert list(junit.iter("failure"))  # the new finding fails the gate in the Tests tab too
    for artifact in _job()["artifacts"]["paths"]:
        assert (project / artifact).is_file(), artifact
    assert os.path.getsize(project / "qgov-summary.md") > 0


def test_job_without_qgov_or_a_package_to_install_says_so(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    empty_tools = tmp_path / "tools"
    empty_tools.mkdir()
    done = _job_process(project, empty_tools, {})
    assert done.returncode == 2
    assert "set QGOV_PIP_SPEC" in done.stderr
