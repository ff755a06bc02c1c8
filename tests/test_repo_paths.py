"""Paths relative to the repository root, whatever the targets: a file, a sub-folder, several
folders, a symlink, a working directory inside the repository. The fingerprint of a finding
must not depend on how its file was reached (a pre-commit hook passes file names)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from scanner.repo import RootError, find_root, git_top
from tests.conftest import AWS_SECRET, IONQ_KEY
from tests.git_helpers import commit, init, write
from tests.helpers import LEAKY, scan_json

_TF_BUCKET = 'resource "aws_s3_bucket" "results" {\n  bucket = "quantum-results"\n}\n'
# In another file of the module: without it, the bucket has no public access block.
_ACCESS_BLOCK = (
    'resource "aws_s3_bucket_public_access_block" "results" {\n'
    "  bucket                  = aws_s3_bucket.results.id\n  block_public_acls       = true\n"
    "  block_public_policy     = true\n  ignore_public_acls      = true\n"
    "  restrict_public_buckets = true\n}\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = init(tmp_path / "repo")
    write(root, "src/app.py", f'IONQ_API_KEY = "{IONQ_KEY}"\n')
    write(root, "src/sub/app.py", f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n')
    write(root, "lib/app.py", f'IONQ_API_KEY = "{IONQ_KEY}"\n')
    write(root, "infra/main.tf", _TF_BUCKET)
    write(root, "infra/access.tf", _ACCESS_BLOCK)
    commit(root, "initial")
    return root


def _found(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(rule, path) -> fingerprint of every finding."""
    return {(f["rule_id"], f["path"]): f["fingerprint"] for f in doc["findings"]}


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, doc = scan_json(capsys, *args, "--fail-on", "none")
    assert code == 0
    return doc


