"""Terraform detector, the services around the storage: databases, volumes and search domains,
clusters, resource policies, notebooks, audit trails and egress. Same style as
``test_terraform``: ``(rule, line)`` tables over small modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.detectors.terraform import TerraformDetector
from scanner.model import Severity, Tier
from tests.detectors.test_terraform import module_files, scan_module, write_module
from tests.helpers import Located, findings, located

# --- encryption at rest off (QG-IAC-001) ------------------------------------------------------

# The triple-quoted payloads start with a blank line: their first resource is on line 2.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("""
            resource "aws_db_instance" "db" {
              engine            = "postgres"
              storage_encrypted = false
            }""", [("QG-IAC-001", 4)]),
        ("""
            resource "aws_db_instance" "db" {
              engine = "postgres"
            }""", [("QG-IAC-001", 2)]),  # unset: the provider's default is unencrypted
        ("""
            resource "aws_db_instance" "db" {
              engine            = "postgres"
              storage_encrypted = true
            }""", []),
        ("""
            resource "aws_db_instance" "db" {
              engine            = "postgres"
              storage_encrypted = var.encrypted
            }""", []),  # computed: no claim
        ("""
            resource "aws_db_instance" "replica" {
              replicate_source_db = aws_db_instance.db.identifier
            }""", []),  # a replica inherits its source's encryption
        ("""
            resource "aws_db_instance" "member" {
              engine             = "aurora-postgresql"
              cluster_identifier = aws_rds_cluster.c.id
            }""", []),  # an Aurora instance: the cluster decides
        ("""
            resource "aws_rds_cluster" "c" {
              engine            = "aurora-postgresql"
              storage_encrypted = false
            }""", [("QG-IAC-001", 4)]),
        ("""
            resource "aws_rds_cluster" "c" {
              engine      = "aurora-mysql"
              engine_mode = "serverless"
            }""", []),  # Aurora Serverless v1 is always encrypted
        ("""
            resource "aws_neptune_cluster" "graph" {
              storage_encrypted = false
            }""", [("QG-IAC-001", 3)]),
        ("""
            resource "aws_neptune_cluster" "graph" {
              kms_key_arn = aws_kms_key.k.arn
            }""", []),
        ("""
            resource "aws_ebs_volume" "scratch" {
              availability_zone = "eu-west-1a"
              size              = 100
            }""", [("QG-IAC-001", 2)]),
        ("""
            resource "aws_ebs_volume" "scratch" {
              size      = 100
              encrypted = false
            }""", [("QG-IAC-001", 4)]),
        ("""
            resource "aws_ebs_encryption_by_default" "on" {
              enabled = true
            }
            resource "aws_ebs_volume" "scratch" {
              size = 100
            }""", []),  # the account encrypts every new volume
        ("""
            resource "aws_ebs_volume" "scratch" {
              size      = 100
              encrypted = true
            }""", []),
        ("""
            resource "aws_opensearch_domain" "results" {
              domain_name = "results"
              encrypt_at_rest {
                enabled = false
              }
            }""", [("QG-IAC-001", 5)]),
        ("""
            resource "aws_elasticsearch_domain" "results" {
              domain_name = "results"
            }""", [("QG-IAC-001", 2)]),
        ("""
            resource "aws_opensearch_domain" "results" {
              encrypt_at_rest {
                enabled = true
              }
            }""", []),
        ("""
            resource "azurerm_managed_disk" "d" {
              name = "d"
              encryption_settings {
                enabled = false
              }
            }""", [("QG-IAC-001", 5)]),
        ("""
            resource "azurerm_managed_disk" "d" {
              name = "d"
            }""", []),  # the platform encrypts managed disks; nothing is turned off
    ],
)
def test_encryption_at_rest_off(tmp_path: Path, text: str, expected: list[Located]) -> None:
    write_module(tmp_path, {"main.tf": text})
    assert located(f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-001") == expected


def test_unencrypted_store_is_high_where_the_tier_is_regulated(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": """
        resource "aws_db_instance" "db" {
          engine = "postgres"
        }
        resource "azurerm_managed_disk" "d" {
          encryption_settings {
            enabled = false
          }
        }
    """})
    plain = {f.line: f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-001"}
    assert plain[2].severity is Severity.MEDIUM and plain[7].severity is Severity.LOW
    assert "default false" in plain[2].message
    regulated = findings(TerraformDetector(tier=Tier.REGULATED_PILOT), *module_files(tmp_path))
    assert {f.line: f.severity for f in regulated if f.rule_id == "QG-IAC-001"} == {
        2: Severity.HIGH, 7: Severity.LOW}


# --- public databases, plain-text transport, public cluster API endpoints ---------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("""
            resource "azurerm_mssql_server" "sql" {
              name                          = "qlab-sql"
              public_network_access_enabled = true
            }""", [("QG-IAC-016", 4, Severity.HIGH)]),
        ("""
            resource "azurerm_mssql_server" "sql" {
              name = "qlab-sql"
            }""", [("QG-IAC-016", 2, Severity.LOW)]),  # public by default, behind its firewall
        ("""
            resource "azurerm_mssql_server" "sql" {
              name = "qlab-sql"
            }
            resource "azurerm_mssql_firewall_rule" "all" {
              server_id        = azurerm_mssql_server.sql.id
              start_ip_address = "0.0.0.0"
              end_ip_address   = "255.255.255.255"
            }""", [("QG-IAC-016", 2, Severity.HIGH)]),
        ("""
            resource "azurerm_mssql_server" "sql" {
              public_network_access_enabled = false
              minimum_tls_version           = "1.0"
            }""", [("QG-IAC-017", 4, Severity.HIGH)]),
        ("""
            resource "azurerm_postgresql_server" "pg" {
              public_network_access_enabled = false
              ssl_enforcement_enabled       = false
            }""", [("QG-IAC-017", 4, Severity.HIGH)]),
        ("""
            resource "azurerm_mysql_server" "my" {
              public_network_access_enabled    = false
              ssl_enforcement_enabled          = true
              ssl_minimal_tls_version_enforced = "TLS1_1"
            }""", [("QG-IAC-017", 5, Severity.HIGH)]),
        ("""
            resource "azurerm_mysql_server" "my" {
              public_network_access_enabled    = false
              ssl_enforcement_enabled          = true
              ssl_minimal_tls_version_enforced = "TLS1_2"
            }""", []),
        ("""
            resource "azurerm_postgresql_flexible_server" "pg" {
              delegated_subnet_id = azurerm_subnet.db.id
            }
            resource "azurerm_postgresql_flexible_server_configuration" "tls" {
              server_id = azurerm_postgresql_flexible_server.pg.id
              name      = "require_secure_transport"
              value     = "off"
            }""", [("QG-IAC-017", 8, Severity.HIGH)]),
        ("""
            resource "aws_db_instance" "db" {
              storage_encrypted   = true
              publicly_accessible = true
            }""", [("QG-IAC-016", 4, Severity.HIGH)]),
        ("""
            resource "aws_eks_cluster" "jobs" {
              vpc_config {
                subnet_ids = var.subnets
              }
            }""", [("QG-IAC-016", 3, Severity.MEDIUM)]),  # public endpoint open to all
        ("""
            resource "aws_eks_cluster" "jobs" {
              vpc_config {
                endpoint_public_access = true
                public_access_cidrs    = ["0.0.0.0/0"]
              }
            }""", [("QG-IAC-016", 5, Severity.MEDIUM)]),
        ("""
            resource "aws_eks_cluster" "jobs" {
              vpc_config {
                public_access_cidrs = ["203.0.113.0/24"]
              }
            }""", []),
        ("""
            resource "aws_eks_cluster" "jobs" {
              vpc_config {
                endpoint_private_access = true
                endpoint_public_access  = false
              }
            }""", []),
        ("""
            resource "azurerm_kubernetes_cluster" "aks" {
              name = "aks"
            }""", [("QG-IAC-016", 2, Severity.MEDIUM)]),
        ("""
            resource "azurerm_kubernetes_cluster" "aks" {
              api_server_access_profile {
                authorized_ip_ranges = ["203.0.113.0/24"]
              }
            }""", []),
        ("""
            resource "azurerm_kubernetes_cluster" "aks" {
              private_cluster_enabled = true
            }""", []),
    ],
)
def test_public_databases_transport_and_cluster_endpoints(
    tmp_path: Path, text: str, expected: list[tuple[str, int, Severity]]
) -> None:
    write_module(tmp_path, {"main.tf": text})
    found = [f for f in scan_module(tmp_path) if f.rule_id in {"QG-IAC-016", "QG-IAC-017"}]
    assert sorted((f.rule_id, f.line, f.severity) for f in found) == expected


# --- resource policies and roles open to everyone ---------------------------------------------

OPEN = 'Effect = "Allow", Principal = "*", Action = "%s", Resource = "*"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"""
            resource "aws_opensearch_domain" "results" {{
              encrypt_at_rest {{
                enabled = true
              }}
              access_policies = jsonencode({{
                Statement = [{{ {OPEN % "es:*"} }}]
              }})
            }}""", [("QG-IAC-003", 6, Severity.HIGH)]),
        (f"""
            resource "aws_opensearch_domain" "results" {{
              encrypt_at_rest {{
                enabled = true
              }}
              vpc_options {{
                subnet_ids = var.subnets
              }}
            }}
            resource "aws_opensearch_domain_policy" "open" {{
              domain_name     = aws_opensearch_domain.results.domain_name
              access_policies = jsonencode({{
                Statement = [{{ {OPEN % "es:ESHttp*"} }}]
              }})
            }}""", [("QG-IAC-003", 12, Severity.LOW)]),  # only the VPC reaches the domain
        (f"""
            resource "aws_sqs_queue" "jobs" {{
              policy = jsonencode({{ Statement = [{{ {OPEN % "sqs:*"} }}] }})
            }}""", [("QG-IAC-003", 3, Severity.HIGH)]),
        ("""
            resource "aws_sqs_queue_policy" "jobs" {
              queue_url = aws_sqs_queue.jobs.id
              policy    = <<EOF
            {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage"}]}
            EOF
            }""", [("QG-IAC-003", 4, Severity.HIGH)]),
        ("""
            resource "aws_sns_topic_policy" "done" {
              arn    = aws_sns_topic.done.arn
              policy = data.aws_iam_policy_document.sns.json
            }
            data "aws_iam_policy_document" "sns" {
              statement {
                actions = ["SNS:Publish"]
                principals {
                  type        = "AWS"
                  identifiers = ["*"]
                }
                condition {
                  test     = "ArnLike"
                  variable = "aws:SourceArn"
                  values   = [aws_s3_bucket.results.arn]
                }
              }
            }""", []),  # narrowed to one caller by a condition
        (f"""
            resource "aws_ecr_repository_policy" "runner" {{
              repository = aws_ecr_repository.runner.name
              policy     = jsonencode({{ Statement = [{{ {OPEN % "ecr:BatchGetImage"} }}] }})
            }}""", [("QG-IAC-003", 4, Severity.HIGH)]),
        ("""
            resource "aws_lambda_permission" "anyone" {
              action        = "lambda:InvokeFunction"
              function_name = aws_lambda_function.submit.function_name
              principal     = "*"
            }""", [("QG-IAC-003", 5, Severity.HIGH)]),
        ("""
            resource "aws_lambda_permission" "s3" {
              action        = "lambda:InvokeFunction"
              function_name = aws_lambda_function.submit.function_name
              principal     = "s3.amazonaws.com"
              source_arn    = aws_s3_bucket.results.arn
            }""", []),
        ("""
            resource "azurerm_role_definition" "ops" {
              name  = "quantum-ops"
              scope = data.azurerm_subscription.current.id
              permissions {
                actions     = ["*"]
                not_actions = []
              }
            }""", [("QG-IAC-009", 6, Severity.CRITICAL)]),
        ("""
            resource "azurerm_role_definition" "ops" {
              permissions {
                actions     = ["*"]
                not_actions = ["Microsoft.Authorization/*/Write"]
              }
            }""", [("QG-IAC-009", 4, Severity.HIGH)]),
        ("""
            resource "azurerm_role_definition" "reader" {
              permissions {
                actions      = ["Microsoft.Quantum/workspaces/read"]
                data_actions = ["*"]
              }
            }""", [("QG-IAC-009", 5, Severity.HIGH)]),
        ("""
            resource "azurerm_role_definition" "reader" {
              permissions {
                actions = ["Microsoft.Quantum/workspaces/read", "Microsoft.Quantum/workspaces/jobs/read"]
              }
            }""", []),
    ],
)
def test_resources_open_to_everyone(
    tmp_path: Path, text: str, expected: list[tuple[str, int, Severity]]
) -> None:
    write_module(tmp_path, {"main.tf": text})
    found = [f for f in scan_module(tmp_path) if f.rule_id in {"QG-IAC-003", "QG-IAC-009"}]
    assert sorted((f.rule_id, f.line, f.severity) for f in found) == expected


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", [("QG-IAC-003", 2, Severity.MEDIUM)]),  # azurerm 3+: public unless set false
        ("allow_nested_items_to_be_public = false", []),
        ("allow_nested_items_to_be_public = var.public", []),  # computed: no claim
        ("allow_blob_public_access = false", []),  # the older attribute, default false
        ("allow_nested_items_to_be_public = true", [("QG-IAC-003", 3, Severity.HIGH)]),
    ],
)
def test_azure_storage_public_unless_set(
    tmp_path: Path, setting: str, expected: list[tuple[str, int, Severity]]
) -> None:
    write_module(tmp_path, {"main.tf": f"""
        resource "azurerm_storage_account" "s" {{
          {setting}
          name = "s"
        }}
    """})
    found = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-003"]
    assert sorted((f.rule_id, f.line, f.severity) for f in found) == expected
    assert all("public" in f.message for f in found)


# --- literal secrets in provider blocks, modules and map values (QG-IAC-021) ------------------

SECRET = "Qj0bs-Pr0d-" + "x7Kp2"


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (f"""
            provider "aws" {{
              region     = "eu-west-1"
              access_key = "AKIA{'Q' * 16}"
              secret_key = "{SECRET}"
            }}""", [4, 5]),
        (f"""
            resource "aws_lambda_function" "submit" {{
              function_name = "submit"
              environment {{
                variables = {{
                  QISKIT_CHANNEL = "ibm_quantum_platform"
                  DB_PASSWORD    = "{SECRET}"
                  IONQ_API_KEY   = "{SECRET}2"
                }}
              }}
            }}""", [7, 8]),
        (f"""
            module "db" {{
              source   = "./db"
              password = "{SECRET}"
            }}""", [4]),
        (f"""
            resource "helm_release" "runner" {{
              values = [{{ api = {{ token = "{SECRET}" }} }}]
            }}""", [3]),
        ("""
            resource "aws_lambda_function" "submit" {
              environment {
                variables = {
                  DB_PASSWORD = var.db_password
                  DB_PASSWORD_FILE = "/run/secrets/db"
                  TOKEN_TTL = "3600s"
                  OAUTH_TOKEN_ENDPOINT = "https://login.example.com/oauth2/token"
                  DB_CREDENTIALS = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db"
                }
              }
              tags = { "token-owner" = "quantum-platform" }
            }""", []),
    ],
)
def test_literal_secrets_in_providers_modules_and_maps(
    tmp_path: Path, text: str, lines: list[int]
) -> None:
    write_module(tmp_path, {"main.tf": text})
    found = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-021"]
    assert sorted(f.line for f in found) == lines
    assert all(SECRET not in f.message + (f.evidence or "") for f in found)


# --- Azure storage: versioning and logging for every account (QG-IAC-005, QG-IAC-006) ---------


@pytest.mark.parametrize(
    ("body", "extra", "expected"),
    [
        # nothing declared: neither versioning nor logging, as for an S3 bucket
        ("", "", [("QG-IAC-005", 2, Severity.LOW), ("QG-IAC-006", 2, Severity.LOW)]),
        ("""
          blob_properties {
            versioning_enabled = false
          }""", "", [("QG-IAC-005", 5, Severity.LOW), ("QG-IAC-006", 2, Severity.LOW)]),
        ("""
          blob_properties {
            versioning_enabled = true
          }
          queue_properties {
            logging {
              delete  = true
              read    = true
              write   = true
              version = "1.0"
            }
          }""", "", []),
        ("""
          blob_properties {
            versioning_enabled = true
          }""", """
        resource "azurerm_monitor_diagnostic_setting" "blobs" {
          name                       = "blobs"
          target_resource_id         = "${azurerm_storage_account.s.id}/blobServices/default"
          log_analytics_workspace_id = azurerm_log_analytics_workspace.ops.id
        }""", []),
        # an account that receives diagnostic logs is a log store itself
        ("""
          blob_properties {
            versioning_enabled = true
          }""", """
        resource "azurerm_monitor_diagnostic_setting" "vault" {
          name               = "vault"
          target_resource_id = azurerm_key_vault.v.id
          storage_account_id = azurerm_storage_account.s.id
        }""", []),
    ],
)
def test_azure_storage_versioning_and_logging_for_every_account(
    tmp_path: Path, body: str, extra: str, expected: list[tuple[str, int, Severity]]
) -> None:
    write_module(tmp_path, {"main.tf": f"""
        resource "azurerm_storage_account" "s" {{
          name = "s"{body}
        }}{extra}
    """})
    found = [f for f in scan_module(tmp_path) if f.rule_id in {"QG-IAC-005", "QG-IAC-006"}]
    assert sorted((f.rule_id, f.line, f.severity) for f in found) == expected


def test_azure_storage_with_job_data_raises_versioning_and_logging(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": """
        resource "azurerm_storage_account" "s" {
          name = "s"
          tags = { "qgov:tier" = "internal-pilot" }
        }
    """})
    found = {f.rule_id: f.severity for f in scan_module(tmp_path)}
    assert found["QG-IAC-005"] is Severity.MEDIUM and found["QG-IAC-006"] is Severity.MEDIUM


# --- tamper evidence of the audit trail (QG-IAC-022, QG-IAC-023) ------------------------------

TRAIL = """
resource "aws_cloudtrail" "main" {
  name                       = "quantum"
  s3_bucket_name             = aws_s3_bucket.audit.id
  enable_log_file_validation = true
}
"""
LOCKED_BUCKET = """resource "aws_s3_bucket" "audit" {
  bucket              = "qlab-audit"
  object_lock_enabled = true
}
resource "aws_s3_bucket_object_lock_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id
  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = 400
    }
  }
}
"""
AUDIT_RULES = {"QG-IAC-022", "QG-IAC-023"}
RETENTION_RULE = """  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = 400
    }
  }
