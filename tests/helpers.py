"""What most tests need, in one place: files as discovery reads them, detectors run the way
the pipeline runs them (issues turned into findings with the real catalog, so a test sees
what a user sees), and ``qgov scan`` through ``scanner.cli.main``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scanner.catalog import Catalog, load_catalog
from scanner.classify import classify
from scanner.cli import main
from scanner.detection import detect_unit
from scanner.detectors.interface import Detector
from scanner.discover import Candidate, read_source, walk
from scanner.findings import FindingBuilder
from scanner.fs import ScanRoot
from scanner.model import FileKind, Finding, Issue, ScanError, Severity
from scanner.source import SourceFile
from tests.conftest import IBM_KEY, IONQ_KEY

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
LEAKY = SAMPLES / "leaky-quantum-project"
GOVERNED = SAMPLES / "governed-quantum-project"
DATA = REPO / "tests" / "data"

Located = tuple[str, int | None]


@cache
def real_catalog() -> Catalog:
    """The shipped catalog, loaded once per test session."""
    return load_catalog()


def default_severity(rule_id: str) -> Severity:
    """The severity a finding of ``rule_id`` gets when its issue names none."""
    catalog = real_catalog()
    rule = catalog.rule(rule_id)
    assert rule is not None, rule_id
    return catalog.rule_severity(rule)


# --- files -----------------------------------------------------------------------------------


def source(
    text: str, path: str, *, kind: FileKind | None = None, root: ScanRoot | None = None
) -> SourceFile:
    """``text`` as the file ``path`` (POSIX, relative to the scan root), classified the way
    discovery classifies it unless ``kind`` says otherwise."""
    abs_path = root.path / path if root is not None else Path(path)
    return SourceFile(path, abs_path, kind or classify(path, text), text, root=root)


def source_at(root: Path, rel: str) -> SourceFile:
    """The file ``rel`` under ``root``, read and classified by discovery (with ``root`` as
    the scan root, so requirements includes resolve as in a scan)."""
    absolute = root / rel
    read = read_source(Candidate(rel, absolute, absolute.stat().st_size), ScanRoot.open(root))
    assert isinstance(read, SourceFile), read
    return read


def sources_under(root: Path) -> list[SourceFile]:
    """Every file a scan of ``root`` would read, as discovery reads it."""
    scan_root = ScanRoot.open(root)
    walked = walk(root)
    found = []
    for candidate in walked.candidates:
        read = read_source(candidate, scan_root)
        assert isinstance(read, SourceFile), read
        found.append(read)
    return found


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root`` (folders created); returns ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def small_project(root: Path) -> Path:
    """Two findings: a provider token in src/run.py (QG-SEC-003, line 2) and an IonQ key in
    .env (QG-SEC-008)."""
    return write_tree(root, {
        "src/run.py": "from qiskit_ibm_runtime import QiskitRuntimeService\n"
                      f'svc = QiskitRuntimeService(token="{IBM_KEY}")\n',
        ".env": f"IONQ_API_KEY={IONQ_KEY}\n",
    })


# --- detectors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    """One detector's run over some files, as the pipeline runs it."""

    issues: list[Issue]  # what the detector said (each with its path)
    findings: list[Finding]  # what a user sees
    errors: list[ScanError]  # parse errors and detector failures, one per file


def build_findings(issues: Iterable[Issue]) -> list[Finding]:
    """Findings for ``issues`` (each with its path) as a scan builds them; an issue whose
    rule the catalog does not know fails the test."""
    builder = FindingBuilder(real_catalog())
    found = builder.build_all(issues)
    assert builder.unknown_rules == set(), f"rules not in the catalog: {builder.unknown_rules}"
    return found


def detect(detector: Detector, *sources: SourceFile) -> Detection:
    """Run ``detector`` over ``sources`` as one work unit (a Terraform module's files are
    read together) and build every finding with the real catalog."""
    outcome = detect_unit(sources, [detector])
    return Detection(outcome.issues, build_findings(outcome.issues), outcome.errors)


def findings(detector: Detector, *sources: SourceFile) -> list[Finding]:
    """The findings of ``detector`` over ``sources``; any scan error fails the test."""
    detection = detect(detector, *sources)
    assert detection.errors == [], detection.errors
    return detection.findings


def parse_error(detection: Detection) -> ScanError:
    """The scan error of a run over one file that could not be parsed: the pipeline turns a
    detector's ``ParseError`` into exactly this, and the scan goes on."""
    assert [e.reason for e in detection.errors] == ["parse-error"], detection.errors
    return detection.errors[0]


def located(found: Iterable[Finding | Issue]) -> list[Located]:
    """``(rule_id, line)`` of each finding, sorted."""
    return sorted(((f.rule_id, f.line) for f in found), key=lambda pair: (pair[0], pair[1] or 0))


def rule_ids(found: Iterable[Finding | Issue]) -> set[str]:
    return {f.rule_id for f in found}


# --- the command line ------------------------------------------------------------------------


def scan_json(
    capsys: pytest.CaptureFixture[str], *args: str, engines: bool = False
) -> tuple[int, dict[str, Any]]:
    """``qgov scan ARGS --format json`` (engines off unless asked for): the exit code and
    the JSON report. A traceback on stderr fails the test."""
    argv = ["scan", *args, "--format", "json"]
    if not engines:
        argv.append("--no-engines")
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, json.loads(captured.out)
