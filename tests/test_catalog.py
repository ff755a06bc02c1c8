"""The shipped control catalog and framework mappings, and how custom catalogs are checked."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import yaml

from scanner.catalog import Catalog, CatalogError, Tier, Verification, load_catalog
from scanner.governed.selftest import proved_controls
from scanner.model import Domain
from scanner.paths import data_dir

# Id prefix of each domain (the catalog's naming contract; rules quote these ids).
PREFIX = {
    "IAM": Domain.IDENTITY,
    "SEC": Domain.SECRETS,
    "SCM": Domain.SUPPLY_CHAIN,
    "SDL": Domain.SDLC,
    "NBK": Domain.NOTEBOOK,
    "DAT": Domain.DATA,
    "ENC": Domain.ENCRYPTION,
    "LOG": Domain.LOGGING,
    "PRV": Domain.PROVENANCE,
    "VND": Domain.VENDOR,
    "NET": Domain.NETWORK,
    "CIC": Domain.CICD,
    "CST": Domain.COST,
    "GOV": Domain.GOVERNANCE,
}

# Requirement counts of the reference lists the mappings copy (all of each framework).
REQUIREMENT_COUNTS = {"iso27001": 93, "soc2": 61, "hipaa": 61, "gdpr": 99}

# Controls allowed to map into fewer than two frameworks, with the reason. Keep it empty unless
# a control genuinely has no counterpart; every entry here is a gap an auditor will ask about.
SINGLE_FRAMEWORK_EXCEPTIONS: dict[str, str] = {}

TIER_ORDER = list(Tier)


@pytest.fixture(scope="module")
def real() -> Catalog:
    return load_catalog()


# --- the shipped catalog ---------------------------------------------------------------------


def test_catalog_is_large_enough(real: Catalog) -> None:
    assert len(real.controls) >= 45


def test_every_domain_has_controls(real: Catalog) -> None:
    per_domain = Counter(control.domain for control in real.controls.values())
    missing = [domain.value for domain in Domain if per_domain[domain] == 0]
    assert missing == []


def test_control_ids_are_well_formed_and_match_their_domain(real: Catalog) -> None:
    for control_id, control in real.controls.items():
        assert control_id == control.id
        match = re.fullmatch(r"([A-Z]{3})-(\d{2})", control_id)
        assert match, control_id
        assert PREFIX[match.group(1)] == control.domain, control_id


def test_control_numbers_are_contiguous_per_domain(real: Catalog) -> None:
    numbers: dict[str, list[int]] = {}
    for control_id in real.controls:
        prefix, number = control_id.split("-")
        numbers.setdefault(prefix, []).append(int(number))
    for prefix, found in numbers.items():
        assert sorted(found) == list(range(1, len(found) + 1)), prefix


def test_control_ids_unique_across_files() -> None:
    # load_catalog rejects duplicates; count raw ids too, so a rename to an existing id is caught
    # even if the loader's check were ever relaxed.
    ids = [
        entry["id"]
        for path in sorted(data_dir("controls").glob("*.yaml"))
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["controls"]
    ]
    duplicates = [control_id for control_id, count in Counter(ids).items() if count > 1]
    assert duplicates == []


def test_one_control_file_per_domain() -> None:
    stems = {path.stem for path in data_dir("controls").glob("*.yaml")}
    assert stems == {domain.value for domain in Domain}


def test_controls_are_fully_described(real: Catalog) -> None:
    for control in real.controls.values():
        for text in (control.title, control.objective, control.rationale, control.remediation,
                     control.evidence):
            assert len(text.strip()) >= 10, control.id
        assert control.tiers, control.id
        assert control.verification in Verification, control.id
        assert len(set(control.tiers)) == len(control.tiers), control.id


def test_tiers_are_upward_closed(real: Catalog) -> None:
    # A control that applies to a lower tier applies to every higher one too.
    for control in real.controls.values():
        lowest = min(TIER_ORDER.index(tier) for tier in control.tiers)
        assert set(control.tiers) == set(TIER_ORDER[lowest:]), control.id


@pytest.mark.parametrize("control_id", ["ENC-02", "SCM-02", "NBK-02"])
def test_heavy_controls_skip_lower_tiers(real: Catalog, control_id: str) -> None:
    assert set(real.controls[control_id].tiers) == {
        Tier.REGULATED_PILOT, Tier.PRODUCTION_CRITICAL
    }


# --- verification kinds against the code --------------------------------------------------


def _rule_listed(real: Catalog) -> set[str]:
    """Controls some shipped rule lists (each rule has an owner: tests/test_rules.py)."""
    return {control_id for rule in real.rules.values() for control_id in rule.controls}


def _marked(real: Catalog, kind: Verification) -> set[str]:
    return {cid for cid, control in real.controls.items() if kind in control.kinds}


def test_automated_controls_have_a_rule(real: Catalog) -> None:
    # "automated" means a scan rule exists that can fail it, nothing less.
    claimed = _marked(real, Verification.AUTOMATED)
    assert sorted(claimed - _rule_listed(real)) == []


def test_control_test_controls_match_the_selftest_registry(real: Catalog) -> None:
    # The controls the governed-job self-test exercises come from its check registry.
    proved = proved_controls()
    marked = _marked(real, Verification.CONTROL_TEST)
    assert sorted(proved - set(real.controls)) == []  # every id a check names exists
    assert sorted(proved - marked) == []  # a check exercises it: the catalog must say so
    assert sorted(marked - proved) == []  # the catalog says control-test: a check must exist


def test_controls_a_rule_covers_say_automated_or_why_not(real: Catalog) -> None:
    # A rule can fail it, so calling it attested or not assessed hides part of how it is
    # verified; allowed only with the reason written beside it.
    silent = sorted(
        cid for cid in _rule_listed(real)
        if Verification.AUTOMATED not in real.controls[cid].kinds
        and not real.controls[cid].verification_note
    )
    assert silent == []


def test_covered_controls_are_not_marked_unverified(real: Catalog) -> None:
    covered = _rule_listed(real) | proved_controls()
    unverified = {
        cid for cid, control in real.controls.items()
        if control.verification in (Verification.ATTESTED, Verification.NOT_ASSESSED)
    }
    documented = {cid for cid in unverified if real.controls[cid].verification_note}
    assert sorted((covered & unverified) - documented) == []


@pytest.mark.parametrize(
    ("control_id", "verification"),
    [
        ("LOG-07", Verification.CONTROL_TEST),  # the siem-forwarded check exercises it
        ("VND-04", Verification.ATTESTED),  # no rule lists it; the contract is a person's word
        ("SEC-01", Verification.AUTOMATED),
        ("IAM-02", Verification.ATTESTED),
        ("VND-05", Verification.ATTESTED),  # QG-INV-001 can fail it; the register is attested
    ],
)
def test_verification_of(real: Catalog, control_id: str, verification: Verification) -> None:
    assert real.controls[control_id].verification is verification


def test_framework_requirement_counts(real: Catalog) -> None:
    assert {key: len(fw.requirements) for key, fw in real.frameworks.items()} == REQUIREMENT_COUNTS


def test_requirement_ids_unique_and_titled(real: Catalog) -> None:
    for key, framework in real.frameworks.items():
        ids = [requirement.id for requirement in framework.requirements]
        assert len(ids) == len(set(ids)), key
        assert all(requirement.title.strip() for requirement in framework.requirements), key


def test_each_requirement_mapped_once_per_file(real: Catalog) -> None:
    for key, framework in real.frameworks.items():
        requirements = [entry.requirement for entry in framework.mappings]
        assert len(requirements) == len(set(requirements)), key
        assert all(entry.controls for entry in framework.mappings), key


def test_every_control_maps_to_two_frameworks(real: Catalog) -> None:
    short = {
        control_id: sorted(real.control_frameworks.get(control_id, {}))
        for control_id in real.controls
        if len(real.control_frameworks.get(control_id, {})) < 2
    }
    assert set(short) == set(SINGLE_FRAMEWORK_EXCEPTIONS), short


def test_every_mapping_resolves(real: Catalog) -> None:
    # load_catalog already raises on a dangling id; this states the contract explicitly.
    for key, framework in real.frameworks.items():
        known = {requirement.id for requirement in framework.requirements}
        for entry in framework.mappings:
            assert entry.requirement in known, (key, entry.requirement)
            assert set(entry.controls) <= set(real.controls), (key, entry.requirement)


@pytest.mark.parametrize(
    ("control_id", "framework", "requirement"),
    [
        ("SEC-01", "iso27001", "A.5.17"),
        ("ENC-01", "iso27001", "A.8.24"),
        ("SCM-03", "iso27001", "A.8.8"),
        ("LOG-01", "hipaa", "164.312(b)"),
        ("ENC-05", "hipaa", "164.312(e)(1)"),
        ("VND-03", "gdpr", "Art. 44"),
        ("VND-01", "soc2", "CC9.2"),
        ("IAM-04", "soc2", "CC6.3"),
    ],
)
def test_spot_check_mappings(
    real: Catalog, control_id: str, framework: str, requirement: str
) -> None:
    assert requirement in real.frameworks_for([control_id])[framework]


def test_frameworks_for_merges_and_sorts(real: Catalog) -> None:
    merged = real.frameworks_for(["ENC-01", "ENC-05"])
    assert merged["iso27001"] == ["A.5.14", "A.8.24"]
    assert real.frameworks_for([]) == {}


# --- custom catalog folders ------------------------------------------------------------------

CUSTOM_CONTROL = """\
domain: secrets
controls:
  - id: ACME-01
    title: Acme vault tokens come from the broker
    severity: {severity}
    objective: Jobs fetch Acme vault tokens from the internal broker only.
    rationale: Broker-issued tokens expire and are logged per job.
    remediation: Call the broker client instead of reading tokens from files.
    tiers: [regulated-pilot, production-critical]
    evidence: Broker issuance log.
    verification: attested
