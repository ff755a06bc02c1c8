"""The HCL reader behind the Terraform detector: values with lines, blocks, and refusals."""

from __future__ import annotations

import textwrap

import pytest

from scanner.formats.errors import ParseError
from scanner.formats.hcl import Call, Expr, parse_hcl, parse_terraform, references, text_of


def test_parser_values_and_lines() -> None:
    parsed = parse_hcl(textwrap.dedent("""\
        # comment
        resource "aws_s3_bucket" "b" {
          bucket = "name-${var.env}"
          count  = -2
          tags   = { "qgov:tier" = "exploratory", owner = "lab" }
          escaped = "a\\"b $${literal}"
          policy = jsonencode({ Statement = [] })
          list   = [1, 2.5, true, null]
          cond   = var.x ? "a" : "b"
          dynamic "rule" {
            for_each = var.rules
            content {
              id = rule.value
            }
          }
        }
        top = upper("x")
        """), "main.tf")
    (block,) = parsed.blocks
    assert (block.type, block.labels, block.line, block.end_line) == (
        "resource", ["aws_s3_bucket", "b"], 2, 16)
    assert block.get("bucket") == "name-${var.env}"
    assert block.get("count") == -2
    assert block.get("tags") == {"qgov:tier": "exploratory", "owner": "lab"}
    assert block.get("tags").line_of("owner") == 5
    assert block.get("escaped") == 'a"b ${literal}'
    policy = block.get("policy")
    assert isinstance(policy, Call) and policy.name == "jsonencode"
    assert policy.args == [{"Statement": []}]
    assert block.get("list") == [1, 2.5, True, None]
    assert block.get("cond") == Expr('var.x ? "a" : "b"')
    assert block.line_of("policy") == 7
    (dynamic,) = block.children("dynamic")
    assert dynamic.labels == ["rule"] and dynamic.child("content") is not None
    assert parsed.attributes["top"].value.name == "upper"
    assert {b.file for b in block.walk()} == {"main.tf"}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('resource "a" "b" {\n  x = \n}\n', 2),
        ('resource "a" "b" {\n  x = 1\n', 3),
        ('x = "unterminated\n', 1),
        ("{{ .Values.bucket }}\n", 1),
    ],
)
def test_malformed_hcl_is_a_parse_error_with_a_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as info:
        parse_hcl(text)
    assert str(info.value).startswith("invalid HCL")
    assert info.value.line == line


def test_parse_error_never_echoes_file_content() -> None:
    with pytest.raises(ParseError) as info:
        parse_hcl('token = "abc" "sekrit-value-123"\n')
    assert "sekrit" not in str(info.value)


def test_oversized_hcl_is_refused() -> None:
    big = 'locals {\n  x = "' + "a" * 1_000_001 + '"\n}\n'
    with pytest.raises(ParseError, match="too large"):
        parse_hcl(big)


def test_tf_json_blocks_carry_their_lines() -> None:
    parsed = parse_terraform(
        '{\n  "resource": {\n    "aws_s3_bucket": {\n      "open": {\n'
        '        "bucket": "open-data"\n      }\n    }\n  }\n}\n',
        "main.tf.json",
    )
    (block,) = parsed.blocks
    assert (block.type, block.labels, block.line, block.file) == (
        "resource", ["aws_s3_bucket", "open"], 4, "main.tf.json")
    assert block.get("bucket") == "open-data"


def test_broken_tf_json_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_terraform('{"resource": ', "main.tf.json")


def test_references_and_text_of_values() -> None:
    parsed = parse_hcl(
        'resource "aws_s3_bucket_policy" "p" {\n'
        "  bucket = aws_s3_bucket.results.id\n"
        '  policy = jsonencode({ Resource = "${aws_s3_bucket.logs.arn}/*" })\n'
        "  note   = \"aws_s3_bucket.not_a_reference\"\n"
        "}\n",
        "main.tf",
    )
    (block,) = parsed.blocks
    assert references(block.get("bucket")) == {"aws_s3_bucket.results"}
    assert references(block.get("policy")) == {"aws_s3_bucket.logs"}
    assert references(block.get("note")) == set()
    assert text_of(block.get("bucket")) == "aws_s3_bucket.results.id"
    assert [text_of(v) for v in (True, None, 3)] == ["true", "null", "3"]
