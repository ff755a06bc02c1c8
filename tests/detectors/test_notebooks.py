"""Notebook detector on small real notebooks written with nbformat."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from scanner.detectors.notebooks import NotebookDetector
from scanner.model import FileKind, Finding
from scanner.source import ParseError, SourceFile
from tests.conftest import AWS_KEY_ID, IBM_KEY

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def scan_nb(nb: nbformat.NotebookNode, path: str = "nb/exp.ipynb", **kwargs: object) -> tuple[list[Finding], str]:
    text = nbformat.writes(nb)
    source = SourceFile(path, Path(path), FileKind.NOTEBOOK, text)
    return list(NotebookDetector(**kwargs).scan(source)), text  # type: ignore[arg-type]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_secret_in_cell_source_reports_cell_and_ipynb_line() -> None:
    nb = new_notebook(cells=[
        new_markdown_cell("# intro"),
        new_code_cell("from qiskit_ibm_runtime import QiskitRuntimeService\n"
                      f'svc = QiskitRuntimeService(token="{IBM_KEY}")'),
    ])
    findings, text = scan_nb(nb)
    assert [(f.rule_id, f.cell, f.line) for f in findings] == [
        ("QG-SEC-003", 1, line_of(text, "QiskitRuntimeService(token"))
    ]
    assert "SEC-02" in findings[0].control_ids


@pytest.mark.parametrize(
    "output",
    [
        new_output("stream", name="stdout", text=f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\n"),
        new_output("execute_result", data={"text/plain": f"'{AWS_KEY_ID}'"}, execution_count=1),
        new_output("display_data", data={"text/html": f"<td>{AWS_KEY_ID}</td>"}),
        new_output("error", ename="AuthError", evalue=f"bad key {AWS_KEY_ID}", traceback=["tb"]),
    ],
)
def test_secret_in_each_kind_of_stored_output(output: nbformat.NotebookNode) -> None:
    nb = new_notebook(cells=[new_code_cell("!env", outputs=[output])])
    findings, text = scan_nb(nb)
    assert [(f.rule_id, f.cell) for f in findings] == [("QG-NBK-002", 0)]
    assert findings[0].line == line_of(text, AWS_KEY_ID)
    assert AWS_KEY_ID not in (findings[0].evidence or "")


def test_embedded_images_are_skipped() -> None:
    # A base64 PNG is high-entropy text: scanning it would produce false secrets.
    big = PNG * 200
    nb = new_notebook(cells=[new_code_cell("plot()", outputs=[
        new_output("display_data", data={"image/png": big, "text/plain": "<Figure>"}),
    ])])
    assert scan_nb(nb)[0] == []


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ("contact: maria.lopez@clinic-mail.org", "email"),
        ("ssn 123-45-6789", "SSN"),
        ("call (415) 555-0132", "phone"),
        ("card 4539 1488 0343 6467", "card"),
    ],
)
def test_personal_data_in_outputs(payload: str, kind: str) -> None:
    nb = new_notebook(cells=[new_code_cell("df.head()", outputs=[
        new_output("stream", name="stdout", text=payload + "\n")])])
    findings, _ = scan_nb(nb)
    assert len(findings) == 1 and findings[0].rule_id == "QG-NBK-003"
    assert kind in findings[0].message


@pytest.mark.parametrize(
    "payload",
    ["order 4539 1488 0343 6468", "see docs@example.com", "version 2024-11-25", "id 1234567890123"],
)
def test_not_personal_data(payload: str) -> None:
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("stream", name="stdout", text=payload + "\n")])])
    assert scan_nb(nb)[0] == []


@pytest.mark.parametrize(
    ("line", "should_flag"),
    [
        ("%pip install qiskit", True),
        ("!pip install -q qiskit-ibm-runtime>=0.20 qiskit==2.1.0", True),
        ("!python -m pip install 'amazon-braket-sdk~=1.80'", True),
        ("%pip install qiskit==2.1.0 qiskit-aer==0.17.1", False),
        ("%pip install -r requirements.lock", False),
        ("# %pip install qiskit", False),
    ],
)
def test_unpinned_notebook_installs(line: str, should_flag: bool) -> None:
    findings, _ = scan_nb(new_notebook(cells=[new_code_cell(line)]))
    assert [f.rule_id for f in findings] == (["QG-NBK-001"] if should_flag else [])


def test_credential_saving_call_in_notebook() -> None:
    nb = new_notebook(cells=[new_code_cell(
        "QiskitRuntimeService.save_account(channel='ibm_quantum_platform', token=tok)")])
    findings, _ = scan_nb(nb)
    assert [(f.rule_id, f.cell) for f in findings] == [("QG-SEC-015", 0)]


def test_outputs_in_regulated_path_only() -> None:
    nb = new_notebook(cells=[new_code_cell("1+1", outputs=[
        new_output("execute_result", data={"text/plain": "2"}, execution_count=1)])])
    assert [f.rule_id for f in scan_nb(nb, "work/regulated/a.ipynb")[0]] == ["QG-NBK-005"]
    assert scan_nb(nb, "work/explore/a.ipynb")[0] == []
    custom = scan_nb(nb, "hipaa/a.ipynb", regulated_paths=["hipaa/"])[0]
    assert [f.rule_id for f in custom] == ["QG-NBK-005"]


def test_single_string_sources_and_v3_notebooks() -> None:
    nb = {"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": f"TOKEN = '{IBM_KEY}'"}]}
    source = SourceFile("a.ipynb", Path("a.ipynb"), FileKind.NOTEBOOK, json.dumps(nb))
    assert [f.rule_id for f in NotebookDetector().scan(source)] == ["QG-SEC-001"]
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": f"TOKEN = '{IBM_KEY}'", "outputs": [], "language": "python",
         "metadata": {}}]}]}
    source = SourceFile("b.ipynb", Path("b.ipynb"), FileKind.NOTEBOOK, json.dumps(v3))
    assert [f.rule_id for f in NotebookDetector().scan(source)] == ["QG-SEC-001"]


@pytest.mark.parametrize(
    "text",
    ['{"cells": [', "[]", '{"nbformat": 4, "cells": "x"}', "not json"],
)
def test_broken_notebooks_raise_parse_error(text: str) -> None:
    source = SourceFile("x.ipynb", Path("x.ipynb"), FileKind.NOTEBOOK, text)
    with pytest.raises(ParseError):
        list(NotebookDetector().scan(source))
