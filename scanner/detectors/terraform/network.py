"""Network exposure: ingress open to the internet (AWS, Azure and IBM security rules), egress
open to the internet (medium from modules that run quantum workloads), public endpoints
(public RDS databases, EKS and AKS API servers open to the internet) and Azure Quantum
workspaces that accept access keys. SageMaker notebooks' direct internet access is checked
in ``notebooks``.
Storage accounts' network settings are checked with the account in ``storage``, Azure
database servers' in ``data_stores``. Rule metadata: ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from scanner.detectors.iac_common import Located, as_int, iac_issue, truthy
from scanner.detectors.terraform.logging import braket_markers
from scanner.detectors.terraform.module import Module, as_list, at, falsy, nested, unknown
from scanner.formats.hcl import Block, references, text_of
from scanner.model import Issue, Severity

_OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
_OPEN_AZURE_PREFIXES = frozenset({"*", "0.0.0.0/0", "0.0.0.0", "internet", "any", "::/0"})
_ADMIN_PORTS = frozenset({22, 23, 3389, 5432, 3306, 1433, 6379, 27017, 9200, 5601, 8888, 2375,
                          2376, 6443, 10250})


def issues(m: Module) -> Iterator[Issue]:
    yield from _ingress(m)
    yield from _egress(m)
    yield from _public_endpoints(m)
    yield from _cluster_endpoints(m)
    yield from _quantum_workspaces(m)


# --- ingress -------------------------------------------------------------------------------------


def _ingress(m: Module) -> Iterator[Issue]:
    aws_rules: list[tuple[str, Block]] = [
        (group.address, rule)
        for group in m.of("aws_security_group") for rule in nested(group, "ingress")
    ]
    aws_rules.extend(
        (rule.address, rule) for rule in m.of("aws_security_group_rule")
        if text_of(rule.get("type", "")) == "ingress"
    )
    for address, rule in aws_rules:
        yield from _aws_rule(address, rule, rule.get("cidr_blocks"), rule.get("ipv6_cidr_blocks"))
    for rule in m.of("aws_vpc_security_group_ingress_rule"):
        yield from _aws_rule(rule.address, rule, rule.get("cidr_ipv4"), rule.get("cidr_ipv6"),
                             protocol_key="ip_protocol")
    yield from _azure_rules(m)
    yield from _ibm_rules(m)


def _aws_rule(
    address: str, rule: Block, ipv4: Any, ipv6: Any, protocol_key: str = "protocol"
) -> Iterator[Issue]:
    open_sources = [c for c in [*as_list(ipv4), *as_list(ipv6)]
                    if isinstance(c, str) and c in _OPEN_CIDRS]
    if not open_sources:
        return
    protocol = text_of(rule.get(protocol_key, "tcp")).lower()
    low, high = as_int(rule.get("from_port")), as_int(rule.get("to_port"))
    if protocol in {"-1", "all"}:
        spans = [(0, 65535)]
    elif low is not None and high is not None:
        spans = [(low, high)]
    else:
        spans = [(0, 65535)]  # unknown (a variable): assume the worst, say which
    attribute = "cidr_blocks" if "cidr_blocks" in rule.attributes else (
        "ipv6_cidr_blocks" if "ipv6_cidr_blocks" in rule.attributes else
        ("cidr_ipv4" if "cidr_ipv4" in rule.attributes else "cidr_ipv6")
    )
    yield _open_issue(address, rule, attribute, spans, ", ".join(open_sources))


def _azure_rules(m: Module) -> Iterator[Issue]:
    rules: list[tuple[str, Block]] = [
        (r.address, r) for r in m.of("azurerm_network_security_rule")
    ]
    for group in m.of("azurerm_network_security_group"):
        rules.extend((group.address, r) for r in nested(group, "security_rule"))
    for address, rule in rules:
        if text_of(rule.get("direction", "")).lower() != "inbound" or (
            text_of(rule.get("access", "")).lower() != "allow"
        ):
            continue
        prefixes = _texts(rule, "source_address_prefix", "source_address_prefixes")
        open_prefix = next((p for p in prefixes if p.lower() in _OPEN_AZURE_PREFIXES), None)
        if open_prefix is not None:
            ports = _texts(rule, "destination_port_range", "destination_port_ranges")
            attribute = "source_address_prefix" if "source_address_prefix" in (
                rule.attributes) else "source_address_prefixes"
            yield _open_issue(address, rule, attribute, _port_spans(ports),
                              f"any source ({open_prefix})")


def _ibm_rules(m: Module) -> Iterator[Issue]:
    for rule in m.of("ibm_is_security_group_rule"):
        if text_of(rule.get("direction", "")) == "inbound" and text_of(
            rule.get("remote", "")
        ) in _OPEN_CIDRS:
            spans: list[tuple[int, int]] = []
            for proto in ("tcp", "udp"):
                for block in rule.children(proto):
                    low = block.get("port_min", 1)
                    high = block.get("port_max", 65535)
                    if isinstance(low, int) and isinstance(high, int):
                        spans.append((low, high))
            if not rule.children("tcp") and not rule.children("udp"):
                spans = [(0, 65535)]
            yield _open_issue(rule.address, rule, "remote", spans, str(rule.get("remote")))


def _texts(block: Block, *attributes: str) -> list[str]:
    """The values of attributes that take one value or a list of them, as text."""
    return [text_of(value) for attribute in attributes for value in as_list(block.get(attribute))]


def _open_issue(
    address: str, rule: Block, attribute: str, spans: list[tuple[int, int]], source: str,
) -> Issue:
    ports = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans) or "all ports"
    everything = any(a <= 1 and b >= 65535 for a, b in spans) or not spans
    admin = any(a <= port <= b for a, b in spans for port in _ADMIN_PORTS)
    web_only = spans and all(a == b and a in {80, 443} for a, b in spans)
    severity = Severity.MEDIUM if web_only and not (everything or admin) else None
    return iac_issue(
        "QG-IAC-015", at(rule, attribute),
        f"{address} allows inbound traffic from {source} to port(s) {ports}",
        f"{address}:ingress:{source}:{ports}", severity,
        evidence=f"{source} -> {ports}",
    )


def _port_spans(ports: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for port in ports:
        port = port.strip()
        if port in {"*", ""}:
            spans.append((0, 65535))
            continue
        low, _, high = port.partition("-")
        try:
            spans.append((int(low), int(high or low)))
        except ValueError:
            spans.append((0, 65535))
    return spans or [(0, 65535)]


# --- egress --------------------------------------------------------------------------------------


def job_data_context(m: Module) -> str | None:
    """Why this module is taken to handle quantum job data, if it is: it defines Amazon
    Braket resources (result buckets, job roles, braket:* permissions) or an Azure Quantum
    workspace. A security group of such a module is assumed to serve those workloads; the
    module is the unit a team writes for one workload, and nothing finer is knowable here."""
    markers = braket_markers(m)
    if markers:
        _line, what = min(markers.values())
        return what
    if m.quantum_workspaces:
        return f"Azure Quantum workspace {m.quantum_workspaces[0][0].address}"
    return None


def _egress(m: Module) -> Iterator[Issue]:
    """Allow-all egress (0.0.0.0/0 or ::/0 on every port and protocol), once per security
    group: medium where the module handles quantum job data (``job_data_context``), info
    elsewhere - allow-all egress is the AWS default and only matters where something worth
    taking lives."""
    rules: list[tuple[str, Block, Any, Any, str]] = [
        (group.address, rule, rule.get("cidr_blocks"), rule.get("ipv6_cidr_blocks"), "protocol")
        for group in m.of("aws_security_group") for rule in nested(group, "egress")
    ]
    rules.extend(
        (_group_of(rule), rule, rule.get("cidr_blocks"), rule.get("ipv6_cidr_blocks"), "protocol")
        for rule in m.of("aws_security_group_rule")
        if text_of(rule.get("type", "")) == "egress"
    )
    rules.extend(
        (_group_of(rule), rule, rule.get("cidr_ipv4"), rule.get("cidr_ipv6"), "ip_protocol")
        for rule in m.of("aws_vpc_security_group_egress_rule")
    )
    context = job_data_context(m)
    reported: set[str] = set()
    rules.sort(key=lambda item: (item[1].file, item[1].line))  # the first open rule per group
    for group, rule, ipv4, ipv6, protocol_key in rules:
        if group in reported:
            continue
        attribute, destination = _open_destination(rule, ipv4, ipv6)
        if attribute is None or not _all_ports(rule, protocol_key):
            continue
        reported.add(group)
        if context is not None:
            why = (f"this module runs quantum workloads ({context}), so a compromised job, "
                   "notebook or dependency could send job data or credentials anywhere")
        else:
            why = "nothing in this module says it handles quantum job data"
        yield iac_issue(
            "QG-IAC-024", at(rule, attribute),
            f"{group} allows all outbound traffic to {destination}; {why}",
            f"{group}:egress-all", Severity.MEDIUM if context is not None else Severity.INFO,
            evidence=f"egress {destination} all ports",
        )


def _group_of(rule: Block) -> str:
    """The security group a standalone rule belongs to (its address), else the rule's own."""
    groups = sorted(a for a in references(rule.get("security_group_id"))
                    if a.startswith("aws_security_group."))
    return groups[0] if groups else rule.address


