"""Every hostile input finishes quickly, is named where it should be, and hides nothing.

Each case runs the real command in a subprocess with a hard timeout, so a regression that
hangs shows up as a failed test instead of a stuck suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.hostile.generator import CASES, Case, build

# Generous for a loaded 2-core CI machine; each case takes well under a second of analysis.
DEADLINE_SECONDS = 60
# Cases whose content also goes through bandit and semgrep (the rest run --no-engines).
WITH_ENGINES = frozenset({"long-lines", "non-utf8-names", "notebook-long-output"})


def _scan(root: Path, *args: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "scanner", "scan", str(root), "--fail-on", "none", *args],
        capture_output=True,
        timeout=DEADLINE_SECONDS,
        cwd=REPO,
        check=False,
    )
    stdout = completed.stdout.decode("utf-8", "replace")
    stderr = completed.stderr.decode("utf-8", "replace")
    return completed.returncode, stdout, stderr, time.monotonic() - started


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, tmp_path: Path) -> None:
    root = build(case, tmp_path)
    engines = () if case.name in WITH_ENGINES else ("--no-engines",)
    code, stdout, stderr, _seconds = _scan(root, "--format", "json", *engines)
    assert "internal error" not in stderr and "Traceback" not in stderr
    if case.config_error:
        assert code == 2 and stderr.startswith("qgov: error: ")
        assert stdout == ""
        return
    assert code == 0, stderr
    document = json.loads(stdout)
    errors = {error["path"] for error in document["scan_errors"]}
    assert set(case.errors) <= errors
    assert set(case.finds) <= {finding["rule_id"] for finding in document["findings"]}
    _, text, text_err, _ = _scan(root, "--format", "text", "--no-engines")
    for secret in case.never_printed:
        assert secret not in stdout + stderr + text + text_err


def test_text_report_of_hostile_names_is_inert(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "control-char-names")
    _, text, _, _ = _scan(build(case, tmp_path), "--format", "text", "--no-engines")
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "bell\\x07/esc\\x1b[31m.py" in text


def test_junit_with_hostile_names_parses(tmp_path: Path) -> None:
    from xml.etree import ElementTree

    for name in ("control-char-names", "non-utf8-names"):
        case = next(c for c in CASES if c.name == name)
        code, junit, _, _ = _scan(build(case, tmp_path), "--format", "junit", "--no-engines")
        assert code == 0
        ElementTree.fromstring(junit)
