"""Rule ids: declared as data by the detectors, engines and the stages that report them
(suppression, the cross-file credential check, the inventory checks), each catalog rule owned by exactly one of them, and nothing reported outside what its
reporter declares (checked on the sample projects). Plus the catalog metadata of IaC rules."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest

from scanner.catalog import Catalog
from scanner.config import Settings
from scanner.correlate import CORRELATE_RULES
from scanner.detectors.cloudformation import CloudFormationDetector
from scanner.detectors.dockerfile import DockerfileDetector
from scanner.detectors.interface import Detector
from scanner.detectors.kubernetes import KubernetesDetector
from scanner.detectors.registry import shipped_detectors
from scanner.detectors.terraform import TerraformDetector
from scanner.engines.bandit_engine import BanditEngine
from scanner.engines.interface import Engine
from scanner.engines.osv import VulnerabilityEngine, VulnerabilityOptions
from scanner.engines.registry import build_engines
from scanner.inventory.checks import INVENTORY_RULES
from scanner.model import Domain
from scanner.source import SourceFile
from scanner.suppress.inline import SUPPRESSION_RULES
from tests.helpers import GOVERNED, LEAKY, REPO, SAMPLES, build_findings, detect, sources_under

IAC_PREFIXES = ("QG-IAC-", "QG-K8S-", "QG-DKR-")
SAMPLE_PROJECTS = {"leaky": LEAKY, "governed": GOVERNED}


def shipped_engines() -> list[Engine]:
    return build_engines(Settings(), REPO)


def owned_rules() -> list[tuple[str, frozenset[str]]]:
    """(name, the rule ids it owns) for every detector, engine and parent-side stage."""
    return [
        *((d.name, d.rules) for d in shipped_detectors()),
        *((e.name, e.rules) for e in shipped_engines()),
        ("suppression", SUPPRESSION_RULES),
        ("correlate", CORRELATE_RULES),
        ("inventory", INVENTORY_RULES),
    ]


def owners() -> dict[str, list[str]]:
    """Rule id -> every detector, engine or stage that declares it as its own."""
    owned: dict[str, list[str]] = defaultdict(list)
    for name, rule_ids in owned_rules():
        for rule_id in rule_ids:
            owned[rule_id].append(name)
    return owned


def declared(detector: Detector) -> frozenset[str]:
    return detector.rules | detector.shared_rules


def test_every_declared_rule_is_in_the_catalog(catalog: Catalog) -> None:
    reported = [*owned_rules(), *((d.name, d.shared_rules) for d in shipped_detectors())]
    unknown = [(name, sorted(ids - set(catalog.rules))) for name, ids in reported]
    assert [(name, ids) for name, ids in unknown if ids] == []


def test_every_catalog_rule_has_exactly_one_owner(catalog: Catalog) -> None:
    owned = owners()
    assert sorted(set(catalog.rules) - set(owned)) == []  # nobody reports these
    assert {rule_id: names for rule_id, names in owned.items() if len(names) > 1} == {}


def test_shared_rules_are_owned_by_someone_else() -> None:
    owned = owners()
    for detector in shipped_detectors():
        assert sorted(detector.shared_rules - set(owned)) == [], detector.name
        assert sorted(detector.shared_rules & detector.rules) == [], detector.name


def test_every_shipped_reporter_declares_rules() -> None:
    silent = [d.name for d in shipped_detectors() if not declared(d)]
    silent += [e.name for e in shipped_engines() if not e.rules]
    assert silent == []


@pytest.fixture(scope="module")
def samples() -> dict[str, list[SourceFile]]:
    """Every file of both sample projects, as discovery reads them."""
    return {name: sources_under(root) for name, root in SAMPLE_PROJECTS.items()}


@pytest.mark.parametrize("detector", shipped_detectors(), ids=lambda d: d.name)
def test_detectors_report_only_their_declared_rules_on_the_samples(
    detector: Detector, samples: dict[str, list[SourceFile]]
) -> None:
    emitted: dict[str, set[str]] = {}
    for name, sources in samples.items():
        detection = detect(detector, *sources)  # builds findings: every id is a catalog rule
        assert detection.errors == [], name
        emitted[name] = {i.rule_id for i in detection.issues}
        assert sorted(emitted[name] - declared(detector)) == [], name
    # the leaky sample gives every detector something to report, so the check above has teeth
    assert emitted["leaky"], detector.name


def test_engines_report_only_their_declared_rules_on_the_samples(
    samples: dict[str, list[SourceFile]]
) -> None:
    # semgrep is left out here: it needs seconds to start, and its rules are read from the
    # same rule files as the ids it declares (tests/engines/test_semgrep.py runs it).
    engines: list[Engine] = [
        BanditEngine(),
        # As of the sample snapshot's day, so its age is no error here.
        VulnerabilityEngine(VulnerabilityOptions(
            database=SAMPLES / "osv-db" / "PyPI", now=datetime(2024, 5, 21, tzinfo=UTC)
        )),
    ]
    for engine in engines:
        emitted: set[str] = set()
        for sources in samples.values():
            output = engine.run([s for s in sources if s.kind in engine.kinds])
            assert output.errors == [], engine.name
            emitted |= {i.rule_id for i in output.issues}
            build_findings(output.issues)  # every id is a catalog rule
        assert emitted, engine.name
        assert sorted(emitted - engine.rules) == [], engine.name


# --- IaC rules ---------------------------------------------------------------------------------


def test_the_iac_detectors_declare_every_iac_rule(catalog: Catalog) -> None:
    iac: list[Detector] = [TerraformDetector(), CloudFormationDetector(), KubernetesDetector(),
                           DockerfileDetector()]
    reported = set().union(*(declared(d) for d in iac))
    in_catalog = {r for r in catalog.rules if r.startswith(IAC_PREFIXES)}
    assert len(reported) == 39
    assert reported == in_catalog


@pytest.mark.parametrize(
    ("rule_id", "domain"),
    [("QG-IAC-001", Domain.ENCRYPTION), ("QG-IAC-003", Domain.NETWORK),
     ("QG-IAC-009", Domain.IDENTITY), ("QG-IAC-013", Domain.LOGGING),
     ("QG-IAC-019", Domain.DATA), ("QG-K8S-001", Domain.NETWORK),
     ("QG-K8S-005", Domain.SECRETS), ("QG-DKR-001", Domain.SUPPLY_CHAIN)],
)
def test_rule_domains(catalog: Catalog, rule_id: str, domain: Domain) -> None:
    rule = catalog.rule(rule_id)
    assert rule is not None and rule.remediation
    assert catalog.rule_domain(rule) is domain
