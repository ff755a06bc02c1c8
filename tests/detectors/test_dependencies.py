"""Dependency manifests: pins, hashes, sources, includes, and broken files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from scanner.catalog import Catalog
from scanner.detectors.dependencies import DependenciesDetector
from scanner.masking import redact_url
from scanner.model import Finding, Severity
from scanner.source import SourceFile
from tests.helpers import (
    DATA,
    default_severity,
    detect,
    findings,
    parse_error,
    source_at,
    write_tree,
)

DEPS = DATA / "deps"


def written(tmp_path: Path, name: str, text: str) -> SourceFile:
    return source_at(write_tree(tmp_path, {name: text}), name)


def scan_text(tmp_path: Path, name: str, text: str, tier: str = "internal-pilot") -> list[Finding]:
    return findings(DependenciesDetector(tier), written(tmp_path, name, text))


def scan_file(root: Path, rel: str, tier: str = "internal-pilot") -> list[Finding]:
    return findings(DependenciesDetector(tier), source_at(root, rel))


def rules(found: list[Finding]) -> list[str]:
    return sorted(f.rule_id for f in found)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("qiskit", ["QG-DEP-001"]),
        ("qiskit[visualization]", ["QG-DEP-001"]),
        ("qiskit>=1.0", ["QG-DEP-002"]),
        ("qiskit~=2.1", ["QG-DEP-002"]),
        ("qiskit==2.*", ["QG-DEP-002"]),
        ("qiskit>=1.0,<3", ["QG-DEP-002"]),
        ("qiskit==2.1.0", []),
        ("qiskit===2.1.0", []),
        ("qiskit==2.1.0 ; python_version >= '3.11'", []),
        ("mylib @ git+https://github.com/example/mylib.git@main", ["QG-DEP-006"]),
        ("mylib @ git+https://github.com/example/mylib.git@" + "a" * 40, []),
        ("git+https://github.com/example/mylib.git#egg=mylib", ["QG-DEP-006"]),
        ("https://example.org/pkg-1.0.tar.gz#sha256=" + "b" * 64, []),
        ("-e .", []),
        ("./vendor/pkg", []),
        ("--extra-index-url https://pkgs.example/simple", ["QG-DEP-004"]),
        ("--index-url http://pkgs.example/simple", ["QG-DEP-005"]),
        ("--extra-index-url http://pkgs.example/simple", ["QG-DEP-004", "QG-DEP-005"]),
        ("--trusted-host pkgs.example", ["QG-DEP-005"]),
        ("--index-url https://pypi.org/simple", []),
        ("# qiskit", []),
    ],
)
def test_requirements_lines(tmp_path: Path, line: str, expected: list[str]) -> None:
    assert rules(scan_text(tmp_path, "requirements.txt", line + "\n")) == expected


def test_severity_depends_on_what_the_file_does(tmp_path: Path) -> None:
    installs = scan_text(tmp_path, "requirements.txt", "qiskit\nnumpy>=1.26\n")
    assert {f.rule_id: f.severity for f in installs} == {
        "QG-DEP-001": Severity.MEDIUM, "QG-DEP-002": Severity.LOW,
    }
    declares = scan_text(tmp_path, "requirements.in", "qiskit\nnumpy>=1.26\n")
    assert {f.rule_id: f.severity for f in declares} == {
        "QG-DEP-001": Severity.LOW, "QG-DEP-002": Severity.INFO,
    }


def test_line_numbers_follow_continuations_and_comments(tmp_path: Path) -> None:
    text = "# header\n\nrequests==2.32.3 \\\n    --hash=sha256:" + "c" * 64 + "\nqiskit  # sdk\n"
    found = scan_text(tmp_path, "requirements.txt", text)
    assert [(f.rule_id, f.line) for f in found] == [("QG-DEP-001", 5)]


@pytest.mark.parametrize(
    ("tier", "text", "expected"),
    [
        ("internal-pilot", "qiskit==2.1.0\n", []),
        ("exploratory", "qiskit==2.1.0\n", []),
        ("regulated-pilot", "qiskit==2.1.0\nnumpy==2.1.0\n", ["QG-DEP-003"]),
        ("production-critical", "qiskit==2.1.0\n", ["QG-DEP-003"]),
        ("regulated-pilot", "qiskit==2.1.0 --hash=sha256:" + "d" * 64 + "\n", []),
        # hash-checking mode with a gap: pip refuses the install at any tier
        ("internal-pilot", "a==1.0 --hash=sha256:" + "e" * 64 + "\nb==2.0\n", ["QG-DEP-003"]),
        ("internal-pilot", "--require-hashes\nb==2.0\n", ["QG-DEP-003"]),
    ],
)
def test_hash_requirement_follows_the_tier(
    tmp_path: Path, tier: str, text: str, expected: list[str]
) -> None:
    assert rules(scan_text(tmp_path, "requirements.txt", text, tier)) == expected


def test_one_hash_finding_per_file_when_none_hashed(tmp_path: Path) -> None:
    found = scan_text(tmp_path, "requirements.txt", "a==1.0\nb==2.0\nc==3.0\n", "regulated-pilot")
    assert len(found) == 1
    assert found[0].line == 1 and "3 dependencies" in found[0].message


def test_includes_constraints_cycles_and_root_boundary(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(DEPS / "includes", root)
    detection = detect(DependenciesDetector(), source_at(root, "requirements.txt"))
    # the escaping include and the missing include are reported, not followed
    message = parse_error(detection).message
    assert "outside the scanned root" in message
    assert "and 1 more" in message
    # the pipeline keeps what the detector yielded before the parse error
    located = sorted((f.rule_id, f.path, f.line) for f in detection.findings)
    # qiskit is pinned by constraints.txt; base.txt is not scanned on its own, so its
    # unpinned numpy is reported here, at base.txt's own line.
    assert located == [
        ("QG-DEP-001", "base.txt", 1),
        ("QG-DEP-002", "requirements.txt", 5),
    ]


def test_pyproject_pep621_and_poetry() -> None:
    detection = detect(DependenciesDetector(), source_at(DEPS, "pyproject.toml"))
    found = detection.findings
    located = sorted((f.rule_id, f.line) for f in found)
    assert located == [
        ("QG-DEP-001", 11),  # numpy
        ("QG-DEP-001", 21),  # cirq = "*"
        ("QG-DEP-002", 9),  # qiskit>=1.0,<3
        ("QG-DEP-002", 15),  # matplotlib~=3.9
        ("QG-DEP-002", 19),  # amazon-braket-sdk = "^1.80"
        ("QG-DEP-005", 28),  # http:// poetry source
        ("QG-DEP-006", 22),  # git branch
    ]
    # declarations: low for no pin, info for a range; the rule default applies to sources
    assert {f.rule_id: f.severity for f in found if f.rule_id != "QG-DEP-005"} == {
        "QG-DEP-001": Severity.LOW, "QG-DEP-002": Severity.INFO, "QG-DEP-006": Severity.LOW,
    }
    (source_issue,) = [i for i in detection.issues if i.rule_id == "QG-DEP-005"]
    assert source_issue.severity is None
    assert next(f for f in found if f.rule_id == "QG-DEP-005").severity is default_severity(
        "QG-DEP-005"
    )


def test_poetry_lock_hashes_at_regulated_tier() -> None:
    assert scan_file(DEPS, "poetry.lock") == []
    found = scan_file(DEPS, "poetry.lock", "regulated-pilot")
    assert [(f.rule_id, f.line) for f in found] == [("QG-DEP-003", 14)]  # urllib3: no files


def test_pipfile_and_lock() -> None:
    found = scan_file(DEPS, "Pipfile")
    assert sorted((f.rule_id, f.line) for f in found) == [
        ("QG-DEP-001", 12),  # requests = "*"
        ("QG-DEP-002", 14),  # pyyaml >=6.0
        ("QG-DEP-005", 7),  # verify_ssl = false
    ]
    assert scan_file(DEPS, "Pipfile.lock") == []
    # jinja2 is hashed, pyyaml is not: only a tier that needs hashes cares
    lock = scan_file(DEPS, "Pipfile.lock", "regulated-pilot")
    assert [(f.rule_id, f.line) for f in lock] == [("QG-DEP-003", 14)]


def test_conda_environment_with_pip_section() -> None:
    found = scan_file(DEPS, "environment.yml")
    assert sorted((f.rule_id, f.line) for f in found) == [
        ("QG-DEP-001", 11),  # matplotlib
        ("QG-DEP-001", 15),  # pip: pennylane
        ("QG-DEP-002", 9),  # scipy=1.13 means 1.13.*
        ("QG-DEP-005", 4),  # http channel
    ]
    regulated = scan_file(DEPS, "environment.yml", "production-critical")
    assert any(f.rule_id == "QG-DEP-003" and "conda" in f.message for f in regulated)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("pyproject.toml", "[project\nname = 'x'\n", "invalid TOML"),
        ("poetry.lock", "[[package]]\nversion = '1'\n", "no name"),
        ("Pipfile.lock", "{not json", "invalid JSON"),
        ("environment.yml", "dependencies: [a, b\n", "invalid YAML"),
        ("requirements.txt", "qiskit==2.1.0\nthis is not ! a requirement\n", "line 2"),
        ("pyproject.toml", "[project]\ndependencies = ['qiskit >>> 1']\n", "invalid requirement"),
    ],
)
def test_broken_manifests_are_parse_errors(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    detection = detect(DependenciesDetector(), written(tmp_path, name, text))
    assert re.search(message, parse_error(detection).message)


def test_bad_line_keeps_the_good_findings(tmp_path: Path) -> None:
    detection = detect(DependenciesDetector(), written(tmp_path, "requirements.txt",
                                                       "qiskit\nnot ! valid\n"))
    assert parse_error(detection).line == 2
    assert [f.rule_id for f in detection.findings] == ["QG-DEP-001"]


def test_index_credentials_never_reach_the_output(tmp_path: Path) -> None:
    found = scan_text(
        tmp_path, "requirements.txt",
        "--extra-index-url https://build:s3cr3t-t0ken@pkgs.example/simple\n",
    )
    assert found and all("s3cr3t" not in (f.message + (f.evidence or "")) for f in found)
    assert redact_url("https://u:p@h:8443/x") == "https://***@h:8443/x"


def test_fingerprints_survive_line_moves(tmp_path: Path) -> None:
    first = scan_text(tmp_path, "requirements.txt", "qiskit\n")
    second = scan_text(tmp_path, "requirements.txt", "# moved\n\nqiskit\n")
    assert first[0].fingerprint == second[0].fingerprint
    assert first[0].line != second[0].line


def test_rules_exist(catalog: Catalog) -> None:
    for rule_id in ("QG-DEP-001", "QG-DEP-002", "QG-DEP-003", "QG-DEP-004", "QG-DEP-005",
                    "QG-DEP-006", "QG-DEP-007"):
        assert catalog.rule(rule_id) is not None
    assert DependenciesDetector.rules == {f"QG-DEP-{n:03d}" for n in range(1, 7)}


def test_redact_url_through_getter_prefixes() -> None:
    assert redact_url("git::https://u:tok@git.example.com/x.git") == (
        "git::https://***@git.example.com/x.git"
    )
    assert redact_url("https://pypi.example.com/simple") == "https://pypi.example.com/simple"


def test_conda_environment_follows_its_pip_includes(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "environment.yml": "dependencies:\n  - pip:\n      - -r requirements.txt\n"
                           "      - -r requirements/base.in\n      - -r tools.txt\n",
        "requirements.txt": "qiskit\n",
        "requirements/base.in": "numpy==2.1.0\nscipy>=1.13\n",
        "tools.txt": "ruff\n",
    })
    detection = detect(DependenciesDetector(), source_at(root, "environment.yml"))
    assert detection.errors == []  # followed, so no "includes are not followed" parse error
    # requirements.txt and requirements/base.in are scanned on their own; tools.txt is not,
    # so its entry is reported from here, at its own file and line.
    assert sorted((f.rule_id, f.path, f.line) for f in detection.findings) == [
        ("QG-DEP-001", "tools.txt", 1),
    ]
