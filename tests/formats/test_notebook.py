"""Notebooks as cells placed in the ``.ipynb`` text, and their code cells as Python."""

from __future__ import annotations

import json

import pytest

from scanner.formats.document import Document
from scanner.formats.errors import ParseError
from scanner.formats.notebook import (
    cell_line_numbers,
    line_in_cell,
    load_cells,
    notebook_python,
    output_text,
)


def notebook(*cells: dict[str, object], nbformat: int = 4) -> Document:
    data = {"cells": list(cells), "metadata": {}, "nbformat": nbformat, "nbformat_minor": 5}
    return Document("nb.ipynb", json.dumps(data, indent=1))


def code(source: object, outputs: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {"cell_type": "code", "execution_count": None, "metadata": {},
            "outputs": outputs or [], "source": source}


def stored_line(document: Document, needle: str) -> int:
    return next(i for i, line in enumerate(document.lines, 1) if needle in line)


def test_each_source_line_maps_to_the_line_that_stores_it() -> None:
    document = notebook(
        {"cell_type": "markdown", "metadata": {}, "source": ["# title\n"]},
        code(["import os\n", "token = os.environ['T']\n", "print(token)"]),
    )
    cells = load_cells(document)
    assert [(c.index, c.cell_type) for c in cells] == [(0, "markdown"), (1, "code")]
    assert cells[1].source == "import os\ntoken = os.environ['T']\nprint(token)"
    assert cell_line_numbers(document, cells[1]) == [
        stored_line(document, "import os"), stored_line(document, "token ="),
        stored_line(document, "print(token)"),
    ]
    assert line_in_cell(document, cells[1], "print(token)") == stored_line(document, "print(token)")


def test_a_source_stored_as_one_string_maps_to_that_string() -> None:
    document = notebook(code("a = 1\nb = 2\n"))
    (cell,) = load_cells(document)
    line = stored_line(document, '"source"')
    assert cell_line_numbers(document, cell) == [line, line, line]


def test_ipython_syntax_is_commented_out_and_broken_cells_reported() -> None:
    document = notebook(
        code(["%pip install qiskit==2.1.0\n", "files = !ls\n", "import pickle"]),
        code(["%%bash\n", "echo $HOME"]),
        code(["print \"python 2\""]),
        code(["eval(input())"]),
    )
    python = notebook_python(document, load_cells(document))
    assert python.code.splitlines() == [
        "# %pip install qiskit==2.1.0", "# files = !ls", "import pickle",
        "# %%bash", "# echo $HOME",
        '# print "python 2"',
        "eval(input())",
    ]
    assert [(cell, reason != "") for cell, _line, reason in python.unparsable_cells] == [
        (2, True)
    ]
    assert python.origin(3) == (0, stored_line(document, "import pickle"))
    assert python.origin(7) == (3, stored_line(document, "eval(input())"))
    assert python.origin(99) == (None, None)


def test_output_text_keeps_text_and_skips_images() -> None:
    document = notebook(code("x", outputs=[
        {"output_type": "stream", "name": "stdout", "text": ["hello\n"]},
        {"output_type": "display_data", "metadata": {},
         "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<Figure>"]}},
        {"output_type": "error", "ename": "E", "evalue": "bad", "traceback": ["tb1", "tb2"]},
    ]))
    (cell,) = load_cells(document)
    text = output_text(cell)
    assert [line for line in text.splitlines() if line] == ["hello", "<Figure>", "bad", "tb1", "tb2"]
    assert "iVBOR" not in text


def test_nbformat_3_notebooks_are_upgraded() -> None:
    data = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "x = 1", "outputs": [], "language": "python",
         "metadata": {}}]}]}
    (cell,) = load_cells(Document("old.ipynb", json.dumps(data)))
    assert (cell.cell_type, cell.source) == ("code", "x = 1")


@pytest.mark.parametrize(
    "text",
    ['{"cells": [', "[]", '{"nbformat": 4, "cells": "x"}', "not json"],
)
def test_broken_notebooks_are_parse_errors(text: str) -> None:
    with pytest.raises(ParseError, match="broken notebook"):
        load_cells(Document("x.ipynb", text))
