"""The text report, as a terminal that is not a TTY gets it."""

from __future__ import annotations

import pytest

from scanner.cli import main
from tests.helpers import LEAKY


def test_text_output_has_no_color_when_not_a_tty(capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", str(LEAKY), "--no-engines"])
    out = capsys.readouterr().out
    assert "\033[" not in out and "CRITICAL" in out and "gate: FAIL" in out
