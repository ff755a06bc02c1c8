"""report.html: the audit pack's readable report, from ``PackData`` through an autoescaped
Jinja2 template (``report_templates/pack/``), self-contained (inline CSS, no fetches)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from scanner.clock import iso_utc
from scanner.pack.model import PackData
from scanner.paths import data_dir
from scanner.status.statuses import RequirementStatus

MAX_FINDINGS_SHOWN = 200


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(data_dir("report_templates"))),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_report_html(data: PackData) -> str:
    template = _environment().get_template("pack/report.html")
    return template.render(
        data=data,
        generated=iso_utc(data.generated_at),
        requirement_statuses=[status.value for status in RequirementStatus],
        max_findings=MAX_FINDINGS_SHOWN,
    )
