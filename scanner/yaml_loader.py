"""Safe YAML loading that accepts CloudFormation short-form tags as plain data.

``!Ref Foo`` becomes ``{"Ref": "Foo"}`` and ``!GetAtt A.B`` becomes
``{"Fn::GetAtt": ["A", "B"]}`` — the long form CloudFormation itself uses — so
detectors see one shape. Nothing is resolved or evaluated. Unknown tags load as
their underlying value instead of failing the whole file.
"""

from __future__ import annotations

from typing import Any

import yaml

from scanner.source import ParseError, parse_error_from_yaml

_CFN_FUNCTIONS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Base64": "Fn::Base64",
    "Cidr": "Fn::Cidr",
    "If": "Fn::If",
    "Equals": "Fn::Equals",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Not": "Fn::Not",
    "Transform": "Fn::Transform",
    "Length": "Fn::Length",
    "ToJsonString": "Fn::ToJsonString",
}


_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):  # type: ignore[valid-type,misc]
    """Safe loading (libyaml when present) plus tolerant tag handling; a subclass so the
    global loaders are untouched."""


def _construct_tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = _CFN_FUNCTIONS.get(tag_suffix)
    if name is None:
        return value  # unknown tag: keep the data, drop the tag
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


_Loader.add_multi_constructor("!", _construct_tagged)


def load_all_documents(text: str) -> list[Any]:
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        raise parse_error_from_yaml(exc) from exc
    except RecursionError as exc:
        raise ParseError("YAML nested too deeply") from exc
