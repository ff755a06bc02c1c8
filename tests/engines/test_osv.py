"""Known-vulnerability engine: OSV range matching, alias merging, DB layouts, bad input.

The fixture database (tests/data/osv/PyPI) holds real advisories (ids, aliases, ranges);
nothing here touches the network.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version
from pip_audit._service.interface import (
    Dependency,
    ResolvedDependency,
    VulnerabilityResult,
    VulnerabilityService,
)

from scanner.deps.osvdb import (
    Advisory,
    OsvDatabase,
    cvss3_base_score,
    merge_aliases,
    severity_from_score,
)
from scanner.discover import read_source, walk
from scanner.engines.interface import EngineContext
from scanner.engines.osv import NO_DATABASE_NOTICE, PipAuditSource, VulnerabilityEngine
from scanner.model import Severity
from scanner.source import SourceFile

DB = Path(__file__).resolve().parent.parent / "data" / "osv" / "PyPI"
DEPS = Path(__file__).resolve().parent.parent / "data" / "deps"


@pytest.fixture(scope="module")
def database() -> OsvDatabase:
    return OsvDatabase.load(DB)


@pytest.mark.parametrize(
    ("package", "version", "expected"),
    [
        ("requests", "2.28.1", {"PYSEC-2023-74", "GHSA-j8r2-6x86-q33q", "GHSA-9wx4-h78v-vm56"}),
        ("requests", "2.19.0",
         {"PYSEC-2023-74", "GHSA-j8r2-6x86-q33q", "GHSA-9wx4-h78v-vm56", "PYSEC-2018-28"}),
        ("requests", "2.2.0", {"GHSA-9wx4-h78v-vm56", "PYSEC-2018-28"}),  # before 2.3.0
        ("requests", "2.31.0", {"GHSA-9wx4-h78v-vm56"}),
        ("requests", "2.32.3", set()),
        ("Requests", "2.32.2", set()),
        # two ranges in one unsorted event list (2.0.0-2.0.6 and 0-1.26.17)
        ("urllib3", "1.26.16", {"PYSEC-2023-192", "PYSEC-2023-212"}),
        ("urllib3", "1.26.17", {"PYSEC-2023-212"}),
        ("urllib3", "1.26.18", set()),
        ("urllib3", "2.0.5", {"PYSEC-2023-192", "PYSEC-2023-212"}),
        ("urllib3", "2.0.6", {"PYSEC-2023-212"}),
        ("urllib3", "2.0.7", set()),
        ("PyYAML", "5.3", {"PYSEC-2020-96", "PYSEC-2021-142"}),
        ("pyyaml", "5.2b1", {"PYSEC-2020-96", "PYSEC-2021-142"}),
        ("pyyaml", "5.3.1", {"PYSEC-2021-142"}),
        ("pyyaml", "5.4", set()),
        ("Jinja2", "2.10", {"PYSEC-2019-217", "PYSEC-2021-66"}),
        ("jinja2", "2.11.3", set()),
        ("cryptography", "3.0", set()),  # introduced at 3.1
        ("cryptography", "41.0.5", {"PYSEC-2023-254"}),
        ("cryptography", "41.0.6", set()),
        ("qiskit", "1.0.0", set()),
        ("requests", "not-a-version", set()),
    ],
)
def test_range_and_version_matching(
    database: OsvDatabase, package: str, version: str, expected: set[str]
) -> None:
    assert {a.id for a in database.lookup(package, version)} == expected


def test_fixed_version_is_the_first_fix_above_the_pin(database: OsvDatabase) -> None:
    by_id = {a.id: a for a in database.lookup("urllib3", "2.0.3")}
    assert by_id["PYSEC-2023-192"].fixed == ("2.0.6",)
    by_id = {a.id: a for a in database.lookup("urllib3", "1.26.5")}
    assert by_id["PYSEC-2023-212"].fixed == ("1.26.18",)


def test_last_affected_and_versions_only_entries() -> None:
    database = OsvDatabase()
    database.add({
        "id": "TEST-1", "affected": [{
            "package": {"ecosystem": "PyPI", "name": "Demo_Pkg"},
            "ranges": [{"type": "ECOSYSTEM",
                        "events": [{"introduced": "1.0"}, {"last_affected": "1.4"}]}],
        }],
    })
    database.add({
        "id": "TEST-2",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "demo.pkg"}, "versions": ["2.0"]}],
    })
    database.add({  # other ecosystems and withdrawn advisories are ignored
        "id": "TEST-3",
        "affected": [{"package": {"ecosystem": "npm", "name": "demo-pkg"}, "versions": ["2.0"]}],
    })
    database.add({
        "id": "TEST-4", "withdrawn": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-pkg"}, "versions": ["2.0"]}],
    })
    assert [a.id for a in database.lookup("demo-pkg", "1.4")] == ["TEST-1"]
    assert [a.id for a in database.lookup("demo-pkg", "1.4.1")] == []
    assert [a.id for a in database.lookup("demo-pkg", "2.0.0")] == ["TEST-2"]


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N", 8.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:L", None),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", None),
    ],
)
def test_cvss3_base_scores(vector: str, score: float | None) -> None:
    assert cvss3_base_score(vector) == score


def test_severity_bands() -> None:
    assert [severity_from_score(s) for s in (9.0, 7.0, 6.9, 0.1, 0.0)] == [
        Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO,
    ]


def test_aliases_are_merged_under_the_pysec_id(database: OsvDatabase) -> None:
    merged = merge_aliases(database.lookup("requests", "2.28.1"))
    assert [(a.id, a.aliases) for a in merged] == [
        ("PYSEC-2023-74", ("GHSA-j8r2-6x86-q33q", "CVE-2023-32681")),
        ("GHSA-9wx4-h78v-vm56", ("CVE-2024-35195",)),
    ]
    assert merged[0].severity is Severity.MEDIUM  # GitHub's MODERATE rating
    assert merged[0].fixed == ("2.31.0",)
    # two advisories linked only through a shared CVE are one vulnerability too
    linked = merge_aliases([
        Advisory("GHSA-aaaa-bbbb-cccc", ("CVE-2099-1",), "", None, ("2.0",)),
        Advisory("PYSEC-2099-1", ("CVE-2099-1",), "", Severity.HIGH, ("2.0",)),
    ])
    assert [(a.id, a.aliases, a.severity) for a in linked] == [
        ("PYSEC-2099-1", ("GHSA-aaaa-bbbb-cccc", "CVE-2099-1"), Severity.HIGH)
    ]


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
    sources = []
    for candidate in walk(root).candidates:
        read = read_source(candidate)
        assert isinstance(read, SourceFile)
        sources.append(read)
    return sources


def _run(sources: list[SourceFile], tmp_path: Path, **settings: object) -> tuple:  # type: ignore[type-arg]
    engine = VulnerabilityEngine()
    wanted = [s for s in sources if s.kind in engine.kinds]
    return engine.run(wanted, EngineContext(root=tmp_path / "proj", settings=dict(settings)))


def test_engine_reports_pins_from_every_manifest_and_notebooks(tmp_path: Path) -> None:
    output = _run(_project(tmp_path), tmp_path, osv_db=str(DB))
    assert output.errors == [] and output.notices == []
    located = sorted((f.path, f.line, f.cell, f.message.split(" is affected by ")[1].split()[0])
                     for f in output.findings)
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
    pysec = next(f for f in output.findings if "PYSEC-2023-74" in f.message)
    assert pysec.rule_id == "QG-DEP-007"
    assert "fixed in 2.31.0" in pysec.message and "CVE-2023-32681" in pysec.message
    assert pysec.severity is Severity.MEDIUM and pysec.evidence == "requests==2.28.1"
    crypto = next(f for f in output.findings if "PYSEC-2023-254" in f.message)
    assert crypto.severity is Severity.HIGH  # CVSS 7.5
    no_rating = next(f for f in output.findings if "PYSEC-2021-142" in f.message)
    assert "severity" not in no_rating.model_fields_set  # rule default (high) applies


def test_zip_layout_matches_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in DB.glob("*.json"):
            handle.write(path, path.name)
    from_zip = OsvDatabase.load(archive)
    assert len(from_zip) == len(OsvDatabase.load(DB)) == 11
    assert {a.id for a in from_zip.lookup("urllib3", "2.0.5")} == {
        "PYSEC-2023-192", "PYSEC-2023-212"
    }


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
    assert len(output.findings) == 9


def test_no_database_gives_one_notice(tmp_path: Path) -> None:
    output = _run(_project(tmp_path), tmp_path)
    assert output.notices == [NO_DATABASE_NOTICE]
    assert output.findings == [] and output.errors == []


def test_relative_and_missing_database_paths(tmp_path: Path) -> None:
    sources = _project(tmp_path)
    shutil.copytree(DB, tmp_path / "proj-db")
    relative = _run(sources, tmp_path, osv_db="../proj-db")  # resolved against the root
    assert len(relative.findings) == 9
    with_config_dir = _run(sources, tmp_path, osv_db="proj-db", source_dir=str(tmp_path))
    assert len(with_config_dir.findings) == 9
    missing = _run(sources, tmp_path, osv_db=str(tmp_path / "nope.zip"))
    assert missing.findings == []
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
    engine = VulnerabilityEngine(online_factory=lambda timeout: PipAuditSource(service))
    sources = [s for s in _project(tmp_path) if s.path == "requirements.txt"]
    context = EngineContext(root=tmp_path / "proj", settings={"vuln_service": "online"})
    output = engine.run(sources, context)
    assert sorted(service.queries) == ["cryptography==41.0.5", "requests==2.28.1"]
    assert [f.message.split(" is affected by ")[1].split(" (")[0] for f in output.findings] == [
        "PYSEC-2023-74"
    ]
    both = engine.run(
        sources,
        EngineContext(root=tmp_path / "proj",
                      settings={"vuln_service": "online", "osv_db": str(DB)}),
    )
    # the online GHSA and the offline PYSEC/GHSA entries are one vulnerability
    assert sum("PYSEC-2023-74" in f.message for f in both.findings) == 1
    offline_only = engine.run(
        sources, EngineContext(root=tmp_path / "proj", settings={"osv_db": str(DB)})
    )
    assert len(service.queries) == 4 and len(offline_only.findings) == 3


def test_unreachable_online_service_is_one_notice_not_an_error(tmp_path: Path) -> None:
    engine = VulnerabilityEngine(
        online_factory=lambda timeout: PipAuditSource(_FakeOsvService(fail=True))
    )
    output = engine.run(
        _project(tmp_path),
        EngineContext(root=tmp_path / "proj",
                      settings={"vuln_service": "online", "osv_db": str(DB)}),
    )
    assert output.errors == []
    assert len(output.notices) == 1 and "could not be reached" in output.notices[0]
    assert len(output.findings) == 9  # the offline database still answered
