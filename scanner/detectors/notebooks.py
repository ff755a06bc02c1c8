"""Notebook hygiene: secrets in cells and stored outputs, personal data in outputs,
unpinned installs, credential-saving calls, outputs committed in regulated paths.

Lines are lines of the ``.ipynb`` file as stored, so editors and code-scanning UIs jump to
the right place; ``cell`` is the 0-based cell index. Rule metadata: ``scanner/rules/
notebooks.yaml``; secrets in cells report the secret rules (``scanner/rules/secrets.yaml``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pathspec

from scanner.detectors.interface import Detector
from scanner.detectors.pii import find_personal_data
from scanner.detectors.secret_patterns import SECRET_RULES, find_secrets
from scanner.detectors.secrets import credential_save_calls, secret_issue
from scanner.formats.errors import ParseError
from scanner.formats.notebook import NotebookCell, line_in_cell, output_text
from scanner.formats.pip_args import PIP_INSTALL_LINE, unpinned_requirements
from scanner.model import FileKind, Issue
from scanner.source import SourceFile

DEFAULT_REGULATED_PATHS = ("**/regulated/**", "**/phi/**", "**/pii/**", "**/production/**")


class NotebookDetector(Detector):
    name = "notebooks"
    kinds = frozenset({FileKind.NOTEBOOK})
    rules = frozenset({"QG-NBK-001", "QG-NBK-002", "QG-NBK-003", "QG-NBK-005"})
    shared_rules = SECRET_RULES | {"QG-SEC-015"}

    def __init__(self, regulated_paths: Sequence[str] = DEFAULT_REGULATED_PATHS) -> None:
        self._regulated = pathspec.GitIgnoreSpec.from_lines(regulated_paths)

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        try:
            cells = source.notebook_cells
        except ParseError:
            # A notebook that cannot be read is reported as broken, and its text is still
            # searched for credentials: a truncated file keeps its tokens.
            yield from _raw_secrets(source)
            raise
        # Cells converted from an old nbformat no longer map to the file's lines, and a
        # conversion can drop fields: for credentials the file's own text is searched.
        in_cells = not _upgraded(source)
        if not in_cells:
            yield from _raw_secrets(source)
        for cell in cells:
            if cell.cell_type == "code":
                yield from self._code_cell(source, cell, secrets=in_cells)
            elif cell.source and in_cells:
                # Markdown cells leak tokens too ("paste your key: ...").
                yield from self._secrets_in(source, cell, cell.source, in_output=False)
            yield from self._outputs(source, cell, secrets=in_cells)
        if self._regulated.match_file(source.path):
            with_outputs = [c for c in cells if c.outputs]
            if with_outputs:
                first = with_outputs[0]
                yield Issue(
                    "QG-NBK-005",
                    f"Notebook in a regulated path has stored outputs in {len(with_outputs)} "
                    "cell(s); clear outputs before committing",
                    line=line_in_cell(source, first, '"outputs"'),
                    cell=first.index,
                    material=f"{len(with_outputs)}",
                )

    def _code_cell(
        self, source: SourceFile, cell: NotebookCell, *, secrets: bool
    ) -> Iterator[Issue]:
        if secrets:
            yield from self._secrets_in(source, cell, cell.source, in_output=False)
        for offset, call in credential_save_calls(cell.source):
            snippet = _line_at(cell.source, offset)
            yield Issue(
                "QG-SEC-015",
                f"`{call.rstrip('(')}` in a notebook writes provider credentials to disk",
                line=line_in_cell(source, cell, snippet),
                cell=cell.index,
                material=snippet.strip(),
                control_ids=("SEC-02",),
            )
        for raw_line in cell.source.splitlines():
            if not PIP_INSTALL_LINE.match(raw_line):
                continue
            loose = unpinned_requirements(raw_line)
            if loose:
                yield Issue(
                    "QG-NBK-001",
                    "Notebook installs packages without exact pins: " + ", ".join(loose),
                    line=line_in_cell(source, cell, raw_line),
                    cell=cell.index,
                    evidence=raw_line.strip(),
                    material=raw_line.strip(),
                )

    def _secrets_in(
        self, source: SourceFile, cell: NotebookCell, text: str, *, in_output: bool
    ) -> Iterator[Issue]:
        for match in find_secrets(text, quoted_only=cell.cell_type == "code" and not in_output):
            if in_output:
                yield secret_issue(
                    match,
                    line=line_in_cell(source, cell, match.value),
                    cell=cell.index,
                    where=f"in the stored output of cell {cell.index}",
                    control_ids=("SEC-02", "NBK-02"),
                    rule_id="QG-NBK-002",
                )
            else:
                yield secret_issue(
                    match,
                    line=line_in_cell(source, cell, _line_at(text, match.start)),
                    cell=cell.index,
                    where=f"in cell {cell.index}",
                    control_ids=("SEC-02",),
                )

    def _outputs(
        self, source: SourceFile, cell: NotebookCell, *, secrets: bool
    ) -> Iterator[Issue]:
        text = output_text(cell)
        if not text:
            return
        if secrets:
            yield from self._secrets_in(source, cell, text, in_output=True)
        for kind, values in find_personal_data(text).items():
            first = values[0]
            yield Issue(
                "QG-NBK-003",
                f"Stored output of cell {cell.index} shows personal data: {len(values)} {kind}",
                line=line_in_cell(source, cell, first),
                cell=cell.index,
                secret=first,
                material=kind + "\x00" + "\x00".join(sorted(values)),
            )


def _upgraded(source: SourceFile) -> bool:
    version = source.json_data.get("nbformat")
    return isinstance(version, int) and version < 4


# JSON escapes inside the file text, replaced by text of the same length so offsets (and so
# lines) stay those of the file: a token in `"key = \"…\""` is then found like in code.
_UNESCAPE = {'\\"': ' "', "\\n": "  ", "\\t": "  ", "\\/": " /"}


def _raw_secrets(source: SourceFile) -> Iterator[Issue]:
    text = source.text
    for escaped, plain in _UNESCAPE.items():
        text = text.replace(escaped, plain)
    for match in find_secrets(text):
        yield secret_issue(match, line=source.line_of(match.start), where="in the notebook file")


def _line_at(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start : end if end != -1 else len(text)]
