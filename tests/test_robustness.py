"""A scan survives what real repositories contain: absurd nesting, and detector bugs on odd
input, without a traceback and without losing the rest of the scan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.detection import detect_unit
from scanner.detectors.interface import Detector
from scanner.detectors.secrets import SecretsDetector
from scanner.model import FileKind, Issue
from scanner.source import SourceFile
from tests.conftest import IONQ_KEY
from tests.helpers import scan_json, source


def test_deeply_nested_files_are_parse_errors_and_the_scan_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    depth = 5000
    # pyproject.toml at the root is also where configuration is looked for.
    (tmp_path / "pyproject.toml").write_text(
        "[project]\ndependencies = " + "[" * depth + "]" * depth + "\n"
    )
    (tmp_path / "stack.json").write_text(
        '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"B": '
        + "[" * 50_000 + "]" * 50_000 + "}}"
    )
    (tmp_path / "main.tf").write_text("locals {\n  x = " + "[" * depth + "]" * depth + "\n}\n")
    (tmp_path / ".env").write_text(f"IONQ_API_KEY={IONQ_KEY}\n")
    code, doc = scan_json(capsys, str(tmp_path), "--fail-on", "high")
    errors = {e["path"]: e for e in doc["scan_errors"]}
    assert {"pyproject.toml", "stack.json", "main.tf"} <= set(errors)
    assert all(errors[p]["reason"] == "parse-error" for p in ("pyproject.toml", "stack.json"))
    assert [f["path"] for f in doc["findings"]] == [".env"]  # the rest was still scanned
    assert code == 1


class _Explodes(Detector):
    name = "explodes"
    kinds = frozenset({FileKind.ENV_FILE})
    rules = frozenset[str]()

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        raise KeyError("a bug")
        yield  # pragma: no cover


def test_a_failing_detector_costs_only_its_own_checks_on_that_file() -> None:
    env = source(f"IONQ_API_KEY={IONQ_KEY}\n", ".env")
    assert env.kind is FileKind.ENV_FILE
    outcome = detect_unit([env], [_Explodes(), SecretsDetector()])
    assert [i.rule_id for i in outcome.issues] == ["QG-SEC-008"]
    assert [(e.path, e.reason) for e in outcome.errors] == [(".env", "detector-error")]
    assert "explodes" in outcome.errors[0].message
    assert IONQ_KEY not in outcome.errors[0].message


def test_an_unexpected_error_is_one_line_without_traceback_or_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No known input triggers a bug, so stand one in: the safety net is what is tested.
    from scanner.cli import scan_cmds

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError(f"could not handle {IONQ_KEY}")

    monkeypatch.setattr(scan_cmds, "run_scan", broken)
    monkeypatch.delenv("QGOV_DEBUG", raising=False)
    code = main(["scan", str(tmp_path), "--no-engines"])
    captured = capsys.readouterr()
    assert code == 2
    assert "qgov: internal error (ValueError" in captured.err
    assert "Traceback" not in captured.err and IONQ_KEY not in captured.err + captured.out
