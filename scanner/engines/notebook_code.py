"""Notebook code cells as Python an outside analyser can read, with a map back to the file.

Each source line of a code cell is mapped to the line of the ``.ipynb`` file that stores
it: the cell's ``"source"`` JSON array is decoded element by element, and every element
(one line of source in nbformat 4 as written by Jupyter) sits on one physical line. A
``source`` stored as one string maps all its lines to that string's line. Notebooks in
nbformat 3, converted on load, map to the cell's first line.

IPython syntax is commented out so the result parses as Python: line magics (``%pip``),
shell escapes (``!ls``, ``x = !cmd``), help (``obj?``) and whole cell-magic cells
(``%%bash``). A cell that still does not parse (e.g. top-level ``await``) is commented out
and reported back, so one odd cell does not hide the rest of the notebook.
"""

from __future__ import annotations

import ast
import bisect
import json
import re
import warnings
from dataclasses import dataclass, field

from scanner.detectors.notebooks import NotebookCell, load_cells
from scanner.source import SourceFile

_SOURCE_KEY = re.compile(r'"source"\s*:\s*')
_MAGIC = re.compile(r"^\s*(?:[%!]|\w+\s*=\s*!|.*\?\s*$)")


@dataclass
class NotebookPython:
    """Python text of all code cells plus, per line of it, (cell index, .ipynb line)."""

    code: str
    line_map: list[tuple[int, int]] = field(default_factory=list)
    unparsable_cells: list[tuple[int, int, str]] = field(default_factory=list)  # cell, line, msg

    def origin(self, line: int) -> tuple[int | None, int | None]:
        """(cell, ipynb line) for a 1-based line of ``code``."""
        if 1 <= line <= len(self.line_map):
            return self.line_map[line - 1]
        return None, None


def is_python_notebook(source: SourceFile) -> bool:
    try:
        data = source.json_data
    except Exception:
        return False
    if not isinstance(data, dict):
        return False
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        return True
    language = (metadata.get("kernelspec") or {}).get("language") or (
        metadata.get("language_info") or {}
    ).get("name")
    return language is None or str(language).lower() in {"python", "python3", "ipython"}


def cell_line_numbers(source: SourceFile, cell: NotebookCell) -> list[int]:
    """The .ipynb line of each line of ``cell.source`` (same length as its splitlines)."""
    logical = cell.source.split("\n")
    fallback = source.line_of(cell.start)
    if cell.start == 0 and cell.end == len(source.text):
        return [fallback] * len(logical)
    found = _SOURCE_KEY.search(source.text, cell.start, cell.end)
    if found is None:
        return [fallback] * len(logical)
    pos = found.end()
    text = source.text
    decoder = json.JSONDecoder()
    starts: list[int] = []  # offset of each element within the joined source
    lines: list[int] = []  # physical line of each element
    joined = 0
    if pos < len(text) and text[pos] == '"':
        return [source.line_of(pos)] * len(logical)
    if pos >= len(text) or text[pos] != "[":
        return [fallback] * len(logical)
    pos += 1
    while pos < cell.end:
        while pos < cell.end and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= cell.end or text[pos] != '"':
            break
        try:
            element, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        starts.append(joined)
        lines.append(source.line_of(pos))
        joined += len(element) if isinstance(element, str) else 0
        pos = end
    if not starts:
        return [fallback] * len(logical)
    result = []
    offset = 0
    for piece in logical:
        index = bisect.bisect_right(starts, offset) - 1
        result.append(lines[max(index, 0)])
        offset += len(piece) + 1
    return result


def _neutralise(cell_source: str) -> list[str]:
    lines = cell_source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        return ["# " + line for line in lines]
    return ["# " + line if _MAGIC.match(line) else line for line in lines]


def _parse_error(lines: list[str]) -> SyntaxError | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes in user code
            ast.parse("\n".join(lines))
    except SyntaxError as exc:
        return exc
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, deep nesting
        return SyntaxError(str(exc))
    return None


def notebook_python(source: SourceFile) -> NotebookPython:
    """All code cells as one Python text (cells stay top-level, in order)."""
    cached = source.cache.get("notebook_python")
    if isinstance(cached, NotebookPython):
        return cached
    out: list[str] = []
    result = NotebookPython(code="")
    for cell in load_cells(source):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        numbers = cell_line_numbers(source, cell)
        lines = cell.source.split("\n")
        if _parse_error(lines) is not None:
            lines = _neutralise(cell.source)  # IPython syntax: comment it out, then retry
            error = _parse_error(lines)
            if error is not None:
                where = numbers[min(max((error.lineno or 1) - 1, 0), len(numbers) - 1)]
                result.unparsable_cells.append((cell.index, where, error.msg))
                lines = ["# " + line for line in lines]
        for index, line in enumerate(lines):
            out.append(line)
            result.line_map.append((cell.index, numbers[min(index, len(numbers) - 1)]))
    result.code = "\n".join(out) + ("\n" if out else "")
    source.cache["notebook_python"] = result
    return result
