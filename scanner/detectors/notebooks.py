"""Notebook hygiene: secrets in cells and stored outputs, personal data in outputs,
unpinned installs, credential-saving calls, outputs committed in regulated paths.

Lines are lines of the ``.ipynb`` file as stored, so editors and code-scanning UIs jump to
the right place; ``cell`` is the 0-based cell index. Embedded images and other binary
outputs are skipped, never fed to the pattern or entropy checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import nbformat
import pathspec

from scanner.detectors.interface import Detector
from scanner.detectors.pii import find_personal_data
from scanner.detectors.secret_patterns import find_secrets
from scanner.detectors.secrets import credential_save_calls, secret_finding
from scanner.masking import mask
from scanner.model import FileKind, Finding, content_digest
from scanner.pip_args import PIP_INSTALL_LINE, unpinned_requirements
from scanner.source import ParseError, SourceFile

# Output mime types worth reading as text; everything else (images, PDFs, widgets) is skipped.
_TEXT_MIME = re.compile(r"^(text/(plain|html|markdown|latex|csv)|application/(json|x-json))$")
_CELLS_ARRAY = re.compile(r'"cells"\s*:\s*\[')

DEFAULT_REGULATED_PATHS = ("**/regulated/**", "**/phi/**", "**/pii/**", "**/production/**")


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


def load_cells(source: SourceFile) -> list[NotebookCell]:
    """Cells of a notebook, parsed once per file and shared by every stage that asks."""
    cached = source.cache.get("notebook_cells")
    if cached is None:
        cached = source.cache["notebook_cells"] = _load_cells(source)
    return cached


def _load_cells(source: SourceFile) -> list[NotebookCell]:
    """Parse the notebook (nbformat for version handling) and find each cell's span."""
    try:
        data = source.json_data
    except ParseError as exc:
        raise ParseError(f"broken notebook: {exc}", exc.line) from exc
    if not isinstance(data, dict):
        raise ParseError("broken notebook: top level is not a JSON object")
    try:
        major, _minor = nbformat.reader.get_version(data)
    except Exception as exc:  # nbformat raises plain errors for missing keys
        raise ParseError("broken notebook: no nbformat version") from exc
    if not isinstance(major, int):
        raise ParseError("broken notebook: no nbformat version")
    if major < 4:
        try:
            data = dict(nbformat.convert(nbformat.from_dict(data), 4))
        except Exception as exc:
            raise ParseError(f"broken notebook: cannot upgrade nbformat {major}: {exc}") from exc
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


class NotebookDetector(Detector):
    name = "notebooks"
    kinds = frozenset({FileKind.NOTEBOOK})

    def __init__(self, regulated_paths: Sequence[str] = DEFAULT_REGULATED_PATHS) -> None:
        self._regulated = pathspec.GitIgnoreSpec.from_lines(regulated_paths)

    def scan(self, source: SourceFile) -> Iterator[Finding]:
        cells = load_cells(source)
        for cell in cells:
            if cell.cell_type == "code":
                yield from self._code_cell(source, cell)
            elif cell.source:
                # Markdown cells leak tokens too ("paste your key: ...").
                yield from self._secrets_in(source, cell, cell.source, in_output=False)
            yield from self._outputs(source, cell)
        if self._regulated.match_file(source.path):
            with_outputs = [c for c in cells if c.outputs]
            if with_outputs:
                first = with_outputs[0]
                yield Finding(
                    rule_id="QG-NBK-005",
                    message=(
                        f"Notebook in a regulated path has stored outputs in "
                        f"{len(with_outputs)} cell(s); clear outputs before committing"
                    ),
                    path=source.path,
                    line=_line_in_cell(source, first, '"outputs"'),
                    cell=first.index,
                    content_hash=content_digest(f"{len(with_outputs)}"),
                )

    def _code_cell(self, source: SourceFile, cell: NotebookCell) -> Iterator[Finding]:
        yield from self._secrets_in(source, cell, cell.source, in_output=False)
        for offset, call in credential_save_calls(cell.source):
            snippet = _line_at(cell.source, offset)
            yield Finding(
                rule_id="QG-SEC-015",
                message=f"`{call.rstrip('(')}` in a notebook writes provider credentials to disk",
                path=source.path,
                line=_line_in_cell(source, cell, snippet),
                cell=cell.index,
                content_hash=content_digest(snippet.strip()),
                control_ids=("SEC-02",),
            )
        for raw_line in cell.source.splitlines():
            if not PIP_INSTALL_LINE.match(raw_line):
                continue
            loose = unpinned_requirements(raw_line)
            if loose:
                yield Finding(
                    rule_id="QG-NBK-001",
                    message=(
                        "Notebook installs packages without exact pins: " + ", ".join(loose)
                    ),
                    path=source.path,
                    line=_line_in_cell(source, cell, raw_line),
                    cell=cell.index,
                    evidence=raw_line.strip()[:120],
                    content_hash=content_digest(raw_line.strip()),
                )

    def _secrets_in(
        self, source: SourceFile, cell: NotebookCell, text: str, *, in_output: bool
    ) -> Iterator[Finding]:
        for match in find_secrets(text, quoted_only=cell.cell_type == "code" and not in_output):
            if in_output:
                yield secret_finding(
                    source,
                    match,
                    line=_line_in_cell(source, cell, match.value),
                    cell=cell.index,
                    where=f"in the stored output of cell {cell.index}",
                    control_ids=("SEC-02", "NBK-02"),
                    rule_id="QG-NBK-002",
                )
            else:
                yield secret_finding(
                    source,
                    match,
                    line=_line_in_cell(source, cell, _line_at(text, match.start)),
                    cell=cell.index,
                    where=f"in cell {cell.index}",
                    control_ids=("SEC-02",),
                )

    def _outputs(self, source: SourceFile, cell: NotebookCell) -> Iterator[Finding]:
        text = "\n".join(_output_texts(cell.outputs))
        if not text:
            return
        yield from self._secrets_in(source, cell, text, in_output=True)
        for kind, values in find_personal_data(text).items():
            first = values[0]
            yield Finding(
                rule_id="QG-NBK-003",
                message=(
                    f"Stored output of cell {cell.index} shows personal data: "
                    f"{len(values)} {kind}"
                ),
                path=source.path,
                line=_line_in_cell(source, cell, first),
                cell=cell.index,
                evidence=mask(first),
                content_hash=content_digest(kind + "\x00" + "\x00".join(sorted(values))),
            )


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


def _line_at(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start : end if end != -1 else len(text)]


def _line_in_cell(source: SourceFile, cell: NotebookCell, snippet: str) -> int:
    """The .ipynb line where ``snippet`` is stored inside ``cell`` (JSON-escaped)."""
    encoded = json.dumps(snippet.strip(), ensure_ascii=False)[1:-1] if snippet.strip() else ""
    offset = source.text.find(encoded, cell.start, cell.end) if encoded else -1
    if offset == -1 and encoded:
        ascii_encoded = json.dumps(snippet.strip())[1:-1]
        offset = source.text.find(ascii_encoded, cell.start, cell.end)
    return source.line_of(offset if offset != -1 else cell.start)
