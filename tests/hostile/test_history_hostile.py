"""Hostile git histories: a huge blob, names git stores as arbitrary bytes, 100,000
commits. Each history scan runs the real command in a subprocess with a hard timeout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.hostile.generator import HISTORY_CASES, HistoryCase

DEADLINE_SECONDS = 90


@pytest.mark.parametrize("case", HISTORY_CASES, ids=[c.name for c in HISTORY_CASES])
def test_hostile_history(case: HistoryCase, tmp_path: Path) -> None:
    root = tmp_path / case.name
    root.mkdir()
    case.build(root)
    outputs = []
    for fmt in ("json", "text"):
        completed = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", str(root), "--history", "--format", fmt,
             "--fail-on", "none"],
            capture_output=True, timeout=DEADLINE_SECONDS, cwd=REPO, check=False,
        )
        stdout = completed.stdout.decode("utf-8", "replace")
        stderr = completed.stderr.decode("utf-8", "replace")
        assert completed.returncode == 0, stderr
        assert "internal error" not in stderr and "Traceback" not in stderr
        outputs.append(stdout + stderr)
        if fmt == "json":
            document = json.loads(stdout)
            assert set(case.finds) <= {f["rule_id"] for f in document["findings"]}
            for wanted in case.notices:
                assert any(wanted in notice for notice in document["notices"]), wanted
    for secret in case.never_printed:
        assert all(secret not in output for output in outputs), repr(secret)
