"""bandit engine: one in-process run over Python files and notebook code cells."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from scanner.catalog import Catalog
from scanner.engines.bandit_engine import (
    BanditEngine,
    BanditMap,
    BanditMapError,
    load_bandit_map,
)
from scanner.engines.interface import EngineOutput
from scanner.model import Confidence, FileKind, Finding, Severity
from tests.helpers import build_findings, sources_under

APP = '''\
import subprocess
import yaml
import requests


def run(cmd, doc):
    subprocess.call(cmd, shell=True)
    data = yaml.load(doc)
    requests.get("https://quantum.example/api", verify=False, timeout=5)
    subprocess.call(cmd, shell=True)  # nosec B602
    assert data
    return data


DB_PASSWORD = "correct-horse-battery"
'''

NOTEBOOK_CELLS = [
    ("markdown", ["# Bell state on hardware\n"]),
    ("code", ["%pip install qiskit==2.1.0\n", "!ls -la\n", "files = !ls\n", "import pickle\n"]),
    ("code", ["%%bash\n", "echo $HOME\n"]),
    ("code", ["with open('r.pkl', 'rb') as fh:\n", "    result = pickle.load(fh)\n"]),
    ("code", ["print \"python 2 syntax\"\n"]),
    ("code", "eval(input())\n"),  # source stored as one string, not a list
]


def _notebook(cells: Sequence[tuple[str, object]], language: str = "python") -> str:
    data = {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": source,
             **({"outputs": [], "execution_count": None} if kind == "code" else {})}
            for kind, source in cells
        ],
        "metadata": {"kernelspec": {"name": language, "language": language}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(data, indent=1)


def _run(root: Path, engine: BanditEngine | None = None) -> EngineOutput:
    engine = engine or BanditEngine()
    return engine.run([s for s in sources_under(root) if s.kind in engine.kinds])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proj")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text(APP, encoding="utf-8")
    (root / "src" / "broken.py").write_text("def oops(:\n    pass\n", encoding="utf-8")
    (root / "explore.ipynb").write_text(_notebook(NOTEBOOK_CELLS), encoding="utf-8")
    (root / "stats.ipynb").write_text(
        _notebook([("code", ["system('ls')\n"])], language="R"), encoding="utf-8"
    )
    return root


@pytest.fixture(scope="module")
def output(project: Path) -> EngineOutput:
    return _run(project)


@pytest.fixture(scope="module")
def found(output: EngineOutput) -> list[Finding]:
    return build_findings(output.issues)


def test_python_findings_map_to_rules_with_bandit_severity(found: list[Finding]) -> None:
    app = sorted(
        (f.line, f.rule_id, f.message[:6], f.severity)
        for f in found if f.path == "src/app.py"
    )
    assert app == [
        (1, "QG-PY-006", "[B404]", Severity.LOW),  # import subprocess
        (7, "QG-PY-006", "[B602]", Severity.HIGH),  # shell=True
        (8, "QG-PY-004", "[B506]", Severity.MEDIUM),  # yaml.load
        (9, "QG-PY-005", "[B501]", Severity.HIGH),  # verify=False
        (11, "QG-PY-001", "[B101]", Severity.LOW),  # assert; line 10 has nosec
        (15, "QG-PY-003", "[B105]", Severity.LOW),
    ]
    shell = next(f for f in found if "[B602]" in f.message)
    assert shell.engine == "bandit" and shell.confidence is Confidence.HIGH
    assert shell.column == 5 and shell.cell is None


def test_password_values_are_masked(found: list[Finding]) -> None:
    password = next(f for f in found if f.rule_id == "QG-PY-003")
    assert "correct-horse" not in password.message
    assert password.evidence and "correct-horse" not in password.evidence
    assert password.evidence.startswith("corr")  # masked: prefix, length and hash only


def test_notebook_findings_point_at_cell_and_ipynb_line(
    project: Path, found: list[Finding]
) -> None:
    lines = (project / "explore.ipynb").read_text(encoding="utf-8").splitlines()
    in_notebook = sorted(
        (f.cell, f.line, f.message[:6])
        for f in found if f.path == "explore.ipynb"
    )
    assert [(cell, test) for cell, _line, test in in_notebook] == [
        (1, "[B403]"),  # import pickle (magics and shell lines were commented out)
        (3, "[B301]"),  # pickle.load
        (5, "[B307]"),  # eval in a cell stored as one string
    ]
    for _cell, line, test in in_notebook:
        assert line is not None
        stored = lines[line - 1]
        expected = {"[B403]": "import pickle", "[B301]": "pickle.load", "[B307]": "eval(input())"}
        assert expected[test] in stored


def test_unparsable_cell_is_reported_and_the_rest_still_scanned(output: EngineOutput) -> None:
    cell_errors = [e for e in output.errors if e.path == "explore.ipynb"]
    assert [(e.reason, "cell 4" in e.message) for e in cell_errors] == [("parse-error", True)]
    assert cell_errors[0].line is not None


def test_unparsable_python_file_is_a_parse_error(output: EngineOutput) -> None:
    broken = [e for e in output.errors if e.path == "src/broken.py"]
    assert [e.reason for e in broken] == ["parse-error"]
    assert "syntax error" in broken[0].message


def test_non_python_notebooks_are_skipped(output: EngineOutput) -> None:
    assert not [i for i in output.issues if i.path == "stats.ipynb"]
    assert not [e for e in output.errors if e.path == "stats.ipynb"]


def test_unmapped_test_ids_use_the_default_rule(project: Path) -> None:
    engine = BanditEngine(BanditMap(default="QG-PY-000", by_test={"B101": "QG-PY-001"}))
    result = _run(project, engine)
    shell = next(i for i in result.issues if "[B602]" in i.message)
    assert shell.rule_id == "QG-PY-000"


def test_bandit_logging_stays_quiet(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        _run(project)
    assert not [r for r in caplog.records if r.name.startswith(("bandit", "stevedore"))]
    assert logging.getLogger("bandit").level == logging.NOTSET


def test_no_sources_no_work() -> None:
    result = BanditEngine().run([])
    assert (result.issues, result.errors, result.notices) == ([], [], [])


def test_map_is_complete_data(catalog: Catalog) -> None:
    from bandit.core import extension_loader

    mapping = load_bandit_map()
    assert mapping.rule_ids <= set(catalog.rules)
    installed = set(extension_loader.MANAGER.plugins_by_id) | set(
        extension_loader.MANAGER.blacklist_by_id
    )
    assert set(mapping.by_test) <= installed  # no typos in the data file
    assert BanditEngine.kinds == {FileKind.PYTHON, FileKind.NOTEBOOK}
    assert BanditEngine().rules == mapping.rule_ids


def test_duplicate_test_id_in_map_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "map.yaml"
    bad.write_text("default: QG-PY-000\nrules:\n  QG-PY-001: [B101]\n  QG-PY-002: [B101]\n")
    with pytest.raises(BanditMapError, match="B101 is mapped twice"):
        load_bandit_map(bad)


# --- assert (B101) and random (B311) are what test code does -----------------------------------

CHECKS = '''\
import random
import subprocess


def check(cmd):
    assert cmd
    subprocess.call(cmd, shell=True)
    return random.random()
'''
TEST_PATHS = ("tests/test_jobs.py", "test/helpers.py", "pkg/tests/unit/fixtures.py",
              "test_top.py", "pkg/jobs_test.py", "pkg/conftest.py")


@pytest.fixture(scope="module")
def with_tests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("with-tests")
    for rel in ("src/app.py", "src/testing.py", "src/latest.py", *TEST_PATHS):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(CHECKS, encoding="utf-8")
    return root


def _tests_by_path(output: EngineOutput) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for issue in output.issues:
        assert issue.path is not None
        found.setdefault(issue.path, []).append(issue.message[1:5])
    return {path: sorted(tests) for path, tests in found.items()}


def test_assert_and_random_are_not_reported_in_test_files_by_default(with_tests: Path) -> None:
    found = _tests_by_path(_run(with_tests))
    for rel in ("src/app.py", "src/testing.py", "src/latest.py"):
        assert found[rel] == ["B101", "B311", "B404", "B602"], rel
    for rel in TEST_PATHS:
        assert found[rel] == ["B404", "B602"], rel  # everything else is still checked


def test_test_files_get_every_check_when_the_setting_is_off(with_tests: Path) -> None:
    found = _tests_by_path(_run(with_tests, BanditEngine(skip_in_tests=False)))
    assert all(tests == ["B101", "B311", "B404", "B602"] for tests in found.values())
    assert len(found) == 3 + len(TEST_PATHS)
