"""Network exposure: security-group ingress from anywhere, allow-all egress, and public
endpoints (SageMaker notebooks' internet access and root access, EKS API endpoints, public
databases)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import expression_text
from scanner.detectors.cloudformation.template import Template
from scanner.detectors.iac_common import Located, as_int, iac_issue, truthy
from scanner.formats.cloudformation import ref
from scanner.model import Issue, Severity

_OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
_ADMIN_PORTS = frozenset({22, 23, 3389, 5432, 3306, 1433, 6379, 27017, 9200, 5601, 8888, 2375,
                          2376, 6443, 10250})


def issues(t: Template) -> Iterator[Issue]:
    yield from _ingress(t)
    yield from _egress(t)
    yield from _endpoints(t)


def _ingress(t: Template) -> Iterator[Issue]:
    for logical_id, props in t.of("AWS::EC2::SecurityGroup"):
        rules = props.get("SecurityGroupIngress")
        for index, entry in enumerate(rules if isinstance(rules, list) else []):
            for rule in policy.branches(entry):
                if isinstance(rule, dict):
                    yield from _rule(t, logical_id, rule,
                                     ("Properties", "SecurityGroupIngress", index))
    for logical_id, props in t.of("AWS::EC2::SecurityGroupIngress"):
        yield from _rule(t, logical_id, props, ("Properties",))


def _rule(
    t: Template, logical_id: str, rule: dict[str, Any], path: tuple[str | int, ...]
) -> Iterator[Issue]:
    sources = [
        (key, rule.get(key)) for key in ("CidrIp", "CidrIpv6")
        if isinstance(rule.get(key), str) and rule.get(key) in _OPEN_CIDRS
    ]
    if not sources:
        return
    key, source = sources[0]
    protocol = str(rule.get("IpProtocol", "tcp")).lower()
    low, high = as_int(rule.get("FromPort")), as_int(rule.get("ToPort"))
    if protocol in {"-1", "all"} or low is None or high is None or low < 0:
        low, high = 0, 65535
    everything = low <= 1 and high >= 65535
    admin = any(low <= port <= high for port in _ADMIN_PORTS)
    web_only = low == high and low in {80, 443}
    ports = f"{low}" if low == high else f"{low}-{high}"
    yield iac_issue(
        "QG-IAC-015", t.at(logical_id, *path, key),
        f"Security group {logical_id} allows inbound traffic from {source} to port(s) {ports}",
        f"{logical_id}:ingress:{source}:{ports}",
        Severity.MEDIUM if web_only and not (everything or admin) else None,
        evidence=f"{source} -> {ports}",
    )


def _egress(t: Template) -> Iterator[Issue]:
    """Allow-all egress (0.0.0.0/0 or ::/0, every protocol), once per security group. A
    group without SecurityGroupEgress gets AWS's default allow-all rule (separate
    AWS::EC2::SecurityGroupEgress resources do not remove it). Medium in a template that
    defines Amazon Braket resources, info elsewhere (see the Terraform ``network``)."""
    marker = t.braket_marker()
    context = marker[1] if marker else None
    found: dict[str, tuple[Located, str, str]] = {}
    for logical_id, props in t.of("AWS::EC2::SecurityGroup"):
        rules = props.get("SecurityGroupEgress")
        if rules is None:
            found[logical_id] = (t.at(logical_id), "0.0.0.0/0",
                                 "declares no SecurityGroupEgress, so AWS's default rule ")
            continue
        for index, entry in enumerate(rules if isinstance(rules, list) else []):
            for rule in policy.branches(entry):
                key = _open_egress(rule)
                if key is not None and logical_id not in found:
                    found[logical_id] = (
                        t.at(logical_id, "Properties", "SecurityGroupEgress", index, key),
                        str(rule[key]), "")
    for logical_id, props in t.of("AWS::EC2::SecurityGroupEgress"):
        key = _open_egress(props)
        group = ref(props.get("GroupId")) or logical_id
        if key is not None and group not in found:
            found[group] = (t.at(logical_id, "Properties", key), str(props[key]), "")
    for group, (place, destination, default) in found.items():
        if context is not None:
            why = (f"this template runs quantum workloads ({context}), so a compromised job, "
                   "notebook or dependency could send job data or credentials anywhere")
        else:
            why = "nothing in this template says it handles quantum job data"
        yield iac_issue(
            "QG-IAC-024", place,
            f"Security group {group} {default}allows all outbound traffic to "
            f"{destination}; {why}",
            f"{group}:egress-all", Severity.MEDIUM if context is not None else Severity.INFO,
            evidence=f"egress {destination} all ports",
        )


def _open_egress(rule: Any) -> str | None:
    """The key (CidrIp / CidrIpv6) of an egress rule open to everywhere on every port."""
    if not isinstance(rule, dict):
        return None
    key = next((k for k in ("CidrIp", "CidrIpv6") if rule.get(k) in _OPEN_CIDRS), None)
    if key is None:
        return None
    protocol = str(rule.get("IpProtocol", "tcp")).lower()
    low, high = as_int(rule.get("FromPort")), as_int(rule.get("ToPort"))
    every_port = low is not None and high is not None and low <= 1 and high >= 65535
    return key if protocol in {"-1", "all"} or every_port else None


def _endpoints(t: Template) -> Iterator[Issue]:
    for logical_id, props in t.of("AWS::SageMaker::NotebookInstance"):
        # Both default to Enabled; a value chosen by a condition or parameter is no claim.
        access = props.get("DirectInternetAccess")
        if expression_text(access) != "Disabled" and not policy.is_intrinsic(access):
            state = f"is {access}" if access is not None else "is not set (default Enabled)"
            yield iac_issue(
                "QG-IAC-016", t.at(logical_id, "Properties", "DirectInternetAccess"),
                f"Notebook instance {logical_id}: DirectInternetAccess {state}; notebooks "
                "(including Braket notebooks) should reach AWS through VPC endpoints",
                f"{logical_id}:direct-internet",
            )
        root = props.get("RootAccess")
        if expression_text(root) != "Disabled" and not policy.is_intrinsic(root):
            state = f"is {root}" if root is not None else "is not set (default Enabled)"
            place = t.at(logical_id, "Properties", "RootAccess") if root is not None else (
                t.at(logical_id))
            yield iac_issue(
                "QG-IAC-025", place,
                f"Notebook instance {logical_id}: RootAccess {state}, so anyone using the "
                "notebook can become root, change its environment and reach everything its "
                "role and network can",
                f"{logical_id}:root-access",
            )
    for logical_id, props in t.of("AWS::EKS::Cluster"):
        config = props.get("ResourcesVpcConfig")
        if not isinstance(config, dict) or policy.is_intrinsic(config):
            continue
        public = config.get("EndpointPublicAccess")
        cidrs = config.get("PublicAccessCidrs")
        if public is not None and not truthy(public):
            continue  # false, or decided by a condition: no claim
        if cidrs is not None and (not isinstance(cidrs, list) or not (
            set(policy.strings(cidrs)) & _OPEN_CIDRS
        )):
            continue
        state = "is true" if public is not None else "is not set (default true)"
        limit = ("PublicAccessCidrs is not set (default 0.0.0.0/0)" if cidrs is None
                 else "PublicAccessCidrs includes 0.0.0.0/0")
        key = "PublicAccessCidrs" if cidrs is not None else "EndpointPublicAccess"
        yield iac_issue(
            "QG-IAC-016", t.at(logical_id, "Properties", "ResourcesVpcConfig", key),
            f"EKS cluster {logical_id}: the API endpoint is open to the internet "
            f"(EndpointPublicAccess {state}, {limit}); turn the public endpoint off or "
            "limit it to known ranges",
            f"{logical_id}:public-api",
        )
    for logical_id, props in t.of("AWS::RDS::DBInstance"):
        if truthy(props.get("PubliclyAccessible")):
            yield iac_issue(
                "QG-IAC-016", t.at(logical_id, "Properties", "PubliclyAccessible"),
                f"Database {logical_id} is PubliclyAccessible",
                f"{logical_id}:public-db", Severity.HIGH,
            )
