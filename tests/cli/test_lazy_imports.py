"""Each command imports what it needs: `qgov scan` does not pay for the governed job, the
audit pack, vendor reports or the ledger tools (their import alone cost ~0.9 s a run)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from scanner.cli.parsers.access import DEFAULT_INACTIVE_DAYS
from scanner.cli.parsers.governed import DRILLS, ELEVATED_ACTIONS
from scanner.cli.parsers.vendor import VENDOR_DATA, VENDOR_FORMATS

_LOADED = textwrap.dedent("""
    import sys
    from scanner.cli import main
    code = main(sys.argv[1:])
    print("\\n".join(sorted(sys.modules)), file=sys.stderr)
    sys.exit(code)
""")

# Not needed by a scan with --no-engines and a text or JSON report.
_NOT_FOR_A_SCAN = (
    "scanner.cli.access_cmds", "scanner.cli.job_cmds", "scanner.cli.ledger_cmds",
    "scanner.cli.token_cmds", "scanner.cli.vendor_cmds", "scanner.cli.pack_cmds",
    "scanner.cli.report_cmds", "scanner.cli.org_cmds", "scanner.cli.catalog_cmds",
    "scanner.governed.ledger", "scanner.governed.service", "scanner.governed.drills",
    "scanner.governed.tokens", "scanner.governance.access_review", "scanner.pack",
    "scanner.evidence", "scanner.vendors.render", "scanner.vendors.profile",
    "scanner.vendors.requirement_table", "scanner.governance.lenient",
    "scanner.governance.checks", "scanner.governed.policy", "jinja2", "trestle", "dask",
    "weasyprint",
)


def _modules(cwd: Path, *argv: str) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", _LOADED, *argv], capture_output=True,
                          text=True, timeout=300, cwd=cwd)
    return done.returncode, set(done.stderr.splitlines())


def _offenders(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded
                  if any(m == name or m.startswith(f"{name}.") for name in _NOT_FOR_A_SCAN))


def test_a_scan_without_engines_loads_no_other_command(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "job.py").write_text("from qiskit import QuantumCircuit\n", encoding="utf-8")
    code, loaded = _modules(tmp_path, "scan", str(project), "--no-engines", "--no-cache",
                            "--format", "json")
    assert code == 0
    assert "scanner.pipeline" in loaded  # it did scan
    assert _offenders(loaded) == []


def test_policy_and_vendor_code_loads_when_the_tree_holds_such_files(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / ".qgov-exceptions.yaml").write_text("exceptions: []\n", encoding="utf-8")
    code, loaded = _modules(tmp_path, "scan", str(project), "--no-engines", "--no-cache",
                            "--format", "json", "--fail-on", "none")
    assert code == 0
    assert "scanner.governance.lenient" in loaded


def test_the_spelled_out_rule_ids_are_the_detectors_own() -> None:
    from scanner.governance.checks import check_policy  # noqa: F401 - the rules' home
    from scanner.governance.names import RULES
    from scanner.vendors.requirement_table import RULE_IDS as table_ids
    from scanner.vendors.rule_ids import RULE_IDS

    assert RULE_IDS == table_ids
    declared = {f"QG-GOV-{n:03d}" for n in range(1, 14)}
    assert RULES == declared


def test_help_builds_the_whole_tree_from_parsers_alone(tmp_path: Path) -> None:
    code, loaded = _modules(tmp_path, "scan", "--help")
    assert code == 0
    assert _offenders(loaded) == []
    assert not any(m.startswith(("scanner.governed", "scanner.vendors", "scanner.pipeline"))
                   for m in loaded)


def test_a_command_still_loads_its_own_handler(tmp_path: Path) -> None:
    code, loaded = _modules(tmp_path, "pack", "verify", str(tmp_path / "missing"))
    assert code == 2
    assert "scanner.cli.pack_cmds" in loaded


def test_the_parsers_offer_what_the_handlers_accept() -> None:
    # The parsers spell these out so as not to import the code that defines them.
    from scanner.governance.access_review import DEFAULT_INACTIVE_DAYS as review_default
    from scanner.governed.approvals import ELEVATED_ACTIONS as actions
    from scanner.governed.drills import DRILLS as drills
    from scanner.vendors.profile import DataClass
    from scanner.vendors.render import VendorFormat

    assert DEFAULT_INACTIVE_DAYS == review_default
    assert tuple(ELEVATED_ACTIONS) == tuple(actions)
    assert DRILLS == sorted(drills)
    assert VENDOR_DATA == tuple(d.value for d in DataClass)
    assert VENDOR_FORMATS == tuple(f.value for f in VendorFormat)
