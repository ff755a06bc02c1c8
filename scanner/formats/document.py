"""A text with a path: line arithmetic and the generic parsed views (JSON, TOML, YAML).

Parsers take a ``Document`` (or plain text) and never a file system path, so ``formats/`` sits
below ``source.py`` and nothing here imports upwards. Each parsed view is computed at most
once per document, and so is its failure: a file that is broken for one reader is not parsed
again by the next one.
"""

from __future__ import annotations

import json
import re
import tomllib
from bisect import bisect_right
from functools import cached_property
from typing import Any, TypeVar

from scanner.formats.errors import ParseError
from scanner.formats.yaml import load_all_with_lines

T = TypeVar("T")
_NEWLINE = re.compile("\n")


def unwrap(outcome: T | ParseError) -> T:
    """The value of a cached parse, or its cached error raised again."""
    if isinstance(outcome, ParseError):
        raise outcome
    return outcome


class Document:
    def __init__(self, path: str, text: str) -> None:
        self.path = path  # POSIX, relative to the scanned root
        self.text = text

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def line_starts(self) -> list[int]:
        """Offsets of each line start, for turning a match offset into a line number."""
        # One step per line, not per character: notebooks run to tens of megabytes.
        return [0, *(match.end() for match in _NEWLINE.finditer(self.text))]

    def line_of(self, offset: int) -> int:
        """1-based line number containing character ``offset``."""
        return bisect_right(self.line_starts, offset)

    def find_line(self, needle: str, start: int = 1, end: int | None = None) -> int | None:
        """The first 1-based line from ``start`` to ``end`` (inclusive) holding ``needle``."""
        if not needle:
            return None
        last = len(self.lines) if end is None else min(end, len(self.lines))
        for number in range(max(start, 1), last + 1):
            if needle in self.lines[number - 1]:
                return number
        return None

    # --- parsed views ----------------------------------------------------------------------

    @cached_property
    def _json(self) -> Any:
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            return ParseError(f"invalid JSON: {exc.msg}", exc.lineno)
        except RecursionError:
            return ParseError("JSON nested too deeply")

    @property
    def json_data(self) -> Any:
        return unwrap(self._json)

    @cached_property
    def _toml(self) -> dict[str, Any] | ParseError:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            return ParseError(f"invalid TOML: {exc}")
        except RecursionError:
            return ParseError("TOML nested too deeply")

    @property
    def toml_data(self) -> dict[str, Any]:
        return unwrap(self._toml)

    @cached_property
    def _yaml(self) -> list[Any] | ParseError:
        try:
            return load_all_with_lines(self.text)
        except ParseError as exc:
            return exc

    @property
    def yaml_documents(self) -> list[Any]:
        """Every YAML document, line-aware (``LineDict``/``LineList``), CloudFormation tags
        as data."""
        return unwrap(self._yaml)
