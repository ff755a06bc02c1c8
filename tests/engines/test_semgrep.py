"""semgrep engine and qgov's semgrep rules. semgrep starts in ~3 s, so only two tests run it:
the rules' own annotated tests (semgrep --test) and one engine run over a tiny project."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from scanner.catalog import Catalog
from scanner.engines import semgrep_engine
from scanner.engines.semgrep_engine import (
    DEFAULT_TIMEOUT,
    NOT_FOUND_NOTICE,
    RULES_DIR,
    SemgrepEngine,
    find_semgrep,
    write_mirror,
)
from scanner.model import FileKind
from scanner.source import SourceFile
from tests.helpers import DATA, build_findings, sources_under

RULE_TESTS = DATA / "semgrep"
SEMGREP = find_semgrep()
needs_semgrep = pytest.mark.skipif(SEMGREP is None, reason="semgrep is not installed")

TOKEN = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2"
LIBRARY = f'''\
import logging
import os
import sys

from qiskit import qasm3
from qiskit_ibm_runtime import QiskitRuntimeService

log = logging.getLogger(__name__)


def connect():
    return QiskitRuntimeService(channel="ibm_quantum_platform", token="{TOKEN}")


def submit(service, circuit):
    log.info("submitting %s", qasm3.dumps(circuit))
    return service.backend(sys.argv[1])


def safe(service, circuit):
    name = os.environ["QGOV_BACKEND"]
    if name not in {{"ibm_torino"}}:
        raise SystemExit("backend not approved")
    log.info("qubits=%d", circuit.num_qubits)
    return service.backend(name)
'''


@needs_semgrep
def test_rules_pass_their_annotated_tests() -> None:
    assert SEMGREP is not None
    completed = subprocess.run(
        [SEMGREP, "scan", "--test", "--config", str(RULES_DIR), str(RULE_TESTS),
         "--metrics=off", "--disable-version-check", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    report = json.loads(completed.stdout)
    assert report["config_missing_tests"] == [] and report["config_with_errors"] == []
    checks = {
        check_id: result
        for rule_file in report["results"].values()
        for check_id, result in rule_file["checks"].items()
    }
    assert sorted(checks) == [f"QG-SG-00{n}" for n in range(1, 6)]
    failed = {
        check_id: {path: (m["expected_lines"], m["reported_lines"])
                   for path, m in result["matches"].items()}
        for check_id, result in checks.items() if not result["passed"]
    }
    assert failed == {}
    assert completed.returncode == 0


@needs_semgrep
def test_engine_over_a_tiny_project(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "src" / "qlib").mkdir(parents=True)
    (root / "src" / "qlib" / "jobs.py").write_text(LIBRARY, encoding="utf-8")
    (root / "tests").mkdir()  # semgrep's built-in ignores would skip tests/; we must not
    (root / "tests" / "test_jobs.py").write_text(
        "import os\n\nfrom qiskit_ibm_runtime import QiskitRuntimeService\n\n\n"
        "def test_save():\n    QiskitRuntimeService.save_account(token=os.environ['T'])\n",
        encoding="utf-8",
    )
    (root / "notes.ipynb").write_text("{}", encoding="utf-8")
    engine = SemgrepEngine()
    output = engine.run([s for s in sources_under(root) if s.kind in engine.kinds])
    assert output.errors == [] and output.notices == []
    found = build_findings(output.issues)
    assert sorted((f.rule_id, f.path, f.line) for f in found) == [
        ("QG-SG-001", "src/qlib/jobs.py", 16),
        ("QG-SG-002", "src/qlib/jobs.py", 12),
        ("QG-SG-004", "tests/test_jobs.py", 7),
        ("QG-SG-005", "src/qlib/jobs.py", 17),
    ]
    for finding in found:
        assert finding.engine == "semgrep" and finding.content_hash
        assert TOKEN not in finding.message + (finding.evidence or "")


def test_missing_semgrep_is_one_notice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(semgrep_engine, "find_semgrep", lambda: None)
    (tmp_path / "a.py").write_text("print(1)\n", encoding="utf-8")
    output = SemgrepEngine().run(sources_under(tmp_path))
    assert output.notices == [NOT_FOUND_NOTICE]
    assert output.errors == [] and output.issues == []


def _fake_semgrep(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-semgrep"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


@pytest.mark.skipif(os.name == "nt", reason="POSIX shell script stands in for semgrep")
@pytest.mark.parametrize(
    ("body", "timeout", "expected"),
    [
        ("echo 'rules are broken' >&2; exit 7", DEFAULT_TIMEOUT,
         "semgrep failed (exit 7): rules are broken"),
        ("sleep 5", 0.3, "did not finish within 0.3 s"),
        ('echo \'{"results": [], "errors": [{"type": "Rule parse error", '
         '"message": "bad rule"}]}\'', DEFAULT_TIMEOUT, "semgrep: bad rule"),
    ],
)
def test_failures_are_clear_errors(tmp_path: Path, body: str, timeout: float, expected: str) -> None:
    (tmp_path / "a.py").write_text("print(1)\n", encoding="utf-8")
    engine = SemgrepEngine(executable=_fake_semgrep(tmp_path, body), timeout=timeout)
    output = engine.run(sources_under(tmp_path))
    assert [e.reason for e in output.errors] == ["engine-error"]
    assert expected in output.errors[0].message
    assert output.issues == []


def test_mirror_keeps_every_file_and_separates_clashing_paths(tmp_path: Path) -> None:
    first = SourceFile("pkg/a.py", tmp_path / "r1" / "pkg" / "a.py", FileKind.PYTHON, "x = 1\n")
    second = SourceFile("pkg/a.py", tmp_path / "r2" / "pkg" / "a.py", FileKind.PYTHON, "y = 2\n")
    mirror = write_mirror([first, second], tmp_path / "m")
    assert sorted(Path(p).read_text() for p in mirror) == ["x = 1\n", "y = 2\n"]
    assert sorted(source.abs_path for source in mirror.values()) == [
        first.abs_path, second.abs_path
    ]
    assert (tmp_path / "m" / ".semgrepignore").is_file()


def test_every_rule_file_has_metadata_and_a_test(catalog: Catalog) -> None:
    ids = []
    for rule_file in sorted(RULES_DIR.glob("*.yaml")):
        for rule in yaml.safe_load(rule_file.read_text(encoding="utf-8"))["rules"]:
            ids.append(rule["id"])
            assert (RULE_TESTS / (rule_file.stem + ".py")).is_file()
            entry = catalog.rule(rule["id"])
            assert entry is not None
            assert set(rule["metadata"]["controls"]) <= set(entry.controls)
    assert ids == [f"QG-SG-00{n}" for n in range(1, 6)]
    assert SemgrepEngine().rules == set(ids)


@needs_semgrep
def test_the_native_command_line_finds_what_the_wrapper_finds(tmp_path: Path) -> None:
    """qgov runs semgrep's native CLI (--experimental) for its start-up time and memory; on
    the rules' own test files and a library it must report exactly what pysemgrep does."""
    (tmp_path / "qlib").mkdir()
    (tmp_path / "qlib" / "jobs.py").write_text(LIBRARY, encoding="utf-8")
    sources = [s for s in [*sources_under(RULE_TESTS), *sources_under(tmp_path)]
               if s.kind is FileKind.PYTHON]

    def found(native: bool) -> list[tuple[str, str, int | None, str]]:
        output = SemgrepEngine(native=native).run(sources)
        assert output.errors == [] and output.notices == []
        return sorted((i.rule_id, i.path or "", i.line, i.material) for i in output.issues)

    native = found(native=True)
    assert len({rule for rule, *_rest in native}) == 5  # every rule matched something
    assert native == found(native=False)
