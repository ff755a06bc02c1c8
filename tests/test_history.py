"""qgov scan --history: credentials that only git history still holds, each blob read once,
named by the first commit that added it; bounded in time and size; never running git's
porcelain or anything of the repository's."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

import scanner.history
from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.config import Settings
from scanner.history import run_history
from scanner.repo import RepoRoot
from tests.conftest import AWS_KEY_ID, AWS_SECRET, IONQ_KEY
from tests.git_helpers import commit, git, init, write
from tests.helpers import scan_json


def _history(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    return scan_json(capsys, "--history", *args)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose tree is clean today; its history is not."""
    root = init(tmp_path / "repo")
    write(root, "README.md", "# quantum pilot\n")
    commit(root, "start")
    write(root, "config/settings.py", f'import os\n\nAWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n')
    commit(root, "add settings")
    write(root, "config/settings.py", "import os\n\nAWS_SECRET_ACCESS_KEY = os.environ['K']\n")
    commit(root, "use the environment instead")
    monkeypatch.chdir(root)
    return root


def test_a_secret_removed_from_the_tree_is_found_in_history(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, tree = scan_json(capsys, ".")
    assert tree["findings"] == []
    code, doc = _history(capsys)
    assert code == 1  # a critical credential fails the gate
    [finding] = doc["findings"]
    added = git(repo, "rev-list", "--reverse", "HEAD").splitlines()[1]
    assert finding["rule_id"] == "QG-SEC-005"
    assert (finding["path"], finding["line"]) == ("config/settings.py", 3)
    assert finding["history"] == {"commit": added, "author_date": "2025-03-04T05:06:07+00:00",
                                  "in_tree": False}
    assert "no longer in the tree" in finding["message"] and added[:12] in finding["message"]
    assert finding["remediation"].startswith("Rotate the credential")
    assert "git filter-repo" in finding["remediation"]
    assert AWS_SECRET not in json.dumps(doc)


def test_each_blob_once_and_one_finding_per_credential_at_its_first_commit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = commit(repo, "noise")
    write(repo, "notes/a.py", f'IONQ_API_KEY = "{IONQ_KEY}"\n')
    first = commit(repo, "add a")
    for n in range(4):  # the same blob in later commits, and moved down a line
        write(repo, f"other/{n}.txt", f"{n}\n")
        commit(repo, f"other {n}")
    write(repo, "notes/a.py", f'"""Notes."""\nIONQ_API_KEY = "{IONQ_KEY}"\n')
    commit(repo, "docstring")
    read: list[str] = []
    real = scanner.history._BlobReader.read

    def counting(self: Any, sha: str) -> bytes | None:
        read.append(sha)
        return real(self, sha)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scanner.history._BlobReader, "read", counting)
        _code, doc = _history(capsys)
    assert len(read) == len(set(read))
    ionq = [f for f in doc["findings"] if f["path"] == "notes/a.py"]
    assert len(ionq) == 1 and ionq[0]["history"]["commit"] == first


def test_a_second_history_scan_reads_no_blob_it_has_seen(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _code, cold = _history(capsys)

    def refuse(self: Any, sha: str) -> bytes | None:
        raise AssertionError("a cached blob was read again")

    monkeypatch.setattr(scanner.history._BlobReader, "read", refuse)
    _code, warm = _history(capsys)
    for doc in (cold, warm):
        doc["summary"].pop("duration_seconds")
        doc["scan"].pop("scanned_at")
    assert warm == cold


def test_a_range_limits_the_commits(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "later.py", f'IONQ_API_KEY = "{IONQ_KEY}"\n')
    commit(repo, "later")
    _code, doc = _history(capsys, "HEAD~1..HEAD")
    assert {f["path"] for f in doc["findings"]} == {"later.py"}
    _code, scoped = scan_json(capsys, "config", "--history")  # a path narrows it
    assert {f["path"] for f in scoped["findings"]} == {"config/settings.py"}
    assert doc["findings"][0]["history"]["in_tree"] is True
    assert "still in the tree" in doc["findings"][0]["message"]


def test_merges_notebook_outputs_and_odd_names(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "-b", "side")
    write(repo, "side.txt", "side\n")
    commit(repo, "side")
    git(repo, "checkout", "-q", "main")
    write(repo, "main.txt", "main\n")
    commit(repo, "main")
    git(repo, "merge", "-q", "--no-commit", "side")
    # An "evil merge": content that neither parent has, added by the merge commit itself.
    write(repo, "merged.env", f"IONQ_API_KEY={IONQ_KEY}\n")
    commit(repo, "merge side")
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": ["!env\n"],
         "outputs": [{"output_type": "stream", "name": "stdout",
                      "text": [f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\n", "mail: ann@example.org\n"]}]},
    ]}
    write(repo, "nb/run.ipynb", json.dumps(notebook))
    odd = os.fsencode(repo) + b"/odd/caf\xe9\x1b[31m.py"
    os.makedirs(os.path.dirname(odd), exist_ok=True)
    with open(odd, "wb") as handle:
        handle.write(f'IONQ_API_KEY = "{IONQ_KEY}"\n'.encode())
    commit(repo, "notebook and odd name")
    git(repo, "rm", "-rq", "nb", "odd", "merged.env")
    commit(repo, "clean up")
    _code, doc = _history(capsys)
    found = {(f["rule_id"], f["path"]) for f in doc["findings"]}
    assert ("QG-NBK-002", "nb/run.ipynb") in found  # a credential in a stored output
    assert not any(rule == "QG-NBK-003" for rule, _path in found)  # personal data: tree only
    assert any(path == "merged.env" for _rule, path in found)
    assert any(path == "odd/caf\\xe9\\x1b[31m.py" for _rule, path in found)
    assert "\x1b" not in json.dumps(doc)


def test_baselined_credentials_stay_baselined_in_history(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "HEAD~1")  # the tree that still held the key
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "create", ".", "-o", str(baseline), "--no-engines"]) == 0
    git(repo, "checkout", "-q", "main")
    capsys.readouterr()
    code, doc = _history(capsys, "--baseline", str(baseline))
    assert code == 0
    assert [f["suppressed"] for f in doc["findings"]] == [True]


def test_limits_time_and_size(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "big.txt", "x" * 5000 + f'\nIONQ_API_KEY = "{IONQ_KEY}"\n')
    commit(repo, "big")
    (repo / ".qgov.yaml").write_text("max_file_size: 4096\n")
    _code, doc = _history(capsys)
    assert any("larger than max_file_size" in n for n in doc["notices"])
    assert "big.txt" not in {f["path"] for f in doc["findings"]}
    run = run_history(RepoRoot(repo, "git", repo), Settings(), load_catalog(), None,
                      timeout=0.0, today=dt.date(2026, 1, 1))
    assert any("history scan stopped" in n for n in run.result.notices)
    assert run.result.findings == ()


def test_never_a_checkout_and_refused_input(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.stat().st_mtime_ns for p in repo.rglob("*") if ".git" not in p.parts}
    head = git(repo, "rev-parse", "HEAD")
    _history(capsys)
    after = {p: p.stat().st_mtime_ns for p in repo.rglob("*") if ".git" not in p.parts}
    assert before == after and git(repo, "rev-parse", "HEAD") == head
    for bad in ("--all", "nope", "HEAD..nope"):
        assert main(["scan", f"--history={bad}", "--no-engines"]) == 2, bad
        err = capsys.readouterr().err
        assert err.startswith("qgov: error:") and "Traceback" not in err
