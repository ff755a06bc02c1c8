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
