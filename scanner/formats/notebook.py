"""Notebooks: cells with their place in the ``.ipynb`` text, and code cells as Python.

``load_cells`` parses the notebook (nbformat for old versions) and finds each cell's span in
the file text, so findings point at lines of the file as stored. ``notebook_python`` turns
the code cells into one Python text an outside analyser can read, with a map back to (cell,
``.ipynb`` line).

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scanner.formats.document import Document
from scanner.formats.errors import ParseError

_SOURCE_KEY = re.compile(r'"source"\s*:\s*')
# IPython syntax: a line magic or shell escape (`%pip`, `!ls`, `x = !cmd`); help requests
# (`obj?`) are recognised by their last character instead of a backtracking `.*\?\s*$`.
_MAGIC = re.compile(r"^\s*(?:[%!]|\w+\s*=\s*!)")
_CELLS_ARRAY = re.compile(r'"cells"\s*:\s*\[')
# Output mime types worth reading as text; everything else (images, PDFs, widgets) is skipped.
_TEXT_MIME = re.compile(r"^(text/(plain|html|markdown|latex|csv)|application/(json|x-json))$")


@dataclass(frozen=True)
class NotebookCell:
    index: int
    cell_type: str
    source: str
    outputs: list[dict[str, Any]]
    start: int  # offset of the cell object in the file text
    end: int


def _joined(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else ""


def load_cells(source: Document) -> list[NotebookCell]:
    """Parse the notebook (nbformat for version handling) and find each cell's span."""
    try:
        data = source.json_data
    except ParseError as exc:
        raise ParseError(f"broken notebook: {exc}", exc.line) from exc
    if not isinstance(data, dict):
        raise ParseError("broken notebook: top level is not a JSON object")
    major = data.get("nbformat")
    # bool is an int in Python; a notebook saying `"nbformat": true` is no version at all.
    if isinstance(major, bool) or not isinstance(major, int) or major not in _READABLE_VERSIONS:
        shown = "missing" if major is None else repr(major)[:20]
        raise ParseError(f"broken notebook: nbformat version is {shown}, not 1 to 4")
    if major < 4:
        data = _upgraded(data, major)
        spans = None  # converted cells no longer line up with the file text
    else:
        spans = _cell_spans(source.text)
    cells_raw = data.get("cells")
    if not isinstance(cells_raw, list):
        raise ParseError("broken notebook: 'cells' is missing or not a list")
    cells = []
    for index, raw in enumerate(cells_raw):
        if not isinstance(raw, dict):
            raise ParseError(f"broken notebook: cell {index} is not an object")
        start, end = spans[index] if spans and index < len(spans) else (0, len(source.text))
        outputs = raw.get("outputs") if isinstance(raw.get("outputs"), list) else []
        cells.append(
            NotebookCell(
                index=index,
                cell_type=str(raw.get("cell_type", "")),
                source=_joined(raw.get("source", "")),
                outputs=[o for o in outputs or [] if isinstance(o, dict)],
                start=start,
                end=end,
            )
        )
    return cells


_READABLE_VERSIONS = frozenset({1, 2, 3, 4})
# Markdown headings stop at six levels; nbformat's v3 upgrade writes `level` '#' characters.
_MAX_HEADING_LEVEL = 6


def _upgraded(data: dict[str, Any], major: int) -> dict[str, Any]:
    """An nbformat 1-3 notebook in version 4's shape, or a ParseError; never an empty
    notebook that silently lost the cells the file holds."""
    for worksheet in data.get("worksheets") or []:
        for cell in (worksheet.get("cells") or []) if isinstance(worksheet, dict) else []:
            if isinstance(cell, dict) and cell.get("cell_type") == "heading":
                level = cell.get("level")
                cell["level"] = (
                    min(max(level, 1), _MAX_HEADING_LEVEL)
                    if isinstance(level, int) and not isinstance(level, bool)
                    else 1
                )
    # Imported here: nbformat loads jsonschema (and its format checkers), which cost every
    # scan's start-up up to seconds, for the rare notebook older than version 4.
    import nbformat

    try:
        upgraded = dict(nbformat.convert(nbformat.from_dict(data), 4))
    except Exception as exc:
        raise ParseError(
            f"broken notebook: cannot upgrade nbformat {major} ({exc.__class__.__name__})"
        ) from exc
    if not upgraded.get("cells") and _holds_cells(data):
        raise ParseError(
            f"broken notebook: it says nbformat {major} but its cells are not in that "
            "version's shape, so they cannot be read"
        )
    return upgraded


def _holds_cells(data: dict[str, Any]) -> bool:
    worksheets = data.get("worksheets")
    in_worksheets = isinstance(worksheets, list) and any(
        isinstance(w, dict) and w.get("cells") for w in worksheets
    )
    return bool(data.get("cells")) or in_worksheets


def _cell_spans(text: str) -> list[tuple[int, int]]:
    """Offsets of each cell object, found by decoding the cells array element by element."""
    found = _CELLS_ARRAY.search(text)
    if found is None:
        return []
    decoder = json.JSONDecoder()
    spans = []
    pos = found.end()
    length = len(text)
    while pos < length:
        while pos < length and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= length or text[pos] == "]":
            break
        try:
            _obj, end = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            break
        spans.append((pos, end))
        pos = end
    return spans


def output_text(cell: NotebookCell) -> str:
    """The text a cell's stored outputs show: streams, results, tracebacks and text-like
    display data. Images and other binary outputs are left out, never fed to a check."""
    return "\n".join(_output_texts(cell.outputs))


def _output_texts(outputs: list[dict[str, Any]]) -> Iterator[str]:
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            yield _joined(output.get("text"))
        elif kind == "error":
            yield str(output.get("evalue", ""))
            yield "\n".join(str(line) for line in output.get("traceback") or [])
        elif kind in {"execute_result", "display_data"}:
            data = output.get("data")
            if isinstance(data, dict):
                for mime, value in data.items():
                    if _TEXT_MIME.match(str(mime)):
                        if isinstance(value, dict | list) and mime.endswith("json"):
                            yield json.dumps(value)
                        else:
                            yield _joined(value)


def line_in_cell(document: Document, cell: NotebookCell, snippet: str) -> int:
    """The .ipynb line where ``snippet`` is stored inside ``cell`` (JSON-escaped)."""
    encoded = json.dumps(snippet.strip(), ensure_ascii=False)[1:-1] if snippet.strip() else ""
    text = document.text
    offset = text.find(encoded, cell.start, cell.end) if encoded else -1
    if offset == -1 and encoded:
        ascii_encoded = json.dumps(snippet.strip())[1:-1]
        offset = text.find(ascii_encoded, cell.start, cell.end)
    return document.line_of(offset if offset != -1 else cell.start)


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


def is_python_notebook(source: Document) -> bool:
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


def cell_line_numbers(source: Document, cell: NotebookCell) -> list[int]:
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
    return ["# " + line if _is_magic(line) else line for line in lines]


def _is_magic(line: str) -> bool:
    return _MAGIC.match(line) is not None or line.rstrip().endswith("?")


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


def notebook_python(source: Document, cells: list[NotebookCell]) -> NotebookPython:
    """All code cells as one Python text (cells stay top-level, in order)."""
    out: list[str] = []
    result = NotebookPython(code="")
    for cell in cells:
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
    return result
