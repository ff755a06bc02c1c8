"""Literal secrets in credential-named properties and parameter defaults (QG-IAC-021)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.cloudformation.template import Template
from scanner.detectors.iac_common import Located, iac_issue, literal_secret
from scanner.detectors.secret_names import secret_name
from scanner.masking import mask
from scanner.model import Issue


def issues(t: Template) -> Iterator[Issue]:
    """Credential-named properties (anywhere in a resource's properties, including
    ``Environment.Variables`` maps and ``Name``/``Value`` pairs) and parameter defaults
    holding a literal: the template keeps them in plain text in the repository and in
    CloudFormation, where anyone who can read the stack's template sees them. Dynamic
    references (``{{resolve:secretsmanager:…}}``) and intrinsics are not literals."""
    parameters = t.locate.template.get("Parameters")
    for name, body in parameters.items() if isinstance(parameters, dict) else []:
        if isinstance(body, dict) and _secret_key(str(name)) and _literal(body.get("Default")):
            yield _secret_issue(
                f"parameter {name}", t.parameter_line(str(name)), "Default",
                body["Default"],
            )
    for logical_id, body in t.resources.items():
        yield from _secret_values(t, logical_id, body.get("Properties"), ("Properties",))


def _secret_values(
    t: Template, logical_id: str, node: Any, path: tuple[str | int, ...]
) -> Iterator[Issue]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _secret_values(t, logical_id, item, (*path, index))
        return
    if not isinstance(node, dict) or policy.is_intrinsic(node):
        return
    pair_name = node.get("Name", node.get("name"))
    pair_key = "Value" if "Value" in node else "value"
    if isinstance(pair_name, str) and _secret_key(pair_name) and _literal(node.get(pair_key)):
        yield _secret_issue(
            f"{logical_id} {_dotted(path[1:])} {pair_name}",
            t.locate.line(logical_id, *path, pair_key), pair_name, node[pair_key],
        )
    for key, value in node.items():
        key = str(key)
        if _secret_key(key) and _literal(value):
            yield _secret_issue(
                f"{logical_id} {_dotted((*path[1:], key))}",
                t.locate.line(logical_id, *path, key), key, value,
            )
        elif not _NOT_SECRET_CONTAINER.search(key):
            yield from _secret_values(t, logical_id, value, (*path, key))


def _secret_issue(what: str, line: int, key: str, value: Any) -> Issue:
    masked = mask(str(value))
    return iac_issue(
        "QG-IAC-021", Located("", line),
        f"{what} holds a literal secret; it is stored in plain text in the repository and "
        "in the stack's template, which anyone allowed to read the stack can see",
        f"secret:{what}:{masked}", evidence=f"{key} = {masked}",
    )


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# Property names that mention a credential but hold something else.
_NOT_SECRET_PROPERTY = re.compile(r"_(template|characters|length|validity|units?)$", re.I)
# Maps whose keys name credentials but whose values are settings (Cognito token validity).
_NOT_SECRET_CONTAINER = re.compile(r"Validity|Units", re.I)


def _secret_key(name: str) -> bool:
    """A credential-like property or variable name (CamelCase read as snake_case)."""
    snake = _CAMEL_BOUNDARY.sub("_", name).lower()
    return secret_name(snake) and not _NOT_SECRET_PROPERTY.search(snake)


def _literal(value: Any) -> bool:
    return literal_secret(value) and len(str(value).strip()) >= 6


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
