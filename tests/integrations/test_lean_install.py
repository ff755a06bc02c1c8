"""`pip install qgov` scans without the job extra. Proved in a subprocess whose import
system refuses qiskit, Aer, the IBM Runtime and Braket SDKs and the OpenQASM 3 importer, as
if they were not installed: the CLI imports, a scan with every engine runs, and `qgov job`
names the extra to install (exit 2, no traceback). bench/install_size.sh does the real
thing in fresh venvs and records the sizes in bench/RESULTS.md."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from scanner.governed.extra import JOB_MODULES
from tests.helpers import REPO, SAMPLES, small_project

_RUNNER = """
import importlib.abc, sys
BLOCKED = {blocked!r}

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from scanner.cli import main
code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
print("loaded:", loaded, file=sys.stderr)
sys.exit(code)
"""


def _qgov_without_extra(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUNNER.format(blocked=sorted(JOB_MODULES)), *args],
        capture_output=True, text=True, cwd=cwd, timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
             "HOME": str(cwd)},
    )


def test_the_base_dependencies_leave_the_job_extra_out() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("<")[0].split("=")[0].strip().lower()
             for d in project["dependencies"]}
    assert names.isdisjoint(set(JOB_MODULES.values()))
    extra = {d.split(">")[0].split("<")[0].strip().lower()
             for d in project["optional-dependencies"]["job"]}
    assert extra == set(JOB_MODULES.values())


def test_scan_and_reports_work_without_the_job_extra(tmp_path: Path) -> None:
    project = small_project(tmp_path / "p")
    run = _qgov_without_extra(
        "scan", str(project), "--sarif", str(tmp_path / "r.sarif"), "--fail-on", "none",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "QG-SEC-003" in run.stdout and "gate: disabled" in run.stdout
    assert "loaded: []" in run.stderr and "Traceback" not in run.stderr
    assert (tmp_path / "r.sarif").is_file()


def test_job_commands_name_the_extra_to_install(tmp_path: Path) -> None:
    for args in (
        ["job", "run", str(SAMPLES / "jobs" / "bell.yaml"),
         "--policy", str(SAMPLES / "policy" / "org-policy.yaml"),
         "--ledger", str(tmp_path / "ledger.jsonl")],
        ["job", "selftest", "--out", str(tmp_path / "selftest")],
    ):
        run = _qgov_without_extra(*args, cwd=tmp_path)
        assert run.returncode == 2, run.stderr
        assert "the governed job needs the job extra: pip install 'qgov[job]'" in run.stderr
        assert "Traceback" not in run.stderr
    assert not (tmp_path / "ledger.jsonl").exists()  # refused before anything was recorded
