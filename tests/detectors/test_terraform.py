"""Terraform detector (QG-IAC-*): python-hcl2 parsing, module-wide relations, each rule."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scanner.detectors.terraform import TerraformDetector
from scanner.formats.errors import ParseError
from scanner.formats.hcl import parse_terraform
from scanner.model import FileKind, Finding, Severity, Tier
from scanner.source import SourceFile
from tests.helpers import (
    Located,
    detect,
    findings,
    located,
    parse_error,
    rule_ids,
    scan_json,
    sources_under,
    write_tree,
)


def write_module(folder: Path, files: dict[str, str]) -> None:
    write_tree(folder, {name: textwrap.dedent(text) for name, text in files.items()})


def module_files(folder: Path, only: str | None = None) -> list[SourceFile]:
    """The Terraform files of ``folder`` (or just ``only``) as discovery reads them."""
    files = [s for s in sources_under(folder) if only is None or s.path == only]
    assert files and all(s.kind is FileKind.TERRAFORM for s in files)
    return files


def scan_module(folder: Path, only: str | None = None) -> list[Finding]:
    """Scan the Terraform files of ``folder`` (or just ``only``) as one module."""
    return findings(TerraformDetector(), *module_files(folder, only))


# A bucket with everything a governed result bucket has; cases drop or change one part.
BUCKET_PARTS = {
    "bucket": """
        resource "aws_s3_bucket" "results" {
          bucket = "amazon-braket-lab-results"
          tags = { "qgov:tier" = "regulated-pilot" }
        }
    """,
    "encryption": """
        resource "aws_s3_bucket_server_side_encryption_configuration" "results" {
          bucket = aws_s3_bucket.results.id
          rule {
            apply_server_side_encryption_by_default {
              sse_algorithm     = "aws:kms"
              kms_master_key_id = aws_kms_key.results.arn
            }
          }
        }
    """,
    "pab": """
        resource "aws_s3_bucket_public_access_block" "results" {
          bucket                  = aws_s3_bucket.results.id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }
    """,
    "versioning": """
        resource "aws_s3_bucket_versioning" "results" {
          bucket = aws_s3_bucket.results.id
          versioning_configuration {
            status = "Enabled"
          }
        }
    """,
    "logging": """
        resource "aws_s3_bucket_logging" "results" {
          bucket        = aws_s3_bucket.results.id
          target_bucket = "central-access-logs"
          target_prefix = "results/"
        }
    """,
    "lifecycle": """
        resource "aws_s3_bucket_lifecycle_configuration" "results" {
          bucket = aws_s3_bucket.results.id
          rule {
            id     = "expire"
            status = "Enabled"
            expiration {
              days = 365
            }
          }
        }
    """,
    "policy": """
        resource "aws_s3_bucket_policy" "results" {
          bucket = aws_s3_bucket.results.id
          policy = jsonencode({
            Statement = [{
              Sid = "DenyInsecureTransport", Effect = "Deny", Principal = "*",
              Action = "s3:*", Resource = "${aws_s3_bucket.results.arn}/*",
              Condition = { Bool = { "aws:SecureTransport" = "false" } }
            }]
          })
        }
    """,
    "trail": """
        resource "aws_cloudtrail" "main" {
          name                       = "quantum"
          s3_bucket_name             = "central-trail-logs"
          enable_log_file_validation = true
        }
    """,
}


def bucket_module(**changes: str | None) -> str:
    parts = {**BUCKET_PARTS, **changes}
    return "\n".join(textwrap.dedent(p) for p in parts.values() if p is not None)


def test_governed_bucket_module_is_clean(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": bucket_module()})
    assert scan_module(tmp_path) == []


# In bucket_module() the bucket resource starts on line 2, the encryption algorithm is on
# line 12, the public access block starts on line 19 and the versioning status is on line
# 31; the bucket policy's policy attribute is on line 57 and an added ACL's acl on line 76.
@pytest.mark.parametrize(
    ("rule", "changes", "expected"),
    [
        # S3 encrypts every bucket with S3-managed keys since January 2023: a bucket without
        # an encryption configuration is encrypted, just not with the key its tier asks for.
        ("QG-IAC-002", {"encryption": None}, [("QG-IAC-002", 2)]),
        ("QG-IAC-001", {"encryption": None}, [("QG-IAC-002", 2)]),
        ("QG-IAC-001", {}, []),
        ("QG-IAC-002", {"encryption": BUCKET_PARTS["encryption"].replace(
            '"aws:kms"', '"AES256"').replace("kms_master_key_id = aws_kms_key.results.arn", "")},
         [("QG-IAC-002", 12)]),
        ("QG-IAC-002", {"encryption": BUCKET_PARTS["encryption"].replace(
            "aws_kms_key.results.arn", '"alias/aws/s3"')}, [("QG-IAC-002", 12)]),
        ("QG-IAC-002", {}, []),
        ("QG-IAC-003", {"acl": """
            resource "aws_s3_bucket_acl" "results" {
              bucket = aws_s3_bucket.results.id
              acl    = "public-read"
            }"""}, [("QG-IAC-003", 76)]),
        ("QG-IAC-003", {"acl": """
            resource "aws_s3_bucket_acl" "results" {
              bucket = aws_s3_bucket.results.id
              acl    = "private"
            }"""}, []),
        ("QG-IAC-003", {"policy": """
            resource "aws_s3_bucket_policy" "results" {
              bucket = aws_s3_bucket.results.id
              policy = jsonencode({
                Statement = [{
                  Effect = "Allow", Principal = "*", Action = "s3:GetObject",
                  Resource = "${aws_s3_bucket.results.arn}/*"
                }]
              })
            }"""}, [("QG-IAC-003", 57), ("QG-IAC-017", 2)]),
        ("QG-IAC-003", {"policy": """
            resource "aws_s3_bucket_policy" "results" {
              bucket = aws_s3_bucket.results.id
              policy = data.aws_iam_policy_document.tls.json
            }
            data "aws_iam_policy_document" "tls" {
              statement {
                effect    = "Deny"
                actions   = ["s3:*"]
                resources = ["*"]
                principals {
                  type        = "*"
                  identifiers = ["*"]
                }
                condition {
                  test     = "Bool"
                  variable = "aws:SecureTransport"
                  values   = ["false"]
                }
              }
            }"""}, []),
        ("QG-IAC-003", {"policy": """
            resource "aws_s3_bucket_policy" "results" {
              bucket = aws_s3_bucket.results.id
              policy = data.aws_iam_policy_document.open.json
            }
            data "aws_iam_policy_document" "open" {
              statement {
                actions   = ["s3:GetObject"]
                resources = ["*"]
                principals {
                  type        = "AWS"
                  identifiers = ["*"]
                }
              }
            }"""}, [("QG-IAC-003", 57), ("QG-IAC-017", 2)]),
        ("QG-IAC-004", {"pab": None}, [("QG-IAC-004", 2)]),
        ("QG-IAC-004", {"pab": BUCKET_PARTS["pab"].replace(
            "ignore_public_acls      = true", "ignore_public_acls      = false")},
         [("QG-IAC-004", 19)]),
        ("QG-IAC-004", {"pab": None, "account_pab": """
            resource "aws_s3_account_public_access_block" "all" {
              block_public_acls       = true
              block_public_policy     = true
              ignore_public_acls      = true
              restrict_public_buckets = true
            }"""}, []),
        ("QG-IAC-005", {"versioning": None}, [("QG-IAC-005", 2)]),
        ("QG-IAC-005", {"versioning": BUCKET_PARTS["versioning"].replace(
            '"Enabled"', '"Suspended"')}, [("QG-IAC-005", 31)]),
        ("QG-IAC-006", {"logging": None}, [("QG-IAC-006", 2)]),
        ("QG-IAC-006", {"logging": None, "trail": """
            resource "aws_cloudtrail" "main" {
              name                       = "quantum"
              s3_bucket_name             = "central-trail-logs"
              enable_log_file_validation = true
              event_selector {
                data_resource {
                  type   = "AWS::S3::Object"
                  values = ["arn:aws:s3"]
                }
              }
            }"""}, []),
        ("QG-IAC-004", {}, []),
        ("QG-IAC-005", {}, []),
        ("QG-IAC-006", {}, []),
        ("QG-IAC-017", {"policy": None}, [("QG-IAC-017", 2)]),
        ("QG-IAC-017", {}, []),
        # A policy built outside the module cannot be read: no claim that it lacks the guard.
        ("QG-IAC-017", {"policy": """
            resource "aws_s3_bucket_policy" "results" {
              bucket = aws_s3_bucket.results.id
              policy = var.results_bucket_policy
            }"""}, []),
        ("QG-IAC-019", {"lifecycle": None}, [("QG-IAC-019", 2)]),
        ("QG-IAC-019", {}, []),
        ("QG-IAC-013", {"trail": None}, [("QG-IAC-013", 2)]),
        ("QG-IAC-013", {}, []),
    ],
)
def test_storage_rules(
    tmp_path: Path, rule: str, changes: dict[str, str | None], expected: list[Located]
) -> None:
    write_module(tmp_path, {"main.tf": bucket_module(**changes)})
    assert located(scan_module(tmp_path)) == expected, rule


def test_plain_bucket_without_job_data_gets_default_severities(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": 'resource "aws_s3_bucket" "misc" {\n  bucket = "misc"\n}\n'})
    detection = detect(TerraformDetector(), *module_files(tmp_path))
    found = {f.rule_id: f for f in detection.findings}
    # no encryption finding: S3 encrypts it with S3-managed keys, and no tier asks for more
    assert set(found) == {"QG-IAC-004", "QG-IAC-005", "QG-IAC-006", "QG-IAC-017"}
    # no lifecycle rule demanded: nothing says this bucket holds job data
    tls = found.pop("QG-IAC-017")
    assert [i.rule_id for i in detection.issues if i.severity is not None] == ["QG-IAC-017"]
    assert tls.severity is Severity.LOW  # plain HTTP matters most where job data lives


def test_braket_bucket_raises_severity_and_locates_on_bucket(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": bucket_module(encryption=None, pab=None)})
    found = {f.rule_id: f for f in scan_module(tmp_path)}
    assert found["QG-IAC-004"].severity is Severity.HIGH
    assert found["QG-IAC-002"].line == 2 and found["QG-IAC-004"].line == 2
    assert "amazon-braket" not in (found["QG-IAC-002"].evidence or "")
    assert "Amazon Braket result bucket" in found["QG-IAC-002"].message
    assert "S3-managed keys" in found["QG-IAC-002"].message


# --- the workload tier: a tier tag, else the tier the scan is configured with ----------------

CMK_RULES = {"QG-IAC-001", "QG-IAC-002"}


@pytest.mark.parametrize(
    ("configured", "tags", "expected"),
    [
        (None, "", []),
        (Tier.INTERNAL_PILOT, "", []),
        (Tier.REGULATED_PILOT, "", [("QG-IAC-002", 1)]),
        (Tier.PRODUCTION_CRITICAL, "", [("QG-IAC-002", 1)]),
        # a tag on the resource wins over the configured tier, both ways
        (Tier.REGULATED_PILOT, '  tags = { "qgov:tier" = "exploratory" }\n', []),
        (Tier.EXPLORATORY, '  tags = { "qgov:tier" = "regulated-pilot" }\n', [("QG-IAC-002", 1)]),
    ],
)
def test_configured_tier_sets_requirements_of_untagged_resources(
    tmp_path: Path, configured: Tier | None, tags: str, expected: list[Located]
) -> None:
    write_module(tmp_path, {"main.tf": f'resource "aws_s3_bucket" "b" {{\n  bucket = "b"\n{tags}}}\n'})
    found = findings(TerraformDetector(tier=configured), *module_files(tmp_path))
    assert located(f for f in found if f.rule_id in CMK_RULES) == expected


def test_configured_tier_names_itself_and_does_not_make_a_bucket_job_data(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'
                                       'resource "azurerm_storage_account" "s" {\n  name = "s"\n}\n'})
    found = findings(TerraformDetector(tier=Tier.REGULATED_PILOT), *module_files(tmp_path))
    cmk = {f.line: f for f in found if f.rule_id == "QG-IAC-002"}
    assert sorted(cmk) == [1, 4]
    assert "configured tier (regulated-pilot)" in cmk[1].message
    assert "S3-managed keys" in cmk[1].message and "Microsoft-managed keys" in cmk[4].message
    # the tier says what is required, not that the bucket holds job data: no lifecycle demand
    assert "QG-IAC-019" not in rule_ids(found)


# --- relations across the files of one module -----------------------------------------------


def test_bucket_controls_in_another_file_of_the_module(tmp_path: Path) -> None:
    write_module(tmp_path, {
        "buckets.tf": BUCKET_PARTS["bucket"],
        "controls.tf": "\n".join(
            BUCKET_PARTS[k] for k in ("encryption", "pab", "versioning", "logging", "lifecycle",
                                      "policy", "trail")
        ),
    })
    assert scan_module(tmp_path) == []


def test_missing_controls_are_reported_on_the_bucket_file(tmp_path: Path) -> None:
    write_module(tmp_path, {
        "buckets.tf": BUCKET_PARTS["bucket"],
        "controls.tf": BUCKET_PARTS["versioning"] + BUCKET_PARTS["logging"]
        + BUCKET_PARTS["lifecycle"] + BUCKET_PARTS["trail"],
    })
    found = scan_module(tmp_path)
    assert sorted((f.rule_id, f.path, f.line) for f in found) == [
        ("QG-IAC-002", "buckets.tf", 2),
        ("QG-IAC-004", "buckets.tf", 2),
        ("QG-IAC-017", "buckets.tf", 2),
    ]
    # scanning only the file holding the controls reports nothing: findings live on the bucket
    assert scan_module(tmp_path, only="controls.tf") == []


def test_other_directories_are_other_modules(tmp_path: Path) -> None:
    write_module(tmp_path / "a", {"buckets.tf": BUCKET_PARTS["bucket"]})
    write_module(tmp_path / "b", {"controls.tf": BUCKET_PARTS["encryption"]})
    assert "QG-IAC-002" in rule_ids(scan_module(tmp_path / "a"))
    # scanned together, the folders are still two modules: b's encryption is not a's
    both = findings(TerraformDetector(), *sources_under(tmp_path))
    assert ("QG-IAC-002", "a/buckets.tf") in {(f.rule_id, f.path) for f in both}


def test_relation_by_bucket_name_string(tmp_path: Path) -> None:
    write_module(tmp_path, {
        "main.tf": """
            resource "aws_s3_bucket" "data" {
              bucket = "lab-data"
            }
            resource "aws_s3_bucket_versioning" "data" {
              bucket = "lab-data"
              versioning_configuration {
                status = "Enabled"
              }
            }
        """,
    })
    assert "QG-IAC-005" not in rule_ids(scan_module(tmp_path))


def test_partial_public_access_block_located_on_the_block(tmp_path: Path) -> None:
    write_module(tmp_path, {
        "buckets.tf": BUCKET_PARTS["bucket"],
        "pab.tf": BUCKET_PARTS["pab"].replace("block_public_acls       = true",
                                              "block_public_acls       = false"),
    })
    found = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-004"]
    assert [(f.path, f.line) for f in found] == [("pab.tf", 2)]
    assert "block_public_acls" in found[0].message


def test_unparseable_sibling_does_not_hide_the_module(tmp_path: Path) -> None:
    write_module(tmp_path, {
        "buckets.tf": 'resource "aws_s3_bucket" "x" {\n  bucket = "x"\n}\n',
        "broken.tf": 'resource "aws_s3_bucket_versioning" "x" {\n  bucket = \n',
    })
    detection = detect(TerraformDetector(), *module_files(tmp_path))
    assert "QG-IAC-004" in rule_ids(detection.findings)
    assert {f.path for f in detection.findings} == {"buckets.tf"}
    error = parse_error(detection)
    assert error.path == "broken.tf"
    assert error.line == 2 and error.message.startswith("invalid HCL")


# --- keys, identity, logging, network ---------------------------------------------------------

KEY_POLICY = """
    resource "aws_kms_key" "k" {
      enable_key_rotation = true
      policy = jsonencode({
        Statement = [
          { Effect = "Allow", Principal = { AWS = "arn:aws:iam::111122223333:root" },
            Action = "kms:*", Resource = "*" },
          { Effect = "Allow", Principal = { AWS = "arn:aws:iam::111122223333:role/ops" },
            Action = %s, Resource = "*" }
        ]
      })
    }
