"""Inline suppressions through a real scan: honoured, refused, expired, notebook-scoped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from scanner.cli import main
from scanner.detectors.secrets import SecretsDetector
from scanner.suppress.inline import SUPPRESSION_RULES, apply_inline, parse_directives
from tests.conftest import AWS_KEY_ID, IBM_KEY
from tests.helpers import build_findings, findings, scan_json, source

FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
PAST = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def states(doc: dict[str, Any]) -> list[tuple[str, bool]]:
    return sorted((f["rule_id"], f["suppressed"]) for f in doc["findings"])


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (f'# qgov:ignore[QG-SEC-001] reason="fixture" until={FUTURE}', [("QG-SEC-001", True)]),
        ('# qgov:ignore[QG-SEC-001] reason="fixture"', [("QG-SEC-001", True)]),
        ("# qgov:ignore[QG-SEC-001]", [("QG-SEC-001", False), ("QG-SUP-001", False)]),
        (f'# qgov:ignore[QG-SEC-001] reason="old" until={PAST}', [("QG-SEC-001", False), ("QG-SUP-002", False)]),
        ('# qgov:ignore[QG-SEC-999] reason="other rule"', [("QG-SEC-001", False)]),
        ('# qgov:ignore[QG-SEC-001] reason="x" until=soon', [("QG-SEC-001", False), ("QG-SUP-003", False)]),
    ],
)
def test_same_line_directives(
    comment: str, expected: list[tuple[str, bool]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.py").write_text(f'IBM_API_KEY = "{IBM_KEY}"  {comment}\n')
    doc = scan_json(capsys, str(tmp_path))[1]
    assert states(doc) == expected
    suppressed = [f for f in doc["findings"] if f["suppressed"]]
    for finding in suppressed:
        assert finding["suppression"]["kind"] == "inline" and finding["suppression"]["reason"]


def test_directive_on_line_above_covers_next_line_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.py").write_text(
        '# qgov:ignore[QG-SEC-001] reason="rotated, kept for the incident write-up"\n'
        f'IBM_API_KEY = "{IBM_KEY}"\n'
        f'OTHER_API_KEY = "{IBM_KEY[::-1]}"\n'
    )
    assert states(scan_json(capsys, str(tmp_path))[1]) == [("QG-SEC-001", False), ("QG-SEC-001", True)]


def test_notebook_directive_covers_its_cell_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = new_notebook(cells=[
        new_code_cell('# qgov:ignore[QG-NBK-002] reason="revoked key in a training notebook"\n!env',
                      outputs=[new_output("stream", name="stdout", text=f"K={AWS_KEY_ID}\n")]),
        new_code_cell("!env", outputs=[new_output("stream", name="stdout", text=f"K={AWS_KEY_ID}\n")]),
    ])
    (tmp_path / "a.ipynb").write_text(nbformat.writes(nb))
    doc = scan_json(capsys, str(tmp_path))[1]
    assert sorted((f["cell"], f["suppressed"]) for f in doc["findings"]) == [(0, True), (1, False)]


def test_suppressed_findings_do_not_fail_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.py").write_text(f'IBM_API_KEY = "{IBM_KEY}"  # qgov:ignore[QG-SEC-001] reason="test"\n')
    assert main(["scan", str(tmp_path), "--no-engines"]) == 0
    assert "1 suppressed" in capsys.readouterr().out


def test_directive_must_be_in_a_comment() -> None:
    text = 'x = "qgov:ignore[QG-SEC-001] reason=\\"no\\""\n# qgov:ignore[QG-SEC-002, QG-SEC-003] reason="a"\n'
    directives = list(parse_directives("a.py", text))
    assert [(d.line, sorted(d.rule_ids)) for d in directives] == [(2, ["QG-SEC-002", "QG-SEC-003"])]


def test_apply_inline_marks_findings_and_reports_unusable_directives() -> None:
    text = (
        f'A_API_KEY = "{IBM_KEY}"  # qgov:ignore[QG-SEC-001] reason="rotated"\n'
        f'B_API_KEY = "{IBM_KEY[::-1]}"  # qgov:ignore[QG-SEC-001]\n'
        f'C_API_KEY = "{IBM_KEY[1:] + IBM_KEY[0]}"  # qgov:ignore[QG-SEC-001] reason="x" until={PAST}\n'
    )
    found = findings(SecretsDetector(), source(text, "a.py"))
    marked, problems = apply_inline(found, parse_directives("a.py", text), dt.date.today())
    assert [(f.line, f.suppressed) for f in marked] == [(1, True), (2, False), (3, False)]
    assert marked[0].suppression is not None and marked[0].suppression.reason == "rotated"
    assert sorted((i.rule_id, i.line) for i in problems) == [("QG-SUP-001", 2), ("QG-SUP-002", 3)]
    assert {i.rule_id for i in problems} <= SUPPRESSION_RULES
    assert all(f.path == "a.py" for f in build_findings(problems))
