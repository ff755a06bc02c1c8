"""A discovered file: read once, decoded once, parsed at most once per format.

Detectors receive a ``SourceFile`` and never touch the filesystem themselves. Parsed
forms (YAML documents, notebook JSON, TOML) are cached on the object so that several
detectors looking at the same file share one parse.
"""

from __future__ import annotations

import json
import re
import tomllib
from bisect import bisect_right
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from scanner.model import FileKind, ScanError

_NEWLINE = re.compile("\n")


class ParseError(Exception):
    """Raised by a parsed view when the file's content is malformed."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class SourceFile:
    """Content plus metadata for one file under a scan root."""

    def __init__(self, path: str, abs_path: Path, kind: FileKind, text: str) -> None:
        self.path = path  # POSIX, relative to the scanned root
        self.abs_path = abs_path
        self.kind = kind
        self.text = text
        # Parsed forms shared between detectors and stages (e.g. notebook cells).
        self.cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"SourceFile({self.path!r}, {self.kind.value})"

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

    @cached_property
    def yaml_documents(self) -> list[Any]:
        """All documents of a (multi-document) YAML file, loaded safely.

        CloudFormation short-form tags (``!Ref``, ``!Sub`` …) are kept as data.
        """
        from scanner.yaml_loader import load_all_documents

        return load_all_documents(self.text)

    @cached_property
    def yaml_documents_with_lines(self) -> list[Any]:
        """Like ``yaml_documents`` but mappings/sequences know their line numbers."""
        from scanner.yaml_lines import load_all_with_lines

        return load_all_with_lines(self.text)

    @cached_property
    def json_data(self) -> Any:
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc.msg}", exc.lineno) from exc
        except RecursionError as exc:
            raise ParseError("JSON nested too deeply") from exc

    @cached_property
    def toml_data(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise ParseError(f"invalid TOML: {exc}") from exc
        except RecursionError as exc:
            raise ParseError("TOML nested too deeply") from exc

    def error(self, message: str, line: int | None = None) -> ScanError:
        return ScanError(path=self.path, reason="parse-error", message=message, line=line)


def parse_error_from_yaml(exc: yaml.YAMLError) -> ParseError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ParseError(f"invalid YAML: {problem}", line)