def _open_destination(rule: Block, ipv4: Any, ipv6: Any) -> tuple[str | None, str]:
    for attribute, value in (("cidr_blocks", ipv4), ("cidr_ipv4", ipv4),
                             ("ipv6_cidr_blocks", ipv6), ("cidr_ipv6", ipv6)):
        if attribute not in rule.attributes:
            continue
        for cidr in as_list(value):
            if isinstance(cidr, str) and cidr in _OPEN_CIDRS:
                return attribute, cidr
    return None, ""


def _all_ports(rule: Block, protocol_key: str) -> bool:
    protocol = text_of(rule.get(protocol_key, "tcp")).lower()
    if protocol in {"-1", "all"}:
        return True
    low, high = as_int(rule.get("from_port")), as_int(rule.get("to_port"))
    return low is not None and high is not None and low <= 1 and high >= 65535


# --- endpoints -----------------------------------------------------------------------------------


def _public_endpoints(m: Module) -> Iterator[Issue]:
    for resource_type in ("aws_db_instance", "aws_rds_cluster_instance"):
        for database in m.of(resource_type):
            if truthy(database.get("publicly_accessible")):
                yield iac_issue(
                    "QG-IAC-016", at(database, "publicly_accessible"),
                    f"{database.address} is publicly_accessible",
                    f"{database.address}:public-db", Severity.HIGH,
                )


