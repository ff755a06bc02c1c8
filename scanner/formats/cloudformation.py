"""CloudFormation templates (YAML or JSON) as resources with lines, read without evaluating.

``load_template`` refuses what must be rendered first (unquoted ``{{ … }}`` placeholders,
pre-processor tags); ``Locator`` finds the line of a resource or a property (exact in YAML,
searched in JSON, which has no positions); ``ref``/``refs`` read the logical ids a value
points at through ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub``.
"""

from __future__ import annotations

import re
from typing import Any

from scanner.formats.document import Document
from scanner.formats.errors import ParseError
from scanner.formats.yaml import CFN_FUNCTIONS, LineDict, LineList, check_size, yaml_hazards

# Short-form tags the loader turns into their long form; any other local tag is unknown.
_KNOWN_TAGS = frozenset(CFN_FUNCTIONS)

_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def ref(value: Any) -> str | None:
    """The logical id a value points at (``Ref``, ``Fn::GetAtt``, ``Fn::Sub "${Id...}"``)."""
    if isinstance(value, dict) and len(value) == 1:
        key, inner = next(iter(value.items()))
        if key == "Ref" and isinstance(inner, str):
            return inner
        if key == "Fn::GetAtt":
            if isinstance(inner, list) and inner and isinstance(inner[0], str):
                return inner[0]
            if isinstance(inner, str):
                return inner.split(".", 1)[0]
        if key == "Fn::Sub":
            template = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(template, str):
                match = _SUB_REFERENCE.search(template)
                if match and not match.group(1).startswith("AWS"):
                    return match.group(1)
    return None


def refs(value: Any) -> set[str]:
    if isinstance(value, list):
        return {r for item in value for r in refs(item)}
    single = ref(value)
    return {single} if single else set()


class Locator:
    """Lines for resources and their properties, in YAML (exact) or JSON (searched)."""

    def __init__(self, document: Document, template: dict[str, Any]) -> None:
        self.document = document
        self.template = template
        self.yaml = isinstance(template, LineDict)
        self._resources_offset = 0
        if not self.yaml:
            match = re.search(r'"Resources"\s*:', document.text)
            self._resources_offset = match.start() if match else 0

    def line(self, logical_id: str, *path: str | int) -> int:
        if self.yaml:
            return self._yaml_line(logical_id, path)
        return self._json_line(logical_id, path)

    def _yaml_line(self, logical_id: str, path: tuple[str | int, ...]) -> int:
        resources = self.template.get("Resources")
        if not isinstance(resources, LineDict):
            return 1
        line = resources.line_of(logical_id)
        current: Any = resources.get(logical_id)
        for key in path:
            if isinstance(current, LineDict) and key in current:
                line = current.line_of(key)
                current = current[key]
            elif isinstance(current, LineList) and isinstance(key, int) and key < len(current):
                line = current.line_of(key)
                current = current[key]
            else:
                break
        return line

    def _json_line(self, logical_id: str, path: tuple[str | int, ...]) -> int:
        text = self.document.text
        offset = self._resources_offset
        for key in (logical_id, *path):
            if isinstance(key, int):
                continue
            match = re.compile(r'"' + re.escape(key) + r'"\s*:').search(text, offset)
            if match is None:
                break
            offset = match.start()
        return self.document.line_of(offset)


def properties(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("Properties")
    return props if isinstance(props, dict) else {}


def load_template(document: Document) -> dict[str, Any] | None:
    """The template's top-level mapping, None for a file that is no template (no
    ``Resources``); raises ParseError for what must be rendered or pre-processed first."""
    check_size(document.text, "CloudFormation template")
    data: Any
    if document.text.lstrip().startswith("{"):
        data = document.json_data
    else:
        hazards = yaml_hazards(document.text, _KNOWN_TAGS)
        if hazards.placeholder_line is not None:
            raise ParseError(
                "CloudFormation template has unrendered template placeholders ({{ … }}); "
                "render it first",
                hazards.placeholder_line,
            )
        if hazards.unknown_tag is not None:
            tag, line = hazards.unknown_tag
            raise ParseError(
                f"CloudFormation template uses the unknown tag {tag}; run its "
                "pre-processor (rain pkg, aws cloudformation package …) and scan the output",
                line,
            )
        documents = document.yaml_documents
        data = documents[0] if documents else None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ParseError("CloudFormation template: top level is not a mapping", 1)
    if not isinstance(data.get("Resources"), dict):
        return None
    return data
