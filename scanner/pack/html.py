"""report.html: the audit pack's readable report, from ``PackData`` through autoescaped Jinja2
templates (``report_templates/pack/``), self-contained: inline CSS and SVG, no scripts, no
fetches (a content security policy forbids them), system fonts only.

What the report shows, in what order and how much of it, is decided in ``scanner.pack.view``;
the templates only lay it out. Nothing derived from input is marked safe: a file named
``<script>`` stays text.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from scanner.pack.caps import DEFAULT_CAPS, Caps
from scanner.pack.model import PackData
from scanner.pack.view import report_view
from scanner.paths import data_dir


def _number(value: int) -> str:
    """1234 -> 1,234: counts in the thousands read at a glance."""
    return f"{value:,}"


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(data_dir("report_templates"))),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["n"] = _number
    return environment


def render_report_html(data: PackData, *, caps: Caps = DEFAULT_CAPS) -> str:
    template = _environment().get_template("pack/report.html")
    return template.render(v=report_view(data, caps))
