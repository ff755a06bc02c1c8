"""Known-vulnerability engine: pins from every manifest and notebooks, database paths,
the online service, bad input. The fixture database (tests/data/osv/PyPI) holds real
advisories; nothing here touches the network.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.version import Version
from pip_audit._service.interface import (
    Dependency,
    ResolvedDependency,
    VulnerabilityResult,
    VulnerabilityService,
)

from scanner.config import Settings
from scanner.engines.interface import EngineOutput
from scanner.engines.osv import (
    NO_DATABASE_NOTICE,
    PipAuditSource,
    VulnerabilityEngine,
    VulnerabilityOptions,
)
from scanner.engines.registry import vulnerability_options
from scanner.model import Severity
from scanner.source import SourceFile
from tests.helpers import DATA, build_findings, default_severity, sources_under

DB = DATA / "osv" / "PyPI"
DEPS = DATA / "deps"


def _project(tmp_path: Path) -> list[SourceFile]:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "requirements.txt").write_text(
        "-c constraints.txt\nrequests==2.28.1\nqiskit\nurllib3>=1.26\ncryptography\n",
        encoding="utf-8",
    )
    (root / "constraints.txt").write_text("cryptography==41.0.5\n", encoding="utf-8")
    shutil.copy(DEPS / "poetry.lock", root / "poetry.lock")
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# setup"]},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": ["import yaml\n", "%pip install pyyaml==5.3 qiskit\n"]},
        ],
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    (root / "setup.ipynb").write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return sources_under(root)


# A day after the newest advisory in tests/data/osv: the snapshot counts as current.
SNAPSHOT_DAY = datetime(2024, 5, 21, tzinfo=UTC)


def _options(tmp_path: Path, **settings: Any) -> VulnerabilityOptions:
    """The engine's options as a scan of ``tmp_path/proj`` with these settings builds them,
    on the day after the test database's snapshot."""
    return replace(vulnerability_options(Settings(**settings), tmp_path / "proj"),
                   now=SNAPSHOT_DAY)


def _run(sources: list[SourceFile], tmp_path: Path, **settings: Any) -> EngineOutput:
    engine = VulnerabilityEngine(_options(tmp_path, **settings))
    return engine.run([s for s in sources if s.kind in engine.kinds])


def test_engine_reports_pins_from_every_manifest_and_notebooks(tmp_path: Path) -> None:
    output = _run(_project(tmp_path), tmp_path, osv_db=str(DB))
    assert output.errors == [] and output.notices == []
    found = build_findings(output.issues)
    located = sorted((f.path, f.line, f.cell, f.message.split(" is affected by ")[1].split()[0])
                     for f in found)
    assert located == [
        # cryptography is unpinned in requirements.txt; constraints.txt pins it to 41.0.5
        ("constraints.txt", 1, None, "PYSEC-2023-254"),
        ("poetry.lock", 4, None, "GHSA-9wx4-h78v-vm56"),
        ("poetry.lock", 4, None, "PYSEC-2023-74"),
        ("poetry.lock", 14, None, "PYSEC-2023-192"),
        ("poetry.lock", 14, None, "PYSEC-2023-212"),
        ("requirements.txt", 2, None, "GHSA-9wx4-h78v-vm56"),
        ("requirements.txt", 2, None, "PYSEC-2023-74"),
        ("setup.ipynb", 17, 1, "PYSEC-2020-96"),
        ("setup.ipynb", 17, 1, "PYSEC-2021-142"),
    ]
    pysec = next(f for f in found if "PYSEC-2023-74" in f.message)
    assert pysec.rule_id == "QG-DEP-007"
    assert "fixed in 2.31.0" in pysec.message and "CVE-2023-32681" in pysec.message
    assert pysec.severity is Severity.MEDIUM and pysec.evidence == "requests==2.28.1"
    crypto = next(f for f in found if "PYSEC-2023-254" in f.message)
    assert crypto.severity is Severity.HIGH  # CVSS 7.5
    # rule default (high) applies
    assert next(i for i in output.issues if "PYSEC-2021-142" in i.message).severity is None
    no_rating = next(f for f in found if "PYSEC-2021-142" in f.message)
    assert no_rating.severity is default_severity("QG-DEP-007") is Severity.HIGH


