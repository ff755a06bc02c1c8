"""IaC through the whole scan: bad input stays one file's scan error, the samples."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.formats.yaml import MAX_YAML_CHARS
from tests.helpers import GOVERNED, LEAKY, scan_json, write_tree

IAC_PREFIXES = ("QG-IAC-", "QG-K8S-", "QG-DKR-")


GOOD_TF = 'resource "aws_kms_key" "k" {\n  description = "results"\n}\n'
GOOD_POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
            "    - {name: c, image: busybox:latest}\n")


def test_bad_iac_input_is_one_scan_error_per_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {
        "infra/main.tf": GOOD_TF,
        "infra/broken.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n',
        "cfn/stack.yaml": 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  B:\n'
                          "    Type: AWS::S3::Bucket\n    Properties:\n"
                          "      BucketName: !Rain::Embed name.txt\n",
        "cfn/broken.json": '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {',
        "chart/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\n"
                                           "metadata:\n  name: {{ .Release.Name }}\n",
        "k8s/huge.yaml": GOOD_POD + "# padding\n" * (MAX_YAML_CHARS // 10 + 1),
        "k8s/pod.yaml": GOOD_POD,
        "Dockerfile": "FROM python:latest\n",
    })
    code, doc = scan_json(capsys, str(tmp_path), "--fail-on", "medium")
    errors = {e["path"]: e for e in doc["scan_errors"]}
    assert set(errors) == {"infra/broken.tf", "cfn/stack.yaml", "cfn/broken.json",
                           "chart/templates/deployment.yaml", "k8s/huge.yaml"}
    assert all(e["reason"] == "parse-error" for e in errors.values())
    assert errors["infra/broken.tf"]["message"].startswith("invalid HCL")
    assert errors["cfn/stack.yaml"]["line"] == 6 and "!Rain::Embed" in errors["cfn/stack.yaml"][
        "message"]
    assert "placeholders" in errors["chart/templates/deployment.yaml"]["message"]
    assert "too large" in errors["k8s/huge.yaml"]["message"]
    # the rest of the scan is unaffected
    found = {(f["rule_id"], f["path"]) for f in doc["findings"]}
    assert ("QG-IAC-007", "infra/main.tf") in found
    assert ("QG-K8S-004", "k8s/pod.yaml") in found
    assert ("QG-DKR-001", "Dockerfile") in found
    assert not {p for _r, p in found} & set(errors)
    assert code == 1  # findings at the threshold; scan errors alone never make it 2


def test_iac_findings_are_enriched_like_every_other_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {"main.tf": GOOD_TF})
    _, doc = scan_json(capsys, str(tmp_path))
    (finding,) = doc["findings"]
    assert finding["rule_id"] == "QG-IAC-007" and finding["line"] == 1
    assert finding["control_ids"] == ["ENC-03"] and finding["domain"] == "encryption"
    assert finding["severity"] == "medium" and finding["frameworks"]


def test_leaky_sample_shows_iac_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = scan_json(capsys, str(LEAKY))
    assert code == 1
    assert not [e for e in doc["scan_errors"] if e["reason"] == "parse-error"]
    per_family = Counter(f["rule_id"][:7] for f in doc["findings"]
                         if f["rule_id"].startswith(IAC_PREFIXES))
    assert per_family["QG-IAC-"] >= 30 and per_family["QG-K8S-"] >= 10
    assert per_family["QG-DKR-"] >= 4
    paths = {f["path"] for f in doc["findings"] if f["rule_id"].startswith(IAC_PREFIXES)}
    assert {"infra/k8s/job-runner.yaml", "Dockerfile", "infra/terraform/storage.tf",
            "infra/cloudformation/braket-stack.yaml",
            "infra/cloudformation/partner-access.json"} <= paths
    secrets = [f for f in doc["findings"] if f["rule_id"] in {"QG-K8S-005", "QG-DKR-002"}]
    assert secrets and all("not-a-real" not in json.dumps(f) for f in secrets)


def test_governed_sample_has_no_iac_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", str(GOVERNED), "--fail-on", "medium", "--no-engines"])
    capsys.readouterr()
    assert code == 0
    _, doc = scan_json(capsys, str(GOVERNED))
    assert [f for f in doc["findings"] if f["rule_id"].startswith(IAC_PREFIXES)] == []
    assert doc["scan_errors"] == []
    assert {"infra/k8s/job-runner.yaml", "Dockerfile"} <= {
        p.relative_to(GOVERNED).as_posix() for p in GOVERNED.rglob("*") if p.is_file()}


UNTAGGED_BUCKET = 'resource "aws_s3_bucket" "b" {\n  bucket = "lab-results"\n}\n'


@pytest.mark.parametrize(
    ("config", "args", "expected"),
    [
        ("", (), False),
        ("", ("--tier", "regulated-pilot"), True),
        ("tier: production-critical\n", (), True),
        ("tier: production-critical\n", ("--tier", "exploratory"), False),  # the flag wins
    ],
)
def test_configured_tier_drives_iac_requirements(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, args: tuple[str, ...],
    expected: bool,
) -> None:
    write_tree(tmp_path, {"main.tf": UNTAGGED_BUCKET, ".qgov.yaml": config or "fail_on: high\n"})
    _, doc = scan_json(capsys, str(tmp_path), "--fail-on", "none", *args)
    rules = {f["rule_id"] for f in doc["findings"]}
    assert ("QG-IAC-002" in rules) is expected
    assert "QG-IAC-001" not in rules  # S3 encrypts every bucket; only the key is in question


def test_kubernetes_secret_value_is_reported_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # random-looking values: the generic secret rule (QG-SEC-013) finds them too, on the same
    # lines; the Kubernetes finding is the more specific one and the only one kept
    write_tree(tmp_path, {"k8s/secret.yaml": (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tokens\n  namespace: jobs\n"
        "stringData:\n"
        '  api-token: "Zk9qT2h4bVZ3cUx5N2JHa1pQdjJ4"\n'
        '  db-password: "u8Xk2pQ9vLm4Rt7Yw1Zs"\n'
        "data:\n"
        "  client-secret: c2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZw==\n"
    )})
    _, doc = scan_json(capsys, str(tmp_path), "--fail-on", "none")
    assert sorted((f["rule_id"], f["line"]) for f in doc["findings"]) == [
        ("QG-K8S-008", 7), ("QG-K8S-008", 8), ("QG-K8S-008", 10)]


def test_literal_secrets_in_terraform_maps_and_cloudformation_are_iac_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # random-looking values: the generic rule would report them too, on the same lines
    write_tree(tmp_path, {
        "infra/lambda.tf": (
            'resource "aws_lambda_function" "submit" {\n'
            "  environment {\n"
            "    variables = {\n"
            '      DB_PASSWORD = "u8Xk2pQ9vLm4Rt7Yw1Zs"\n'
            "    }\n"
            "  }\n"
            "}\n"
            'provider "aws" {\n'
            '  secret_key = "Zk9qT2h4bVZ3cUx5N2JHa1pQdjJ4"\n'
            "}\n"
        ),
        "cfn/db.yaml": (
            'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Db:\n'
            "    Type: AWS::RDS::DBInstance\n    Properties:\n      StorageEncrypted: true\n"
            '      MasterUserPassword: "Zk9qT2h4bVZ3cUx5N2JHa1pQdjJ4"\n'
        ),
    })
    _, doc = scan_json(capsys, str(tmp_path), "--fail-on", "none")
    assert sorted((f["rule_id"], f["path"], f["line"]) for f in doc["findings"]) == [
        ("QG-IAC-021", "cfn/db.yaml", 7),
        ("QG-IAC-021", "infra/lambda.tf", 4),
        ("QG-IAC-021", "infra/lambda.tf", 9),
    ]
