"""The offline OSV database: range matching, alias merging, CVSS scores, DB layouts.

The fixture database (tests/data/osv/PyPI) holds real advisories (ids, aliases, ranges);
nothing here touches the network.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from scanner.engines.osvdb import (
    Advisory,
    OsvDatabase,
    cvss3_base_score,
    merge_aliases,
    severity_from_score,
)
from scanner.model import Severity
from tests.helpers import DATA

DB = DATA / "osv" / "PyPI"


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
