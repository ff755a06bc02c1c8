"""Terraform configuration (HCL native syntax and ``.tf.json``) as blocks, attributes and values.

Native syntax is parsed by python-hcl2 (its Lark grammar, positions kept); ``.tf.json`` by the
``json`` module. Either way the result is what the Terraform detector needs and nothing more:
blocks (type, labels, line span), attributes (name, line, value) and values as plain Python
data. Literal strings, numbers, booleans, tuples and objects become ``str``/``int``/``float``/
``bool``/``HclList``/``HclMap`` (strings unquoted and unescaped; interpolations kept as
written); function calls become ``Call`` (so ``jsonencode({...})`` policies stay
inspectable); references, operators, conditionals and ``for`` expressions become ``Expr``
holding their source text. Nothing is evaluated. Malformed input raises
``scanner.source.ParseError`` with the line of the problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hcl2
from hcl2.utils import process_escape_sequences
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from scanner.formats.errors import ParseError

# --- values --------------------------------------------------------------------------------------


class Expr:
    """An expression kept as source text (reference, operator, conditional, for, splat)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


class Call:
    """A function call such as ``jsonencode({...})`` with its parsed arguments."""

    __slots__ = ("args", "name", "text")

    def __init__(self, name: str, args: list[Any], text: str) -> None:
        self.name = name
        self.args = args
        self.text = text

    def __repr__(self) -> str:
        return f"Call({self.name!r}, {self.args!r})"


