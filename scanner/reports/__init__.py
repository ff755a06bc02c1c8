"""Formatters for scan results, one module each; ``render`` picks one by ``OutputFormat``."""

from __future__ import annotations

from typing import assert_never

from scanner.output_format import OutputFormat
from scanner.reports.codequality import render_codequality
from scanner.reports.json_report import render_json
from scanner.reports.junit import render_junit
from scanner.reports.markdown import render_markdown
from scanner.reports.oscal import render_oscal
from scanner.reports.report import ScanReport, failing, gate, summary
from scanner.reports.sarif import render_sarif
from scanner.reports.text import render_text, use_color

__all__ = ["OutputFormat", "ScanReport", "failing", "gate", "render", "summary", "use_color"]


def render(report: ScanReport, output_format: OutputFormat) -> str:
    if output_format is OutputFormat.TEXT:
        return render_text(report)
    if output_format is OutputFormat.JSON:
        return render_json(report)
    if output_format is OutputFormat.SARIF:
        return render_sarif(report)
    if output_format is OutputFormat.JUNIT:
        return render_junit(report)
    if output_format is OutputFormat.MARKDOWN:
        return render_markdown(report)
    if output_format is OutputFormat.CODEQUALITY:
        return render_codequality(report)
    if output_format is OutputFormat.OSCAL:
        return render_oscal(report)
    assert_never(output_format)