def _cluster_endpoints(m: Module) -> Iterator[Issue]:
    """Kubernetes API servers reachable from the whole internet: EKS with a public endpoint
    (the default) and no narrower public_access_cidrs than the default 0.0.0.0/0; AKS that is
    not a private cluster and names no authorized IP ranges."""
    for cluster in m.of("aws_eks_cluster"):
        for config in nested(cluster, "vpc_config"):
            public = config.get("endpoint_public_access")
            cidrs = config.get("public_access_cidrs")
            if falsy(public) or unknown(public) or unknown(cidrs):
                continue
            listed = [text_of(c) for c in as_list(cidrs)]
            if cidrs is not None and not (set(listed) & _OPEN_CIDRS):
                continue
            state = "is true" if public is not None else "is not set (default true)"
            limit = ("public_access_cidrs is not set (default 0.0.0.0/0)" if cidrs is None
                     else "public_access_cidrs includes 0.0.0.0/0")
            yield iac_issue(
                "QG-IAC-016", at(config, "public_access_cidrs" if cidrs is not None else (
                    "endpoint_public_access")),
                f"{cluster.address}: the EKS API endpoint is open to the internet "
                f"(endpoint_public_access {state}, {limit}); turn the public endpoint off or "
                "limit it to known ranges",
                f"{cluster.address}:public-api",
            )
    for cluster in m.of("azurerm_kubernetes_cluster"):
        private = cluster.get("private_cluster_enabled")
        if truthy(private) or unknown(private):
            continue
        ranges: list[Any] = as_list(cluster.get("api_server_authorized_ip_ranges"))
        place = at(cluster, "private_cluster_enabled")
        for profile in cluster.children("api_server_access_profile"):
            ranges += as_list(profile.get("authorized_ip_ranges"))
            place = at(profile)
        if any(unknown(r) for r in ranges):
            continue
        authorized = {text_of(r) for r in ranges}
        if authorized and not (authorized & _OPEN_CIDRS):
            continue
        why = "authorizes 0.0.0.0/0" if authorized else "names no authorized IP ranges"
        yield iac_issue(
            "QG-IAC-016", place,
            f"{cluster.address}: the AKS API server is public (not a private cluster) and "
            f"{why}; enable private_cluster_enabled or list the ranges allowed in "
            "api_server_access_profile.authorized_ip_ranges",
            f"{cluster.address}:public-api",
        )


def _quantum_workspaces(m: Module) -> Iterator[Issue]:
    for workspace, properties in m.quantum_workspaces:
        enabled = properties.get("apiKeyEnabled")
        if truthy(enabled):
            # Only an azapi body (an HclMap) knows its keys' lines.
            line = properties.line_of("apiKeyEnabled") if hasattr(properties, "line_of") else 0
            yield iac_issue(
                "QG-IAC-018", Located(workspace.file, line or workspace.line),
                f"Azure Quantum workspace {workspace.address} enables access keys "
                "(apiKeyEnabled = true); use Entra ID identities",
                f"{workspace.address}:api-keys",
            )
