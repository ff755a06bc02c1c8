"""Data stores beyond buckets: databases (RDS, Aurora, Neptune, DocumentDB, Azure SQL,
PostgreSQL, MySQL and MariaDB), search domains (OpenSearch/Elasticsearch) and block volumes
(EBS, Azure managed disks): encryption at rest off (QG-IAC-001), Azure database servers
reachable from the internet (QG-IAC-016) and accepting plain-text or old-TLS connections
(QG-IAC-017). Public RDS instances are checked with the other endpoints in ``network``.

Unlike S3, Azure Storage and IBM COS, these services store data unencrypted when the
configuration does not ask for encryption, so an unset flag is read with the provider's
default: ``storage_encrypted`` and EBS ``encrypted`` default to false, a search domain without
an ``encrypt_at_rest`` block is unencrypted. A store restored from a snapshot or replicating
another inherits its source's encryption, and a value Terraform computes is not knowable
here: neither is claimed. Azure database servers have a public endpoint unless
``public_network_access_enabled = false`` (flexible servers: unless placed in a subnet); what
stands between it and the internet is then the server's firewall rules. Rule metadata:
``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.detectors.iac_common import iac_issue, truthy
from scanner.detectors.terraform.module import Module, at, falsy, unknown
from scanner.formats.hcl import Block, text_of
from scanner.model import Issue, Severity

# Database clusters and instances: (type, what it is, attributes that make it inherit its
# encryption from a source, attribute naming a KMS key).
_DATABASES = (
    ("aws_db_instance", "RDS database",
     ("replicate_source_db", "snapshot_identifier", "restore_to_point_in_time"), "kms_key_id"),
    ("aws_rds_cluster", "Aurora/RDS cluster",
     ("snapshot_identifier", "replication_source_identifier", "global_cluster_identifier",
      "restore_to_point_in_time", "s3_import"), "kms_key_id"),
    ("aws_neptune_cluster", "Neptune cluster",
     ("snapshot_identifier", "replication_source_identifier", "global_cluster_identifier"),
     "kms_key_arn"),
    ("aws_docdb_cluster", "DocumentDB cluster",
     ("snapshot_identifier", "global_cluster_identifier", "restore_to_point_in_time"),
     "kms_key_id"),
)
_SEARCH_DOMAINS = ("aws_opensearch_domain", "aws_elasticsearch_domain")

# Azure database servers: type -> (what it is, its firewall rule resource, whether it is a
# flexible server, which is private when placed in a subnet).
_AZURE_SERVERS = {
    "azurerm_mssql_server": ("Azure SQL server", "azurerm_mssql_firewall_rule", False),
    "azurerm_postgresql_server": ("Azure Database for PostgreSQL server",
                                  "azurerm_postgresql_firewall_rule", False),
    "azurerm_mysql_server": ("Azure Database for MySQL server", "azurerm_mysql_firewall_rule",
                             False),
    "azurerm_mariadb_server": ("Azure Database for MariaDB server",
                               "azurerm_mariadb_firewall_rule", False),
    "azurerm_postgresql_flexible_server": (
        "Azure Database for PostgreSQL flexible server",
        "azurerm_postgresql_flexible_server_firewall_rule", True),
    "azurerm_mysql_flexible_server": ("Azure Database for MySQL flexible server",
                                      "azurerm_mysql_flexible_server_firewall_rule", True),
}
# Server parameters of flexible servers, where TLS is required or not.
_FLEXIBLE_CONFIGURATIONS = ("azurerm_postgresql_flexible_server_configuration",
                            "azurerm_mysql_flexible_server_configuration")
_OLD_TLS = frozenset({"1.0", "1.1", "tls1_0", "tls1_1", "disabled", "tlsenforcementdisabled"})


def issues(m: Module) -> Iterator[Issue]:
    yield from _databases(m)
    yield from _ebs_volumes(m)
    yield from _search_domains(m)
    yield from _managed_disks(m)
    yield from _azure_databases(m)


def _severity(m: Module, block: Block) -> Severity | None:
    """High where the tier is regulated (tag, else the configured tier)."""
    tier = m.required_tier(block)
    return Severity.HIGH if tier is not None and tier.regulated else None


def _inherits(block: Block, attributes: tuple[str, ...]) -> bool:
    return any(block.get(a) is not None or block.children(a) for a in attributes)


def _databases(m: Module) -> Iterator[Issue]:
    for resource_type, what, inherit, key_attribute in _DATABASES:
        for database in m.of(resource_type):
            encrypted = database.get("storage_encrypted")
            if truthy(encrypted) or unknown(encrypted):
                continue
            if encrypted is None:
                if _inherits(database, inherit) or database.get(key_attribute) is not None:
                    continue  # encryption comes from the source, or a key implies it
                engine = text_of(database.get("engine", "")).lower()
                if resource_type == "aws_db_instance" and engine.startswith("aurora"):
                    continue  # an Aurora instance: its cluster decides
                if resource_type == "aws_rds_cluster" and text_of(
                    database.get("engine_mode", "")
                ).lower() == "serverless":
                    continue  # Aurora Serverless v1 is always encrypted
                state = "is not set (default false)"
            elif falsy(encrypted):
                state = "is false"
            else:
                continue
            yield iac_issue(
                "QG-IAC-001", at(database, "storage_encrypted"),
                f"{what} {database.address}: storage_encrypted {state}, so its storage, "
                "automated backups, snapshots and replicas are kept unencrypted",
                f"{database.address}:no-encryption", _severity(m, database),
            )


def _ebs_volumes(m: Module) -> Iterator[Issue]:
    account_default = any(
        not falsy(block.get("enabled")) for block in m.of("aws_ebs_encryption_by_default")
    )
    for volume in m.of("aws_ebs_volume"):
        encrypted = volume.get("encrypted")
        if truthy(encrypted) or unknown(encrypted):
            continue
        if encrypted is None:
            if account_default or volume.get("snapshot_id") is not None or volume.get(
                "kms_key_id"
            ) is not None:
                continue
            state = ("is not set (default false; nothing in this module turns on EBS "
                     "encryption by default)")
        elif falsy(encrypted):
            state = "is false"
        else:
            continue
        yield iac_issue(
            "QG-IAC-001", at(volume, "encrypted"),
            f"EBS volume {volume.address}: encrypted {state}, so the volume and its snapshots "
            "are kept unencrypted",
            f"{volume.address}:no-encryption", _severity(m, volume),
        )


def _search_domains(m: Module) -> Iterator[Issue]:
    for resource_type in _SEARCH_DOMAINS:
        for domain in m.of(resource_type):
            blocks = domain.children("encrypt_at_rest")
            if not blocks:
                place = at(domain)
                state = "has no encrypt_at_rest block (encryption at rest is off by default)"
            else:
                if not falsy(blocks[0].get("enabled")):
                    continue
                place = at(blocks[0], "enabled")
                state = "sets encrypt_at_rest enabled = false"
            yield iac_issue(
                "QG-IAC-001", place,
                f"Search domain {domain.address} {state}, so its indices, logs and automated "
                "snapshots are kept unencrypted",
                f"{domain.address}:no-encryption", _severity(m, domain),
            )


def _managed_disks(m: Module) -> Iterator[Issue]:
    for disk in m.of("azurerm_managed_disk"):
        for settings in disk.children("encryption_settings"):
            if falsy(settings.get("enabled")):
                yield iac_issue(
                    "QG-IAC-001", at(settings, "enabled"),
                    f"Azure managed disk {disk.address} turns disk encryption off "
                    "(encryption_settings enabled = false); only the platform's default "
                    "encryption with Microsoft-managed keys remains",
                    f"{disk.address}:no-encryption", Severity.LOW,
                )


# --- Azure database servers ----------------------------------------------------------------------


def _server_companions(m: Module, resource_type: str, server: Block) -> list[Block]:
    """Companion resources (firewall rules, parameters) of a server, by id or by name."""
    found = m.linked(resource_type, "server_id", server)
    found += [b for b in m.linked(resource_type, "server_name", server) if b not in found]
    return found


def _open_to_all(rule: Block) -> bool:
    start, end = text_of(rule.get("start_ip_address", "")), text_of(rule.get("end_ip_address", ""))
    return start == "0.0.0.0" and end == "255.255.255.255"


def _azure_databases(m: Module) -> Iterator[Issue]:
    for resource_type, (what, firewall_type, flexible) in _AZURE_SERVERS.items():
        for server in m.of(resource_type):
            yield from _azure_public(m, server, what, firewall_type, flexible)
            yield from _azure_transport(m, server, what)


def _azure_public(
    m: Module, server: Block, what: str, firewall_type: str, flexible: bool
) -> Iterator[Issue]:
    public = server.get("public_network_access_enabled")
    if falsy(public) or unknown(public):
        return
    if public is None and flexible and server.get("delegated_subnet_id") is not None:
        return  # placed in a virtual network: no public endpoint
    if public is not None and not truthy(public):
        return
    open_rules = [r for r in _server_companions(m, firewall_type, server) if _open_to_all(r)]
    if open_rules:
        reach = (f"and {open_rules[0].address} allows every address "
                 "(0.0.0.0-255.255.255.255)")
        severity = Severity.HIGH
    elif public is None:
        reach = "(default true), guarded only by its firewall rules"
        severity = Severity.LOW
    else:
        reach = "so its firewall rules are all that keeps the internet out"
        severity = Severity.HIGH
    state = "is true" if public is not None else "is not set"
    yield iac_issue(
        "QG-IAC-016", at(server, "public_network_access_enabled"),
        f"{what} {server.address}: public_network_access_enabled {state} {reach}; reach it "
        "through a private endpoint or virtual network integration",
        f"{server.address}:public-db", severity,
    )


def _azure_transport(m: Module, server: Block, what: str) -> Iterator[Issue]:
    enforced = server.get("ssl_enforcement_enabled")
    legacy = server.get("ssl_enforcement")  # azurerm 1.x/2.x: "Enabled" / "Disabled"
    if falsy(enforced) or text_of(legacy or "").lower() == "disabled":
        attribute = "ssl_enforcement_enabled" if enforced is not None else "ssl_enforcement"
        yield iac_issue(
            "QG-IAC-017", at(server, attribute),
            f"{what} {server.address} does not require TLS ({attribute} off), so clients "
            "may connect in plain text and credentials and query results cross the network "
            "unencrypted",
            f"{server.address}:plain-text",
        )
        return
    for attribute in ("ssl_minimal_tls_version_enforced", "minimum_tls_version"):
        version = server.get(attribute)
        if isinstance(version, str) and version.strip().lower() in _OLD_TLS:
            yield iac_issue(
                "QG-IAC-017", at(server, attribute),
                f"{what} {server.address} accepts connections below TLS 1.2 ({attribute} = "
                f"\"{version}\"); require TLS 1.2",
                f"{server.address}:tls:{version}",
            )
    for resource_type in _FLEXIBLE_CONFIGURATIONS:
        for parameter in _server_companions(m, resource_type, server):
            if text_of(parameter.get("name", "")).lower() == "require_secure_transport" and (
                text_of(parameter.get("value", "")).lower() in {"off", "0", "false"}
            ):
                yield iac_issue(
                    "QG-IAC-017", at(parameter, "value"),
                    f"{what} {server.address}: {parameter.address} turns "
                    "require_secure_transport off, so clients may connect in plain text",
                    f"{server.address}:plain-text",
                )