def test_every_way_of_naming_a_file_gives_one_path_and_fingerprint(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _found(_scan(capsys, str(repo)))
    wanted = {key: fp for key, fp in whole.items() if key[1] == "src/app.py"}
    assert wanted, whole
    ways = [
        [str(repo / "src")],
        [str(repo / "src" / "app.py")],
        [str(repo / "src" / "app.py"), str(repo / "lib")],
        [str(repo / "src" / "sub"), str(repo / "src" / "app.py")],
    ]
    for args in ways:
        found = _found(_scan(capsys, *args))
        assert {k: v for k, v in found.items() if k[1] == "src/app.py"} == wanted, args
    monkeypatch.chdir(repo / "src")
    assert _found(_scan(capsys, "app.py")) == wanted
    link = repo.parent / "elsewhere.py"
    link.symlink_to(repo / "src" / "app.py")
    assert _found(_scan(capsys, str(link))) == wanted


def test_same_names_in_two_folders_stay_apart(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _scan(capsys, str(repo / "src"), str(repo / "lib"))
    paths = {f["path"] for f in doc["findings"]}
    assert {"src/app.py", "src/sub/app.py", "lib/app.py"} <= paths
    fingerprints = [f["fingerprint"] for f in doc["findings"]]
    assert len(fingerprints) == len(set(fingerprints))


def test_the_repository_config_applies_to_a_sub_folder_and_a_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = next(iter(_found(_scan(capsys, str(repo / "src" / "app.py")))))[0]
    write(repo, ".qgov.yaml", f"disable_rules: [{rule}]\n")
    for target in (repo / "src", repo / "src" / "app.py"):
        assert rule not in {f["rule_id"] for f in _scan(capsys, str(target))["findings"]}


def test_a_nested_config_wins_and_its_patterns_are_relative_to_its_folder(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, ".qgov.yaml", "disable_rules: []\n")
    write(repo, "src/.qgov.yaml", "exclude: ['/app.py', 'skipped.py']\n")
    write(repo, "src/deep/skipped.py", f'IONQ_API_KEY = "{IONQ_KEY}"\n')
    write(repo, "src/deep/app.py", f'IONQ_API_KEY = "{IONQ_KEY}"\n')
    paths = {f["path"] for f in _scan(capsys, str(repo / "src"))["findings"]}
    # '/app.py' is anchored at src/, a bare name matches at any depth below it.
    assert "src/app.py" not in paths and "src/deep/skipped.py" not in paths
    assert {"src/deep/app.py", "src/sub/app.py"} <= paths


def test_root_in_the_config_and_on_the_command_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "src/.qgov.yaml", "root: .\n")
    assert "app.py" in {f["path"] for f in _scan(capsys, str(repo / "src"))["findings"]}
    assert "src/app.py" in {
        f["path"] for f in _scan(capsys, str(repo / "src"), "--root", str(repo))["findings"]
    }


def test_without_git_the_folder_holding_qgov_yaml_is_the_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    write(project, ".qgov.yaml", "tier: internal-pilot\n")
    write(project, "src/app.py", f'IONQ_API_KEY = "{IONQ_KEY}"\n')
    assert git_top(project) is None
    paths = {f["path"] for f in _scan(capsys, str(project / "src" / "app.py"))["findings"]}
    assert paths == {"src/app.py"}


def test_targets_outside_the_root_are_a_clear_error(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = init(tmp_path / "other")
    write(other, "x.py", "x = 1\n")
    assert main(["scan", str(repo / "src"), str(other), "--no-engines"]) == 2
    assert "different repositories" in capsys.readouterr().err
    assert main(["scan", str(other), "--root", str(repo), "--no-engines"]) == 2
    assert "outside the repository root" in capsys.readouterr().err
    with pytest.raises(RootError):
        find_root([repo / "src"], given=repo / "nope")


def test_ignore_files_of_the_repository_apply_to_a_named_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, ".gitignore", "src/app.py\n")
    write(repo, ".qgovignore", "lib/\n")
    # A file named directly is scanned although .gitignore lists it (git, too, applies
    # .gitignore to untracked files only; pre-commit passes tracked ones) ...
    assert "src/app.py" in {
        f["path"] for f in _scan(capsys, str(repo / "src" / "app.py"))["findings"]
    }
    # ... while qgov's own exclusions hold, with a notice saying so.
    doc = _scan(capsys, str(repo / "lib" / "app.py"))
    assert doc["findings"] == []
    assert any("excluded" in notice for notice in doc["notices"])
    # Walking a folder applies .gitignore as a whole-repository scan does ...
    assert "src/app.py" not in {f["path"] for f in _scan(capsys, str(repo))["findings"]}
    # ... but a folder named directly is not hidden by a .gitignore that lists it.
    write(repo, ".gitignore", "src/\nsub/\n")
    assert {f["path"] for f in _scan(capsys, str(repo / "src"))["findings"]} == {"src/app.py"}
    doc = _scan(capsys, str(repo / "lib"))
    assert doc["findings"] == [] and any("nothing under it" in n for n in doc["notices"])


def test_a_named_terraform_file_is_checked_with_its_module(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def bucket_rules(*args: str) -> set[tuple[str, str]]:
        return {(f["rule_id"], f["path"]) for f in _scan(capsys, *args)["findings"]
                if f["path"] == "infra/main.tf"}

    whole = bucket_rules(str(repo / "infra"))
    alone = bucket_rules(str(repo / "infra" / "main.tf"))
    assert alone == whole
    assert ("QG-IAC-004", "infra/main.tf") not in alone  # the block is in access.tf
    doc = _scan(capsys, str(repo / "infra" / "main.tf"))
    assert doc["summary"]["files_scanned"] == 2


def test_a_one_line_edit_keeps_every_baselined_finding_of_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug behind this issue: a pre-commit hook passing a file name made 7 baselined
    findings come back as new after a one-line comment edit (paths were relative to the
    file, so no fingerprint matched)."""
    repo = tmp_path / "leaky"
    shutil.copytree(LEAKY, repo)
    init(repo)
    commit(repo, "import")
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "create", str(repo), "-o", str(baseline), "--no-engines"]) == 0
    capsys.readouterr()
    # Repository-wide checks (the provider inventory against the policy, one credential
    # in several files) wait for a full scan; every other finding of a file is its own.
    wide = ("QG-INV-", "QG-SEC-019")
    full: dict[str, set[str]] = {}
    for finding in _scan(capsys, str(repo), "--baseline", str(baseline))["findings"]:
        if not finding["rule_id"].startswith(wide):
            full.setdefault(finding["path"], set()).add(finding["fingerprint"])
    edited = ["Dockerfile", ".env", "infra/terraform/storage.tf",
              ".github/workflows/quantum-bench.yml"]
    assert sum(len(full[path]) for path in edited) >= 7
    for path in edited:
        target = repo / path
        target.write_text("# a harmless comment\n" + target.read_text())
    monkeypatch.chdir(repo)  # pre-commit runs hooks at the top, with paths from there
    doc = _scan(capsys, *edited, "--baseline", str(baseline))
    for path in edited:
        mine = [f for f in doc["findings"] if f["path"] == path]
        assert {f["fingerprint"] for f in mine} == full[path], path
    assert [f for f in doc["findings"] if not f["suppressed"]] == []
