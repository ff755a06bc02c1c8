"""The scan report formats (`qgov scan --format`, `--sarif FILE` …).

Apart from the renderers in scanner.reports so that the command line can offer them without
importing every renderer.
"""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    CODEQUALITY = "codequality"
    OSCAL = "oscal"
