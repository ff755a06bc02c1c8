"""The inventory held against the organisation policy: QG-INV-001 (no assessed vendor
profile), QG-INV-002 (region not allowed) and QG-INV-003 (not approved for the tier), each
once per provider, file and problem, at the first line of that file that shows it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner.cli import main
from tests.helpers import DATA, scan_json, write_tree
from tests.inventory.common import PROFILE, policy_file

PROJECT = {
    "src/ionq_run.py": (
        "import os\n"                                                    # 1
        "from qiskit_ionq import IonQProvider\n"                         # 2
        'provider = IonQProvider(os.environ["IONQ_API_KEY"])\n'          # 3
        'backend = provider.get_backend("qpu.aria-1")\n'                 # 4
    ),
    ".env": "LOG_LEVEL=info\nIONQ_API_KEY=${IONQ_API_KEY}\n",           # ionq at 2
    "src/braket_run.py": (
        "from braket.aws import AwsDevice\n"                             # 1
        'east = AwsDevice("arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1")\n'      # 2
        'west = AwsDevice("arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3")\n'  # 3
        'london = AwsDevice("arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy")\n'       # 4
    ),
}
IONQ_OK = {"name": "ionq", "vendor_profile": "profiles/ionq.yaml",
           "approved_tiers": ["internal-pilot", "regulated-pilot"]}
BRAKET_OK = {"name": "amazon-braket", "vendor_profile": "profiles/braket.yaml",
             "approved_tiers": ["internal-pilot", "regulated-pilot"]}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "project", PROJECT)


@pytest.fixture()
def policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policy"
    write_tree(folder, {"profiles/ionq.yaml": PROFILE, "profiles/braket.yaml": PROFILE})
    return folder


def scan(capsys: pytest.CaptureFixture[str], project: Path, policy: Path | None,
         *args: str) -> dict[str, Any]:
    extra = ("--policy", str(policy)) if policy is not None else ()
    _, document = scan_json(capsys, str(project), *extra, *args)
    return document


def inventory_findings(document: dict[str, Any]) -> list[tuple[str, str, int]]:
    return sorted((f["rule_id"], f["path"], f["line"]) for f in document["findings"]
                  if f["rule_id"].startswith("QG-INV-"))


def messages(document: dict[str, Any], rule_id: str) -> list[str]:
    return [f["message"] for f in document["findings"] if f["rule_id"] == rule_id]


# --- QG-INV-001 -------------------------------------------------------------------------------


def test_a_provider_the_policy_does_not_list(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(policies, providers=[BRAKET_OK])
    document = scan(capsys, project, policy)
    assert inventory_findings(document) == [
        ("QG-INV-001", ".env", 2), ("QG-INV-001", "src/ionq_run.py", 2),
    ]
    env, code = sorted(messages(document, "QG-INV-001"))
    assert "IonQ (ionq) is used here (config IONQ_API_KEY)" in env
    assert "does not list it under providers" in env
    assert env.endswith("also used in src/ionq_run.py")
    assert code.endswith("also used in .env")


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"name": "ionq", "approved_tiers": ["internal-pilot"]}, "names no vendor_profile"),
        ({**IONQ_OK, "vendor_profile": "profiles/missing.yaml"},
         "its vendor profile profiles/missing.yaml (named by"),
        ({**IONQ_OK, "vendor_profile": "profiles/broken.yaml"},
         "its vendor profile profiles/broken.yaml does not validate (field 'vendor.name'"),
    ],
)
def test_an_entry_without_a_usable_vendor_profile(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str],
    entry: dict[str, Any], reason: str,
) -> None:
    (policies / "profiles" / "broken.yaml").write_text("vendor:\n  nmae: IonQ\n")
    policy = policy_file(policies, providers=[entry, BRAKET_OK])
    document = scan(capsys, project, policy)
    assert [r for r, _p, _l in inventory_findings(document)] == ["QG-INV-001", "QG-INV-001"]
    assert all(reason in message for message in messages(document, "QG-INV-001"))


def test_assessed_and_approved_providers_pass(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(policies, providers=[IONQ_OK, BRAKET_OK])
    document = scan(capsys, project, policy)
    assert inventory_findings(document) == []
    assert {p["id"]: p["problems"] for p in document["inventory"]["providers"]} == {
        "amazon-braket": [], "ionq": []}
    assert document["inventory"]["policy"] == "../policy/org-policy.yaml"
    assert document["inventory"]["policy_origin"] == "given"


def test_a_profile_in_the_scanned_tree_that_lists_the_provider_counts(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "vendors").mkdir()
    (project / "vendors" / "ionq.yaml").write_text(
        PROFILE.replace("  fictional: true\n", "  fictional: true\n  providers: [ionq]\n"))
    policy = policy_file(policies, providers=[BRAKET_OK])
    document = scan(capsys, project, policy)
    assert [f for f in inventory_findings(document) if f[0] == "QG-INV-001"] == []


def test_policy_names_are_matched_by_alias(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(policies, providers=[
        {**IONQ_OK, "name": "IonQ"}, {**BRAKET_OK, "name": "braket"},
        {"name": "acme-qpu", "approved_tiers": ["internal-pilot"]},
    ])
    document = scan(capsys, project, policy)
    assert inventory_findings(document) == []
    assert any("lists providers qgov does not recognise in code: acme-qpu" in n
               for n in document["notices"])


# --- QG-INV-003 -------------------------------------------------------------------------------


def test_a_provider_not_approved_for_the_tier(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(policies, providers=[
        {**IONQ_OK, "approved_tiers": ["exploratory"]}, {**BRAKET_OK, "approved_tiers": []},
    ])
    document = scan(capsys, project, policy, "--tier", "regulated-pilot")
    assert inventory_findings(document) == [
        ("QG-INV-003", ".env", 2), ("QG-INV-003", "src/braket_run.py", 1),
        ("QG-INV-003", "src/ionq_run.py", 2),
    ]
    braket, env, code = sorted(messages(document, "QG-INV-003"))
    assert braket.endswith("its entry approves it for no tier; no other scanned file uses it")
    assert ("does not approve it for tier regulated-pilot: its entry approves it only for "
            "exploratory; also used in src/ionq_run.py") in env
    assert {f["severity"] for f in document["findings"] if f["rule_id"] == "QG-INV-003"} == {
        "high"}


@pytest.mark.parametrize(("tier", "severity"), [
    ("exploratory", "low"), ("internal-pilot", "medium"), ("regulated-pilot", "high"),
    ("production-critical", "high"),
])
def test_severity_follows_the_tier(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str], tier: str, severity: str
) -> None:
    policy = policy_file(policies, providers=[BRAKET_OK])
    document = scan(capsys, project, policy, "--tier", tier)
    assert {f["severity"] for f in document["findings"] if f["rule_id"] == "QG-INV-001"} == {
        severity}


# --- QG-INV-002 -------------------------------------------------------------------------------


def test_regions_of_the_provider_entry(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(policies, providers=[IONQ_OK, {**BRAKET_OK, "regions": ["US-East-1"]}])
    document = scan(capsys, project, policy)
    assert inventory_findings(document) == [("QG-INV-002", "src/braket_run.py", 3)]
    (message,) = messages(document, "QG-INV-002")
    assert message.startswith("Amazon Braket (amazon-braket) runs in regions us-west-1, "
                              "eu-west-2 here (device rigetti Ankaa-3), outside the regions "
                              "the policy allows for amazon-braket (US-East-1)")


def test_regions_of_the_data_class_default_from_the_tier(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(
        policies, providers=[IONQ_OK, BRAKET_OK],
        data_classes={"regulated": {"regions": ["eu-*"]}, "internal": {"regions": ["us-*"]}},
    )
    internal = scan(capsys, project, policy, "--tier", "internal-pilot")
    assert inventory_findings(internal) == [("QG-INV-002", "src/braket_run.py", 4)]
    regulated = scan(capsys, project, policy, "--tier", "regulated-pilot")
    assert inventory_findings(regulated) == [("QG-INV-002", "src/braket_run.py", 2)]
    assert "outside the regions allowed for regulated data (eu-*)" in messages(
        regulated, "QG-INV-002")[0]
    assert regulated["inventory"]["data_class"] == "regulated"
    chosen = scan(capsys, project, policy, "--tier", "regulated-pilot", "--data-class",
                  "internal")
    assert inventory_findings(chosen) == [("QG-INV-002", "src/braket_run.py", 4)]


# --- which policy -------------------------------------------------------------------------------


def test_the_one_policy_in_the_tree_is_used_and_the_text_says_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy_file(project / "governance", providers=[BRAKET_OK], name="policy.yaml")
    write_tree(project / "governance", {"profiles/braket.yaml": PROFILE})
    document = scan(capsys, project, None)
    assert inventory_findings(document) == [
        ("QG-INV-001", ".env", 2), ("QG-INV-001", "src/ionq_run.py", 2)]
    assert document["inventory"]["policy"] == "governance/policy.yaml"
    assert document["inventory"]["policy_origin"] == "found"
    assert any("checked against governance/policy.yaml, the one governance policy found" in n
               for n in document["notices"])
    main(["scan", str(project), "--no-engines", "--fail-on", "none"])
    text = capsys.readouterr().out
    assert ("Quantum providers used (checked against governance/policy.yaml (found in the "
            "scanned tree) for tier internal-pilot, internal data):") in text
    assert "  ionq (backends: qpu.aria-1; 2 files) — no assessed vendor profile" in text


def test_two_policies_in_the_tree_check_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy_file(project / "a", providers=[])
    policy_file(project / "b", providers=[])
    (project / "c").mkdir()
    (project / "c" / "roles.yaml").write_text("roles:\n  - name: x\n    owner: y\n")  # no policy
    document = scan(capsys, project, None)
    assert inventory_findings(document) == []
    assert document["inventory"]["policy"] is None
    assert any(n.startswith("2 governance policies in the scanned tree validate")
               for n in document["notices"])


def test_an_unusable_policy_is_a_usage_error(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(project), "--policy", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err.startswith("qgov: error: ")
    # A partial policy is fine (a repository's policy may be); a wrong type is not.
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: {id: x}\nproviders: 5\n")
    assert main(["scan", str(project), "--policy", str(bad), "--no-engines"]) == 2
    assert "providers" in capsys.readouterr().err


def test_policy_in_the_config_is_relative_to_the_config_file(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy_file(policies, providers=[BRAKET_OK])
    (project / ".qgov.yaml").write_text("policy: ../policy/org-policy.yaml\n")
    document = scan(capsys, project, None)
    assert [r for r, _p, _l in inventory_findings(document)] == ["QG-INV-001", "QG-INV-001"]
    assert document["inventory"]["policy_origin"] == "given"


# --- reports ---------------------------------------------------------------------------------


def test_json_inventory_shape(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(policies, providers=[BRAKET_OK])
    inventory = scan(capsys, project, policy)["inventory"]
    assert set(inventory) == {"providers", "policy", "policy_origin", "tier", "data_class"}
    ionq = next(p for p in inventory["providers"] if p["id"] == "ionq")
    assert ionq == {
        "id": "ionq", "name": "IonQ", "kinds": ["sdk-import", "client", "backend", "config"],
        "files": [".env", "src/ionq_run.py"], "devices": [], "backends": ["qpu.aria-1"],
        "regions": [], "vendors": [],
        "first_use": {"kind": "config", "detail": "IONQ_API_KEY", "path": ".env", "line": 2,
                      "cell": None, "region": None, "vendor": None},
        "uses": ionq["uses"], "uses_total": 5, "problems": ["QG-INV-001"],
    }
    assert [(u["path"], u["line"], u["kind"]) for u in ionq["uses"]] == [
        (".env", 2, "config"), ("src/ionq_run.py", 2, "sdk-import"),
        ("src/ionq_run.py", 3, "client"), ("src/ionq_run.py", 3, "config"),
        ("src/ionq_run.py", 4, "backend"),
    ]


def test_sarif_carries_the_inventory_and_validates(
    project: Path, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = policy_file(policies, providers=[BRAKET_OK])
    main(["scan", str(project), "--policy", str(policy), "--format", "sarif", "--no-engines"])
    document = json.loads(capsys.readouterr().out)
    schema = json.loads((DATA / "schemas/sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(document, schema)
    inventory = document["runs"][0]["properties"]["qgovInventory"]
    assert [p["id"] for p in inventory["providers"]] == ["amazon-braket", "ionq"]


def test_text_without_a_policy(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", str(project), "--no-engines", "--fail-on", "none"])
    text = capsys.readouterr().out
    block = text.split("Quantum providers used", 1)[1].split("\n\n", 1)[0]
    assert block.splitlines() == [
        " (not checked against a policy: name one with --policy):",
        "  amazon-braket (devices: ionq Aria-1 us-east-1, oqc Lucy eu-west-2, rigetti Ankaa-3 "
        "us-west-1; regions: eu-west-2, us-east-1, us-west-1; 1 file)",
        "  ionq (backends: qpu.aria-1; 2 files)",
    ]


def test_no_providers_no_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"a.py": "print('hello')\n"})
    main(["scan", str(tmp_path), "--no-engines"])
    assert "Quantum providers used" not in capsys.readouterr().out