"""

BRAKET_TRUST = """
    data "aws_iam_policy_document" "braket" {
      statement {
        actions = ["sts:AssumeRole"]
        principals {
          type        = "Service"
          identifiers = ["braket.amazonaws.com"]
        }
      }
    }
    resource "aws_iam_role" "job" {
      name               = "braket-job"
      assume_role_policy = data.aws_iam_policy_document.braket.json
    }
    resource "aws_cloudtrail" "t" {
      name                       = "t"
      s3_bucket_name             = "trail"
      enable_log_file_validation = true
    }
"""


# The triple-quoted payloads start with a blank line: their first resource is on line 2.
# Braket in use without a CloudTrail trail is QG-IAC-013, which some payloads add.
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ("QG-IAC-007", 'resource "aws_kms_key" "k" {\n  description = "x"\n}\n',
         [("QG-IAC-007", 1)]),
        ("QG-IAC-007", 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n',
         [("QG-IAC-007", 2)]),
        ("QG-IAC-007", 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n', []),
        ("QG-IAC-007", 'resource "aws_kms_key" "k" {\n  customer_master_key_spec = "RSA_2048"\n}\n',
         []),
        ("QG-IAC-007", 'resource "azurerm_key_vault_key" "k" {\n  name = "k"\n}\n',
         [("QG-IAC-007", 1)]),
        ("QG-IAC-008", KEY_POLICY % '"kms:*"', [("QG-IAC-008", 4)]),
        ("QG-IAC-008", KEY_POLICY % '["kms:PutKeyPolicy", "kms:Decrypt"]', [("QG-IAC-008", 4)]),
        ("QG-IAC-008", KEY_POLICY % '["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"]',
         []),
        ("QG-IAC-009", """
            resource "aws_iam_policy" "p" {
              policy = jsonencode({
                Statement = [{ Effect = "Allow", Action = ["braket:*"], Resource = "*" }]
              })
            }""", [("QG-IAC-009", 4), ("QG-IAC-013", 2)]),
        ("QG-IAC-009", """
            resource "aws_iam_policy" "p" {
              policy = <<EOF
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            EOF
            }""", [("QG-IAC-009", 3)]),
        ("QG-IAC-009", """
            data "aws_iam_policy_document" "p" {
              statement {
                not_actions = ["iam:*"]
                resources   = ["*"]
              }
            }""", [("QG-IAC-009", 4)]),
        ("QG-IAC-009", """
            resource "aws_iam_role_policy_attachment" "a" {
              role       = "x"
              policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
            }""", [("QG-IAC-009", 4)]),
        ("QG-IAC-009", """
            resource "aws_iam_policy" "p" {
              policy = jsonencode({
                Statement = [{ Effect = "Allow", Action = ["braket:GetDevice",
                  "braket:CreateQuantumTask"], Resource = "*" }]
              })
            }""", [("QG-IAC-013", 2)]),
        ("QG-IAC-009", """
            resource "aws_iam_policy" "p" {
              policy = jsonencode({
                Statement = [{ Effect = "Deny", Action = "*", Resource = "*" }]
              })
            }""", []),
        ("QG-IAC-010", 'resource "aws_iam_access_key" "ci" {\n  user = "github-ci"\n}\n',
         [("QG-IAC-010", 1)]),
        ("QG-IAC-010", 'resource "ibm_iam_api_key" "k" {\n  name = "k"\n}\n',
         [("QG-IAC-010", 1)]),
        ("QG-IAC-010", 'resource "aws_iam_user" "ci" {\n  name = "github-ci"\n}\n', []),
        ("QG-IAC-011", """
            resource "aws_iam_role" "r" {
              assume_role_policy = jsonencode({
                Statement = [{ Effect = "Allow", Principal = { AWS = "*" },
                               Action = "sts:AssumeRole" }]
              })
            }""", [("QG-IAC-011", 3)]),
        ("QG-IAC-011", """
            resource "aws_iam_role" "r" {
              assume_role_policy = jsonencode({
                Statement = [{
                  Effect = "Allow", Action = "sts:AssumeRoleWithWebIdentity",
                  Principal = { Federated = "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com" },
                  Condition = { StringEquals = {
                    "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" } }
                }]
              })
            }""", [("QG-IAC-011", 3)]),
        ("QG-IAC-011", """
            resource "aws_iam_role" "r" {
              assume_role_policy = jsonencode({
                Statement = [{
                  Effect = "Allow", Action = "sts:AssumeRoleWithWebIdentity",
                  Principal = { Federated = "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com" },
                  Condition = { StringLike = {
                    "token.actions.githubusercontent.com:sub" = "repo:org/app:ref:refs/heads/main" } }
                }]
              })
            }""", []),
        ("QG-IAC-012", BRAKET_TRUST + """
            resource "aws_iam_role_policy_attachment" "admin" {
              role       = aws_iam_role.job.name
              policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
            }""", [("QG-IAC-009", 23), ("QG-IAC-012", 11)]),
        ("QG-IAC-012", BRAKET_TRUST + """
            resource "aws_iam_role_policy" "p" {
              role   = aws_iam_role.job.id
              policy = jsonencode({
                Statement = [{ Effect = "Allow", Action = "s3:*", Resource = "*" }]
              })
            }""", [("QG-IAC-009", 24), ("QG-IAC-012", 11)]),
        ("QG-IAC-012", BRAKET_TRUST + """
            resource "aws_iam_role_policy" "p" {
              role   = aws_iam_role.job.id
              policy = jsonencode({
                Statement = [{ Effect = "Allow", Action = ["braket:CreateQuantumTask"],
                               Resource = "*" }]
              })
            }""", []),
        ("QG-IAC-013", BRAKET_TRUST.split('resource "aws_cloudtrail"')[0],
         [("QG-IAC-013", 11)]),
        ("QG-IAC-013", BRAKET_TRUST, []),
        ("QG-IAC-013", """
            resource "azapi_resource" "ws" {
              type = "Microsoft.Quantum/workspaces@2023-11-13-preview"
              body = jsonencode({ properties = { apiKeyEnabled = false } })
            }""", [("QG-IAC-013", 2)]),
        ("QG-IAC-014", """
            resource "aws_cloudwatch_log_group" "g" {
              retention_in_days = 14
            }""", [("QG-IAC-014", 3)]),
        ("QG-IAC-014", 'resource "aws_cloudwatch_log_group" "g" {\n  name = "g"\n}\n',
         [("QG-IAC-014", 1)]),
        ("QG-IAC-014", """
            resource "aws_cloudwatch_log_group" "g" {
              retention_in_days = 365
            }""", []),
        ("QG-IAC-014", """
            resource "azurerm_log_analytics_workspace" "w" {
              retention_in_days = 30
            }""", [("QG-IAC-014", 3)]),
        ("QG-IAC-015", """
            resource "aws_security_group" "sg" {
              ingress {
                from_port   = 22
                to_port     = 22
                protocol    = "tcp"
                cidr_blocks = ["0.0.0.0/0"]
              }
            }""", [("QG-IAC-015", 7)]),
        ("QG-IAC-015", """
            resource "aws_vpc_security_group_ingress_rule" "r" {
              cidr_ipv6   = "::/0"
              ip_protocol = "-1"
            }""", [("QG-IAC-015", 3)]),
        ("QG-IAC-015", """
            resource "azurerm_network_security_rule" "r" {
              direction                  = "Inbound"
              access                     = "Allow"
              source_address_prefix      = "Internet"
              destination_port_range     = "3389"
            }""", [("QG-IAC-015", 5)]),
        ("QG-IAC-015", """
            resource "aws_security_group" "sg" {
              ingress {
                from_port   = 22
                to_port     = 22
                protocol    = "tcp"
                cidr_blocks = ["10.0.0.0/8"]
              }
            }""", []),
        # egress is not ingress (open egress is QG-IAC-024: info, no quantum workload here)
        ("QG-IAC-015", """
            resource "aws_security_group" "sg" {
              egress {
                from_port   = 0
                to_port     = 0
                protocol    = "-1"
                cidr_blocks = ["0.0.0.0/0"]
              }
            }""", [("QG-IAC-024", 7)]),
        ("QG-IAC-016", """
            resource "aws_sagemaker_notebook_instance" "nb" {
              name = "amazon-braket-lab"
            }""", [("QG-IAC-016", 2), ("QG-IAC-025", 2)]),
        ("QG-IAC-016", """
            resource "aws_db_instance" "db" {
              publicly_accessible = true
              storage_encrypted   = true
            }""", [("QG-IAC-016", 3)]),
        ("QG-IAC-016", """
            resource "aws_sagemaker_notebook_instance" "nb" {
              name                   = "amazon-braket-lab"
              direct_internet_access = "Disabled"
              root_access            = "Disabled"
            }""", []),
        ("QG-IAC-017", """
            resource "azurerm_storage_account" "s" {
              min_tls_version = "TLS1_0"
            }""", [("QG-IAC-003", 2), ("QG-IAC-005", 2), ("QG-IAC-006", 2), ("QG-IAC-016", 2), ("QG-IAC-017", 3), ("QG-IAC-018", 2)]),
        ("QG-IAC-017", """
            resource "azurerm_storage_account" "s" {
              https_traffic_only_enabled = false
            }""", [("QG-IAC-003", 2), ("QG-IAC-005", 2), ("QG-IAC-006", 2), ("QG-IAC-016", 2), ("QG-IAC-017", 3), ("QG-IAC-018", 2)]),
        ("QG-IAC-017", """
            resource "azurerm_storage_account" "s" {
              min_tls_version = "TLS1_2"
            }""", [("QG-IAC-003", 2), ("QG-IAC-005", 2), ("QG-IAC-006", 2), ("QG-IAC-016", 2), ("QG-IAC-018", 2)]),
        ("QG-IAC-018", 'resource "azurerm_storage_account" "s" {\n  name = "s"\n}\n',
         [("QG-IAC-003", 1), ("QG-IAC-005", 1), ("QG-IAC-006", 1), ("QG-IAC-016", 1), ("QG-IAC-018", 1)]),
        ("QG-IAC-018", """
            resource "azurerm_storage_account" "s" {
              shared_access_key_enabled = false
            }""", [("QG-IAC-003", 2), ("QG-IAC-005", 2), ("QG-IAC-006", 2), ("QG-IAC-016", 2)]),
        ("QG-IAC-018", """
            resource "azapi_resource" "ws" {
              type = "Microsoft.Quantum/workspaces@2023-11-13-preview"
              body = jsonencode({ properties = { apiKeyEnabled = true } })
            }""", [("QG-IAC-013", 2), ("QG-IAC-018", 4)]),
    ],
)
def test_rules(tmp_path: Path, rule: str, text: str, expected: list[Located]) -> None:
    write_module(tmp_path, {"main.tf": text})
    assert located(scan_module(tmp_path)) == expected, rule


AZURE_ACCOUNT = """
    resource "azurerm_storage_account" "s" {
      name                      = "qlabresults"
      resource_group_name       = "qlab"
      shared_access_key_enabled = false
    }
