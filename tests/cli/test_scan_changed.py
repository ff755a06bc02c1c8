"""Scanning what changed: --staged reads the index (never an unstaged edit), --diff REF the
files changed since REF; a module comes whole; bad input is a clear error (exit 2)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from tests.conftest import AWS_SECRET, IONQ_KEY
from tests.git_helpers import commit, git, init, write
from tests.helpers import scan_json

_BUCKET = 'resource "aws_s3_bucket" "b" {\n  bucket = "quantum-results"\n}\n'
# In another file of the module: without it, the bucket has no public access block.
_ACCESS_BLOCK = (
    'resource "aws_s3_bucket_public_access_block" "b" {\n'
    "  bucket                  = aws_s3_bucket.b.id\n  block_public_acls       = true\n"
    "  block_public_policy     = true\n  ignore_public_acls      = true\n"
    "  restrict_public_buckets = true\n}\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = init(tmp_path / "repo")
    write(root, "src/app.py", "import os\n\nTOKEN = os.environ['IONQ_API_KEY']\n")
    write(root, "src/other.py", "x = 1\n")
    write(root, "infra/main.tf", _BUCKET)
    write(root, "infra/access.tf", _ACCESS_BLOCK)
    commit(root, "initial")
    return root


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, doc = scan_json(capsys, *args, "--fail-on", "none")
    assert code == 0
    return doc


def _leak(name: str = "IONQ_API_KEY", value: str = IONQ_KEY) -> str:
    return f'{name} = "{value}"\n'


def test_staged_scans_what_the_commit_will_hold(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    write(repo, "src/app.py", "import os\n" + _leak())
    git(repo, "add", "src/app.py")
    # Unstaged edits: a second secret in the same file and a new untracked file.
    with (repo / "src/app.py").open("a") as handle:
        handle.write(_leak("AWS_SECRET_ACCESS_KEY", AWS_SECRET))
    write(repo, "src/untracked.py", _leak())
    doc = _scan(capsys, "--staged")
    assert doc["summary"]["files_scanned"] == 1
    found = {(f["path"], f["line"]) for f in doc["findings"]}
    assert found == {("src/app.py", 2)}  # line 3 exists only in the working tree
    assert main(["scan", "--staged", "--no-engines"]) == 1  # a staged secret fails the gate
    capsys.readouterr()


def test_staged_with_engines_reads_the_staged_text(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    write(repo, "src/other.py", "import subprocess\nsubprocess.call('ls', shell=True)\n")
    git(repo, "add", "src/other.py")
    write(repo, "src/other.py", "x = 2\n")  # the working tree no longer holds it
    code, doc = scan_json(capsys, "--staged", "--fail-on", "none", engines=True)
    assert code == 0
    assert any(f["engine"] == "bandit" and f["path"] == "src/other.py" for f in doc["findings"])


def test_staged_paths_narrow_and_nothing_staged_says_so(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    doc = _scan(capsys, "--staged")
    assert doc["summary"]["files_scanned"] == 0
    assert "no staged files to scan" in doc["notices"]
    write(repo, "src/app.py", _leak())
    write(repo, "docs/readme.py", _leak())
    git(repo, "add", "-A")
    assert {f["path"] for f in _scan(capsys, "--staged", "src")["findings"]} == {"src/app.py"}


def test_a_staged_terraform_file_brings_its_module_from_the_index(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    write(repo, "infra/main.tf", _BUCKET + "# reviewed\n")
    git(repo, "add", "infra/main.tf")
    # The working tree drops the access block; the index still has it.
    (repo / "infra" / "access.tf").unlink()
    staged = _scan(capsys, "--staged")
    assert staged["summary"]["files_scanned"] == 2
    committed = _scan(capsys, str(repo / "infra"))
    git(repo, "checkout", "--", "infra/access.tf")
    whole = _scan(capsys, str(repo / "infra"))
    assert {f["fingerprint"] for f in staged["findings"]} == {
        f["fingerprint"] for f in whole["findings"] if f["path"] == "infra/main.tf"
    }
    missing = {f["rule_id"] for f in committed["findings"]} - {
        f["rule_id"] for f in whole["findings"]}
    assert "QG-IAC-004" in missing  # what the module's other file settles


def test_diff_scans_the_branch_and_the_working_tree(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "src/committed.py", _leak())
    commit(repo, "on the branch")
    git(repo, "checkout", "-q", "main")
    write(repo, "src/on_main.py", _leak())  # main moved on: not this branch's change
    commit(repo, "on main")
    git(repo, "checkout", "-q", "feature")
    write(repo, "src/other.py", _leak())  # unstaged edit
    write(repo, "src/new.py", _leak())  # untracked
    write(repo, "src/gone.py", _leak())
    commit(repo, "soon deleted", "src/gone.py")
    (repo / "src" / "gone.py").unlink()
    doc = _scan(capsys, "--diff", "main")
    assert {f["path"] for f in doc["findings"]} == {
        "src/committed.py", "src/other.py", "src/new.py"
    }
    assert doc["summary"]["files_scanned"] == 3


def test_changed_file_modes_need_git_and_a_known_ref(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = tmp_path / "plain"
    write(plain, "a.py", "x = 1\n")
    for mode in (["--staged"], ["--diff", "main"], ["--history"]):
        assert main(["scan", str(plain), *mode, "--no-engines"]) == 2, mode
        err = capsys.readouterr().err
        assert "not a git repository" in err and "Traceback" not in err, err
    monkeypatch.chdir(repo)
    for ref in ("no-such-branch", "-rf", "main~99"):
        assert main(["scan", f"--diff={ref}", "--no-engines"]) == 2
        assert "not a usable git ref" in (err := capsys.readouterr().err) or "unknown git ref" in err
    assert main(["scan", "--history", "nope..HEAD", "--no-engines"]) == 2
    assert "unknown git ref" in capsys.readouterr().err


def test_git_never_runs_the_repository_s_hooks_or_filters(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = tmp_path / "ran"
    script = repo / ".git" / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    for hook in ("post-checkout", "pre-commit", "fsmonitor-watchman"):
        target = repo / ".git" / "hooks" / hook
        target.parent.mkdir(exist_ok=True)
        os.symlink(script, target)
    git(repo, "config", "core.fsmonitor", str(script))
    git(repo, "config", "filter.evil.clean", str(script))
    git(repo, "config", "filter.evil.smudge", str(script))
    git(repo, "config", "diff.evil.textconv", str(script))
    git(repo, "config", "alias.diff-index", f"!{script}")
    write(repo, ".gitattributes", "*.py filter=evil diff=evil\n")
    write(repo, "src/app.py", _leak())
    monkeypatch.chdir(repo)
    marker.unlink(missing_ok=True)
    for mode in (["--staged"], ["--diff", "HEAD"], ["--history"]):
        main(["scan", *mode, "--no-engines", "--format", "json"])
        capsys.readouterr()
    assert not marker.exists()