"""


def _custom(tmp_path: Path, controls: str | None = None, mappings: str | None = None) -> Path:
    root = tmp_path / "custom"
    (root / "controls").mkdir(parents=True)
    (root / "mappings").mkdir()
    if controls is not None:
        (root / "controls" / "acme.yaml").write_text(textwrap.dedent(controls), encoding="utf-8")
    if mappings is not None:
        (root / "mappings" / "acme.yaml").write_text(textwrap.dedent(mappings), encoding="utf-8")
    return root


def test_custom_control_and_mapping_are_merged(tmp_path: Path) -> None:
    root = _custom(
        tmp_path,
        controls=CUSTOM_CONTROL.format(severity="high"),
        mappings="""\
        framework: soc2
        name: SOC 2 Trust Services Criteria
        requirements: []
        mappings:
          - requirement: CC6.1
            controls: [ACME-01, SEC-01]
        """,
    )
    catalog = load_catalog(extra_dirs=[root])
    assert catalog.controls["ACME-01"].domain is Domain.SECRETS
    assert catalog.frameworks_for(["ACME-01"]) == {"soc2": ["CC6.1"]}
    # Shipped requirements and mappings stay intact next to the custom entry.
    assert len(catalog.frameworks["soc2"].requirements) == REQUIREMENT_COUNTS["soc2"]
    assert "iso27001" in catalog.frameworks_for(["SEC-01"])


def test_custom_framework_with_own_requirements(tmp_path: Path) -> None:
    root = _custom(
        tmp_path,
        controls=CUSTOM_CONTROL.format(severity="medium"),
        mappings="""\
        framework: acme-policy
        name: Acme internal security policy
        requirements:
          - {id: AP-7, title: Tokens are brokered}
        mappings:
          - requirement: AP-7
            controls: [ACME-01, SEC-04]
        """,
    )
    catalog = load_catalog(extra_dirs=[root])
    assert catalog.frameworks_for(["ACME-01"]) == {"acme-policy": ["AP-7"]}
    assert catalog.frameworks_for(["SEC-04"])["acme-policy"] == ["AP-7"]


def test_mapping_with_unknown_control_names_file_and_id(tmp_path: Path) -> None:
    root = _custom(
        tmp_path,
        mappings="""\
        framework: iso27001
        name: ISO/IEC 27001:2022 Annex A
        requirements: []
        mappings:
          - requirement: A.5.17
            controls: [SEC-01, NOPE-99]
        """,
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(extra_dirs=[root])
    message = str(caught.value)
    assert "acme.yaml" in message
    assert "NOPE-99" in message


def test_mapping_with_unknown_requirement_is_rejected(tmp_path: Path) -> None:
    root = _custom(
        tmp_path,
        mappings="""\
        framework: gdpr
        name: GDPR
        requirements: []
        mappings:
          - requirement: Art. 999
            controls: [DAT-02]
        """,
    )
    with pytest.raises(CatalogError, match=r"Art\. 999"):
        load_catalog(extra_dirs=[root])


def test_control_with_bad_field_names_file_and_id(tmp_path: Path) -> None:
    root = _custom(tmp_path, controls=CUSTOM_CONTROL.format(severity="urgent"))
    with pytest.raises(CatalogError) as caught:
        load_catalog(extra_dirs=[root])
    message = str(caught.value)
    assert "acme.yaml" in message
    assert "ACME-01" in message
    assert "severity" in message


def test_control_with_unknown_field_is_rejected(tmp_path: Path) -> None:
    controls = CUSTOM_CONTROL.format(severity="low") + "    owner: someone\n"
    root = _custom(tmp_path, controls=controls)
    with pytest.raises(CatalogError, match="ACME-01"):
        load_catalog(extra_dirs=[root])


def test_duplicate_of_shipped_control_is_rejected(tmp_path: Path) -> None:
    controls = CUSTOM_CONTROL.format(severity="low").replace("ACME-01", "SEC-01")
    root = _custom(tmp_path, controls=controls)
    with pytest.raises(CatalogError) as caught:
        load_catalog(extra_dirs=[root])
    message = str(caught.value)
    assert "duplicate" in message
    assert "SEC-01" in message
    assert "acme.yaml" in message


def test_duplicate_within_custom_file_is_rejected(tmp_path: Path) -> None:
    single = CUSTOM_CONTROL.format(severity="low")
    entry = single.split("controls:\n", 1)[1]
    root = _custom(tmp_path, controls=single + entry)
    with pytest.raises(CatalogError, match="duplicate control id"):
        load_catalog(extra_dirs=[root])


def test_missing_custom_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(extra_dirs=[tmp_path / "absent"])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[automated, attested]", "one kind"),
        ("governed-job", "now called 'control-test'"),
        ("attestation", "now called 'attested'"),
        ("manual", "verification"),
    ],
)
def test_verification_is_one_known_kind(tmp_path: Path, value: str, message: str) -> None:
    controls = CUSTOM_CONTROL.format(severity="low").replace(
        "verification: attested", f"verification: {value}"
    )
    root = _custom(tmp_path, controls=controls)
    with pytest.raises(CatalogError, match="ACME-01") as caught:
        load_catalog(extra_dirs=[root])
    assert message in str(caught.value)


def test_also_verified_by_may_not_repeat_the_primary_kind(tmp_path: Path) -> None:
    controls = CUSTOM_CONTROL.format(severity="low") + "    also_verified_by: [attested]\n"
    with pytest.raises(CatalogError, match="repeats"):
        load_catalog(extra_dirs=[_custom(tmp_path, controls=controls)])