class HclMap(dict[str, Any]):
    """An object value; knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class HclList(list[Any]):
    line: int = 0


def _new_map(line: int) -> HclMap:
    result = HclMap()
    result.line = line
    result.key_lines = {}
    return result


@dataclass
class Attribute:
    name: str
    value: Any
    line: int
    end_line: int


@dataclass
class Block:
    type: str
    labels: list[str]
    line: int
    end_line: int
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    file: str = ""  # file name inside the module directory, set by the reader

    def get(self, name: str, default: Any = None) -> Any:
        attribute = self.attributes.get(name)
        return default if attribute is None else attribute.value

    def line_of(self, name: str) -> int:
        attribute = self.attributes.get(name)
        if attribute is not None:
            return attribute.line
        for block in self.blocks:
            if block.type == name:
                return block.line
        return self.line

    def children(self, block_type: str) -> list[Block]:
        return [block for block in self.blocks if block.type == block_type]

    def child(self, block_type: str) -> Block | None:
        return next((block for block in self.blocks if block.type == block_type), None)

    @property
    def address(self) -> str:
        """``aws_s3_bucket.results``, ``data.aws_iam_policy_document.x``, ``provider.aws``."""
        if self.type == "resource" and len(self.labels) >= 2:
            return f"{self.labels[0]}.{self.labels[1]}"
        if self.type == "data" and len(self.labels) >= 2:
            return f"data.{self.labels[0]}.{self.labels[1]}"
        return ".".join([self.type, *self.labels])

    def walk(self) -> Iterator[Block]:
        yield self
        for block in self.blocks:
            yield from block.walk()


@dataclass
class HclFile:
    name: str
    blocks: list[Block]
    attributes: dict[str, Attribute]


# --- native syntax, read with python-hcl2 -------------------------------------------------------

# Lark (under python-hcl2) reads roughly 150 KB/s; beyond this a file is reported, not parsed.
MAX_HCL_CHARS = 1_000_000

# Expression forms kept as source text rather than interpreted.
_AS_TEXT = frozenset({
    "conditional", "binary_op", "index_expr_term", "get_attr_expr_term", "attr_splat_expr_term",
    "full_splat_expr_term", "for_tuple_expr", "for_object_expr",
})
_LABEL_NODES = frozenset({"identifier", "keyword", "literal_value", "string"})
_PUNCTUATION_NAMES = {
    "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'", "LPAR": "'('", "RPAR": "')'",
    "EQ": "'='", "COLON": "':'", "COMMA": "','", "DOT": "'.'", "DBLQUOTE": "a quote",
    "NL_OR_COMMENT": "end of line", "$END": "end of file", "NAME": "a name",
    "STRING_CHARS": "text", "INT_LITERAL": "a number", "FLOAT_LITERAL": "a number",
}


def _dedent(body: str) -> str:
    lines = body.split("\n")
    indents = [len(item) - len(item.lstrip(" \t")) for item in lines if item.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(item[cut:] for item in lines)


def _heredoc_body(raw: str, trim: bool) -> str:
    """``<<EOT\\n...\\nEOT\\n`` -> the text between the marker lines."""
    lines = raw.rstrip("\r\n").split("\n")
    body = "\n".join(line.rstrip("\r") for line in lines[1:-1])
    return _dedent(body) if trim else body


def _syntax_error(exc: UnexpectedInput) -> ParseError:
    """A short message without echoing file content (a token could be a credential)."""
    line = exc.line if isinstance(exc.line, int) and exc.line > 0 else None
    if isinstance(exc, UnexpectedCharacters):
        problem = "unexpected character"
    elif isinstance(exc, UnexpectedToken):
        kind = str(exc.token.type)
        problem = f"unexpected {_PUNCTUATION_NAMES.get(kind, kind.lower().replace('_', ' '))}"
    else:
        problem = "unexpected end of file"
    return ParseError(f"invalid HCL: {problem}", line)


class _TreeReader:
    """Turns python-hcl2's parse tree (Lark, with positions) into blocks and values."""

    def __init__(self, text: str) -> None:
        self.text = text

    def source(self, node: Tree[Token]) -> str:
        meta = node.meta
        if meta.empty:
            return ""
        return self.text[meta.start_pos : meta.end_pos].strip()

    @staticmethod
    def trees(node: Tree[Token]) -> list[Tree[Token]]:
        return [
            child for child in node.children
            if isinstance(child, Tree) and child.data != "new_line_or_comment"
        ]

    # structure ---------------------------------------------------------------------------------

    def body(self, node: Tree[Token]) -> tuple[dict[str, Attribute], list[Block]]:
        attributes: dict[str, Attribute] = {}
        blocks: list[Block] = []
        for child in self.trees(node):
            if child.data == "attribute":
                name = self.name(child.children[0])
                value = self.value(self.trees(child)[-1])
                attributes[name] = Attribute(name, value, child.meta.line, child.meta.end_line)
            elif child.data == "block":
                blocks.append(self.block(child))
        return attributes, blocks

    def block(self, node: Tree[Token]) -> Block:
        parts = self.trees(node)
        block_type = self.name(parts[0])
        labels = [self.name(part) for part in parts[1:] if part.data in _LABEL_NODES]
        inner = next((part for part in parts if part.data == "body"), None)
        attributes, blocks = self.body(inner) if inner is not None else ({}, [])
        return Block(block_type, labels, node.meta.line, node.meta.end_line, attributes, blocks)

    def name(self, node: Tree[Token] | Token) -> str:
        """An attribute name, block type or label (identifier, keyword or quoted string)."""
        if isinstance(node, Token):
            return str(node)
        if node.data == "string":
            return self.string(node)
        token = next((c for c in node.children if isinstance(c, Token)), None)
        return str(token) if token is not None else self.source(node)

    # values ------------------------------------------------------------------------------------

    def value(self, node: Tree[Token]) -> Any:
        kind = node.data
        if kind == "expr_term":
            first = node.children[0] if node.children else None
            if isinstance(first, Token) and first.type == "LPAR":
                return Expr(self.source(node))  # parenthesised expression
            inner = self.trees(node)
            return self.value(inner[0]) if inner else Expr(self.source(node))
        if kind in _AS_TEXT:
            return Expr(self.source(node))
        if kind == "string":
            return self.string(node)
        if kind == "int_lit":
            return int(str(node.children[0]))
        if kind == "float_lit":
            return float(str(node.children[0]))
        if kind == "literal_value":
            return {"true": True, "false": False}.get(str(node.children[0]))
        if kind in {"identifier", "keyword"}:
            return Expr(self.name(node))
        if kind in {"heredoc_template", "heredoc_template_trim"}:
            return _heredoc_body(str(node.children[0]), kind.endswith("_trim"))
        if kind == "template_string":
            return str(node.children[0])
        if kind == "tuple":
            items = HclList(self.value(child) for child in self.trees(node))
            items.line = node.meta.line
            return items
        if kind == "object":
            return self.object(node)
        if kind == "function_call":
            return self.call(node)
        if kind == "unary_op":
            return self.unary(node)
        return Expr(self.source(node))

    def string(self, node: Tree[Token]) -> str:
        parts: list[str] = []
        for part in node.children:
            if not isinstance(part, Tree):
                continue  # the quotes
            piece = part.children[0] if part.children else ""
            if isinstance(piece, Token):
                if piece.type == "STRING_CHARS":
                    parts.append(process_escape_sequences(str(piece)))
                else:  # $${ / %%{ escapes: a literal ${ / %{
                    parts.append(str(piece)[1:])
            elif isinstance(piece, Tree):  # ${...} interpolation, %{...} directive: as written
                parts.append(self.text[piece.meta.start_pos : piece.meta.end_pos])
        return "".join(parts)

    def object(self, node: Tree[Token]) -> HclMap:
        result = _new_map(node.meta.line)
        for element in self.trees(node):
            if element.data != "object_elem":
                continue
            key_node, value_node = self.trees(element)[0], self.trees(element)[-1]
            key = self.object_key(key_node)
            result[key] = self.value(value_node)
            result.key_lines[key] = element.meta.line
        return result

    def object_key(self, node: Tree[Token]) -> str:
        inner = self.trees(node)
        if not inner:  # a keyword used as a key (``in``, ``for`` ...)
            return self.name(node)
        target = inner[0]
        if target.data == "keyword":
            return self.name(target)
        if target.data == "expr_term":
            terms = self.trees(target)
            if len(terms) == 1 and terms[0].data in {"identifier", "string", "keyword"}:
                return self.name(terms[0])
        return self.source(target)

    def call(self, node: Tree[Token]) -> Call:
        names = [self.name(child) for child in self.trees(node) if child.data == "identifier"]
        arguments = next((c for c in self.trees(node) if c.data == "arguments"), None)
        args = [self.value(child) for child in self.trees(arguments)] if arguments else []
        return Call("::".join(names), args, self.source(node))

    def unary(self, node: Tree[Token]) -> Any:
        operator = node.children[0]
        operand = self.trees(node)
        if isinstance(operator, Token) and operator.type == "MINUS" and operand:
            inner = self.value(operand[0])
            if isinstance(inner, int | float) and not isinstance(inner, bool):
                return -inner
        return Expr(self.source(node))


