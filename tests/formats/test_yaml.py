"""YAML as the detectors read it: line-aware containers, CloudFormation tags as data, and the
guards (size, template placeholders, unknown tags) that turn bad input into parse errors."""

from __future__ import annotations

import pytest

from scanner.formats.document import Document
from scanner.formats.errors import ParseError
from scanner.formats.yaml import (
    LineDict,
    LineList,
    check_size,
    contains_text,
    load_all_with_lines,
    yaml_hazards,
)


def test_mappings_and_sequences_know_their_lines() -> None:
    (doc,) = load_all_with_lines(
        "# comment\n"
        "jobs:\n"
        "  build:\n"
        "    steps:\n"
        "      - run: make\n"
        "      - uses: actions/checkout@v4\n"
    )
    assert isinstance(doc, LineDict) and doc.line == 2 and doc.line_of("jobs") == 2
    steps = doc["jobs"]["build"]["steps"]
    assert isinstance(steps, LineList) and steps.line == 5
    assert [steps.line_of(0), steps.line_of(1)] == [5, 6]
    assert steps.line_of(7) == 5  # out of range: the sequence itself
    assert doc["jobs"].line_of("missing") == 3  # unknown key: the mapping itself


def test_every_document_of_a_stream_and_empty_ones_dropped() -> None:
    docs = load_all_with_lines("a: 1\n---\n---\nb: 2\n")
    assert docs == [{"a": 1}, {"b": 2}]
    assert [d.line for d in docs] == [1, 4]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("x: !Ref Bucket\n", {"Ref": "Bucket"}),
        ("x: !GetAtt Role.Arn\n", {"Fn::GetAtt": ["Role", "Arn"]}),
        ("x: !Sub 'a-${AWS::Region}'\n", {"Fn::Sub": "a-${AWS::Region}"}),
        ("x: !If [IsProd, 1, 2]\n", {"Fn::If": ["IsProd", 1, 2]}),
        ("x: !Rain::Embed file.txt\n", "file.txt"),  # unknown tag: the data stays
    ],
)
def test_cloudformation_short_forms_become_long_forms(text: str, value: object) -> None:
    assert load_all_with_lines(text)[0]["x"] == value


def test_malformed_yaml_is_a_parse_error_with_its_line() -> None:
    with pytest.raises(ParseError) as info:
        load_all_with_lines("a: 1\nb: [\n")
    assert str(info.value).startswith("invalid YAML") and info.value.line is not None


def test_check_size() -> None:
    check_size("x" * 10, "manifest", limit=10)
    with pytest.raises(ParseError, match="manifest too large"):
        check_size("x" * 11, "manifest", limit=10)


@pytest.mark.parametrize(
    ("text", "placeholder_line"),
    [
        ("metadata:\n  name: {{ .Release.Name }}\n", 2),
        ("{{- if .Values.on }}\nkind: Pod\n", 1),
        ('metadata:\n  name: "{{ .Release.Name }}"\n', None),  # quoted: a value
        ("kind: Pod\n", None),
    ],
)
def test_template_placeholders(text: str, placeholder_line: int | None) -> None:
    assert yaml_hazards(text).placeholder_line == placeholder_line


def test_unknown_tags_are_found_only_when_known_tags_are_given() -> None:
    text = "a: !Ref x\nb: !Include other.yaml\n"
    assert yaml_hazards(text).unknown_tag is None
    assert yaml_hazards(text, frozenset({"Ref"})).unknown_tag == ("!Include", 2)


def test_contains_text_walks_keys_values_and_lists() -> None:
    value = {"a": [{"b": "needle here"}], "key with needle": 1}
    assert contains_text(value, "needle here")
    assert contains_text({"key with needle": 1}, "with needle")
    assert not contains_text(value, "absent")
    assert not contains_text([["x"] * 10] * 10, "needle", budget=5)


def test_documents_parse_once_and_keep_their_failure() -> None:
    broken = Document("a.yaml", "a: [\n")
    with pytest.raises(ParseError) as first:
        broken.yaml_documents  # noqa: B018
    with pytest.raises(ParseError) as second:
        broken.yaml_documents  # noqa: B018
    assert first.value is second.value
    good = Document("b.yaml", "a: 1\n")
    assert good.yaml_documents is good.yaml_documents


def test_impossible_values_are_parse_errors_without_quoting_them() -> None:
    from scanner.formats.errors import ImpossibleValue, ParseError
    from scanner.formats.yaml import DocumentError, load_all_with_lines, parse_yaml_bytes

    with pytest.raises(ImpossibleValue, match="not a real calendar date") as date_error:
        load_all_with_lines("name: x\nwhen: 2026-02-30\n")
    assert date_error.value.line == 2
    with pytest.raises(DocumentError, match=r"calendar date or time \(line 2\)"):
        parse_yaml_bytes(b"name: x\nwhen: 2026-02-30\n", label="policy p.yaml")
    with pytest.raises(ParseError, match="not a valid date, time or number") as raised:
        load_all_with_lines("n: !!int 1e9999999sekret\n")
    assert "sekret" not in str(raised.value)
    with pytest.raises(DocumentError, match="not a valid date") as document_error:
        parse_yaml_bytes(b"n: !!int 1e9999999sekret\n", label="policy p.yaml")
    assert "sekret" not in str(document_error.value)
