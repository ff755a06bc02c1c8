"""The JUnit report: one test case per control, failed where a finding maps to it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from scanner.catalog import Catalog
from scanner.cli import main
from tests.helpers import LEAKY


def test_junit_one_testcase_per_control(
    capsys: pytest.CaptureFixture[str], catalog: Catalog
) -> None:
    main(["scan", str(LEAKY), "--format", "junit", "--no-engines"])
    root = ET.fromstring(capsys.readouterr().out)
    cases = root.findall(".//testcase[@classname]")
    control_cases = [c for c in cases if not c.get("classname", "").endswith("scan-errors")]
    assert len(control_cases) == len(catalog.controls)
    failed = {c.get("name", "").split()[0] for c in control_cases if c.find("failure") is not None}
    assert "SEC-01" in failed and "SEC-02" in failed
    assert not root.attrib  # <testsuites> attribute-free for strict parsers