def parse_hcl(text: str, name: str = "") -> HclFile:
    """Parse native-syntax HCL with python-hcl2; ParseError (with a line) when malformed."""
    if len(text) > MAX_HCL_CHARS:
        raise ParseError(
            f"Terraform file too large to analyse ({len(text):,} characters; the limit is "
            f"{MAX_HCL_CHARS:,})"
        )
    try:
        tree = hcl2.parses_to_tree(text)
        start = tree.children[0] if tree.children else None
        body = start if isinstance(start, Tree) and start.data == "body" else None
        attributes, blocks = _TreeReader(text).body(body) if body is not None else ({}, [])
    except UnexpectedInput as exc:
        raise _syntax_error(exc) from exc
    except LarkError as exc:
        raise ParseError(f"invalid HCL ({exc.__class__.__name__})") from exc
    except RecursionError as exc:
        raise ParseError("invalid HCL: nested too deeply") from exc
    for block in blocks:
        for inner in block.walk():
            inner.file = name
    return HclFile(name, blocks, attributes)


# --- .tf.json ------------------------------------------------------------------------------------

_LABEL_DEPTH = {"resource": 2, "data": 2, "provider": 1, "variable": 1, "output": 1,
                "module": 1, "locals": 0, "terraform": 0}


class _JsonLines:
    """Find the line of a JSON key, searching forward from an offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def find(self, key: str, after: int) -> int:
        pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
        match = pattern.search(self.text, after)
        return match.start() if match else after

    def line(self, offset: int) -> int:
        from bisect import bisect_right

        return bisect_right(self.starts, offset)


def _json_value(value: Any, line: int) -> Any:
    if isinstance(value, dict):
        result = _new_map(line)
        for key, item in value.items():
            result[str(key)] = _json_value(item, line)
            result.key_lines[str(key)] = line
        return result
    if isinstance(value, list):
        items = HclList(_json_value(item, line) for item in value)
        items.line = line
        return items
    return value


def _json_block(
    block_type: str, labels: list[str], body: Any, lines: _JsonLines, offset: int, name: str
) -> list[Block]:
    bodies = body if isinstance(body, list) else [body]
    result = []
    for item in bodies:
        if not isinstance(item, dict):
            continue
        line = lines.line(offset)
        block = Block(block_type, labels, line, line, file=name)
        for key, value in item.items():
            key_offset = lines.find(str(key), offset)
            key_line = lines.line(key_offset)
            block.attributes[str(key)] = Attribute(
                str(key), _json_value(value, key_line), key_line, key_line
            )
            nested = value if isinstance(value, list) else [value]
            if nested and all(isinstance(v, dict) for v in nested):
                block.blocks.extend(_json_block(str(key), [], nested, lines, key_offset, name))
        result.append(block)
    return result


def parse_tf_json(text: str, name: str = "") -> HclFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg}", exc.lineno) from exc
    except RecursionError as exc:
        raise ParseError("JSON nested too deeply") from exc
    if not isinstance(data, dict):
        raise ParseError("Terraform JSON: top level is not an object", 1)
    lines = _JsonLines(text)
    blocks: list[Block] = []
    attributes: dict[str, Attribute] = {}
    for top, content in data.items():
        depth = _LABEL_DEPTH.get(str(top))
        top_offset = lines.find(str(top), 0)
        if depth is None:
            line = lines.line(top_offset)
            attributes[str(top)] = Attribute(str(top), _json_value(content, line), line, line)
            continue
        if depth == 0:
            blocks.extend(_json_block(str(top), [], content, lines, top_offset, name))
            continue
        for first, inner in _items(content):
            first_offset = lines.find(first, top_offset)
            if depth == 1:
                blocks.extend(_json_block(str(top), [first], inner, lines, first_offset, name))
                continue
            for second, body in _items(inner):
                offset = lines.find(second, first_offset)
                blocks.extend(_json_block(str(top), [first, second], body, lines, offset, name))
    return HclFile(name, blocks, attributes)


def _items(content: Any) -> Iterator[tuple[str, Any]]:
    """``{"a": {...}}`` or ``[{"a": {...}}, ...]`` as (key, value) pairs."""
    parts = content if isinstance(content, list) else [content]
    for part in parts:
        if isinstance(part, dict):
            for key, value in part.items():
                yield str(key), value


def parse_terraform(text: str, name: str) -> HclFile:
    """Dispatch on the file name: ``.tf.json`` is JSON, everything else native syntax."""
    if name.lower().endswith(".json"):
        return parse_tf_json(text, name)
    return parse_hcl(text, name)


# --- helpers for the detector --------------------------------------------------------------------

_REFERENCE = re.compile(
    r"(?<![\w.\"-])((?:data\.)?[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*)"
)


def references(value: Any) -> set[str]:
    """Resource addresses mentioned anywhere in a value (``aws_s3_bucket.x``, ``data.t.n``)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Expr):
            found.update(_REFERENCE.findall(item.text))
        elif isinstance(item, str):
            if "${" in item:
                found.update(_REFERENCE.findall(item))
        elif isinstance(item, Call):
            stack.extend(item.args)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def text_of(value: Any) -> str:
    """A readable form of a value for messages and comparisons."""
    if isinstance(value, Expr | Call):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)
