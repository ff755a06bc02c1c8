"""The pre-commit hook, run for real: the pre-commit package installs it into a temporary git
repository holding the leaky sample and a baseline, and `git commit` runs it.

The hook definition comes from this repository's .pre-commit-hooks.yaml. Its `language:
python` makes pre-commit build a virtualenv and pip-install qgov from the index, which a
test cannot do offline, so the test runs the same definition as a `repo: local` hook with
`language: system`, calling the qgov under test through a `qgov` on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import IONQ_KEY
from tests.git_helpers import GIT_ENV
from tests.helpers import LEAKY, REPO

pre_commit = pytest.importorskip("pre_commit", reason="pre-commit is not installed (dev extra)")
HOOKS = REPO / ".pre-commit-hooks.yaml"


def test_the_hook_manifest_is_valid() -> None:
    from pre_commit.clientlib import load_manifest

    [hook] = load_manifest(str(HOOKS))
    assert hook["id"] == "qgov" and hook["entry"].startswith("qgov scan")
    assert hook["pass_filenames"] is True and hook["require_serial"] is True


@pytest.fixture
def hooked(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The leaky sample as a repository with a baseline, the qgov hook installed."""
    repo = tmp_path / "project"
    shutil.copytree(LEAKY, repo)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    qgov = bin_dir / "qgov"
    qgov.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m scanner "$@"\n')
    qgov.chmod(0o755)
    env = {
        **os.environ, **GIT_ENV,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
    }
    [hook] = yaml.safe_load(HOOKS.read_text())
    config = {"repos": [{"repo": "local", "hooks": [{**hook, "language": "system"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    settings = repo / ".qgov.yaml"
    settings.write_text(settings.read_text() + "baseline: .qgov-baseline.json\n")
    run(repo, env, "git", "init", "-q", "-b", "main")
    run(repo, env, "qgov", "baseline", "create", ".", "-o", ".qgov-baseline.json",
        "--no-engines")
    run(repo, env, sys.executable, "-m", "pre_commit", "install")
    return repo, env


def run(repo: Path, env: dict[str, str], *argv: str, ok: bool = True) -> str:
    completed = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True,
                               timeout=300, check=False)
    output = completed.stdout + completed.stderr
    assert (completed.returncode == 0) is ok, output
    return output


def test_commits_with_baselined_findings_pass_and_a_new_secret_is_blocked(
    hooked: tuple[Path, dict[str, str]]
) -> None:
    repo, env = hooked
    run(repo, env, "git", "add", "-A")
    first = run(repo, env, "git", "commit", "-m", "adopt qgov with a baseline")
    assert "qgov compliance scan" in first and "Passed" in first

    # The bug behind the hook: a one-line comment edit in files holding 7 or more baselined
    # findings brought them back as new (paths were relative to the file).
    baseline = json.loads((repo / ".qgov-baseline.json").read_text())
    edited = ["Dockerfile", "infra/terraform/storage.tf"]
    assert sum(e["path"] in edited for e in baseline["findings"]) >= 7
    for path in edited:
        target = repo / path
        target.write_text("# reviewed\n" + target.read_text())
    run(repo, env, "git", "add", *edited)
    assert "Passed" in run(repo, env, "git", "commit", "-m", "comment")

    # Unstaged edits are stashed by pre-commit: a secret only in the working tree does not
    # block the commit of a clean change ...
    (repo / "src" / "scratch.py").write_text("x = 1\n")
    run(repo, env, "git", "add", "src/scratch.py")
    with (repo / "src" / "scratch.py").open("a") as handle:
        handle.write(f'IONQ_API_KEY = "{IONQ_KEY}"\n')
    assert "Passed" in run(repo, env, "git", "commit", "-m", "scratch")

    # ... and a new secret that is staged is blocked, masked in the hook's output.
    run(repo, env, "git", "add", "src/scratch.py")
    blocked = run(repo, env, "git", "commit", "-m", "leak", ok=False)
    assert "Failed" in blocked and "src/scratch.py" in blocked and "QG-SEC-" in blocked
    assert IONQ_KEY not in blocked
    assert "leak" not in run(repo, env, "git", "log", "--format=%s")

    # The same hook over every file (as CI runs it) passes once the secret is gone.
    (repo / "src" / "scratch.py").write_text("x = 1\n")
    run(repo, env, "git", "add", "src/scratch.py")
    assert "Passed" in run(repo, env, sys.executable, "-m", "pre_commit", "run", "--all-files")
