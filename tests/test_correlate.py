"""QG-SEC-019: the same credential value (compared by hash) in files of several environments
or serving several vendors; one finding per place beyond the first, at its line, naming the
other places by path, never the value."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from scanner.correlate import environment_of, shared_credentials, vendor_of
from scanner.model import Issue
from tests.conftest import GENERIC, IONQ_KEY
from tests.helpers import scan_json, write_tree
from tests.inventory.common import notebook, policy_file


@pytest.mark.parametrize(
    ("path", "environment"),
    [
        ("config/prod/app.env", "prod"),
        (".env.production", "prod"),
        ("deploy/values-dev.yaml", "dev"),
        ("deploy/values-prod.yaml", "prod"),
        ("k8s/staging/runner.yaml", "staging"),
        ("notebooks/regulated/vqe.ipynb", "regulated"),
        ("tests/fixtures/creds.env", "test"),
        (".env.local", "dev"),
        ("prod/values-dev.yaml", "dev"),  # the file's own name wins over its folder
        (".env", None),
        ("src/devices.py", None),  # words, not substrings
        ("latest/config.yaml", None),
    ],
)
def test_environment_from_the_path(path: str, environment: str | None) -> None:
    assert environment_of(path) == environment


def test_environment_from_the_policy_references_first() -> None:
    references = [("vault:kv/quantum/dev", "dev"), ("./.env", "dev"),
                  ("deploy/*.yaml", "production"), ("ops/secrets.env", "regulated-pilot")]
    assert environment_of(".env", references) == "dev"
    assert environment_of("deploy/values-test.yaml", references) == "prod"
    assert environment_of("team/ops/secrets.env", references) == "regulated"
    assert environment_of("config/test.env", references) == "test"


@pytest.mark.parametrize(
    ("rule_id", "line", "vendor"),
    [
        ("QG-SEC-008", "anything", "IonQ"),
        ("QG-SEC-004", 'key = "AKIA…"', "AWS"),
        ("QG-SEC-013", 'DWAVE_API_TOKEN = "…"', "D-Wave"),
        ("QG-SEC-013", '    "qiskit_ibm_token": "…",', "IBM"),
        ("QG-SEC-018", 'os.environ["AZURE_CLIENT_SECRET"] = "…"', "Azure"),
        ("QG-SEC-013", 'password = "…"', None),
    ],
)
def test_vendor_from_the_rule_else_the_name(rule_id: str, line: str, vendor: str | None) -> None:
    assert vendor_of(Issue(rule_id, "m", line=1, secret="x"), line) == vendor


def _issue(path: str, line: int, secret: str, rule: str = "QG-SEC-013") -> Issue:
    return Issue(rule, "m", line=line, path=path, secret=secret)


def test_stage_groups_by_hash_and_reports_each_place_beyond_the_first() -> None:
    issues = [
        _issue("config/prod/app.env", 3, GENERIC),
        _issue(".env", 1, GENERIC),
        _issue("config/dev/app.env", 2, GENERIC),
        _issue("config/dev/app.env", 9, GENERIC),  # the same file again: one place
        _issue("config/prod/app.env", 4, "another value"),
    ]
    found = shared_credentials(issues, lambda _path, _line: "")
    assert [(i.rule_id, i.path, i.line) for i in found] == [
        ("QG-SEC-019", "config/dev/app.env", 2), ("QG-SEC-019", "config/prod/app.env", 3),
    ]
    digest = hashlib.sha256(GENERIC.encode()).hexdigest()
    assert {i.evidence for i in found} == {f"sha256:{digest[:8]}"}
    assert all(i.secret is None and GENERIC not in i.message for i in found)
    assert found[1].message.startswith(
        "The credential here (prod) is the same value, compared by hash, as in .env:1, "
        "config/dev/app.env:2 (dev): one credential shared across environments")


def test_one_environment_and_one_vendor_is_no_finding() -> None:
    issues = [_issue(".env", 1, GENERIC), _issue("config/prod.env", 1, GENERIC),
              _issue("src/a.py", 5, GENERIC)]
    assert shared_credentials(issues, lambda _p, _l: "") == []


def test_severity_by_what_is_shared() -> None:
    def severity(*paths: str) -> set[str]:
        found = shared_credentials([_issue(p, 1, GENERIC) for p in paths], lambda _p, _l: "")
        return {i.severity.value for i in found if i.severity}

    assert severity("dev.env", "test.env") == {"medium"}
    assert severity("dev.env", "prod.env") == {"high"}
    assert severity("staging.env", "regulated/app.env") == {"high"}


# --- through a scan ------------------------------------------------------------------------


def located(document: dict[str, Any]) -> list[tuple[str, int, int | None]]:
    return sorted((f["path"], f["line"], f["cell"]) for f in document["findings"]
                  if f["rule_id"] == "QG-SEC-019")


def test_the_same_key_in_dev_and_prod_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree(tmp_path, {
        ".env": f"IONQ_API_KEY={IONQ_KEY}\n",
        "deploy/values-dev.yaml": f"env:\n  IONQ_API_KEY: {IONQ_KEY}\n",
        "deploy/values-prod.yaml": f"replicas: 2\nenv:\n  IONQ_API_KEY: {IONQ_KEY}\n",
    })
    _, document = scan_json(capsys, str(root))
    assert located(document) == [("deploy/values-dev.yaml", 2, None),
                                 ("deploy/values-prod.yaml", 3, None)]
    finding = next(f for f in document["findings"] if f["rule_id"] == "QG-SEC-019"
                   and f["path"] == "deploy/values-prod.yaml")
    assert finding["severity"] == "high" and "IAM-08" in finding["control_ids"]
    assert finding["message"] == (
        "The credential here (prod, for IonQ) is the same value, compared by hash, as in "
        ".env:1 (for IonQ), deploy/values-dev.yaml:2 (dev, for IonQ): one credential shared "
        "across environments, so a leak anywhere reaches all of them")


def test_one_value_for_two_vendors_in_one_file_and_a_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = notebook("import os", f'os.environ["DWAVE_API_TOKEN"] = "{GENERIC}"')
    root = write_tree(tmp_path, {
        "app.env": f"IONQ_API_KEY={GENERIC}\nPASQAL_PASSWORD={GENERIC}\n",
        "nb/anneal.ipynb": text,
    })
    _, document = scan_json(capsys, str(root))
    dwave_line = text[: text.index("DWAVE_API_TOKEN")].count("\n") + 1
    assert located(document) == [("app.env", 2, None), ("nb/anneal.ipynb", dwave_line, 1)]
    messages = " ".join(f["message"] for f in document["findings"]
                        if f["rule_id"] == "QG-SEC-019")
    assert "across vendors" in messages and "for D-Wave" in messages


def test_policy_environments_name_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree(tmp_path / "project", {
        ".env": f"IONQ_API_KEY={IONQ_KEY}\n",
        "ops/runner.env": f"IONQ_API_KEY={IONQ_KEY}\n",
    })
    policy = policy_file(tmp_path / "policy", environments=[
        {"name": "dev", "credentials": [".env"]},
        {"name": "production", "credentials": ["ops/runner.env", "vault:kv/quantum/ionq"]},
    ])
    _, plain = scan_json(capsys, str(root))
    assert located(plain) == []
    _, document = scan_json(capsys, str(root), "--policy", str(policy))
    assert located(document) == [("ops/runner.env", 1, None)]


def test_the_value_is_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_tree(tmp_path, {
        "dev/app.env": f"IONQ_API_KEY={IONQ_KEY}\n",
        "prod/app.env": f"IONQ_API_KEY={IONQ_KEY}\n",
    })
    for output_format in ("text", "json", "sarif", "junit"):
        main(["scan", str(root), "--no-engines", "--format", output_format])
        captured = capsys.readouterr()
        assert "QG-SEC-019" in captured.out
        assert IONQ_KEY not in captured.out + captured.err
