"""YAML with line numbers, for detectors that must point at the exact line.

Mappings load as ``LineDict`` (a ``dict`` that also knows the 1-based line of itself and of
each key) and sequences as ``LineList`` (knowing each item's line). Values are otherwise
the same as ``yaml_loader.load_all_documents`` gives: safe, CloudFormation tags as data.
"""

from __future__ import annotations

from typing import Any

import yaml

from scanner.source import ParseError, parse_error_from_yaml
from scanner.yaml_loader import _Loader


class LineDict(dict[Any, Any]):
    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        """Line of ``key`` (falls back to the mapping's own line)."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _LineLoader(_Loader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            key = str(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_all_with_lines(text: str) -> list[Any]:
    """All documents of ``text`` with line-aware containers; raises ParseError when malformed."""
    try:
        return [doc for doc in yaml.load_all(text, Loader=_LineLoader) if doc is not None]
    except yaml.YAMLError as exc:
        raise parse_error_from_yaml(exc) from exc
    except RecursionError as exc:
        raise ParseError("YAML nested too deeply") from exc
