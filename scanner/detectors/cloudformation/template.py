"""The CloudFormation template model every check reads, and how a finding is located.

``Template`` holds a template's resources by logical id (only those with a ``Type``), looks
them up by type (``of``), locates a logical id and property path (``at``, ``statements``,
``parameter_line``), and answers what several concerns ask: every identity policy document
(``policy_documents``) and the first sign that the template runs Amazon Braket workloads
(``braket_marker``). Resources without a tier tag take the scan's configured tier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import Statement, expression_text
from scanner.detectors.iac_common import BRAKET_BUCKET_PREFIX, Located
from scanner.formats.cloudformation import Locator, properties
from scanner.formats.yaml import LineDict
from scanner.model import Tier
from scanner.source import SourceFile


class Template:
    """One template's resources by logical id, looked up by type, and located: a logical id
    and a property path give the line a finding points at (exact in YAML, searched in JSON)."""

    def __init__(
        self, source: SourceFile, template: dict[str, Any], tier: Tier | None = None
    ) -> None:
        self.locate = Locator(source, template)
        #: The scan's tier: the requirements of resources that carry no tier tag.
        self.configured_tier = tier
        resources = template.get("Resources")
        self.resources: dict[str, dict[str, Any]] = {}
        if isinstance(resources, dict):
            for logical_id, body in resources.items():
                if isinstance(body, dict) and isinstance(body.get("Type"), str):
                    self.resources[str(logical_id)] = body

    def of(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (logical_id, properties(body))
            for logical_id, body in self.resources.items()
            if body.get("Type") == resource_type
        ]

    def at(self, logical_id: str, *path: str | int) -> Located:
        return Located("", self.locate.line(logical_id, *path))

    def statements(self, document: Any, logical_id: str, *path: str | int) -> list[Statement]:
        return policy.statements_from_document(document, self.locate.line(logical_id, *path))

    def parameter_line(self, name: str) -> int:
        parameters = self.locate.template.get("Parameters")
        if isinstance(parameters, LineDict):
            body = parameters.get(name)
            if isinstance(body, LineDict) and "Default" in body:
                return body.line_of("Default")
            return parameters.line_of(name)
        match = re.search(r'"' + re.escape(name) + r'"\s*:', self.locate.document.text)
        return self.locate.document.line_of(match.start()) if match else 1

    def policy_documents(self) -> Iterator[tuple[str, str, Any, tuple[str | int, ...]]]:
        """(logical id, type, document, path) for every identity policy in the template."""
        for resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for logical_id, props in self.of(resource_type):
                yield logical_id, resource_type, props.get("PolicyDocument"), (
                    "Properties", "PolicyDocument")
        for resource_type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            for logical_id, props in self.of(resource_type):
                inline = props.get("Policies")
                for index, entry in enumerate(inline if isinstance(inline, list) else []):
                    for item in policy.branches(entry):
                        if isinstance(item, dict):
                            yield logical_id, resource_type, item.get("PolicyDocument"), (
                                "Properties", "Policies", index, "PolicyDocument")

    def braket_marker(self) -> tuple[int, str] | None:
        """The first sign (line, what) that the template runs Amazon Braket workloads: a
        Braket result bucket, a role Braket may assume, or a policy granting braket:*."""
        markers: list[tuple[int, str]] = []
        for logical_id, props in self.of("AWS::S3::Bucket"):
            if expression_text(props.get("BucketName", "")).lower().startswith(
                BRAKET_BUCKET_PREFIX
            ):
                markers.append((self.locate.line(logical_id), f"Braket result bucket {logical_id}"))
        for logical_id, props in self.of("AWS::IAM::Role"):
            trust = policy.statements_from_document(props.get("AssumeRolePolicyDocument"), 0)
            if "braket.amazonaws.com" in policy.trusted_services(trust):
                markers.append((self.locate.line(logical_id), f"Braket job role {logical_id}"))
        for logical_id, _type, document, _path in self.policy_documents():
            statements = policy.statements_from_document(document, 0)
            if any(a.startswith("braket:") for s in statements for a in s.actions):
                markers.append(
                    (self.locate.line(logical_id), f"Braket permissions in {logical_id}")
                )
        return min(markers) if markers else None