"""


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ("", [("QG-IAC-016", 2)]),
        # linked by id, by a reference to the name, or by the literal name
        ("storage_account_id = azurerm_storage_account.s.id", []),
        ("storage_account_name = azurerm_storage_account.s.name\n"
         "  resource_group_name  = \"qlab\"", []),
        ('storage_account_name = "qlabresults"', []),
        ('storage_account_name = "otheraccount"', [("QG-IAC-016", 2)]),
    ],
)
def test_azure_network_rules_resource_linked_by_id_or_name(
    tmp_path: Path, rules: str, expected: list[Located]
) -> None:
    network = (
        'resource "azurerm_storage_account_network_rules" "n" {\n'
        f"  {rules}\n"
        '  default_action = "Deny"\n'
        "}\n"
    ) if rules else ""
    write_module(tmp_path, {"main.tf": AZURE_ACCOUNT, "network.tf": network})
    found = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-016"]
    assert located(found) == expected


def test_exact_lines_and_severities_for_identity_and_network(tmp_path: Path) -> None:
    write_module(tmp_path, {"iam.tf": """\
        resource "aws_iam_policy" "all" {
          policy = jsonencode({
            Version = "2012-10-17"
            Statement = [
              { Effect = "Allow", Action = "braket:GetDevice", Resource = "*" },
              {
                Effect   = "Allow"
                Action   = "*"
                Resource = "*"
              }
            ]
          })
        }

        resource "aws_security_group" "web" {
          ingress {
            from_port   = 443
            to_port     = 443
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }
        """})
    found = {f.rule_id: f for f in scan_module(tmp_path)}
    assert found["QG-IAC-009"].line == 6  # the statement object, not the attribute
    assert found["QG-IAC-009"].severity is Severity.CRITICAL
    assert found["QG-IAC-015"].line == 20
    assert found["QG-IAC-015"].severity is Severity.MEDIUM  # only 443 is open


def test_heredoc_policy_points_at_the_attribute(tmp_path: Path) -> None:
    write_module(tmp_path, {"iam.tf": """\
        resource "aws_iam_role_policy" "p" {
          role   = "r"
          policy = <<-EOT
            {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
          EOT
        }
        """})
    found = scan_module(tmp_path)
    assert [(f.rule_id, f.line) for f in found] == [("QG-IAC-009", 3)]


def test_long_lived_key_for_ci_user_is_named(tmp_path: Path) -> None:
    write_module(tmp_path, {"iam.tf": """\
        resource "aws_iam_user" "deploy" {
          name = "github-actions-deploy"
        }
        resource "aws_iam_access_key" "deploy" {
          user = aws_iam_user.deploy.name
        }
        """})
    (finding,) = scan_module(tmp_path)
    assert (finding.rule_id, finding.line) == ("QG-IAC-010", 4)
    assert "CI identity" in finding.message and "OIDC" in finding.message


def test_fingerprint_survives_line_moves(tmp_path: Path) -> None:
    text = 'resource "aws_kms_key" "k" {\n  description = "x"\n}\n'
    write_module(tmp_path / "a", {"main.tf": text})
    write_module(tmp_path / "b", {"main.tf": "# moved down\n\n" + text})
    (first,) = scan_module(tmp_path / "a")
    (second,) = scan_module(tmp_path / "b")
    assert first.line == 1 and second.line == 3
    assert first.fingerprint == second.fingerprint


# --- the reader ------------------------------------------------------------------------------


def test_tf_json_module(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf.json": """\
        {
          "resource": {
            "aws_s3_bucket": {
              "open": {
                "bucket": "open-data",
                "acl": "public-read"
              }
            }
          }
        }
        """})
    found = {f.rule_id: f for f in scan_module(tmp_path)}
    assert found["QG-IAC-003"].line == 6
    assert found["QG-IAC-004"].line == 4


def test_tfvars_are_parsed_but_hold_no_resources(tmp_path: Path) -> None:
    write_module(tmp_path, {"prod.tfvars": 'region = "eu-west-1"\n'})
    assert scan_module(tmp_path) == []
    with pytest.raises(ParseError):
        parse_terraform('region = = "x"\n', "bad.tfvars")


# --- module sources (supply chain) -----------------------------------------------------------

SHA = "3f9c2a7d41b08e6c95d1f4a2b7e0c8d9a6f5e4b3"


@pytest.mark.parametrize(
    ("source", "version", "expected"),
    [
        ("./modules/network", None, None),
        ("../shared/kms", None, None),
        ("git::https://example.com/org/net.git", None, Severity.MEDIUM),
        ("git::https://example.com/org/net.git?ref=v1.4.0", None, Severity.LOW),
        (f"git::https://example.com/org/net.git?ref={SHA}", None, None),
        (f"github.com/org/net//modules/vpc?ref={SHA}", None, None),
        ("github.com/org/net", None, Severity.MEDIUM),
        ("git@github.com:org/net.git?ref=main", None, Severity.LOW),
        ("terraform-aws-modules/s3-bucket/aws", None, Severity.MEDIUM),
        ("terraform-aws-modules/s3-bucket/aws", "~> 4.0", Severity.LOW),
        ("terraform-aws-modules/s3-bucket/aws", "4.1.2", None),
        ("app.terraform.io/acme/network/aws", "= 1.0.0", None),
    ],
)
def test_module_source_pinning(
    tmp_path: Path, source: str, version: str | None, expected: Severity | None
) -> None:
    version_line = f'  version = "{version}"\n' if version else ""
    write_module(tmp_path, {
        "main.tf": f'module "net" {{\n  source = "{source}"\n{version_line}}}\n',
    })
    found = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-020"]
    assert [f.severity for f in found] == ([expected] if expected else [])
    if found:
        assert found[0].line == 2  # the source attribute


def test_module_source_credentials_are_redacted(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": (
        'module "net" {\n'
        '  source = "git::https://deploy:s3cr3t-t0ken@git.example.com/org/net.git"\n'
        "}\n"
    )})
    [finding] = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-020"]
    assert "s3cr3t-t0ken" not in finding.message + (finding.evidence or "")
    assert "***@git.example.com" in (finding.evidence or "")


# --- values Terraform computes, dynamic blocks, string ports ------------------------------------


def test_dynamic_blocks_count_as_configured(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": """
        resource "aws_s3_bucket" "b" {
          bucket = "b"
          dynamic "logging" {
            for_each = var.log_bucket == null ? [] : [1]
            content {
              target_bucket = var.log_bucket
            }
          }
          dynamic "server_side_encryption_configuration" {
            for_each = [1]
            content {
              rule {
                apply_server_side_encryption_by_default {
                  sse_algorithm = "aws:kms"
                }
              }
            }
          }
        }
    """})
    found = rule_ids(scan_module(tmp_path))
    assert "QG-IAC-006" not in found and "QG-IAC-001" not in found


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        ("true", []),
        ("false", [("QG-IAC-007", 2)]),
        (None, [("QG-IAC-007", 1)]),
        ("var.enable_rotation", []),
        ("local.prod ? true : false", []),
    ],
)
def test_key_rotation_only_claimed_when_known(
    tmp_path: Path, rotation: str | None, expected: list[Located]
) -> None:
    # the setting on line 2; without one, the key resource on line 1
    setting = f"  enable_key_rotation = {rotation}\n" if rotation else ""
    write_module(tmp_path, {"main.tf": f'resource "aws_kms_key" "k" {{\n{setting}}}\n'})
    assert located(scan_module(tmp_path)) == expected


def test_ports_written_as_strings(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": """
        resource "aws_security_group" "web" {
          ingress {
            from_port   = "443"
            to_port     = "443"
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }
    """})
    [finding] = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-015"]
    assert "port(s) 443" in finding.message and finding.severity is Severity.MEDIUM


def test_companion_resources_created_with_for_each_are_linked(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": bucket_module(encryption="""
        resource "aws_s3_bucket_server_side_encryption_configuration" "results" {
          for_each = aws_s3_bucket.results
          bucket   = each.value.id
          rule {
            apply_server_side_encryption_by_default {
              sse_algorithm     = "aws:kms"
              kms_master_key_id = aws_kms_key.results.arn
            }
          }
        }
    """)})
    assert scan_module(tmp_path) == []


# --- literal secrets (QG-IAC-021) ------------------------------------------------------------

SECRET = "Qj0bs-Pr0d-" + "x7Kp2"


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (f'variable "db_password" {{\n  default = "{SECRET}"\n}}\n', 2),
        (f'resource "aws_db_instance" "r" {{\n  engine = "postgres"\n  password = "{SECRET}"\n}}\n',
         3),
        ('resource "azurerm_linux_virtual_machine" "vm" {\n  os_profile {\n'
         f'    admin_password = "{SECRET}"\n  }}\n}}\n', 3),
    ],
)
def test_literal_secrets_are_flagged_and_masked(tmp_path: Path, body: str, line: int) -> None:
    write_module(tmp_path, {"main.tf": body})
    found = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-021"]
    assert [f.line for f in found] == [line]
    assert SECRET not in found[0].message + (found[0].evidence or "")


@pytest.mark.parametrize(
    "body",
    [
        'variable "db_password" {\n  type = string\n  sensitive = true\n}\n',
        'variable "token_lifetime" {\n  default = "3600s"\n}\n',
        'resource "aws_db_instance" "r" {\n  password = random_password.db.result\n}\n',
        'resource "aws_db_instance" "r" {\n  password = var.db_password\n}\n',
        'resource "aws_db_instance" "r" {\n  manage_master_user_password = true\n}\n',
        'resource "aws_s3_object" "o" {\n  key = "results/summary-2026.json"\n}\n',
        'resource "aws_secretsmanager_secret" "s" {\n  name = "qjobs/db-password"\n}\n',
    ],
)
def test_references_and_non_secrets_are_not_flagged(tmp_path: Path, body: str) -> None:
    write_module(tmp_path, {"main.tf": body})
    assert "QG-IAC-021" not in rule_ids(scan_module(tmp_path))


def test_terraform_expressions_are_not_literal_secrets_for_the_secrets_detector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_db_instance" "r" {\n'
        "  password = random_password.db.result\n"
        "  admin_password = var.admin_password_for_the_cluster\n"
        "}\n"
    )
    _, doc = scan_json(capsys, str(tmp_path), "--fail-on", "none")
    assert [f["rule_id"] for f in doc["findings"] if f["rule_id"].startswith("QG-SEC")] == []