def test_broken_advisory_is_an_error_and_the_rest_is_used(tmp_path: Path) -> None:
    db = tmp_path / "db"
    shutil.copytree(DB, db)
    (db / "PYSEC-9999-1.json").write_text('{"id": "PYSEC-9999-1", "affected": [', encoding="utf-8")
    (db / "odd.json").write_text('{"no": "id"}', encoding="utf-8")
    output = _run(_project(tmp_path), tmp_path, osv_db=str(db))
    messages = sorted(e.message for e in output.errors)
    assert len(messages) == 2
    assert "PYSEC-9999-1.json" in messages[0] and "invalid JSON" in messages[0]
    assert "odd.json" in messages[1]
    assert len(output.issues) == 9


def test_no_database_gives_one_notice(tmp_path: Path) -> None:
    output = _run(_project(tmp_path), tmp_path)
    assert output.notices == [NO_DATABASE_NOTICE]
    assert output.issues == [] and output.errors == []


def test_relative_and_missing_database_paths(tmp_path: Path) -> None:
    sources = _project(tmp_path)
    shutil.copytree(DB, tmp_path / "proj-db")
    relative = _run(sources, tmp_path, osv_db="../proj-db")  # resolved against the root
    assert len(relative.issues) == 9
    with_config_dir = _run(sources, tmp_path, osv_db="proj-db", source_dir=str(tmp_path))
    assert len(with_config_dir.issues) == 9
    missing = _run(sources, tmp_path, osv_db=str(tmp_path / "nope.zip"))
    assert missing.issues == []
    assert [e.reason for e in missing.errors] == ["engine-unavailable"]


class _FakeOsvService(VulnerabilityService):
    """Stands in for the network behind pip-audit's real service interface."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.queries: list[str] = []

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        if self.fail:
            raise ConnectionError("no route to host")
        assert isinstance(spec, ResolvedDependency)
        self.queries.append(f"{spec.name}=={spec.version}")
        if spec.name == "requests" and spec.version == Version("2.28.1"):
            return spec, [VulnerabilityResult(
                id="GHSA-j8r2-6x86-q33q", description="Proxy-Authorization leak",
                fix_versions=[Version("2.31.0")], aliases={"CVE-2023-32681", "PYSEC-2023-74"},
            )]
        return spec, []


def test_online_service_is_used_only_when_enabled_and_merged(tmp_path: Path) -> None:
    service = _FakeOsvService()

    def engine(**settings: Any) -> VulnerabilityEngine:
        return VulnerabilityEngine(
            _options(tmp_path, **settings), online_factory=lambda timeout: PipAuditSource(service)
        )

    sources = [s for s in _project(tmp_path) if s.path == "requirements.txt"]
    output = engine(vuln_service="online").run(sources)
    assert sorted(service.queries) == ["cryptography==41.0.5", "requests==2.28.1"]
    assert [i.message.split(" is affected by ")[1].split(" (")[0] for i in output.issues] == [
        "PYSEC-2023-74"
    ]
    both = engine(vuln_service="online", osv_db=str(DB)).run(sources)
    # the online GHSA and the offline PYSEC/GHSA entries are one vulnerability
    assert sum("PYSEC-2023-74" in i.message for i in both.issues) == 1
    offline_only = engine(osv_db=str(DB)).run(sources)
    assert len(service.queries) == 4 and len(offline_only.issues) == 3


def test_unreachable_online_service_is_one_notice_not_an_error(tmp_path: Path) -> None:
    engine = VulnerabilityEngine(
        _options(tmp_path, vuln_service="online", osv_db=str(DB)),
        online_factory=lambda timeout: PipAuditSource(_FakeOsvService(fail=True)),
    )
    output = engine.run(_project(tmp_path))
    assert output.errors == []
    assert len(output.notices) == 1 and "could not be reached" in output.notices[0]
    assert len(output.issues) == 9  # the offline database still answered
