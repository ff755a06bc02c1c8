"""One entry point per command for every output format (the CLI picks the format)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import assert_never

from scanner.vendors.assess import Assessment
from scanner.vendors.compare import Comparison
from scanner.vendors.report_html import render_assessments_html, render_comparison_html
from scanner.vendors.report_json import render_assessments_json, render_comparison_json
from scanner.vendors.report_text import Symbols, render_assessments, render_comparison


class VendorFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def render_assessment_report(
    assessments: Sequence[Assessment], output_format: VendorFormat, *, ascii_only: bool = False
) -> str:
    if output_format is VendorFormat.TEXT:
        return render_assessments(assessments, Symbols.ascii() if ascii_only else Symbols())
    if output_format is VendorFormat.JSON:
        return render_assessments_json(assessments)
    if output_format is VendorFormat.HTML:
        return render_assessments_html(assessments)
    assert_never(output_format)


def render_comparison_report(
    comparison: Comparison, output_format: VendorFormat, *, ascii_only: bool = False
) -> str:
    if output_format is VendorFormat.TEXT:
        return render_comparison(comparison, Symbols.ascii() if ascii_only else Symbols())
    if output_format is VendorFormat.JSON:
        return render_comparison_json(comparison)
    if output_format is VendorFormat.HTML:
        return render_comparison_html(comparison)
    assert_never(output_format)