"""


# The trail is on line 2, the bucket on line 7.
@pytest.mark.parametrize(
    ("trail", "bucket", "expected"),
    [
        (TRAIL, LOCKED_BUCKET, []),
        (TRAIL.replace("  enable_log_file_validation = true\n", ""), LOCKED_BUCKET,
         [("QG-IAC-022", 2, Severity.MEDIUM)]),
        (TRAIL.replace("= true", "= false"), LOCKED_BUCKET, [("QG-IAC-022", 5, Severity.MEDIUM)]),
        (TRAIL.replace("= true", "= var.validate"), LOCKED_BUCKET, []),
        # no object lock on the bucket the trail writes to
        (TRAIL, 'resource "aws_s3_bucket" "audit" {\n  bucket = "qlab-audit"\n}\n',
         [("QG-IAC-023", 7, Severity.MEDIUM)]),
        # object lock on, but no default retention: nothing locks what CloudTrail writes
        (TRAIL, LOCKED_BUCKET.replace(RETENTION_RULE, ""), [("QG-IAC-023", 7, Severity.LOW)]),
        # the older inline form, with a rule
        (TRAIL, 'resource "aws_s3_bucket" "audit" {\n  bucket = "qlab-audit"\n'
         '  object_lock_configuration {\n    object_lock_enabled = "Enabled"\n'
         + RETENTION_RULE + "  }\n}\n", []),
        # a trail writing to a bucket named by its literal name
        (TRAIL.replace("aws_s3_bucket.audit.id", '"qlab-audit"'),
         'resource "aws_s3_bucket" "audit" {\n  bucket = "qlab-audit"\n}\n',
         [("QG-IAC-023", 7, Severity.MEDIUM)]),
        # a bucket outside the module (an organisation trail bucket): nothing to say here
        (TRAIL.replace("aws_s3_bucket.audit.id", '"central-org-trail"'),
         'resource "aws_s3_bucket" "audit" {\n  bucket = "qlab-audit"\n}\n', []),
    ],
)
def test_audit_trail_tamper_evidence(
    tmp_path: Path, trail: str, bucket: str, expected: list[tuple[str, int, Severity]]
) -> None:
    write_module(tmp_path, {"main.tf": trail + bucket})
    found = [f for f in scan_module(tmp_path) if f.rule_id in AUDIT_RULES]
    assert sorted((f.rule_id, f.line, f.severity) for f in found) == expected


def test_audit_bucket_without_lock_names_the_trail(tmp_path: Path) -> None:
    write_module(tmp_path, {
        "main.tf": TRAIL + 'resource "aws_s3_bucket" "audit" {\n  bucket = "qlab-audit"\n}\n'})
    [finding] = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-023"]
    assert "aws_cloudtrail.main" in finding.message and "object lock" in finding.message


# --- open egress (QG-IAC-024) -----------------------------------------------------------------

EGRESS_ALL = """
resource "aws_security_group" "runner" {
  name = "runner"
  egress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
}
"""
BRAKET_BUCKET = 'resource "aws_s3_bucket" "results" {\n  bucket = "amazon-braket-lab-results"\n}\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # one finding per group, on the first open destination
        (EGRESS_ALL, [(8, Severity.INFO)]),
        (EGRESS_ALL + BRAKET_BUCKET, [(8, Severity.MEDIUM)]),  # a module running Braket work
        (EGRESS_ALL.replace('"-1"', '"tcp"').replace("to_port          = 0",
                                                      "to_port          = 65535"),
         [(8, Severity.INFO)]),
        (EGRESS_ALL.replace('"-1"', '"tcp"').replace("from_port        = 0",
                                                      "from_port        = 443").replace(
            "to_port          = 0", "to_port          = 443") + BRAKET_BUCKET, []),
        (EGRESS_ALL.replace('["0.0.0.0/0"]', '["10.0.0.0/8"]').replace('["::/0"]', "[]"), []),
        # no egress block: Terraform removes AWS's default rule, so nothing goes out
        ('resource "aws_security_group" "closed" {\n  name = "closed"\n}\n' + BRAKET_BUCKET, []),
        ("""
            resource "aws_vpc_security_group_egress_rule" "all" {
              security_group_id = aws_security_group.runner.id
              ip_protocol       = "-1"
              cidr_ipv4         = "0.0.0.0/0"
            }
            resource "aws_security_group_rule" "all6" {
              type              = "egress"
              security_group_id = aws_security_group.runner.id
              protocol          = "-1"
              from_port         = 0
              to_port           = 0
              ipv6_cidr_blocks  = ["::/0"]
            }
            resource "azapi_resource" "ws" {
              type = "Microsoft.Quantum/workspaces@2023-11-13-preview"
              body = jsonencode({ properties = { apiKeyEnabled = false } })
            }""", [(5, Severity.MEDIUM)]),  # one group, two rules: one finding
    ],
)
def test_open_egress(tmp_path: Path, text: str, expected: list[tuple[int, Severity]]) -> None:
    write_module(tmp_path, {"main.tf": text})
    found = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-024"]
    assert sorted((f.line, f.severity) for f in found) == expected


def test_open_egress_names_the_quantum_workload(tmp_path: Path) -> None:
    write_module(tmp_path, {"main.tf": EGRESS_ALL + BRAKET_BUCKET})
    [finding] = [f for f in scan_module(tmp_path) if f.rule_id == "QG-IAC-024"]
    assert "aws_s3_bucket.results" in finding.message and "0.0.0.0/0" in finding.message


# --- SageMaker / Braket notebook instances (QG-IAC-016, QG-IAC-025) ---------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("", [("QG-IAC-016", 2), ("QG-IAC-025", 2)]),  # both default to Enabled
        ('root_access = "Enabled"\n  direct_internet_access = "Disabled"',
         [("QG-IAC-025", 4)]),
        ('root_access = "Disabled"\n  direct_internet_access = "Enabled"',
         [("QG-IAC-016", 5)]),
        ('root_access = "Disabled"\n  direct_internet_access = "Disabled"', []),
        ("root_access = var.root\n  direct_internet_access = var.internet", []),  # computed
    ],
)
def test_notebook_root_and_internet_access(
    tmp_path: Path, settings: str, expected: list[Located]
) -> None:
    write_module(tmp_path, {"main.tf": (
        '\nresource "aws_sagemaker_notebook_instance" "braket" {\n'
        '  name = "amazon-braket-lab"\n'
        f"  {settings}\n"
        "}\n"
    )})
    found = [f for f in scan_module(tmp_path) if f.rule_id in {"QG-IAC-016", "QG-IAC-025"}]
    assert located(found) == expected
