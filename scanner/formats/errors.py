"""The error every parser raises for malformed content, with the line where it can tell."""

from __future__ import annotations


class ParseError(Exception):
    """A file's content is malformed; the pipeline turns it into a scan error for that file."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class ImpossibleValue(ParseError):
    """Well-formed text naming a value that cannot exist (a date such as 2026-02-30)."""
