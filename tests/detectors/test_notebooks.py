"""Notebook detector on small real notebooks written with nbformat."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from scanner.detectors.notebooks import NotebookDetector
from scanner.model import Finding
from tests.conftest import AWS_KEY_ID, GENERIC, IBM_KEY, IONQ_KEY
from tests.helpers import Located, detect, findings, located, parse_error, source

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def scan_nb(
    nb: nbformat.NotebookNode,
    path: str = "nb/exp.ipynb",
    detector: NotebookDetector | None = None,
) -> tuple[list[Finding], str]:
    text = nbformat.writes(nb)
    return findings(detector or NotebookDetector(), source(text, path)), text


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
    ["order 4539 1488 0343 6468", "see docs@example.com", "version 2024-11-25", "id 1234567890123",
     # a Luhn-valid run inside a hex digest or a dashed id, git's SSH user, a machine address
     "commit ab4539148803436467cd", "order ORD-4539148803436467",
     "cloned git@github.com:org/repo.git", "connected as svc@db.internal"],
)
def test_not_personal_data(payload: str) -> None:
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("stream", name="stdout", text=payload + "\n")])])
    assert scan_nb(nb)[0] == []


# A one-cell notebook as nbformat writes it stores the cell's only source line on line 10.
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%pip install qiskit", [("QG-NBK-001", 10)]),
        ("!pip install -q qiskit-ibm-runtime>=0.20 qiskit==2.1.0", [("QG-NBK-001", 10)]),
        ("!python -m pip install 'amazon-braket-sdk~=1.80'", [("QG-NBK-001", 10)]),
        ("%pip install qiskit==2.1.0 qiskit-aer==0.17.1", []),
        ("%pip install -r requirements.lock", []),
        ("# %pip install qiskit", []),
    ],
)
def test_unpinned_notebook_installs(line: str, expected: list[Located]) -> None:
    found, text = scan_nb(new_notebook(cells=[new_code_cell(line)]))
    assert located(found) == expected
    assert all(line in text.splitlines()[n - 1] for _rule, n in expected if n is not None)


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
    custom = scan_nb(nb, "hipaa/a.ipynb", NotebookDetector(regulated_paths=["hipaa/"]))[0]
    assert [f.rule_id for f in custom] == ["QG-NBK-005"]


def test_single_string_sources_and_v3_notebooks() -> None:
    nb = {"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": f"TOKEN = '{IBM_KEY}'"}]}
    found = findings(NotebookDetector(), source(json.dumps(nb), "a.ipynb"))
    assert [f.rule_id for f in found] == ["QG-SEC-001"]
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": f"TOKEN = '{IBM_KEY}'", "outputs": [], "language": "python",
         "metadata": {}}]}]}
    found = findings(NotebookDetector(), source(json.dumps(v3), "b.ipynb"))
    assert [f.rule_id for f in found] == ["QG-SEC-001"]


@pytest.mark.parametrize(
    "text",
    ['{"cells": [', "[]", '{"nbformat": 4, "cells": "x"}', "not json"],
)
def test_broken_notebooks_are_parse_errors(text: str) -> None:
    detection = detect(NotebookDetector(), source(text, "x.ipynb"))
    assert parse_error(detection).path == "x.ipynb"
    assert detection.issues == []


def test_credentials_set_into_the_environment_in_cells() -> None:
    nb = new_notebook(cells=[
        new_code_cell(f'import os\nos.environ["QISKIT_IBM_TOKEN"] = "{IBM_KEY}"'),
        new_code_cell(f"%env QISKIT_IBM_TOKEN {GENERIC}"),
        new_code_cell(f"%set_env MY_SERVICE_TOKEN={GENERIC}"),
        new_code_cell(f"%env IONQ_API_KEY={IONQ_KEY}"),  # IonQ's own rule knows this one
        new_code_cell("%env IONQ_API_KEY=<your-ionq-key>"),
        new_code_cell('os.environ["QISKIT_IBM_TOKEN"] = getpass()'),
    ])
    found, text = scan_nb(nb)
    assert [(f.rule_id, f.cell, f.line) for f in found] == [
        ("QG-SEC-018", 0, line_of(text, "os.environ[")),
        ("QG-SEC-018", 1, line_of(text, "%env QISKIT_IBM_TOKEN")),
        ("QG-SEC-018", 2, line_of(text, "%set_env MY_SERVICE_TOKEN")),
        ("QG-SEC-008", 3, line_of(text, f"%env IONQ_API_KEY={IONQ_KEY}")),
    ]
    assert all("SEC-02" in f.control_ids for f in found)
    assert IBM_KEY not in (found[0].evidence or "") + found[0].message
