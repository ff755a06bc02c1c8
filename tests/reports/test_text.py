"""The text report, as a terminal that is not a TTY gets it."""

from __future__ import annotations

import pytest

from scanner.cli import main
from tests.helpers import LEAKY


def test_text_output_has_no_color_when_not_a_tty(capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", str(LEAKY), "--no-engines"])
    out = capsys.readouterr().out
    assert "\033[" not in out and "CRITICAL" in out and "gate: FAIL" in out


def test_text_summary_counts_controls_by_status(capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", str(LEAKY), "--no-engines"])
    lines = capsys.readouterr().out.splitlines()
    line = lines[-2]
    assert line.startswith("controls: ") and lines[-1].startswith("gate: ")
    parts = line.removeprefix("controls: ").split(", ")
    assert [p.split(" ", 1)[1] for p in parts[:5]] == [
        "failing", "passing", "accepted risk", "not assessed", "attested"]
    assert sum(int(p.split(" ", 1)[0]) for p in parts) == 73
